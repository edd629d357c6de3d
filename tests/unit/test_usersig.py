"""UserSig (AUTH-1, AUTH-2) against Tencent's official ``tls-sig-api-v2``.

The official package is a hard test dependency: interoperability with it is
the whole point of AUTH-1, so these tests must fail, not skip, without it.
Nothing of the TLS algorithm is re-implemented here: the official module signs
and its own private HMAC helper checks our signatures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import types
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import TLSSigAPIv2
from hypothesis import given
from hypothesis import strategies as st

from simtim.errors import Code, IMError
from simtim.usersig import (
    MAX_INFLATED_BYTES,
    MAX_SIG_CHARS,
    SigFields,
    decode_usersig,
    gen_usersig,
    signature_of,
    verify_usersig,
)

APPID = 1400000000
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
USER = "xiaojun"
EXPIRE = 15552000
T0 = 1600000000

# Known answers, produced once by the official module at T0 (see the fixed-vector
# tests, which also re-derive them from the official module on every run).
VECTOR_SIG = (
    "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1N"
    "jRDiJZm5YFEzNPXFmekgGwyjTAPy0l2y3BNL01KDMwPynUorUjwizV29jb1CUhyzfAMsjYNNvMvCjH1tlWoBGhAzGw__"
)
VECTOR_HMAC = "1Z5PngDjGaufeSiPoBuxdHY7EK3JTdAjMP93S4KvV3M="
VECTOR_USERBUF_HMAC = "9tvdyuu11RSxrIwX0xC05oW7LdPxVnzkzBpcRT/UqfM="

REFUSALS = {
    Code.USERSIG_EXPIRED,
    Code.USERSIG_EMPTY,
    Code.USERSIG_UNDECODABLE,
    Code.USERSIG_VERIFY_FAILED,
    Code.USERSIG_IDENTIFIER_MISMATCH,
    Code.USERSIG_SDKAPPID_MISMATCH,
}


# ---------------------------------------------------------------- helpers


@contextmanager
def official_clock(now: int) -> Iterator[None]:
    """Make the official module (only it) believe the wall clock reads ``now``.

    It calls ``time.time()`` through its own module global, so replacing that
    global leaves the real ``time`` module, pytest and Hypothesis untouched.
    """
    with mock.patch.object(TLSSigAPIv2, "time", types.SimpleNamespace(time=lambda: float(now))):
        yield


def official_sig(
    identifier: str,
    expire: int,
    *,
    now: int,
    userbuf: bytes | None = None,
    appid: int = APPID,
    key: str = KEY,
) -> str:
    api = TLSSigAPIv2.TLSSigAPIv2(appid, key)
    with official_clock(now):
        if userbuf is None:
            return str(api.gen_sig(identifier, expire))
        return str(api.gen_sig_with_userbuf(identifier, expire, userbuf))


def official_hmac(appid: int, key: str, fields: SigFields) -> str:
    """The official module's own private HMAC helper, applied to decoded fields."""
    api = TLSSigAPIv2.TLSSigAPIv2(appid, key)
    userbuf_b64 = None if fields.userbuf is None else base64.b64encode(fields.userbuf).decode()
    helper = api._TLSSigAPIv2__hmacsha256
    return bytes(helper(fields.identifier, fields.time, fields.expire, userbuf_b64)).decode()


def url_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().replace("+", "*").replace("/", "-").replace("=", "_")


def pack(doc: object) -> str:
    """A sig-shaped string around any JSON value (for malformed-document tests)."""
    return url_b64(zlib.compress(json.dumps(doc).encode()))


def unpack(sig: str) -> dict[str, Any]:
    raw = base64.b64decode(sig.replace("*", "+").replace("-", "/").replace("_", "="))
    doc = json.loads(zlib.decompress(raw))
    assert isinstance(doc, dict)
    return doc


def good_doc() -> dict[str, Any]:
    return unpack(gen_usersig(APPID, KEY, USER, EXPIRE, now=T0))


def verify(sig: str, *, appid: int = APPID, user: str = USER, key: str = KEY, now: int = T0) -> SigFields:
    return verify_usersig(sig, sdkappid=appid, identifier=user, key=key, now=now)


