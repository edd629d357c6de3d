"""TLS 2.0 UserSig: generation and verification (AUTH-1, AUTH-2).

A UserSig is what a real app backend mints with Tencent's ``tls-sig-api-v2``
and hands to a client, so simtim must accept exactly those strings and mint
strings the official libraries (and the real TIM backend) would accept too.
The format (AUTH-1) is::

    base64url'( zlib( json({"TLS.ver": "2.0", "TLS.identifier": ..., "TLS.sdkappid": ...,
                            "TLS.expire": ..., "TLS.time": ..., ["TLS.userbuf": ...,]
                            "TLS.sig": base64(HMAC-SHA256(key, content))}) ) )

where base64url' is standard base64 with ``+``→``*``, ``/``→``-``, ``=``→``_``
and ``content`` is the newline-terminated ``TLS.<field>:<value>`` lines.

Everything here is pure: the current time is always passed in as ``now`` so the
model's injected clock (CLOCK-1) decides expiry, never the wall clock.

Verification is semantic, never a comparison of whole sig strings: two sigs for
the same fields may differ byte-wise (another SDK's JSON spacing or key order, a
different zlib level), yet both are valid, and only the HMAC proves who signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from typing import Final

from simtim.errors import Code, IMError

__all__ = [
    "SigFields",
    "decode_usersig",
    "gen_usersig",
    "signature_of",
    "verify_usersig",
]

VERSION: Final = "2.0"
"""The only ``TLS.ver`` accepted: 1.0 sigs were ECDSA with a different layout."""

MAX_SIG_CHARS: Final = 64 * 1024
"""Longest sig string even looked at.

