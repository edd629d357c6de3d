""" "Did this call change the world?" — byte-exact where possible, structural where it must be.

``pickle.dumps(world)`` is the quick test.  It can differ for worlds that are equal, though:
pickle memoizes by object identity, so a no-op that re-assigns an equal string (``inst.state =
NEW`` on an instance unpickled with its own ``"new"``) changes the bytes.  On a mismatch we
compare a canonical structure instead: every object by its pickle reduction, mutable objects
numbered in visit order (so sharing and cycles count, identities do not), dicts in insertion
order, sets sorted, floats by ``repr`` (so NaN equals NaN).
"""

from __future__ import annotations

import pickle
import types
from typing import Any

_ATOMS = (type(None), bool, int, str, bytes)
_GLOBALS = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def structure(root: object) -> Any:
    """A canonical, comparable description of everything reachable from ``root``."""
    seen: dict[int, int] = {}
    alive: list[object] = []  # keep visited objects alive so their ids are not reused

    def walk(obj: object) -> Any:
        if isinstance(obj, _ATOMS):
            return obj
        if isinstance(obj, float):
            return ("float", repr(obj))
        if isinstance(obj, _GLOBALS):
            return ("global", getattr(obj, "__module__", ""), getattr(obj, "__qualname__", repr(obj)))
        if isinstance(obj, tuple):
            return ("tuple", [walk(item) for item in obj])
        if id(obj) in seen:
            return ("ref", seen[id(obj)])
        seen[id(obj)] = len(seen)
        alive.append(obj)
        if isinstance(obj, list):
            return ("list", [walk(item) for item in obj])
        if isinstance(obj, dict) and type(obj) is dict:
            return ("dict", [(walk(k), walk(v)) for k, v in obj.items()])
        if isinstance(obj, set | frozenset):
            return ("set", sorted((walk(item) for item in obj), key=repr))
        reduced = obj.__reduce_ex__(4)
        if isinstance(reduced, str):
            return ("global", reduced)
        parts = [
            list(part) if isinstance(part, types.GeneratorType) or hasattr(part, "__next__") else part
            for part in reduced[1:]
        ]
        return (type(obj).__module__, type(obj).__qualname__, [walk(part) for part in parts])

    return walk(root)


class Snapshot:
    """The state of ``world`` now; ``unchanged()`` says whether it still is."""

    def __init__(self, world: object) -> None:
        self.world = world
        self.blob = pickle.dumps(world)

    def unchanged(self) -> bool:
        if pickle.dumps(self.world) == self.blob:
            return True
        return bool(structure(pickle.loads(self.blob)) == structure(self.world))