def refused(code: Code, fn: Callable[[], object]) -> IMError:
    with pytest.raises(IMError) as info:
        fn()
    assert info.value.code == code, info.value
    assert info.value.rule in ("AUTH-1", "AUTH-2")
    return info.value


# ---------------------------------------------------------------- AUTH-1: interop


@pytest.mark.parametrize("userbuf", [None, b"", b"abc", bytes(range(256))])
def test_auth_1_official_sig_verifies_here(userbuf: bytes | None) -> None:
    api = TLSSigAPIv2.TLSSigAPIv2(APPID, KEY)
    if userbuf is None:
        sig = api.gen_sig(USER, 86400)
    else:
        sig = api.gen_sig_with_userbuf(USER, 86400, userbuf)
    issued = decode_usersig(sig).time  # the official module read the real clock
    for now in (issued, issued + 1, issued + 86400):
        fields = verify(sig, now=now)
        assert fields == SigFields(
            identifier=USER, sdkappid=APPID, time=issued, expire=86400, userbuf=userbuf
        )
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, now=issued + 86401))
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(sig, now=issued, key=KEY[:-1] + "f"))


@pytest.mark.parametrize("identifier", [USER, "", "小军/x", 'a\\"b\n', "emoji😀"])
@pytest.mark.parametrize("userbuf", [None, b"", b"\x00\xffabc"])
def test_auth_1_our_sig_passes_official_hmac(identifier: str, userbuf: bytes | None) -> None:
    sig = gen_usersig(APPID, KEY, identifier, 3600, now=T0, userbuf=userbuf)
    fields = decode_usersig(sig)
    assert fields == SigFields(identifier=identifier, sdkappid=APPID, time=T0, expire=3600, userbuf=userbuf)
    assert signature_of(sig) == official_hmac(APPID, KEY, fields)
    # and the official helper disagrees under another key, so the check has teeth
    assert signature_of(sig) != official_hmac(APPID, KEY.upper(), fields)


def test_auth_1_fixed_vector_matches_official() -> None:
    official = official_sig(USER, EXPIRE, now=T0)
    ours = gen_usersig(APPID, KEY, USER, EXPIRE, now=T0)
    assert signature_of(ours) == signature_of(official) == VECTOR_HMAC
    assert ours == official == VECTOR_SIG
    assert verify(VECTOR_SIG, now=T0) == SigFields(USER, APPID, T0, EXPIRE, None)


def test_auth_1_fixed_vector_with_userbuf_matches_official() -> None:
    official = official_sig(USER, EXPIRE, now=T0, userbuf=b"abc")
    ours = gen_usersig(APPID, KEY, USER, EXPIRE, now=T0, userbuf=b"abc")
    assert signature_of(ours) == signature_of(official) == VECTOR_USERBUF_HMAC
    assert ours == official


def test_auth_1_json_layout_is_the_official_one() -> None:
    """Key order, ``", "``/``": "`` separators, ASCII escapes, unescaped ``/``."""
    sig = gen_usersig(APPID, KEY, "小/", 60, now=T0, userbuf=b"\xfb\xff")
    text = zlib.decompress(
        base64.b64decode(sig.replace("*", "+").replace("-", "/").replace("_", "="))
    ).decode()
    hmac_b64 = signature_of(sig)
    assert text == (
        '{"TLS.ver": "2.0", "TLS.identifier": "\\u5c0f/", "TLS.sdkappid": 1400000000, '
        '"TLS.expire": 60, "TLS.time": 1600000000, "TLS.userbuf": "+/8=", '
        f'"TLS.sig": "{hmac_b64}"}}'
    )
    assert not set(sig) & set("+/=")


@given(
    identifier=st.text(max_size=40),
    appid=st.integers(0, 2**63),
    expire=st.integers(0, 10**10),
    now=st.integers(0, 2**40),
    userbuf=st.none() | st.binary(max_size=64),
)
def test_auth_1_byte_identical_to_official(
    identifier: str, appid: int, expire: int, now: int, userbuf: bytes | None
) -> None:
    ours = gen_usersig(appid, KEY, identifier, expire, now=now, userbuf=userbuf)
    assert ours == official_sig(identifier, expire, now=now, userbuf=userbuf, appid=appid)


