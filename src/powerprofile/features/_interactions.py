"""Service-contact features (服务接触): channel recency/frequency/share, digital
adoption, complaints and other contact types, repeat contacts, satisfaction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema._contract import CHANNELS, CONTACT_TYPES, ONLINE_CHANNELS
from ._generic import _div, event_aggregates
from ._time import DAY_NS, NAT, customer_codes, require_columns, to_ns

__all__ = [
    "REPEAT_DAYS",
    "TYPE_NAMES",
    "contact_codes",
    "interaction_features",
    "repeat_contact_flags",
]

TYPE_NAMES = {
    "inquiry": "inquiries",
    "outage_report": "outage_reports",
    "payment": "payment_contacts",
    "business_request": "business_requests",
    "complaint": "complaints",
    "opinion": "opinions",
    "praise": "praises",
}
REPEAT_DAYS = 7
"""Window of the repeat-contact rule (:func:`repeat_contact_flags`), in days."""


def contact_codes(column: pd.Series, categories) -> np.ndarray:
    """Positions of a category column's values in ``categories`` (``-1`` otherwise)."""
    cats = pd.Index(list(categories), dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        pos = cats.get_indexer(pd.Index(column.cat.categories.astype(str), dtype=object))
        raw = column.cat.codes.to_numpy()
        return np.where(raw >= 0, pos[np.maximum(raw, 0)], -1).astype(np.int64)
    values = column.astype("string").to_numpy(dtype=object, na_value=None)
    return cats.get_indexer(values).astype(np.int64)


def repeat_contact_flags(
    customers, timestamps, channels, types, window_days: float = REPEAT_DAYS
) -> np.ndarray:
    """Which contacts are repeat contacts (the one rule of features and KPIs).

    A contact is a **repeat contact** when the same customer's previous contact,
    through any channel, happened at most ``window_days`` days earlier (inclusive:
    exactly 7 days is a repeat). Contacts of one customer with the same timestamp are
    ordered by channel, then type, in the contract's order (``CHANNELS``,
    ``CONTACT_TYPES``; unknown values first); each is the previous contact of the
    next, so all but the first of them are repeats and the first is one only when an
    earlier contact lies within the window. The result never depends on row order.
    A contact without a timestamp is never a repeat nor anyone's previous contact.

    Parameters
    ----------
    customers : array-like
        Customer of each contact (ids or integer codes).
    timestamps : array-like of datetime or numpy.ndarray of int64
        Contact times (int64: nanoseconds since the epoch, ``NAT`` for missing).
    channels, types : array-like
        Contact channel and type of each contact (names, or integer positions in
        ``CHANNELS`` / ``CONTACT_TYPES``, ``-1`` for unknown).
    window_days : float, default=7
        The window.

    Returns
    -------
    numpy.ndarray of bool
        One flag per contact, in input order.
    """
    t = np.asarray(timestamps)
    t_ns = t.astype(np.int64) if t.dtype.kind in "iu" else to_ns(pd.Series(timestamps))
    cust = np.asarray(customers)
    codes = cust.astype(np.int64) if cust.dtype.kind in "iu" else pd.factorize(cust)[0]
    ch = _positions(channels, CHANNELS)
    ty = _positions(types, CONTACT_TYPES)
    valid = np.flatnonzero(t_ns != NAT)
    order = valid[np.lexsort((ty[valid], ch[valid], t_ns[valid], codes[valid]))]
    c, ts = codes[order], t_ns[order]
    window = int(round(window_days * DAY_NS))
    rep = np.zeros(len(t_ns), dtype=bool)
    if len(order) > 1:
        rep[order[1:]] = (c[1:] == c[:-1]) & (ts[1:] - ts[:-1] <= window)
    return rep


def _positions(values, categories) -> np.ndarray:
    v = np.asarray(values)
    if v.dtype.kind in "iu":
        return v.astype(np.int64)
    return contact_codes(pd.Series(values), categories)


def interaction_features(interactions: pd.DataFrame, index: pd.Index, snap_days, windows) -> dict:
    """Contact features of one partition for each snapshot.

    Parameters
    ----------
    interactions : pandas.DataFrame
        The partition's contacts (``customer_id``, ``timestamp``, ``channel``, ``type``,
        optional ``satisfaction``).
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    windows : tuple of int
        Window lengths in days.

    Returns
    -------
    dict of str to numpy.ndarray
        Feature name -> ``(n_snapshots, n_customers)`` array.
    """
    require_columns(interactions, "interactions", ("customer_id", "timestamp", "channel", "type"))
    n = len(index)
    snap_ns = np.asarray(snap_days, dtype=np.int64) * DAY_NS
    codes = customer_codes(interactions["customer_id"], index)
    t_ns = to_ns(interactions["timestamp"])
    ch = contact_codes(interactions["channel"], CHANNELS)
    ty = contact_codes(interactions["type"], CONTACT_TYPES)
    by_channel = event_aggregates(
        codes,
        t_ns,
        snap_ns,
        windows,
        n,
        cat=ch,
        n_cat=len(CHANNELS),
        value=repeat_contact_flags(codes, t_ns, ch, ty).astype(np.float64),
    )
    sat = None
    if "satisfaction" in interactions.columns:
        sat = interactions["satisfaction"].to_numpy(dtype=np.float64, na_value=np.nan)
    by_type = event_aggregates(
        codes, t_ns, snap_ns, windows, n, cat=ty, n_cat=len(CONTACT_TYPES), value=sat
    )
    online = [CHANNELS.index(c) for c in ONLINE_CHANNELS]
    feats = {}
    for w in windows:
        total = by_channel[("count", w)]
        feats[f"contacts_{w}d"] = total
        per_ch = by_channel[("cat", w)]
        for j, c in enumerate(CHANNELS):
            feats[f"contacts_{c}_{w}d"] = per_ch[:, :, j]
            feats[f"contact_share_{c}_{w}d"] = _div(per_ch[:, :, j], total)
        feats[f"online_contact_share_{w}d"] = _div(per_ch[:, :, online].sum(axis=2), total)
        per_ty = by_type[("cat", w)]
        for j, t in enumerate(CONTACT_TYPES):
            feats[f"{TYPE_NAMES[t]}_{w}d"] = per_ty[:, :, j]
        feats[f"repeat_contacts_{w}d"] = by_channel[("vsum", w)]
        if sat is not None:
            feats[f"satisfaction_mean_{w}d"] = _div(by_type[("vsum", w)], by_type[("vcnt", w)])
        else:
            feats[f"satisfaction_mean_{w}d"] = np.full(total.shape, np.nan)
    feats["days_since_last_contact"] = by_channel["since_last"]
    for j, c in enumerate(CHANNELS):
        feats[f"days_since_last_{c}_contact"] = by_channel["cat_since_last"][:, :, j]
    feats["days_since_last_complaint"] = by_type["cat_since_last"][
        :, :, CONTACT_TYPES.index("complaint")
    ]
    return feats
