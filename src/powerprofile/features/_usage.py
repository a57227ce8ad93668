"""Usage features from daily smart-meter readings (日用电量).

Built on the generic day-matrix engine (:mod:`._generic`) with the contract's usage
columns, plus what only the contract table has: estimated-read share, peak/flat/valley
shares and the minimum-history flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._generic import lookback_days, matrix_features
from ._interactions import contact_codes
from ._time import DAY_NS, NAT, customer_codes, require_columns, to_days, to_ns

__all__ = ["UsageRows", "usage_features", "usage_matrix"]

_RENAME = {
    "kwh_drop_ratio": "usage_drop_ratio",
    "kwh_days_since_last": "days_since_last_read",
}


_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _arrow_ns(col: pa.ChunkedArray) -> np.ndarray:
    """Timestamps/dates of an Arrow column as int64 ns (``NAT`` for nulls)."""
    t = col.type
    if pa.types.is_date32(t):
        v = pc.fill_null(col.cast(pa.int32()), np.iinfo(np.int32).min).to_numpy().astype(np.int64)
        return np.where(v == np.iinfo(np.int32).min, NAT, v * DAY_NS)
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            col = col.cast(pa.timestamp(t.unit))
        ints = col.cast(pa.int64())
        if ints.null_count:
            ints = pc.fill_null(ints, NAT)
        v = ints.to_numpy()
        mult = _UNIT_NS[t.unit]
        if mult == 1:
            return v
        return v * mult if not (v == NAT).any() else np.where(v == NAT, NAT, v * mult)
    return to_ns(col.to_pandas())


def _arrow_days(col: pa.ChunkedArray) -> np.ndarray:
    """Day numbers of an Arrow date/timestamp column (one division, no ns round trip)."""
    t = col.type
    if pa.types.is_timestamp(t) and t.tz is None and col.null_count == 0:
        return col.cast(pa.int64()).to_numpy() // (DAY_NS // _UNIT_NS[t.unit])
    if pa.types.is_date32(t) and col.null_count == 0:
        return col.cast(pa.int32()).to_numpy().astype(np.int64)
    ns = _arrow_ns(col)
    out = ns // DAY_NS
    out[ns == NAT] = NAT
    return out


def _arrow_codes(col: pa.ChunkedArray, index: pd.Index) -> np.ndarray:
    """Customer positions of an Arrow id column, mapped per distinct id when dictionary-encoded."""
    if not pa.types.is_dictionary(col.type):
        return customer_codes(col.to_pandas(), index)
    parts = []
    for chunk in col.chunks:
        pos = index.get_indexer(pd.Index(chunk.dictionary.to_numpy(zero_copy_only=False)))
        if chunk.indices.null_count == 0:
            parts.append(pos[chunk.indices.to_numpy()])
            continue
        idx = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        parts.append(np.where(idx >= 0, pos[np.maximum(idx, 0)], -1))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _arrays(usage, index: pd.Index):
    """(codes, days, value columns, recorded_at ns or None) from a DataFrame or an Arrow table."""
    if isinstance(usage, pa.Table):
        names = usage.column_names
        require_columns(pd.DataFrame(columns=names), "usage", ("customer_id", "date", "kwh"))
        codes = _arrow_codes(usage.column("customer_id"), index)
        days = _arrow_days(usage.column("date"))

        def floats(name):
            return usage.column(name).to_numpy()

        cols = {"kwh": floats("kwh")}
        if "read_quality" in names and usage.column("read_quality").null_count < len(usage):
            rq = usage.column("read_quality")
            if (
                pa.types.is_dictionary(rq.type) and rq.null_count == 0
            ):  # compare the few dictionary values
                est = (
                    np.concatenate(
                        [
                            (c.dictionary.to_numpy(zero_copy_only=False) == "estimated")[
                                c.indices.to_numpy()
                            ]
                            for c in rq.chunks
                        ]
                    )
                    if rq.num_chunks
                    else np.zeros(0, dtype=bool)
                )
            else:
                rq = rq.cast(pa.string()) if pa.types.is_dictionary(rq.type) else rq
                est = pc.fill_null(pc.equal(rq, "estimated"), False).to_numpy(zero_copy_only=False)
            cols["estimated"] = est
        for part in ("peak", "flat", "valley"):
            name = f"{part}_kwh"
            if name in names and usage.column(name).null_count < len(usage):
                cols[part] = floats(name)
        rec = None
        if "recorded_at" in names and usage.column("recorded_at").null_count < len(usage):
            rec = _arrow_ns(usage.column("recorded_at"))
        return codes, days, cols, rec
    require_columns(usage, "usage", ("customer_id", "date", "kwh"))
    codes = customer_codes(usage["customer_id"], index)
    days = to_days(usage["date"])
    cols = {"kwh": usage["kwh"].to_numpy(dtype=np.float32, na_value=np.nan)}
    if "read_quality" in usage.columns and usage["read_quality"].notna().any():
        cols["estimated"] = contact_codes(usage["read_quality"], ("estimated",)) == 0
    for part in ("peak", "flat", "valley"):
        name = f"{part}_kwh"
        if name in usage.columns and usage[name].notna().any():
            cols[part] = usage[name].to_numpy(dtype=np.float32, na_value=np.nan)
    rec = None
    if "recorded_at" in usage.columns and usage["recorded_at"].notna().any():
        rec = to_ns(usage["recorded_at"])
    return codes, days, cols, rec


class UsageRows:
    """One partition's usage rows as arrays, clustered by (customer, day, recorded_at).

    Parameters
    ----------
    usage : pandas.DataFrame or pyarrow.Table
        The partition's usage rows (contract columns).
    index : pandas.Index
        The partition's customer ids.

    Notes
    -----
    Rows are sorted once (skipped when already clustered, as in the data-set parts);
    then every snapshot picks the latest version visible at its cutoff with a linear
    scan over the rows that have several versions.
    """

    def __init__(self, usage, index: pd.Index):
        self.n = len(index)
        codes, days, cols, rec = _arrays(usage, index)
        self.versions = rec is not None
        if self.versions:
            same = codes[1:] == codes[:-1]
            later = (days[1:] > days[:-1]) | ((days[1:] == days[:-1]) & (rec[1:] >= rec[:-1]))
            if not bool(np.all(~same | later)):  # not yet clustered by customer, day, version
                order = np.lexsort((rec, days, codes))
                codes, days, rec = codes[order], days[order], rec[order]
                cols = {k: v[order] for k, v in cols.items()}
            dup = np.flatnonzero((codes[1:] == codes[:-1]) & (days[1:] == days[:-1]))
            multi = np.zeros(
                len(codes), dtype=bool
            )  # rows of (customer, day) keys with several versions
            multi[dup] = True
            multi[dup + 1] = True
            self.multi = np.flatnonzero(multi)
            self.single = ~multi
            self.rec = rec
        self.codes, self.days, self.cols = codes, days, cols
        self._stats: dict = {}

    def rows(self, cutoff_day=None):
        """Rows to use: the latest version known before ``cutoff_day`` (all when ``None``)."""
        if cutoff_day is None:
            if not self.versions:
                return None
            keep = self.single.copy()
            keep[self._last_of_keys(self.multi)] = True
            return np.flatnonzero(keep)
        vis = self.days < cutoff_day
        if self.versions:
            vis &= self.rec < int(cutoff_day) * DAY_NS
        self._remember(cutoff_day, vis)
        if not self.versions:
            return np.flatnonzero(vis)
        keep = vis & self.single
        keep[self._last_of_keys(self.multi[vis[self.multi]])] = (
            True  # last visible version of each key
        )
        return np.flatnonzero(keep)

    def _last_of_keys(self, m: np.ndarray) -> np.ndarray:
        """Of the sorted row positions ``m``, those that are the last of their (customer, day)."""
        if len(m) == 0:
            return m
        same_next = np.r_[
            (self.codes[m[1:]] == self.codes[m[:-1]]) & (self.days[m[1:]] == self.days[m[:-1]]),
            False,
        ]
        return m[~same_next]

    def _visible_from(self) -> np.ndarray:
        """Each row's first cutoff day at which it is visible (dated and recorded before it).

        ``days < t`` and ``recorded_at < t`` (midnight) both hold exactly when
        ``t >= max(day + 1, floor(recorded_at / day) + 1)``.
        """
        rec_day = np.floor_divide(self.rec, DAY_NS)  # NAT: far in the past, always known
        rec_day += 1
        return np.maximum(self.days + 1, rec_day)

    def snapshot_matrices(self, snap_days, d0: int, n_days: int):
        """Yield ``(t, matrices)`` for each sorted snapshot day ``t``, built incrementally.

        The matrices (as :meth:`matrices`, customers x days from ``d0``) hold, for every
        day before ``t``, the latest version of the reading visible at ``t``; days from
        ``t`` on are left as they are (the caller uses the days before ``t`` only).
        They are the same arrays, updated in place from one snapshot to the next with
        the rows that become visible in between: within a (customer, day) key a later
        version is recorded later, so it also becomes visible later, and the last
        version visible at ``t`` is the last one written. The visibility statistics of
        :meth:`stats` are recorded on the way.
        """
        vfrom = None
        shape = self.n * n_days
        out = {"kwh": np.full(shape, np.nan, dtype=np.float32)}
        for k in self.cols:
            if k != "kwh":
                out[k] = np.zeros(shape, dtype=np.float32)
        mats = {k: v.reshape(self.n, n_days) for k, v in out.items()}
        n_vis, max_day, max_rec, prev = 0, None, None, None
        for t in snap_days:
            t = int(t)
            if prev is None:  # the rows visible at the first cutoff
                new = self.days < t
                new &= self.rec < t * DAY_NS
            else:  # those that become visible after the previous one
                if vfrom is None:
                    vfrom = self._visible_from()
                new = vfrom <= t
                new &= vfrom > prev
            k = int(np.count_nonzero(new))
            if k:
                n_vis += k
                d = int(np.max(self.days, where=new, initial=NAT))
                r = int(np.max(self.rec, where=new, initial=NAT))
                max_day = d if max_day is None else max(max_day, d)
                max_rec = r if max_rec is None else max(max_rec, r)
                new &= self.days >= d0  # the rows inside the matrices
                new &= self.codes >= 0
                self._write(out, np.flatnonzero(new), d0, n_days)
            del new
            self._stats[t] = (n_vis, max_day, max_rec)
            prev = t
            yield t, mats

    def _write(self, out: dict, rows: np.ndarray, d0: int, n_days: int) -> None:
        """Write ``rows`` into the flat matrices, the last row of a key winning.

        ``rows`` are sorted positions of known customers' rows dated from ``d0`` on.
        """
        c, d = self.codes[rows], self.days[rows]
        ok = d < d0 + n_days  # rows are known customers' from d0 on
        if not ok.all():
            rows, c, d = rows[ok], c[ok], d[ok]
        flat = c * n_days
        flat += d
        flat -= d0
        if len(flat) > 1:
            last = np.r_[flat[1:] != flat[:-1], True]  # a key's versions are adjacent
            if not last.all():
                rows, flat = rows[last], flat[last]
        kwh = self.cols["kwh"][rows]
        fin_kwh = np.isfinite(kwh)
        all_fin = bool(fin_kwh.all())
        if not all_fin:
            kwh[~fin_kwh] = np.nan
        out["kwh"][flat] = kwh.astype(np.float32, copy=False)
        for k, v in self.cols.items():
            if k == "kwh":
                continue
            vals = v[rows]  # a copy: zeroed where kWh or the value itself is missing
            if v.dtype == bool:
                if not all_fin:
                    vals &= fin_kwh
            else:
                bad = ~np.isfinite(vals)
                if not all_fin:
                    bad |= ~fin_kwh
                if bad.any():
                    vals[bad] = 0
            out[k][flat] = vals.astype(np.float32, copy=False)

    def _remember(self, cutoff_day, vis):
        n = int(vis.sum())
        max_day = int(self.days[vis].max()) if n else None
        max_rec = int(self.rec[vis].max()) if (n and self.versions) else None
        self._stats[int(cutoff_day)] = (n, max_day, max_rec)

    def stats(self, cutoff_day):
        """(rows visible, latest day, latest ``recorded_at`` ns) at ``cutoff_day``."""
        if int(cutoff_day) not in self._stats:
            vis = self.days < cutoff_day
            if self.versions:
                vis &= self.rec < int(cutoff_day) * DAY_NS
            self._remember(cutoff_day, vis)
        return self._stats[int(cutoff_day)]

    def matrices(self, rows, d0: int, n_days: int) -> dict:
        """Day matrices (``float32``, customers x days) of the chosen rows.

        ``"kwh"`` is ``NaN`` on days without a reading; the other matrices (estimated
        flag, peak/flat/valley) are 0 there, since only their window sums are used.
        """
        c = self.codes if rows is None else self.codes[rows]
        d = self.days if rows is None else self.days[rows]
        ok = (c >= 0) & (d >= d0) & (d < d0 + n_days)
        if not ok.all():
            c, d = c[ok], d[ok]
            rows = np.flatnonzero(ok) if rows is None else rows[ok]
        flat = c * n_days + (d - d0)

        def take(v):
            return v if rows is None else v[rows]

        out = {}
        kwh = take(self.cols["kwh"])
        fin_kwh = np.isfinite(kwh)
        all_fin = bool(fin_kwh.all())
        for k, v in self.cols.items():
            vals = kwh if k == "kwh" else take(v)
            if k == "kwh":  # missing days are NaN; the other matrices only feed window sums: 0
                m = np.full(self.n * n_days, np.nan, dtype=np.float32)
            else:
                m = np.zeros(self.n * n_days, dtype=np.float32)
            fin = fin_kwh if (k == "kwh" or v.dtype == bool) else np.isfinite(vals)
            if all_fin and (fin is fin_kwh or fin.all()):
                m[flat] = vals
            else:
                fin = fin & fin_kwh
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
            feats[f"estimated_read_share_{w}d"] = np.where(
                reads > 0, est / np.maximum(reads, 1), np.nan
            )
        else:
            feats[f"estimated_read_share_{w}d"] = np.where(reads > 0, 0.0, np.nan)
        parts = [p for p in ("peak", "flat", "valley") if p in extra]
        total = sum((raw[("sum", p, w)] for p in parts), np.zeros(shape))
        for p in ("peak", "flat", "valley"):
            if p in extra:
                with np.errstate(divide="ignore", invalid="ignore"):
                    feats[f"{p}_share_{w}d"] = np.where(
                        total > 0, raw[("sum", p, w)] / total, np.nan
                    )
            else:
                feats[f"{p}_share_{w}d"] = np.full(shape, np.nan)
    wmax = max(windows)
    feats["short_history"] = feats[f"kwh_read_days_{wmax}d"] < min_history_days
    return feats


def usage_features(usage, index: pd.Index, snap_days, windows, min_history_days=60) -> dict:
    """Usage features of one partition for each snapshot.

    Parameters
    ----------
    usage : pandas.DataFrame or pyarrow.Table or UsageRows
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
    ur = usage if isinstance(usage, UsageRows) else UsageRows(usage, index)
    if not ur.versions:
        d0 = int(snap_days.min()) - lookback_days(windows)
        mats = ur.matrices(None, d0, int(snap_days.max()) - d0)
        return _from_matrices(mats, d0, snap_days, windows, min_history_days)
    # versions differ per cutoff: each snapshot sees its own versions, so each gets its
    # own window of matrices kept up to date from one snapshot to the next
    # (snapshots more than a look-back apart start afresh: memory stays within twice
    # the look-back per customer whatever the snapshots' spread)
    span = lookback_days(windows)
    parts = []
    for group in _close_groups(snap_days, span):
        d0 = int(group[0]) - span
        for t, mats in ur.snapshot_matrices(group, d0, int(group[-1]) - d0):
            lo = t - span - d0
            window = {k: m[:, lo : lo + span] for k, m in mats.items()}
            parts.append(_from_matrices(window, t - span, [t], windows, min_history_days))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _close_groups(snap_days: np.ndarray, span: int) -> list:
    """Split sorted snapshot days into runs whose first and last are at most ``span`` apart."""
    groups, start = [], 0
    for i in range(1, len(snap_days) + 1):
        if i == len(snap_days) or snap_days[i] - snap_days[start] > span:
            groups.append(snap_days[start:i])
            start = i
    return groups
