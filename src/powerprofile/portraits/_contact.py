"""Contactability (可触达): who can be reached on which outreach channel, stated once.

The portrait writes these columns (``build_portraits(customers=...)``) and the export
reads them; nothing else decides whether a customer has a phone or can get an SMS.

Valid phone
-----------
After removing spaces, hyphens, dots and parentheses and an optional ``+86`` /
``0086`` country prefix, a phone number is

- a mainland **mobile** number: 11 digits, ``1`` then ``3``-``9`` then 9 digits
  (``13912345678``); or
- a **fixed line** with its area code: ``0``, 2 or 3 more area-code digits, then a
  7- or 8-digit local number (``010-12345678``, ``0571 8765 4321``).

Anything else (``"123"``, a local number without area code, letters, an extension)
is not a phone. SMS needs a mobile; the 95598 call-back any valid phone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CONTACT_CHANNELS",
    "CONTACT_COLUMNS",
    "MARKETING_CHANNELS",
    "PHONE_CHANNELS",
    "contactability",
    "phone_kind",
]

CONTACT_CHANNELS = ("sms", "app_push", "wechat", "hotline_callback", "grid_manager")
"""Outreach channels: SMS, 网上国网 app push, WeChat, 95598 call-back, grid-manager visit."""
PHONE_CHANNELS = ("sms", "hotline_callback")
"""Channels that reach the customer by phone (their export files carry the phone)."""
MARKETING_CHANNELS = ("sms", "app_push", "wechat")
"""Channels a marketing opt-out blocks (a do-not-contact entry blocks every channel)."""

CONTACT_COLUMNS = (
    "has_phone",
    "sms_opt_out",
    "app_user",
    "wechat_bound",
    *(f"contactable_{ch}" for ch in CONTACT_CHANNELS),
    "contactable_channels",
)
"""The portrait columns :func:`contactability` gives, in order."""

_SEPARATORS = r"[\s\-\.\(\)]"
_COUNTRY = r"^(?:\+86|0086)"
_MOBILE = r"1[3-9]\d{9}"
_FIXED = r"0\d{2,3}\d{7,8}"


def phone_kind(phones) -> pd.Series:
    """Classify phone numbers as ``"mobile"``, ``"fixed"`` or missing (not a phone).

    Parameters
    ----------
    phones : array-like of str
        Raw phone numbers (missing values allowed).

    Returns
    -------
    pandas.Series of str
        Same length; see the module docstring for the rule.

    Examples
    --------
    >>> phone_kind(["139 1234 5678", "010-12345678", "123", None]).tolist()
    ['mobile', 'fixed', <NA>, <NA>]
    """
    s = pd.Series(phones, copy=False).astype("string")
    digits = s.str.replace(_SEPARATORS, "", regex=True).str.replace(_COUNTRY, "", regex=True)
    mobile = digits.str.fullmatch(_MOBILE).fillna(False).to_numpy(dtype=bool)
    fixed = digits.str.fullmatch(_FIXED).fillna(False).to_numpy(dtype=bool)
    out = np.where(mobile, "mobile", np.where(fixed, "fixed", None))
    return pd.Series(out, index=s.index, dtype="string")


def _flag(customers: pd.DataFrame, col: str) -> np.ndarray:
    if col not in customers.columns:
        return np.zeros(len(customers), dtype=bool)
    return customers[col].astype("boolean").fillna(False).to_numpy(dtype=bool)


def contactability(customers: pd.DataFrame) -> pd.DataFrame:
    """Contact facts and channel reachability per row of a customers table.

    Parameters
    ----------
    customers : pandas.DataFrame
        Rows of the ``customers`` table (optional columns ``phone``,
        ``sms_opt_out``, ``app_user``, ``wechat_bound``; a missing column or value
        counts as "no"/"not opted out"; an all-missing row, e.g. a customer absent
        from the table, is reachable only by a grid-manager visit).

    Returns
    -------
    pandas.DataFrame
        Same index, the columns of :data:`CONTACT_COLUMNS`:

        - ``has_phone``: a valid mobile or fixed-line number;
        - ``sms_opt_out``, ``app_user``, ``wechat_bound``: the flags;
        - ``contactable_sms``: a valid **mobile** number and not opted out of SMS;
        - ``contactable_app_push``: an app (网上国网) user;
        - ``contactable_wechat``: a bound WeChat account;
        - ``contactable_hotline_callback``: a valid phone;
        - ``contactable_grid_manager``: always true (a visit);
        - ``contactable_channels``: the contactable channels joined with ``;``.

        No phone number itself is returned.
    """
    n = len(customers)
    if "phone" in customers.columns:
        kind = phone_kind(customers["phone"]).to_numpy(dtype=object, na_value=None)
    else:
        kind = np.full(n, None, dtype=object)
    mobile = kind == "mobile"
    has_phone = mobile | (kind == "fixed")
    opt = _flag(customers, "sms_opt_out")
    app = _flag(customers, "app_user")
    wx = _flag(customers, "wechat_bound")
    reach = {
        "sms": mobile & ~opt,
        "app_push": app,
        "wechat": wx,
        "hotline_callback": has_phone,
        "grid_manager": np.ones(n, dtype=bool),
    }
    out = pd.DataFrame(
        {"has_phone": has_phone, "sms_opt_out": opt, "app_user": app, "wechat_bound": wx},
        index=customers.index,
    )
    joined = np.full(n, "", dtype=object)
    for ch in CONTACT_CHANNELS:  # five channels, vectorised over rows
        out[f"contactable_{ch}"] = reach[ch]
        col = reach[ch]
        joined[col] = np.where(joined[col] == "", ch, joined[col] + ";" + ch)
    out["contactable_channels"] = pd.array(joined, dtype="string")
    return out
