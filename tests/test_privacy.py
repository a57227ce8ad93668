"""Pseudonyms and phone masks against values computed by hand."""

import hashlib
import hmac

import pandas as pd
import pytest

from powerprofile.privacy import PSEUDONYM_KEY_ENV, get_pseudonym_key, mask_phone, pseudonymise

KEY = "a-secret-key-0123456789"


def _hmac16(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


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
    assert pseudonymise(ids, KEY + "x").tolist()[0] != got.tolist()[0]
    assert pseudonymise(["C0000001"], KEY, length=8).tolist() == [_hmac16(KEY, "C0000001")[:8]]


def test_key_from_environment_or_refused(monkeypatch):
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, KEY)
    assert pseudonymise(["C1"]).tolist() == [_hmac16(KEY, "C1")]
    monkeypatch.delenv(PSEUDONYM_KEY_ENV)
    with pytest.raises(ValueError, match=PSEUDONYM_KEY_ENV):
        get_pseudonym_key(allow_default=False)
    with pytest.warns(UserWarning, match="development key"):
        assert get_pseudonym_key() != KEY.encode()


def test_phone_mask_by_hand():
    got = mask_phone(["13812345678", "138-1234-5678", "12345678", "123456", None])
    assert got.tolist()[:4] == ["138****5678", "138****5678", "123*5678", "*******"]
    assert pd.isna(got.iloc[4])
