"""Usage features from daily smart-meter readings (日用电量).

Built on the generic day-matrix engine (:mod:`._generic`) with the contract's usage
columns, plus what only the contract table has: estimated-read share, peak/flat/valley
shares and the minimum-history flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._generic import lookback_days, matrix_features
from ._interactions import contact_codes
from ._time import (
    DAY_NS,
    customer_codes,
    require_columns,
    to_days,
    to_ns,
    visible_mask,
)

__all__ = ["UsageRows", "usage_features", "usage_matrix"]

_RENAME = {
    "kwh_drop_ratio": "usage_drop_ratio",
    "kwh_days_since_last": "days_since_last_read",
}


def _has_versions(usage: pd.DataFrame) -> bool:
    return "recorded_at" in usage.columns and bool(usage["recorded_at"].notna().any())


class UsageRows:
    """One partition's usage rows as arrays, sorted by (customer, day, recorded_at).

    Sorting once lets every snapshot pick the latest version visible at its cutoff
    with a linear scan (no per-snapshot sort).
    """

    def __init__(self, usage: pd.DataFrame, index: pd.Index):
        require_columns(usage, "usage", ("customer_id", "date", "kwh"))
        self.n = len(index)
        codes = customer_codes(usage["customer_id"], index)
        days = to_days(usage["date"])
        cols = {"kwh": usage["kwh"].to_numpy(dtype=np.float64, na_value=np.nan)}
        if "read_quality" in usage.columns and usage["read_quality"].notna().any():
            est = contact_codes(usage["read_quality"], ("estimated",)) == 0
            cols["estimated"] = np.where(np.isfinite(cols["kwh"]), est.astype(np.float64), np.nan)
        for part in ("peak", "flat", "valley"):
            col = f"{part}_kwh"
            if col in usage.columns and usage[col].notna().any():
                cols[part] = usage[col].to_numpy(dtype=np.float64, na_value=np.nan)
        self.versions = _has_versions(usage)
        if self.versions:
            rec = to_ns(usage["recorded_at"])
            same = codes[1:] == codes[:-1]
            later = (days[1:] > days[:-1]) | ((days[1:] == days[:-1]) & (rec[1:] >= rec[:-1]))
            if not bool(np.all(~same | later)):  # not yet clustered by customer, day, version
                order = np.lexsort((rec, days, codes))
                codes, days, rec = codes[order], days[order], rec[order]
                cols = {k: v[order] for k, v in cols.items()}
            # position of the next row with the same (customer, day): its later version
            self.same_next = np.r_[(codes[1:] == codes[:-1]) & (days[1:] == days[:-1]), False]
            self.rec = rec
        self.codes, self.days, self.cols = codes, days, cols

    def rows(self, cutoff_day=None):
        """Rows to use: the latest version known before ``cutoff_day`` (all when ``None``)."""
        if not self.versions:
            return None if cutoff_day is None else np.flatnonzero(self.days < cutoff_day)
        if cutoff_day is None:
            return np.flatnonzero(~self.same_next)
        vis = visible_mask(self.days * DAY_NS, self.rec, int(cutoff_day) * DAY_NS)
        idx = np.flatnonzero(vis)
        # keep a visible row unless the next visible row is a later version of the same day
        nxt_same = np.r_[(self.codes[idx[1:]] == self.codes[idx[:-1]]) & (self.days[idx[1:]] == self.days[idx[:-1]]),
                         False]
        return idx[~nxt_same]

    def matrices(self, rows, d0: int, n_days: int) -> dict:
        """Day matrices (``float32``, customers x days) of the chosen rows."""
        c = self.codes if rows is None else self.codes[rows]
        d = self.days if rows is None else self.days[rows]
        ok = (c >= 0) & (d >= d0) & (d < d0 + n_days)
        if rows is None:
            rows = np.flatnonzero(ok)
        else:
            rows = rows[ok]
        flat = self.codes[rows] * n_days + (self.days[rows] - d0)
        out = {}
        for k, v in self.cols.items():
            vals = v[rows]
            fin = np.isfinite(vals)
            m = np.full(self.n * n_days, np.nan, dtype=np.float32)
            m[flat[fin]] = vals[fin]
            out[k] = m.reshape(self.n, n_days)
        return out


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
        Keep only rows visible at this cutoff (dated and recorded before it), latest
        version per day. ``None`` keeps every row, latest version per day.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"kwh"`` and, when the columns carry data, ``"estimated"``, ``"peak"``,
        ``"flat"``, ``"valley"`` (``float32``, customers x days).
    """
    ur = UsageRows(usage, index)
    cutoff = None if cutoff_ns is None else -(-int(cutoff_ns) // DAY_NS)
    return ur.matrices(ur.rows(cutoff), d0, n_days)


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
    ur = UsageRows(usage, index)
    if not ur.versions:
        d0 = int(snap_days.min()) - lookback_days(windows)
        mats = ur.matrices(None, d0, int(snap_days.max()) - d0)
        return _from_matrices(mats, d0, snap_days, windows, min_history_days)
    parts = []
    for t in snap_days:  # versions differ per cutoff: one matrix per snapshot
        t_d0 = int(t) - lookback_days(windows)
        mats = ur.matrices(ur.rows(int(t)), t_d0, int(t) - t_d0)
        parts.append(_from_matrices(mats, t_d0, [t], windows, min_history_days))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
