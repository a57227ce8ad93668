"""Keys, pseudonyms and phone masks against values computed by hand."""

import base64
import hashlib
import hmac
import logging
import re
import secrets
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spreadsheet import coerced

from powerprofile.exceptions import ConfigError, PseudonymKeyError
from powerprofile.privacy import (
    DEMO_KEY_ENV,
    PSEUDONYM_KEY_ENV,
    PseudonymKey,
    generate_key,
    get_pseudonym_key,
    key_fingerprint,
    mask_phone,
    pseudonymise,
    resolve_pseudonym_key,
)

ROOT = Path(__file__).resolve().parents[1]
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
NO_KEY = (
    r"no pseudonymisation key: set the environment variable POWERPROFILE_PSEUDONYM_KEY "
    r"to a secret of at least 32 random bytes .*`powerprofile keygen`"
)
WEAK = r"pseudonymisation key .* is too weak: .*--insecure-development-key"


def _hmac16(key: str, value: str) -> str:
    return "K" + hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def test_pseudonyms_are_keyed_hmacs_and_keep_the_index():
    ids = pd.Series(["C0000001", "C0000002", "C0000001"], index=[10, 11, 12])
    got = pseudonymise(ids, KEY)
    assert got.index.tolist() == [10, 11, 12]
    assert got.tolist() == [
        _hmac16(KEY, "C0000001"),
        _hmac16(KEY, "C0000002"),
        _hmac16(KEY, "C0000001"),
    ]
    assert not got.isin(ids).any()
    assert pseudonymise(ids, KEY[::-1]).tolist()[0] != got.tolist()[0]
    assert pseudonymise(["C0000001"], KEY, length=8).tolist() == [_hmac16(KEY, "C0000001")[:9]]


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, KEY)
    assert pseudonymise(["C1"]).tolist() == [_hmac16(KEY, "C1")]
    assert get_pseudonym_key() == KEY.encode()


def test_no_key_is_refused_naming_the_variable_and_how_to_make_one(monkeypatch):
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError, match=NO_KEY):
        pseudonymise(["C1"])
    with pytest.raises(ConfigError, match=NO_KEY):  # a configuration error: CLI exit 2
        get_pseudonym_key()
    # the development switch allows a weak key, never no key
    with pytest.raises(PseudonymKeyError, match=NO_KEY):
        resolve_pseudonym_key(insecure_development_key=True)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "")
    with pytest.raises(PseudonymKeyError, match=NO_KEY):
        resolve_pseudonym_key()


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("k", "it has 1 character, fewer than the 43 of the shortest key"),
        ("a-secret-key-0123456789", "it has 23 characters, fewer than the 43"),
        ("0" * 64, "it encodes 32 bytes with only 1 distinct value"),
        ("ab" * 40, "it encodes 40 bytes with only 1 distinct value"),
        # 16 hex digits repeated: the bytes 01 23 45 67 89 ab cd ef, 8 distinct values
        ("0123456789abcdef" * 4, "it encodes 32 bytes with only 8 distinct values"),
        # base64 of 'xxx' repeated: "eHh4" decodes to the single byte value 0x78
        ("eHh4" * 11, "it encodes 33 bytes with only 1 distinct value"),
        ("我的密钥" * 12, "neither hexadecimal nor base64"),
        (" " + KEY, "white space"),
        (bytes(range(31)).hex(), "it encodes 31 bytes, fewer than 32"),
    ],
)
def test_weak_keys_are_refused(monkeypatch, key, why):
    with pytest.raises(PseudonymKeyError, match=WEAK) as info:
        pseudonymise(["C1"], key)
    assert why in str(info.value)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, key)
    with pytest.raises(PseudonymKeyError, match=re.escape(why)):
        resolve_pseudonym_key()


def test_key_rule_boundaries_by_hand():
    # 32 bytes with exactly 16 distinct values pass; 15 distinct values fail
    ok16 = bytes(list(range(16)) * 2)
    bad15 = bytes(list(range(15)) * 2 + [0, 1])
    assert resolve_pseudonym_key(ok16.hex()).strong
    with pytest.raises(PseudonymKeyError, match="only 15 distinct values"):
        resolve_pseudonym_key(bad15.hex())
    # the same 32 bytes as base64 (44 characters with padding, 43 without) and base64url
    raw = bytes(range(100, 132))
    for text in (
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
    ):
        assert resolve_pseudonym_key(text).strong, text
    # raw bytes that are not text are the key itself
    assert resolve_pseudonym_key(raw).secret == raw


def test_generated_keys_meet_the_rule():
    for _ in range(200):
        for key in (
            generate_key(),
            secrets.token_hex(32),
            secrets.token_urlsafe(32),
            base64.b64encode(secrets.token_bytes(32)).decode(),
        ):
            assert resolve_pseudonym_key(key).strong, key
    key = generate_key()
    assert re.fullmatch(r"[0-9a-f]{64}", key) and key != generate_key()