Real sigs are a few hundred characters; refusing huge strings up front keeps a
hostile client from making us base64-decode and inflate megabytes per login.
"""

MAX_INFLATED_BYTES: Final = 1024 * 1024
"""Cap on the inflated JSON, so a small zlib bomb cannot expand to gigabytes."""

_TO_URL: Final = str.maketrans({"+": "*", "/": "-", "=": "_"})
_FROM_URL: Final = str.maketrans({"*": "+", "-": "/", "_": "="})


@dataclass(frozen=True)
class SigFields:
    """The signed fields of a UserSig, as decoded (the HMAC is not part of them)."""

    identifier: str
    sdkappid: int
    time: int
    expire: int
    userbuf: bytes | None

    @property
    def expires_at(self) -> int:
        """Last second (inclusive) at which the sig is still valid (AUTH-2)."""
        return self.time + self.expire


def _content(identifier: str, sdkappid: int, time: int, expire: int, userbuf_b64: str | None) -> bytes:
    """The exact text the HMAC covers (AUTH-1), UTF-8 encoded like the official SDK.

    ``userbuf_b64`` is the base64 text as it appears in the JSON: the signer
    signed that text, so verification must use it verbatim rather than a
    re-encoding of the decoded bytes.
    """
    text = f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    if userbuf_b64 is not None:
        text += f"TLS.userbuf:{userbuf_b64}\n"
    return text.encode("utf-8")


def _hmac(key: str, content: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), content, hashlib.sha256).digest()


def gen_usersig(
    sdkappid: int,
    key: str,
    identifier: str,
    expire: int,
    *,
    now: int,
    userbuf: bytes | None = None,
) -> str:
    """Mint a UserSig byte-identical to ``tls-sig-api-v2`` run at time ``now``.

    Byte identity (not just validity) is kept so tests can pin our output to the
    official library's: same key order, ``json.dumps`` default separators and
    ASCII escaping, default zlib level.  An empty ``userbuf`` (``b""``) is still
    a userbuf, exactly as in the official SDK, which tests ``is not None``.

    Raises ``ValueError`` for inputs a caller (never a client) got wrong: a
    string that is not valid Unicode, or a sig so large that
    ``verify_usersig`` would refuse it; minting what we would reject is a trap.
    """
    doc: dict[str, str | int] = {
        "TLS.ver": VERSION,
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
    }
    userbuf_b64 = None if userbuf is None else base64.b64encode(userbuf).decode("ascii")
    if userbuf_b64 is not None:
        doc["TLS.userbuf"] = userbuf_b64
    digest = _hmac(key, _content(identifier, sdkappid, now, expire, userbuf_b64))
    doc["TLS.sig"] = base64.b64encode(digest).decode("ascii")
    compressed = zlib.compress(json.dumps(doc).encode("utf-8"))
    sig = base64.b64encode(compressed).decode("ascii").translate(_TO_URL)
    if len(sig) > MAX_SIG_CHARS:
        raise ValueError(f"UserSig would be {len(sig)} characters, over the {MAX_SIG_CHARS} accepted")
    return sig


def _undecodable(why: str) -> IMError:
    return IMError(
        Code.USERSIG_UNDECODABLE,
        f"{Code.USERSIG_UNDECODABLE.phrase}: {why}",
        rule="AUTH-2",
    )


def _inflate(sig: str) -> bytes:
    """URL-base64 decode and inflate, refusing anything that is not exactly that.

    Standard ``+``/``/``/``=`` are tolerated (the official decoder passes them
    through), but any other character, bad padding, a truncated or trailing-junk
    zlib stream, or an oversize result is 70003.
    """
    if len(sig) > MAX_SIG_CHARS:
        raise _undecodable("too long")
    try:
        raw = base64.b64decode(sig.translate(_FROM_URL), validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters
        raise _undecodable("not base64") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(raw, MAX_INFLATED_BYTES)
    except zlib.error:
        raise _undecodable("not zlib") from None
    if inflater.unconsumed_tail:
        raise _undecodable("inflates too large")
    if not inflater.eof or inflater.unused_data:
        raise _undecodable("truncated or trailing zlib data")
    return data


def _int_field(doc: dict[str, object], name: str) -> int:
    value = doc.get(name)
    # bool is an int subclass; JSON true is not a number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _undecodable(f"{name} missing or not an integer")
    return value


def _str_field(doc: dict[str, object], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise _undecodable(f"{name} missing or not a string")
    try:
        # JSON may carry lone surrogates ("\\ud800"); they cannot be hashed as UTF-8.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _undecodable(f"{name} is not valid Unicode") from None
    return value


@dataclass(frozen=True)
class _Decoded:
    fields: SigFields
    sig: str
    userbuf_b64: str | None


def _decode(sig: str) -> _Decoded:
    """Structure check shared by every entry point: 70002, then 70003."""
    if not sig:
        raise IMError(Code.USERSIG_EMPTY, rule="AUTH-2")
    if not isinstance(sig, str):
        raise _undecodable("not a string")
    data = _inflate(sig)
    try:
        doc: object = json.loads(data)
    except (ValueError, RecursionError):  # bad JSON/UTF-8, huge ints; deep nesting
        raise _undecodable("not JSON") from None
    if not isinstance(doc, dict):
        raise _undecodable("not a JSON object")
    if doc.get("TLS.ver") != VERSION:
        raise _undecodable("TLS.ver is not 2.0")
    identifier = _str_field(doc, "TLS.identifier")
    sdkappid = _int_field(doc, "TLS.sdkappid")
    time = _int_field(doc, "TLS.time")
    expire = _int_field(doc, "TLS.expire")
    signature = _str_field(doc, "TLS.sig")
    userbuf_b64: str | None = None
    userbuf: bytes | None = None
    if "TLS.userbuf" in doc:
        userbuf_b64 = _str_field(doc, "TLS.userbuf")
        try:
            userbuf = base64.b64decode(userbuf_b64, validate=True)
        except (binascii.Error, ValueError):
            raise _undecodable("TLS.userbuf is not base64") from None
    fields = SigFields(
        identifier=identifier,
        sdkappid=sdkappid,
        time=time,
        expire=expire,
        userbuf=userbuf,
    )
    return _Decoded(fields=fields, sig=signature, userbuf_b64=userbuf_b64)


def decode_usersig(sig: str) -> SigFields:
    """Decode the fields without checking the HMAC (70002 / 70003 only).

    Useful for tooling and tests; never grant access on this alone.
    """
    return _decode(sig).fields


def signature_of(sig: str) -> str:
    """The ``TLS.sig`` field (base64 HMAC) of a sig, for comparing signers in tests."""
    return _decode(sig).sig


def verify_usersig(sig: str, *, sdkappid: int, identifier: str, key: str, now: int) -> SigFields:
    """Check a UserSig in AUTH-2 order and return its fields, or raise ``IMError``.

    Order: empty 70002, undecodable 70003, sdkappid 70014, identifier 70013,
    expired 70001 (valid while ``now <= time + expire``; no not-before check on
    ``TLS.time``, as the official backend tolerates clock skew), HMAC 70009.
    The cheap, informative checks come first so a client learns *why* (wrong
    app, wrong user, stale) before the generic "signature invalid".  The HMAC
    is compared in constant time on the decoded digest bytes.
    """
    decoded = _decode(sig)
    fields = decoded.fields
    if fields.sdkappid != sdkappid:
        raise IMError(Code.USERSIG_SDKAPPID_MISMATCH, rule="AUTH-2")
    if fields.identifier != identifier:
        raise IMError(Code.USERSIG_IDENTIFIER_MISMATCH, rule="AUTH-2")
    if now > fields.expires_at:
        raise IMError(Code.USERSIG_EXPIRED, rule="AUTH-2")
    try:
        given = base64.b64decode(decoded.sig, validate=True)
    except (binascii.Error, ValueError):
        raise IMError(Code.USERSIG_VERIFY_FAILED, rule="AUTH-2") from None
    content = _content(
        fields.identifier,
        fields.sdkappid,
        fields.time,
        fields.expire,
        decoded.userbuf_b64,
    )
    if not hmac.compare_digest(given, _hmac(key, content)):
        raise IMError(Code.USERSIG_VERIFY_FAILED, rule="AUTH-2")
    return fields