def test_auth_1_gen_and_verify_never_read_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom() -> float:
        raise AssertionError("usersig read the wall clock")

    monkeypatch.setattr(time, "time", boom)
    monkeypatch.setattr(time, "time_ns", boom)
    sig = gen_usersig(APPID, KEY, USER, 10, now=5)
    assert verify(sig, now=15).time == 5


def test_auth_1_gen_refuses_to_mint_what_verify_would_refuse() -> None:
    noise = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(MAX_SIG_CHARS // 32))
    with pytest.raises(ValueError):
        gen_usersig(APPID, KEY, USER, 10, now=T0, userbuf=noise)
    big = gen_usersig(APPID, KEY, USER, 10, now=T0, userbuf=noise[: MAX_SIG_CHARS // 4])
    assert verify(big).userbuf == noise[: MAX_SIG_CHARS // 4]


# ---------------------------------------------------------------- AUTH-2: validity window


def test_auth_2_valid_through_expiry_second_inclusive() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    assert decode_usersig(sig).expires_at == T0 + 100
    assert verify(sig, now=T0 + 100).expire == 100
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, now=T0 + 101))


def test_auth_2_no_not_before_check() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    assert verify(sig, now=T0 - 1).time == T0
    assert verify(sig, now=0).time == T0


def test_auth_2_zero_and_negative_expire() -> None:
    sig = gen_usersig(APPID, KEY, USER, 0, now=T0)
    verify(sig, now=T0)
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, now=T0 + 1))
    neg = gen_usersig(APPID, KEY, USER, -5, now=T0)
    verify(neg, now=T0 - 5)
    refused(Code.USERSIG_EXPIRED, lambda: verify(neg, now=T0 - 4))


# ---------------------------------------------------------------- AUTH-2: refusal codes


def test_auth_2_empty_is_70002() -> None:
    refused(Code.USERSIG_EMPTY, lambda: verify(""))
    refused(Code.USERSIG_EMPTY, lambda: decode_usersig(""))
    refused(Code.USERSIG_EMPTY, lambda: signature_of(""))


def _tls_doc(**changes: object) -> str:
    doc = good_doc()
    for name, value in changes.items():
        key = "TLS." + name
        if value is _DROP:
            del doc[key]
        else:
            doc[key] = value
    return pack(doc)


_DROP = object()

UNDECODABLE = {
    "garbage": "this is not a usersig",
    "non_ascii": "eJyrVgrxCdYrSy1Sslé",
    "bad_padding": VECTOR_SIG[:-2],
    "extra_padding": VECTOR_SIG + "__",
    "base64_of_non_zlib": url_b64(b"hello world, not deflated"),
    "truncated_zlib": url_b64(zlib.compress(b'{"TLS.ver": "2.0"}')[:-3]),
    "zlib_with_trailing_junk": url_b64(zlib.compress(json.dumps(good_doc()).encode()) + b"junk"),
    "zlib_of_non_json": url_b64(zlib.compress(b"{not json")),
    "zlib_of_non_utf8": url_b64(zlib.compress(b'{"TLS.identifier": "\xff"}')),
    "json_array": pack([1, 2, 3]),
    "json_string": pack("TLS.sig"),
    "json_null": pack(None),
    "empty_object": pack({}),
    "missing_identifier": _tls_doc(identifier=_DROP),
    "missing_sdkappid": _tls_doc(sdkappid=_DROP),
    "missing_time": _tls_doc(time=_DROP),
    "missing_expire": _tls_doc(expire=_DROP),
    "missing_sig": _tls_doc(sig=_DROP),
    "missing_ver": _tls_doc(ver=_DROP),
    "wrong_ver": _tls_doc(ver="1.0"),
    "numeric_ver": _tls_doc(ver=2.0),
    "identifier_not_str": _tls_doc(identifier=123),
    "sdkappid_as_string": _tls_doc(sdkappid=str(APPID)),
    "time_as_float": _tls_doc(time=float(T0)),
    "expire_as_bool": _tls_doc(expire=True),
    "expire_null": _tls_doc(expire=None),
    "sig_not_str": _tls_doc(sig=["x"]),
    "userbuf_not_base64": _tls_doc(userbuf="not base64!"),
    "userbuf_null": _tls_doc(userbuf=None),
    "lone_surrogate_identifier": url_b64(
        zlib.compress(json.dumps(good_doc()).replace('"xiaojun"', '"\\ud800"').encode())
    ),
    "huge_int": url_b64(zlib.compress(json.dumps(good_doc()).replace(str(T0), "9" * 5000).encode())),
    "deep_nesting": url_b64(zlib.compress(b"[" * 200_000)),
    "zlib_bomb": url_b64(zlib.compress(b" " * (MAX_INFLATED_BYTES * 4) + b"{}", 9)),
    "too_long": "A" * (MAX_SIG_CHARS + 4),
}


