"""PII helpers: keyed pseudonyms and phone masking.

The pseudonymisation key is a secret: it comes from the environment variable
``POWERPROFILE_PSEUDONYM_KEY`` (or an explicit argument), never from a committed file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings

import numpy as np
import pandas as pd

__all__ = ["PSEUDONYM_KEY_ENV", "get_pseudonym_key", "mask_phone", "pseudonymise"]

PSEUDONYM_KEY_ENV = "POWERPROFILE_PSEUDONYM_KEY"
_DEV_KEY = "powerprofile-unsafe-development-key"


def get_pseudonym_key(key: str | bytes | None = None, *, allow_default: bool = True) -> bytes:
    """Return the pseudonymisation key.

    Parameters
    ----------
    key : str or bytes or None, default=None
        Explicit key; when None the environment variable ``POWERPROFILE_PSEUDONYM_KEY``
        is read.
    allow_default : bool, default=True
        When neither is set, fall back to a fixed development key with a warning
        (pseudonyms are then not secret). With False, raise instead.

    Returns
    -------
    bytes
    """
    if key is None:
        key = os.environ.get(PSEUDONYM_KEY_ENV)
    if not key:
        if not allow_default:
            raise ValueError(
                f"no pseudonymisation key: set the environment variable {PSEUDONYM_KEY_ENV} "
                "to a secret string (at least 16 characters)"
            )
        warnings.warn(
            f"{PSEUDONYM_KEY_ENV} is not set; using a development key, so pseudonyms are "
            "reproducible by anyone. Set it before exporting real customer data.",
            UserWarning,
            stacklevel=2,
        )
        key = _DEV_KEY
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def pseudonymise(ids, key: str | bytes | None = None, *, length: int = 16) -> pd.Series:
    """Keyed hash (HMAC-SHA256) of identifiers, as hex strings of ``length`` characters.

    The same id and key always give the same pseudonym, so files from different runs
    join; without the key the raw id cannot be recovered or confirmed.

    Parameters
    ----------
    ids : array-like of str
        Raw identifiers (e.g. customer ids).
    key : str or bytes or None, default=None
        See :func:`get_pseudonym_key`.
    length : int, default=16
        Number of hex characters kept (16 = 64 bits).

    Returns
    -------
    pandas.Series of str, aligned with ``ids`` (index kept when ``ids`` is a Series).
    """
    k = get_pseudonym_key(key)
    s = pd.Series(ids, copy=False)
    uniq, inverse = np.unique(
        s.astype("string").fillna("").to_numpy(dtype=object), return_inverse=True
    )
    # one HMAC per distinct id (not per row); ids repeat across snapshots
    hashed = np.array(
        [hmac.new(k, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length] for u in uniq],
        dtype=object,
    )
    out = pd.Series(hashed[inverse] if len(s) else [], index=s.index, dtype="string")
    return out


def mask_phone(phones) -> pd.Series:
    """Mask phone numbers, keeping the first 3 and last 4 digits: ``138****1234``.

    Values with fewer than 7 digits are fully masked; missing values stay missing.

    Parameters
    ----------
    phones : array-like of str

    Returns
    -------
    pandas.Series of str
    """
    s = pd.Series(phones, copy=False).astype("string")
    digits = s.str.replace(r"\D", "", regex=True)
    n = digits.str.len()
    masked = (
        digits.str.slice(0, 3)
        + (n - 7)
        .clip(lower=1)
        .map(lambda m: "*" * int(m) if pd.notna(m) else None)
        .astype("string")
        + digits.str.slice(-4)
    )
    short = n < 7
    masked = masked.where(~short, "*" * 7)
    return masked.where(s.notna())
