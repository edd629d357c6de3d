"""Durable state for ``simtim serve --data DIR``: a journal of operations, snapshots, state files.

The model is deterministic (DESIGN rule 1), so the state is the operations that made it: the
server journals each state-changing operation with the time it ran at, acknowledges it once the
journal entry is committed, and rebuilds the same state at start by replaying the journal from the
newest snapshot (docs/durability.md).
"""