def test_development_switch_accepts_a_weak_key_loudly(caplog):
    with caplog.at_level(logging.WARNING, logger="powerprofile"):
        k = resolve_pseudonym_key("k", insecure_development_key=True)
    assert "INSECURE DEVELOPMENT KEY" in caplog.text and "Never use" in caplog.text
    assert "'k'" not in caplog.text
    assert (k.strong, k.insecure_development_key, k.demo) == (False, True, False)
    # a checked key is passed on as is: no second check, no second warning
    caplog.clear()
    assert pseudonymise(["C1"], k).tolist() == [_hmac16("k", "C1")]
    assert caplog.text == ""
    # the switch with a strong key: recorded, but no warning about weakness
    assert resolve_pseudonym_key(KEY, insecure_development_key=True).manifest() == {
        "fingerprint": key_fingerprint(KEY),
        "strong": True,
        "insecure_development_key": True,
        "demo": False,
    }


def test_fingerprint_is_a_domain_separated_hash_never_the_key():
    mac = hmac.new(KEY.encode(), b"powerprofile/pseudonym-key-fingerprint/v1", hashlib.sha256)
    expected = hashlib.sha256(mac.digest()).hexdigest()[:16]
    k = resolve_pseudonym_key(KEY)
    assert k.fingerprint == key_fingerprint(KEY) == expected
    assert k.fingerprint not in KEY and k.fingerprint != _hmac16(KEY, "")
    assert key_fingerprint(KEY[::-1]) != expected  # a rotation is visible
    assert KEY not in repr(k) and KEY not in str(k.manifest())
    assert isinstance(k, PseudonymKey)


def test_demo_key_is_recorded_as_demo(monkeypatch, caplog):
    monkeypatch.setenv(DEMO_KEY_ENV, "1")
    with caplog.at_level(logging.WARNING, logger="powerprofile"):
        assert resolve_pseudonym_key(KEY).demo
    assert "DEMO KEY" in caplog.text
    monkeypatch.delenv(DEMO_KEY_ENV)
    assert not resolve_pseudonym_key(KEY).demo
    # the public key of `make demo` and the notebook is known as a demo key even unmarked
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo_key = re.search(r"^DEMO_PSEUDONYM_KEY := (\S+)$", makefile, re.M).group(1)
    assert "POWERPROFILE_KEY_IS_DEMO=1" in makefile
    assert demo_key in (ROOT / "notebooks" / "make_quickstart.py").read_text(encoding="utf-8")
    k = resolve_pseudonym_key(demo_key)
    assert k.demo and k.strong


def test_phone_mask_by_hand():
    got = mask_phone(
        ["13812345678", "138-1234-5678", "12345678", "123456", "+86 138 1234 5678", None]
    )
    assert got.tolist()[:5] == [
        "*******5678",
        "*******5678",
        "****5678",
        "*******",
        "*********5678",
    ]
    assert pd.isna(got.iloc[5])
    assert mask_phone(["13812345678"], 0).tolist() == ["***********"]
    assert mask_phone(["13812345678"], 2).tolist() == ["*********78"]
    for bad in (5, 11, -1, True, 2.0):
        with pytest.raises(ValueError, match="visible"):
            mask_phone(["13812345678"], bad)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789 -+()", max_size=20) | st.none(),
        max_size=20,
    ),
    st.integers(0, 4),
)
def test_phone_mask_shows_at_most_the_last_visible_digits(phones, visible):
    got = mask_phone(phones, visible).tolist()
    for raw, masked in zip(phones, got, strict=True):
        if raw is None:
            assert pd.isna(masked)
            continue
        digits = "".join(c for c in raw if c.isdigit())
        shown = "".join(c for c in masked if c.isdigit())
        assert len(shown) <= visible
        if len(digits) < 7:
            assert masked == "*******"
        else:
            assert len(masked) == len(digits)
            assert masked == "*" * (len(digits) - visible) + digits[len(digits) - visible :]


# --------------------------------------------------------------------------- key format
def test_the_coercion_check_catches_what_spreadsheets_mangle():
    # the bare hex digests that broke: all digits, and E between digits (5.353E+261)
    for cell in ("1234567890123456", "5353E258", "5353e2581", "1E5", "12-03", "TRUE", "3/4"):
        assert coerced(cell), cell


def test_keys_start_with_a_letter_and_keep_the_hmac():
    got = pseudonymise(["C0000001"], KEY).iloc[0]
    assert re.fullmatch(r"K[0-9a-f]{16}", got)
    mac = hmac.new(KEY.encode(), b"C0000001", hashlib.sha256).hexdigest()
    assert got == "K" + mac[:16]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50))
def test_no_key_is_coerced_by_a_spreadsheet(ids):
    keys = pseudonymise(ids, KEY)
    assert not any(coerced(k) for k in keys), keys.tolist()
    assert keys.str.fullmatch(r"K[0-9a-f]{16}").all()


def test_bare_digests_would_be_coerced_and_prefixed_ones_are_not():
    # among many ids some bare 16-hex digests look like numbers; none of the keys do
    ids = [f"C{i:07d}" for i in range(20_000)]
    keys = pseudonymise(ids, KEY)
    bare = keys.str.slice(1)
    assert sum(coerced(b) for b in bare) > 0
    assert not any(coerced(k) for k in keys)
