"""Argument checks shared by every operation (ORDER-1's "argument shapes").

Each helper either returns a value of the promised type or raises ``IMError``
with 6017 (or the code the caller names), so no operation ever lets a wrong
type reach the rules and a refused call changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from simtim.errors import Code, IMError

Options = Mapping[str, Any]


def _bad(name: str, expected: str, code: int, rule: str) -> IMError:
    return IMError(code, f"{name} must be {expected}", rule=rule)


def options(value: object, rule: str = "ORDER-1") -> Options:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad("options", "an object", Code.INVALID_PARAMETERS, rule)
    return value


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def req_str(
    opts: Options,
    name: str,
    *,
    rule: str = "ORDER-1",
    code: int = Code.INVALID_PARAMETERS,
    nonempty: bool = True,
) -> str:
    value = opts.get(name)
    if not isinstance(value, str) or (nonempty and not value):
        raise _bad(name, "a non-empty string" if nonempty else "a string", code, rule)
    return value


def opt_str(
    opts: Options, name: str, default: str = "", *, rule: str = "ORDER-1", code: int = Code.INVALID_PARAMETERS
) -> str:
    value = opts.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _bad(name, "a string", code, rule)
    return value


def opt_int(
    opts: Options,
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    rule: str = "ORDER-1",
    code: int = Code.INVALID_PARAMETERS,
) -> int:
    value = opts.get(name, default)
    if value is None:
        return default
    if not is_int(value):
        raise _bad(name, "an integer", code, rule)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _bad(name, f"an integer in [{minimum}, {maximum}]", code, rule)
    return int(value)


def req_int(
    opts: Options,
    name: str,
    *,
    minimum: int | None = None,
    rule: str = "ORDER-1",
    code: int = Code.INVALID_PARAMETERS,
) -> int:
    if opts.get(name) is None:
        raise _bad(name, "an integer", code, rule)
    return opt_int(opts, name, 0, minimum=minimum, rule=rule, code=code)


def str_list(
    opts: Options,
    name: str,
    *,
    rule: str = "ORDER-1",
    code: int = Code.INVALID_PARAMETERS,
    nonempty: bool = True,
) -> list[str]:
    value = opts.get(name)
    if (
        not isinstance(value, list)
        or (nonempty and not value)
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise _bad(
            name, "a non-empty list of non-empty strings" if nonempty else "a list of strings", code, rule
        )
    return value


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