@pytest.mark.parametrize("sig", UNDECODABLE.values(), ids=UNDECODABLE.keys())
def test_auth_2_undecodable_is_70003(sig: str) -> None:
    refused(Code.USERSIG_UNDECODABLE, lambda: verify(sig))
    refused(Code.USERSIG_UNDECODABLE, lambda: decode_usersig(sig))
    refused(Code.USERSIG_UNDECODABLE, lambda: signature_of(sig))


def test_auth_2_zlib_bomb_fits_the_length_limit() -> None:
    """Otherwise the bomb case above would be caught by the length cap, not the inflate cap."""
    assert len(UNDECODABLE["zlib_bomb"]) < MAX_SIG_CHARS


def test_auth_2_huge_string_is_70003() -> None:
    refused(Code.USERSIG_UNDECODABLE, lambda: verify(VECTOR_SIG * 100_000))


def test_auth_2_unknown_extra_fields_are_ignored() -> None:
    sig = _tls_doc(extra="whatever")
    assert verify(sig).identifier == USER


def test_auth_2_wrong_sdkappid_is_70014() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(Code.USERSIG_SDKAPPID_MISMATCH, lambda: verify(sig, appid=APPID + 1))


def test_auth_2_wrong_identifier_is_70013() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(Code.USERSIG_IDENTIFIER_MISMATCH, lambda: verify(sig, user="xiaojun2"))
    refused(Code.USERSIG_IDENTIFIER_MISMATCH, lambda: verify(sig, user="Xiaojun"))


def test_auth_2_expired_is_70001() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, now=T0 + 10_000))


def test_auth_2_wrong_key_is_70009() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(sig, key="0" + KEY[1:]))
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(sig, key=""))


TAMPERED = {
    "other_hmac": {"sig": VECTOR_USERBUF_HMAC},
    "hmac_one_char_off": {"sig": ("A" if VECTOR_HMAC[0] != "A" else "B") + VECTOR_HMAC[1:]},
    "hmac_not_base64": {"sig": "%%%"},
    "hmac_empty": {"sig": ""},
    "hmac_non_ascii": {"sig": "é" * 44},
    "expire_extended": {"expire": EXPIRE + 1},
    "time_moved": {"time": T0 + 1},
    "userbuf_added": {"userbuf": "YWJj"},
}


@pytest.mark.parametrize("changes", TAMPERED.values(), ids=TAMPERED.keys())
def test_auth_2_tampered_is_70009(changes: dict[str, object]) -> None:
    assert verify(_tls_doc()).identifier == USER  # the untampered repack is fine
    sig = _tls_doc(**changes)
    decode_usersig(sig)  # still well-formed
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(sig))


def test_auth_2_userbuf_removed_is_70009() -> None:
    doc = unpack(gen_usersig(APPID, KEY, USER, EXPIRE, now=T0, userbuf=b""))
    assert doc["TLS.userbuf"] == ""
    del doc["TLS.userbuf"]
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(pack(doc)))


def test_auth_2_sig_reencoded_with_other_json_layout_still_verifies() -> None:
    """Semantic, not string, comparison: compact JSON and zlib level 9 are the same sig."""
    doc = dict(reversed(list(good_doc().items())))
    sig = url_b64(zlib.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), 9))
    assert sig != gen_usersig(APPID, KEY, USER, EXPIRE, now=T0)
    assert verify(sig) == SigFields(USER, APPID, T0, EXPIRE, None)


