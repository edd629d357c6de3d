"""Message element rules: which elements exist and how big a body may be.

MSG-1 lists the element types and their fields; MSG-2 fixes the check order
(element invalid 6016 -> body too long 80002 -> declared file too large 7005).
The body size is measured with orjson because it runs on every send and
``json.dumps`` alone would cost more than the rest of a send.
"""

from __future__ import annotations

from typing import Any

import orjson

from simtim.errors import Code, IMError
from simtim.limits import FILE_MAX_BYTES, IMAGE_AUDIO_MAX_BYTES
from simtim.model.args import is_int

TEXT = "TIMTextElem"
IMAGE = "TIMImageElem"
SOUND = "TIMSoundElem"
VIDEO = "TIMVideoFileElem"
FILE = "TIMFileElem"
CUSTOM = "TIMCustomElem"
FACE = "TIMFaceElem"
LOCATION = "TIMLocationElem"

_STR = "str"
_INT = "int"
_NUM = "number"
_LIST = "list"
_ANY = "any"

#: MSG-1: element type -> {field: (kind, required)}
ELEMENT_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    TEXT: {"text": (_STR, True)},
    IMAGE: {"imageFormat": (_ANY, True), "uuid": (_STR, True), "imageInfoArray": (_LIST, True)},
    SOUND: {"url": (_STR, True), "size": (_INT, True), "second": (_INT, True)},
    VIDEO: {
        "videoUrl": (_STR, True),
        "videoSize": (_INT, True),
        "videoSecond": (_INT, True),
        "thumbUrl": (_STR, True),
    },
    FILE: {"fileUrl": (_STR, True), "fileName": (_STR, True), "fileSize": (_INT, True)},
    CUSTOM: {"data": (_STR, True), "description": (_STR, False), "extension": (_STR, False)},
    FACE: {"index": (_INT, True), "data": (_STR, False)},
    LOCATION: {"description": (_STR, False), "longitude": (_NUM, True), "latitude": (_NUM, True)},
}


def _kind_ok(kind: str, value: object) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _INT:
        return is_int(value) and value >= 0
    if kind == _NUM:
        return (is_int(value) or isinstance(value, float)) and value == value  # not NaN
    if kind == _LIST:
        return isinstance(value, list)
    return value is not None


def _invalid(why: str) -> IMError:
    return IMError(Code.INVALID_ELEMENT, why, rule="MSG-2")


def check_element(elem_type: object, payload: object) -> None:
    """MSG-1/MSG-2: the element is of a known type with its required fields."""
    if elem_type == TEXT and type(payload) is dict:  # the common case, decided without the table
        text = payload.get("text")
        if type(text) is str and text:
            return
    if not isinstance(elem_type, str) or elem_type not in ELEMENT_FIELDS:
        raise _invalid(f"unknown element type {elem_type!r}")
    if not isinstance(payload, dict):
        raise _invalid(f"{elem_type} payload must be an object")
    for name, (kind, required) in ELEMENT_FIELDS[elem_type].items():
        if name not in payload or payload[name] is None:
            if required:
                raise _invalid(f"{elem_type}.{name} is required")
            continue
        if not _kind_ok(kind, payload[name]):
            raise _invalid(f"{elem_type}.{name} has the wrong type")
    if elem_type == TEXT and not payload["text"]:
        raise _invalid("text must not be empty")
    if elem_type == IMAGE:
        for info in payload["imageInfoArray"]:
            if not isinstance(info, dict) or (
                "size" in info and not (is_int(info["size"]) and info["size"] >= 0)
            ):
                raise _invalid("imageInfoArray entries must be objects with a non-negative size")


def check_elements(elements: list[tuple[object, object]]) -> None:
    """MSG-1: every element valid, at most one custom element."""
    if not elements:
        raise _invalid("a message needs at least one element")
    customs = 0
    for elem_type, payload in elements:
        check_element(elem_type, payload)
        customs += elem_type == CUSTOM
    if customs > 1:
        raise _invalid("at most one custom element per message")


def body_size(elements: list[tuple[Any, Any]], cloud_custom_data: str) -> int:
    """UTF-8 bytes of the compact JSON body (MSG-2), cloudCustomData included [decision]."""
    try:
        if len(elements) == 1:  # same bytes as the general case, without building the list
            size = len(orjson.dumps(elements[0][1])) + len(elements[0][0]) + 24  # [{"type":"","payload":}]
        else:
            size = len(orjson.dumps([{"type": t, "payload": p} for t, p in elements]))
    except TypeError as exc:  # orjson.JSONEncodeError: not representable as JSON
        raise _invalid(f"payload is not JSON-serialisable: {exc}") from None
    return size + len(cloud_custom_data.encode("utf-8", "surrogatepass"))


def content_key(elements: list[tuple[Any, Any]]) -> str:
    """The elements as one canonical string: the content part of REST-3's dedup keys, kept for as
    long as the dedup window lasts.  A ``str``, not orjson's bytes: orjson (3.13 measured) hands
    back its output in a 4 KB buffer it never shrinks, so each kept key cost 4 KB and a REST send
    grew the heap by ~4.8 KB per message (docs/decisions.md, "orjson output kept")."""
    return orjson.dumps(elements, option=orjson.OPT_SORT_KEYS).decode()


def declared_size_limit_exceeded(elements: list[tuple[Any, Any]]) -> bool:
    """MSG-2: files/videos over 100 MB, images/audio over 20 MB (declared metadata only)."""
    for elem_type, payload in elements:
        if elem_type == FILE and payload["fileSize"] > FILE_MAX_BYTES:
            return True
        if elem_type == VIDEO and payload["videoSize"] > FILE_MAX_BYTES:
            return True
        if elem_type == SOUND and payload["size"] > IMAGE_AUDIO_MAX_BYTES:
            return True
        if elem_type == IMAGE:
            for info in payload["imageInfoArray"]:
                if info.get("size", 0) > IMAGE_AUDIO_MAX_BYTES:
                    return True
    return False
