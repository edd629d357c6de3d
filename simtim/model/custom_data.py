"""A text message's ``cloudCustomData`` kept inside its text's bytes (issue 15: <= 400 bytes a
stored text message, indexes included).

A load run stamps every message (``simtim/harness_stamp.py``: ~50 characters), and a separate
``str`` for it costs ~100 bytes a message.  So a text message keeps ONE bytes object: its UTF-8
text, then the data, then a 3-byte trailer: the data's length and its kind, a byte (0xFE, 0xFF)
that UTF-8 never contains, so a text without data (plain UTF-8) is never mistaken for one with
(a ``bytes`` subclass as the mark would cost 16 bytes more a message).  The harness's own stamp
is packed further: its sender is the message's sender, so only worker, sequence and send time are
kept (the worker's UTF-8, a uint32, a float64).  A stamp is packed only when spelling it back
gives the very same string (checked when it is stored), so every reader gets the exact string the
client sent; anything else is kept as its UTF-8 (``surrogatepass``: any ``str`` comes back).
"""

from __future__ import annotations

import struct

import orjson

from simtim.harness_stamp import STAMP_KEY, render

#: what follows the data: its length in bytes and its kind, which is a byte UTF-8 never holds
_TRAILER = struct.Struct("<HB")
_RAW = 0xFF  # the data's UTF-8
_STAMP = 0xFE  # a harness stamp: the worker's UTF-8, then _STAMP_FIELDS
DATA_MARK = min(_RAW, _STAMP)  # a last byte at least this: the text carries data
_STAMP_FIELDS = struct.Struct("<Id")  # the stamp's sequence and send time
_STAMP_PREFIX = '{"' + STAMP_KEY + '":['
_UINT32 = 0xFFFFFFFF


def carries_data(body: bytes) -> bool:
    """Whether a text message's bytes end with data and a trailer (the last byte is a kind)."""
    return bool(body) and body[-1] >= DATA_MARK


def join(text: bytes, data: str, sender: str) -> bytes | None:
    """``text`` followed by ``data``; None when the data is too long for the trailer to say."""
    tail = _packed_stamp(data, sender)
    kind = _STAMP
    if tail is None:
        tail, kind = data.encode("utf-8", "surrogatepass"), _RAW
    if len(tail) > 0xFFFF:
        return None
    return b"".join((text, tail, _TRAILER.pack(len(tail), kind)))


def text_of(body: bytes) -> bytes:
    """The text's UTF-8 bytes."""
    size = _TRAILER.unpack_from(body, len(body) - _TRAILER.size)[0]
    return body[: len(body) - _TRAILER.size - size]


#: the last (body, sender, data) spelled: a group's fan-out renders one message for every member,
#: and spelling a packed stamp costs ~1 µs; the body is held here, so ``is`` cannot match a new one
_last: tuple[bytes, str, str] = (b"", "", "")


def data_of(body: bytes, sender: str) -> str:
    """The ``cloudCustomData`` exactly as the client sent it."""
    global _last
    last = _last
    if last[0] is body and last[1] == sender:
        return last[2]
    data = _spelled(body, sender)
    _last = (body, sender, data)
    return data


def _spelled(body: bytes, sender: str) -> str:
    end = len(body) - _TRAILER.size
    size, kind = _TRAILER.unpack_from(body, end)
    tail = body[end - size : end]
    if kind == _RAW:
        return tail.decode("utf-8", "surrogatepass")
    fields = len(tail) - _STAMP_FIELDS.size
    seq, sent_at = _STAMP_FIELDS.unpack_from(tail, fields)
    return render(tail[:fields].decode(), sender, seq, sent_at)


def _packed_stamp(data: str, sender: str) -> bytes | None:
    """The stamp's worker, sequence and time; None unless ``data`` is a stamp of ``sender`` that
    spells back to exactly ``data``."""
    if not data.startswith(_STAMP_PREFIX):
        return None
    try:
        fields = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if fields.__class__ is not dict or len(fields) != 1:
        return None
    stamp = fields.get(STAMP_KEY)
    if stamp.__class__ is not list or len(stamp) != 4:
        return None
    worker, stamp_sender, seq, sent_at = stamp
    if (
        worker.__class__ is not str
        or stamp_sender != sender
        or seq.__class__ is not int
        or not 0 <= seq <= _UINT32
        or sent_at.__class__ is not float
        or render(worker, sender, seq, sent_at) != data
    ):
        return None
    try:
        return worker.encode() + _STAMP_FIELDS.pack(seq, sent_at)
    except UnicodeEncodeError:  # a lone surrogate: kept as raw data instead
        return None
