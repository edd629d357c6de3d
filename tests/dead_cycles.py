"""A dead connection in miniature, for the collector tests (simtim/gc_policy.py, issue 15's soak)."""

from __future__ import annotations

import gc
import weakref


class Node:
    """Stands for a dead connection: unreachable, but kept alive by a cycle of its own."""

    def __init__(self) -> None:
        self.me = self


def old_dead_cycle() -> weakref.ref[Node]:
    node = Node()
    gc.collect(1)  # it survives the young collections: now in the oldest generation
    return weakref.ref(node)  # the last outside reference goes with this frame
