"""PII helpers: the pseudonymisation key, keyed pseudonyms and phone masking.

The pseudonymisation key is a secret: it comes from the environment variable
``POWERPROFILE_PSEUDONYM_KEY`` (or an explicit argument), never from a committed file,
and the library has no built-in key. Without a key, or with a weak one, every call
that pseudonymises raises :class:`~powerprofile.exceptions.PseudonymKeyError`.

The key rule
------------
A key is text that encodes at least :data:`MIN_KEY_BYTES` (32) bytes: at least 64
hexadecimal characters, or at least 43 characters of base64 / base64url (padding
optional). The decoded bytes must hold at least :data:`MIN_DISTINCT_BYTES` (16)
distinct values, which refuses repeated characters and short repeated patterns (32
random bytes fail this with a probability below 1e-15). Make a key with
``powerprofile keygen`` or ``python -c "import secrets; print(secrets.token_hex(32))"``.
The rule catches mistakes (a short, typed or repeated key); it cannot prove that a key
is random, so generate keys, never type them. The HMAC key is the UTF-8 text of the
key as given; the decoding is only used for the check.

A weak key is accepted only with the explicit development switch
(``insecure_development_key=True``; CLI ``--insecure-development-key``, config
``privacy.insecure_development_key: true``), which logs a warning and is recorded in
every manifest together with the key's fingerprint. A key marked as a public demo key
(environment variable ``POWERPROFILE_KEY_IS_DEMO=1``, as ``make demo`` does) is
recorded as such.

The key format
--------------
A pseudonym (``customer_key``) is :data:`KEY_PREFIX` (the letter ``K``) followed by
16 lowercase hexadecimal characters of the HMAC, e.g. ``K5353e258a1c09f3d``. The letter
keeps every spreadsheet from reading a key as a number: without it a key of 16 digits
would lose its last digits (spreadsheets keep 15), and one such as ``5353E258...``
would become 5.353E+261. Portraits, exports, segment files and redacted validation
reports all take their keys from :func:`pseudonymise`, so they join.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import PseudonymKeyError

__all__ = [
    "DEMO_KEY_ENV",
    "KEY_PREFIX",
    "MIN_DISTINCT_BYTES",
    "MIN_KEY_BYTES",
    "PSEUDONYM_KEY_ENV",
    "PseudonymKey",
    "generate_key",
    "get_pseudonym_key",
    "key_fingerprint",
    "key_weakness",
    "mask_phone",
    "pseudonymise",
    "resolve_pseudonym_key",
]

log = logging.getLogger(__name__)

PSEUDONYM_KEY_ENV = "POWERPROFILE_PSEUDONYM_KEY"
"""Environment variable holding the pseudonymisation key."""
DEMO_KEY_ENV = "POWERPROFILE_KEY_IS_DEMO"
"""Set to ``1`` to mark the key as a public demo key (recorded in manifests)."""
KEY_PREFIX = "K"
"""Letter every pseudonym starts with, so no spreadsheet reads a key as a number."""
MIN_KEY_BYTES = 32
"""Bytes a key must encode (256 bits)."""
MIN_DISTINCT_BYTES = 16
"""Distinct byte values the decoded key must hold."""
KEYGEN_HINT = (
    "make one with `powerprofile keygen` "
    '(or `python -c "import secrets; print(secrets.token_hex(32))"`)'
)
DEV_SWITCH_HINT = (
    "for development only, allow a weak key with --insecure-development-key "
    "(config key 'privacy.insecure_development_key: true')"
)
MAX_PHONE_VISIBLE_DIGITS = 4
"""At most this many digits of a phone number stay visible when masked."""

_FINGERPRINT_DOMAIN = b"powerprofile/pseudonym-key-fingerprint/v1"
# fingerprints (never keys) of public keys shipped with the examples: a run with one of
# them is recorded as a demo run even when the marker variable is missing
_PUBLIC_KEY_FINGERPRINTS = {
    "184ec20044fada9f": "the demo key of `make demo` and the quickstart notebook",
}
_MIN_KEY_CHARS = 43  # base64 of 32 bytes without padding
_HEX = re.compile(r"[0-9A-Fa-f]+")
_B64 = re.compile(r"[A-Za-z0-9+/_-]+")


@dataclass(frozen=True)
class PseudonymKey:
    """A checked pseudonymisation key; its ``repr`` never shows the secret.

    Build it with :func:`resolve_pseudonym_key`; pass it as ``key=`` to any function
    that pseudonymises so the key is checked (and warned about) once.

    Attributes
    ----------
    secret : bytes
        The HMAC key (the UTF-8 text of the key as given).
    fingerprint : str
        :func:`key_fingerprint` of the key (16 hex characters), safe to record.
    strong : bool
        Whether the key meets the key rule (see the module docstring).
    insecure_development_key : bool
        Whether the development switch was given.
    demo : bool
        Whether the key is marked or known as a public demo key.
    """

    secret: bytes = field(repr=False)
    fingerprint: str
    strong: bool
    insecure_development_key: bool = False
    demo: bool = False

    def manifest(self) -> dict:
        """What a manifest records about the key: never the key itself.

        Returns
        -------
        dict
            ``fingerprint``, ``strong``, ``insecure_development_key``, ``demo``.
        """
        return {
            "fingerprint": self.fingerprint,
            "strong": self.strong,
            "insecure_development_key": self.insecure_development_key,
            "demo": self.demo,
        }


def generate_key() -> str:
    """A new random key: 32 bytes from :mod:`secrets` as 64 hex characters.

    Returns
    -------
    str
    """
    return secrets.token_hex(MIN_KEY_BYTES)


def _as_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def key_fingerprint(key: str | bytes) -> str:
    """Fingerprint of a key: the first 16 hex characters of SHA-256 of a domain-separated HMAC.

    It tells keys apart (rotations are visible in manifests) without revealing the key:
    recovering a key from it means guessing the key, which the key rule makes infeasible.

    Parameters
    ----------
    key : str or bytes

    Returns
    -------
    str
    """
    mac = hmac.new(_as_bytes(key), _FINGERPRINT_DOMAIN, hashlib.sha256).digest()
    return hashlib.sha256(mac).hexdigest()[:16]


def _decode(text: str) -> bytes | None:
    """The bytes a key encodes (hex first, then base64/base64url), or None."""
    if len(text) % 2 == 0 and _HEX.fullmatch(text):
        return bytes.fromhex(text)
    body = text.rstrip("=")
    if len(text) - len(body) > 2 or not _B64.fullmatch(body) or len(body) % 4 == 1:
        return None
    body = body.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def key_weakness(key: str | bytes) -> str | None:
    """Why ``key`` breaks the key rule (see the module docstring), or None when it meets it.

    Parameters
    ----------
    key : str or bytes
        The key as text (bytes holding ASCII text are read as text; other bytes are
        taken as the raw key).

    Returns
    -------
    str or None
    """
    if isinstance(key, bytes | bytearray):
        try:
            key = bytes(key).decode("ascii")
        except UnicodeDecodeError:
            return _byte_weakness(bytes(key))
    if key != key.strip():
        return "it starts or ends with white space (copy the key without it)"
    n = len(key)
    if n < _MIN_KEY_CHARS:
        return (
            f"it has {n} character{'' if n == 1 else 's'}, fewer than the "
            f"{_MIN_KEY_CHARS} of the shortest key"
        )
    decoded = _decode(key)
    if decoded is None:
        return (
            "it is neither hexadecimal nor base64 text, so it cannot be checked to hold "
            f"{MIN_KEY_BYTES} random bytes"
        )
    return _byte_weakness(decoded)


def _byte_weakness(raw: bytes) -> str | None:
    if len(raw) < MIN_KEY_BYTES:
        return f"it encodes {len(raw)} bytes, fewer than {MIN_KEY_BYTES}"
    distinct = len(set(raw))
    if distinct < MIN_DISTINCT_BYTES:
        return (
            f"it encodes {len(raw)} bytes with only {distinct} distinct "
            f"{'value' if distinct == 1 else 'values'} (at least {MIN_DISTINCT_BYTES} are "
            "needed: repeated characters or patterns are not secret)"
        )
    return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def resolve_pseudonym_key(
    key: str | bytes | PseudonymKey | None = None, *, insecure_development_key: bool = False
) -> PseudonymKey:
    """Read and check the pseudonymisation key.

    Parameters
    ----------
    key : str or bytes or PseudonymKey or None, default=None
        Explicit key; None reads the environment variable ``POWERPROFILE_PSEUDONYM_KEY``.
        A :class:`PseudonymKey` is returned unchanged (already checked).
    insecure_development_key : bool, default=False
        Accept a key that breaks the key rule, with a logged warning. For development
        and tests on synthetic data only; manifests record it.

    Returns
    -------
    PseudonymKey

    Raises
    ------
    PseudonymKeyError
        No key (whatever the switch), or a weak key without the switch.
    """
    if isinstance(key, PseudonymKey):
        return key
    source = "given as argument" if key is not None else f"from {PSEUDONYM_KEY_ENV}"
    if key is None:
        key = os.environ.get(PSEUDONYM_KEY_ENV)
    if key is None or len(key) == 0:
        raise PseudonymKeyError(
            f"no pseudonymisation key: set the environment variable {PSEUDONYM_KEY_ENV} "
            f"to a secret of at least {MIN_KEY_BYTES} random bytes written as 64 hex "
            f"characters; {KEYGEN_HINT}. Keep it secret and stable: the same key gives "
            "the same customer_key in every run."
        )
    weakness = key_weakness(key)
    if weakness is not None and not insecure_development_key:
        raise PseudonymKeyError(
            f"pseudonymisation key {source} is too weak: {weakness}. A key needs at least "
            f"{MIN_KEY_BYTES} random bytes written as 64 hex characters or 43 base64 "
            f"characters; {KEYGEN_HINT}; {DEV_SWITCH_HINT}."
        )
    fingerprint = key_fingerprint(key)
    demo = _truthy(os.environ.get(DEMO_KEY_ENV)) or fingerprint in _PUBLIC_KEY_FINGERPRINTS
    resolved = PseudonymKey(
        secret=_as_bytes(key),
        fingerprint=fingerprint,
        strong=weakness is None,
        insecure_development_key=bool(insecure_development_key),
        demo=demo,
    )
    if weakness is not None:
        log.warning(
            "INSECURE DEVELOPMENT KEY: pseudonymisation key %s (fingerprint %s) is weak (%s); "
            "customer_key values can be reversed. Never use this for real customer data.",
            source,
            fingerprint,
            weakness,
        )
    if demo:
        log.warning(
            "DEMO KEY: pseudonymisation key %s (fingerprint %s) is a public demo key; "
            "customer_key values can be reversed by anyone. Never use it for real data.",
            source,
            fingerprint,
        )
    return resolved


def get_pseudonym_key(
    key: str | bytes | PseudonymKey | None = None, *, insecure_development_key: bool = False
) -> bytes:
    """Return the checked pseudonymisation key as bytes.

    Parameters
    ----------
    key : str or bytes or PseudonymKey or None, default=None
        See :func:`resolve_pseudonym_key`.
    insecure_development_key : bool, default=False
        See :func:`resolve_pseudonym_key`.

    Returns
    -------
    bytes

    Raises
    ------
    PseudonymKeyError
        No key, or a weak key without the development switch.
    """
    return resolve_pseudonym_key(key, insecure_development_key=insecure_development_key).secret


def pseudonymise(ids, key: str | bytes | PseudonymKey | None = None, *, length: int = 16):
    """Keyed hash (HMAC-SHA256) of identifiers: ``K`` and ``length`` hex characters.

    The same id and key always give the same pseudonym, so files from different runs
    join; without the key the raw id cannot be recovered or confirmed. The leading
    :data:`KEY_PREFIX` keeps spreadsheets from turning a key into a number (see the
    module docstring).

    Parameters
    ----------
    ids : array-like of str
        Raw identifiers (e.g. customer ids).
    key : str or bytes or PseudonymKey or None, default=None
        See :func:`resolve_pseudonym_key` (None reads ``POWERPROFILE_PSEUDONYM_KEY``).
    length : int, default=16
        Number of hex characters kept after the prefix (16 = 64 bits).

    Returns
    -------
    pandas.Series of str (``K`` + ``length`` lowercase hex characters), aligned with ``ids`` (index kept when ``ids`` is a Series).

    Raises
    ------
    PseudonymKeyError
        No key, or a weak key given as text (pass a :class:`PseudonymKey` built with
        ``insecure_development_key=True`` to use one).
    """
    k = resolve_pseudonym_key(key).secret
    s = pd.Series(ids, copy=False)
    uniq, inverse = np.unique(
        s.astype("string").fillna("").to_numpy(dtype=object), return_inverse=True
    )
    # one HMAC per distinct id (not per row); ids repeat across snapshots
    hashed = np.array(
        [
            KEY_PREFIX + hmac.new(k, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
            for u in uniq
        ],
        dtype=object,
    )
    out = pd.Series(hashed[inverse] if len(s) else [], index=s.index, dtype="string")
    return out


def mask_phone(phones, visible: int = MAX_PHONE_VISIBLE_DIGITS) -> pd.Series:
    """Mask phone numbers, keeping only the last ``visible`` digits: ``*******1234``.

    Non-digit characters are dropped; every digit but the last ``visible`` becomes
    ``*``. Values with fewer than 7 digits (not a plausible phone) are fully masked
    as ``*******``; missing values stay missing.

    Parameters
    ----------
    phones : array-like of str
    visible : int, default=4
        Digits left visible at the end, 0 to 4.

    Returns
    -------
    pandas.Series of str

    Raises
    ------
    ValueError
        ``visible`` outside 0..4.
    """
    if isinstance(visible, bool) or not isinstance(visible, int | np.integer):
        raise ValueError(f"visible must be an integer from 0 to 4, got {visible!r}")
    if not 0 <= visible <= MAX_PHONE_VISIBLE_DIGITS:
        raise ValueError(
            f"visible = {visible!r} would show too much of a phone number; "
            f"use 0 to {MAX_PHONE_VISIBLE_DIGITS} (raw phones go only through "
            "export.allow_raw_phone and export.raw_phone_channels)."
        )
    s = pd.Series(phones, copy=False).astype("string")
    digits = s.str.replace(r"\D", "", regex=True)
    n = digits.str.len()
    tail = digits.str.slice(start=-visible) if visible else digits.str.slice(0, 0)
    masked = pd.Series("*" * 7, index=s.index, dtype="string")  # fewer than 7 digits
    # one vectorised step per distinct number length, not per row
    for length in sorted(int(v) for v in n[n >= 7].unique()):
        at = (n == length).fillna(False).to_numpy(dtype=bool)
        masked[at] = "*" * (length - visible) + tail[at]
    return masked.where(s.notna())
