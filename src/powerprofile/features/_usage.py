"""Usage features from daily smart-meter readings (日用电量).

Built on the generic day-matrix engine (:mod:`._generic`) with the contract's usage
columns, plus what only the contract table has: estimated-read share, peak/flat/valley
shares and the minimum-history flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._generic import daily_matrix, lookback_days, matrix_features
from ._time import (
    DAY_NS,
    customer_codes,
    latest_versions,
    require_columns,
    to_days,
    to_ns,
    visible_mask,
)

__all__ = ["usage_features", "usage_matrix"]

_RENAME = {
    "kwh_drop_ratio": "usage_drop_ratio",
    "kwh_days_since_last": "days_since_last_read",
}


def _has_versions(usage: pd.DataFrame) -> bool:
    return "recorded_at" in usage.columns and bool(usage["recorded_at"].notna().any())


def usage_matrix(usage: pd.DataFrame, index: pd.Index, d0: int, n_days: int, *, cutoff_ns=None):
    """Day matrices of one partition's usage (kWh, estimated flag, peak/flat/valley).

    Parameters
    ----------
    usage : pandas.DataFrame
        Usage rows (contract columns; ``customer_id`` may be string or categorical).
    index : pandas.Index
        The partition's customer ids (matrix rows).
    d0, n_days : int
        First day number and number of day columns.
    cutoff_ns : int, optional
        With ``recorded_at`` versions, keep only rows visible at this cutoff (dated and
        recorded before it), latest version per day. ``None`` keeps every row, latest
        version per day.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"kwh"`` and, when the columns carry data, ``"estimated"``, ``"peak"``,
        ``"flat"``, ``"valley"`` (``float32``, customers x days).
    """
    require_columns(usage, "usage", ("customer_id", "date", "kwh"))
    codes = customer_codes(usage["customer_id"], index)
    days = to_days(usage["date"])
    rows = None
    if _has_versions(usage):
        rec = to_ns(usage["recorded_at"])
        if cutoff_ns is None:
            cand = np.arange(len(usage))
        else:
            cand = np.flatnonzero(visible_mask(days * DAY_NS, rec, cutoff_ns))
        rows = cand[latest_versions([codes[cand], days[cand]], rec[cand])]
    elif cutoff_ns is not None:
        rows = np.flatnonzero(days * DAY_NS < cutoff_ns)

    def take(a):
        return a if rows is None else a[rows]

    c, d = take(codes), take(days)
    out = {"kwh": daily_matrix(c, d, take(usage["kwh"].to_numpy(dtype=np.float64, na_value=np.nan)),
                               len(index), d0, n_days, unique=True)}
    if "read_quality" in usage.columns and usage["read_quality"].notna().any():
        est = (usage["read_quality"].astype("string") == "estimated").to_numpy(dtype=bool, na_value=False)
        kwh_ok = np.isfinite(take(usage["kwh"].to_numpy(dtype=np.float64, na_value=np.nan)))
        vals = np.where(kwh_ok, take(est).astype(np.float64), np.nan)
        out["estimated"] = daily_matrix(c, d, vals, len(index), d0, n_days, unique=True)
    for part in ("peak", "flat", "valley"):
        col = f"{part}_kwh"
        if col in usage.columns and usage[col].notna().any():
            vals = take(usage[col].to_numpy(dtype=np.float64, na_value=np.nan))
            out[part] = daily_matrix(c, d, vals, len(index), d0, n_days, unique=True)
    return out


def _from_matrices(mats: dict, d0: int, snap_days, windows, min_history_days) -> dict:
    extra = {k: v for k, v in mats.items() if k != "kwh"}
    raw = matrix_features(mats["kwh"], d0, snap_days, windows, "kwh", extra=extra)
    feats = {_RENAME.get(k, k): v for k, v in raw.items() if isinstance(k, str)}
    shape = next(iter(feats.values())).shape
    for w in windows:
        reads = feats[f"kwh_read_days_{w}d"]
        if "estimated" in extra:
            est = raw[("sum", "estimated", w)]
            feats[f"estimated_read_share_{w}d"] = np.where(reads > 0, est / np.maximum(reads, 1), np.nan)
        else:
            feats[f"estimated_read_share_{w}d"] = np.where(reads > 0, 0.0, np.nan)
        parts = [p for p in ("peak", "flat", "valley") if p in extra]
        total = sum((raw[("sum", p, w)] for p in parts), np.zeros(shape))
        for p in ("peak", "flat", "valley"):
            if p in extra:
                with np.errstate(divide="ignore", invalid="ignore"):
                    feats[f"{p}_share_{w}d"] = np.where(total > 0, raw[("sum", p, w)] / total, np.nan)
            else:
                feats[f"{p}_share_{w}d"] = np.full(shape, np.nan)
    wmax = max(windows)
    feats["short_history"] = feats[f"kwh_read_days_{wmax}d"] < min_history_days
    return feats


def usage_features(usage: pd.DataFrame, index: pd.Index, snap_days, windows, min_history_days=60) -> dict:
    """Usage features of one partition for each snapshot.

    Parameters
    ----------
    usage : pandas.DataFrame
        The partition's usage rows.
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers (sorted).
    windows : tuple of int
        Window lengths in days.
    min_history_days : int, default=60
        ``short_history`` is ``True`` when fewer reads than this fall in the longest window.

    Returns
    -------
    dict of str to numpy.ndarray
        Feature name -> ``(n_snapshots, n_customers)`` array.
    """
    snap_days = np.asarray(snap_days, dtype=np.int64)
    d0 = int(snap_days.min()) - lookback_days(windows)
    n_days = int(snap_days.max()) - d0
    if not _has_versions(usage):
        mats = usage_matrix(usage, index, d0, n_days)
        return _from_matrices(mats, d0, snap_days, windows, min_history_days)
    parts = []
    for t in snap_days:  # versions differ per cutoff: one matrix per snapshot
        t_d0 = int(t) - lookback_days(windows)
        mats = usage_matrix(usage, index, t_d0, int(t) - t_d0, cutoff_ns=int(t) * DAY_NS)
        parts.append(_from_matrices(mats, t_d0, [t], windows, min_history_days))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
