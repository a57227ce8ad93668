"""Service-contact features (服务接触): channel recency/frequency/share, digital
adoption, complaints and other contact types, repeat contacts, satisfaction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema._contract import CHANNELS, CONTACT_TYPES, ONLINE_CHANNELS
from ._generic import _div, event_aggregates
from ._time import DAY_NS, customer_codes, require_columns, to_ns

__all__ = ["TYPE_NAMES", "contact_codes", "interaction_features"]

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


def contact_codes(column: pd.Series, categories) -> np.ndarray:
    """Positions of a category column's values in ``categories`` (``-1`` otherwise)."""
    cats = pd.Index(list(categories), dtype=object)
    if isinstance(column.dtype, pd.CategoricalDtype):
        pos = cats.get_indexer(pd.Index(column.cat.categories.astype(str), dtype=object))
        raw = column.cat.codes.to_numpy()
        return np.where(raw >= 0, pos[np.maximum(raw, 0)], -1).astype(np.int64)
    values = column.astype("string").to_numpy(dtype=object, na_value=None)
    return cats.get_indexer(values).astype(np.int64)


def _repeat_flags(codes: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
    """1.0 for a contact that follows the same customer's previous contact within 7 days."""
    order = np.lexsort((t_ns, codes))
    c, t = codes[order], t_ns[order]
    rep = np.zeros(len(codes))
    if len(codes) > 1:
        rep_sorted = np.zeros(len(codes))
        rep_sorted[1:] = (c[1:] == c[:-1]) & (t[1:] - t[:-1] <= REPEAT_DAYS * DAY_NS)
        rep[order] = rep_sorted
    return rep


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
        value=_repeat_flags(codes, t_ns),
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