# ---------------------------------------------------------------- AUTH-2: order


def test_auth_2_order_identifier_before_expiry() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(
        Code.USERSIG_IDENTIFIER_MISMATCH,
        lambda: verify(sig, user="other", now=T0 + 10_000),
    )


def test_auth_2_order_appid_before_key() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    refused(Code.USERSIG_SDKAPPID_MISMATCH, lambda: verify(sig, appid=1, key="wrong"))


def test_auth_2_order_appid_before_identifier_before_expiry_before_hmac() -> None:
    sig = gen_usersig(APPID, KEY, USER, 100, now=T0)
    late = T0 + 10_000
    refused(
        Code.USERSIG_SDKAPPID_MISMATCH,
        lambda: verify(sig, appid=1, user="o", key="k", now=late),
    )
    refused(
        Code.USERSIG_IDENTIFIER_MISMATCH,
        lambda: verify(sig, user="o", key="k", now=late),
    )
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, key="k", now=late))
    refused(Code.USERSIG_VERIFY_FAILED, lambda: verify(sig, key="k"))


def test_auth_2_order_undecodable_before_everything() -> None:
    sig = _tls_doc(sdkappid=1, identifier="o", time=0, expire="soon")
    refused(Code.USERSIG_UNDECODABLE, lambda: verify(sig, key="k", now=T0 * 2))


def test_auth_2_expired_tampered_sig_reports_expiry_not_hmac() -> None:
    sig = _tls_doc(sig=VECTOR_USERBUF_HMAC)
    refused(Code.USERSIG_EXPIRED, lambda: verify(sig, now=T0 + EXPIRE + 1))


# ---------------------------------------------------------------- AUTH-2: properties


def _only_refusals(sig: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: decode_usersig(sig),
        lambda: signature_of(sig),
        lambda: verify(sig),
    ]
    for call in calls:
        try:
            call()
        except IMError as exc:
            assert exc.code in REFUSALS


@given(st.text())
def test_auth_2_arbitrary_text_only_raises_imerror(sig: str) -> None:
    _only_refusals(sig)


@given(st.binary())
def test_auth_2_arbitrary_bytes_only_raise_imerror(raw: bytes) -> None:
    _only_refusals(url_b64(raw))
    _only_refusals(url_b64(raw)[:-1])
    _only_refusals(url_b64(zlib.compress(raw)))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_tls_keys = [
    "TLS.ver",
    "TLS.identifier",
    "TLS.sdkappid",
    "TLS.time",
    "TLS.expire",
    "TLS.sig",
    "TLS.userbuf",
]


@given(
    _json,
    st.dictionaries(st.sampled_from(_tls_keys), _json | st.just("2.0") | st.just(USER)),
)
def test_auth_2_arbitrary_json_only_raises_imerror(value: object, tls_doc: dict[str, object]) -> None:
    _only_refusals(pack(value))
    _only_refusals(pack(tls_doc))
    _only_refusals(pack({**good_doc(), **tls_doc}))


_printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=32)


@given(
    identifier=_printable,
    appid=st.integers(1, 2**32 - 1),
    expire=st.integers(0, 10**9),
    now=st.integers(0, 2**34),
    key=st.text(min_size=1, max_size=64),
    userbuf=st.none() | st.binary(max_size=64),
)
def test_auth_2_gen_verify_roundtrip(
    identifier: str, appid: int, expire: int, now: int, key: str, userbuf: bytes | None
) -> None:
    sig = gen_usersig(appid, key, identifier, expire, now=now, userbuf=userbuf)
    expected = SigFields(identifier, appid, now, expire, userbuf)
    ok = {"sdkappid": appid, "identifier": identifier, "key": key}
    assert verify_usersig(sig, **ok, now=now) == expected
    assert verify_usersig(sig, **ok, now=now + expire) == expected
    with pytest.raises(IMError) as info:
        verify_usersig(sig, **ok, now=now + expire + 1)
    assert info.value.code == Code.USERSIG_EXPIRED
    with pytest.raises(IMError) as info:
        verify_usersig(sig, sdkappid=appid, identifier=identifier, key=key + "x", now=now)
    assert info.value.code == Code.USERSIG_VERIFY_FAILED
