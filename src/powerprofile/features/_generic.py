"""Generic builders: any reading table (level/trend/seasonality) and any event table
(recency/frequency/value), through a column mapping.

The engine behind every usage feature is a dense day matrix: one partition's readings
are scattered into a ``float32`` array of customers x days (``NaN`` where no reading),
and every window statistic is a matrix product of that array (and of its
missing/zero indicators) with a small design matrix whose columns are window
indicators, centred day weights and calendar masks. Adding a feature adds a column to
the design, not a pass over the rows; several snapshots reuse the same matrix.

Event tables are aggregated with ``numpy.bincount`` over integer customer codes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._time import (
    DAY_NS,
    NAT,
    as_snapshots,
    customer_codes,
    latest_versions,
    require_columns,
    snapshot_days,
    to_days,
    to_ns,
    visible_mask,
)

__all__ = ["event_features", "reading_features"]

YOY_LOOKBACK = 455  # recent 90 days vs the same 90 days a year earlier: [T-455, T-365)
SUMMER, WINTER, SHOULDER = (6, 7, 8), (12, 1, 2), (3, 4, 5, 9, 10, 11)


def lookback_days(windows) -> int:
    """Days of history before a snapshot that the reading features look at."""
    return max(max(windows), YOY_LOOKBACK, 365)


# ----------------------------------------------------------------------------------- matrix
def daily_matrix(codes, days, values, n: int, d0: int, n_days: int, *, unique: bool) -> np.ndarray:
    """Scatter readings into an ``(n, n_days)`` ``float32`` matrix, ``NaN`` where missing.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Row customer positions (``-1`` = not in this partition; dropped).
    days : numpy.ndarray of int
        Row day numbers; column ``j`` is day ``d0 + j``.
    values : numpy.ndarray of float
        Row values; non-finite values are treated as missing.
    n, d0, n_days : int
        Customers, first day, number of days.
    unique : bool
        ``True`` when ``(code, day)`` is unique (direct assignment); otherwise the
        values of one day are summed (e.g. 15-minute reads to daily).

    Returns
    -------
    numpy.ndarray of float32
    """
    values = np.asarray(values, dtype=np.float64)
    ok = (codes >= 0) & (days >= d0) & (days < d0 + n_days) & np.isfinite(values)
    flat = codes[ok] * n_days + (days[ok] - d0)
    if unique:
        out = np.full(n * n_days, np.nan, dtype=np.float32)
        out[flat] = values[ok]
    else:
        sums = np.bincount(flat, weights=values[ok], minlength=n * n_days)
        cnt = np.bincount(flat, minlength=n * n_days)
        out = np.where(cnt > 0, sums, np.nan).astype(np.float32)
    return out.reshape(n, n_days)


def _months(day_numbers: np.ndarray) -> np.ndarray:
    return day_numbers.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


class _Design:
    """Design matrix of one snapshot over the day span ``[lo, hi)`` of a matrix."""

    def __init__(self, d0: int, n_days: int, t_day: int, windows):
        span = lookback_days(windows)
        self.lo = int(min(max(0, t_day - span - d0), n_days))
        self.hi = int(min(max(0, t_day - d0), n_days))
        day = np.arange(d0 + self.lo, d0 + self.hi, dtype=np.int64)
        rel = day - t_day  # -span .. -1
        weekend = (day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        month = _months(day)
        cols, self.index = [], {}

        def add(name, vec):
            self.index[name] = len(cols)
            cols.append(np.asarray(vec, dtype=np.float32))

        for w in windows:
            inw = rel >= -w
            tc = (rel + (w + 1) / 2.0) * inw  # centred day number inside the window
            add(("in", w), inw)
            add(("t", w), tc)
            add(("tt", w), tc * tc)
            add(("we", w), inw & weekend)
            add(("wd", w), inw & ~weekend)
        last365 = rel >= -365
        add("summer", last365 & np.isin(month, SUMMER))
        add("winter", last365 & np.isin(month, WINTER))
        add("shoulder", last365 & np.isin(month, SHOULDER))
        add("last30", rel >= -30)
        add("prev90", (rel >= -120) & (rel < -30))
        add("recent90", rel >= -90)
        add("prior90", (rel >= -YOY_LOOKBACK) & (rel < -365))
        self.W = np.stack(cols, axis=1) if len(day) else np.zeros((0, len(cols)), np.float32)
        self.win_cols = [self.index[("in", w)] for w in windows]

    def col(self, key):
        return self.index[key]


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(a, dtype=np.float64) / b
    out[~np.isfinite(out)] = np.nan
    return out


def _longest_run(z: np.ndarray, windows) -> dict:
    """Longest run of consecutive ``True`` ending inside each trailing window of ``z``."""
    n, span = z.shape
    out = {}
    if span == 0:
        return {w: np.zeros(n) for w in windows}
    c = np.cumsum(z, axis=1, dtype=np.int32)
    reset = np.maximum.accumulate(np.where(z, 0, c), axis=1)
    run = c - reset  # length of the run ending at each day (may start before a window)
    del c, reset
    for w in windows:
        k = min(w, span)
        cap = np.arange(1, k + 1, dtype=np.int32)  # a run inside the window is cut at its start
        out[w] = np.minimum(run[:, span - k :], cap).max(axis=1).astype(np.float64)
    return out


def matrix_features(X: np.ndarray, d0: int, snap_days, windows, prefix: str, extra=None) -> dict:
    """Level, volatility, trend, zeros, weekend and seasonal ratios from a day matrix.

    Parameters
    ----------
    X : numpy.ndarray of float32, shape (n_customers, n_days)
        Daily values, ``NaN`` where missing; column ``j`` is day ``d0 + j``.
    d0 : int
        Day number of the first column.
    snap_days : sequence of int
        Snapshot day numbers; only columns before each snapshot are used.
    windows : sequence of int
        Window lengths in days.
    prefix : str
        Feature name prefix (``"kwh"`` gives ``kwh_mean_90d``).
    extra : dict of str to numpy.ndarray, optional
        Further matrices of the same shape (0 where missing) whose window sums are
        wanted (returned under ``("sum", name, w)``, not as features).

    Returns
    -------
    dict
        Feature name -> ``(n_snapshots, n_customers)`` float64 array, plus raw window
        sums of ``extra`` under tuple keys.
    """
    n, n_days = X.shape
    S = len(snap_days)
    feats: dict = {}

    def put(name, s, value):
        if name not in feats:
            feats[name] = np.full((S, n), np.nan)
        feats[name][s] = value

    for s, t_day in enumerate(snap_days):
        dz = _Design(d0, n_days, int(t_day), windows)
        Xs = X[:, dz.lo : dz.hi]
        M = np.isfinite(Xs)
        # float64 products: sums of squares and centred-time sums cancel, float32 would lose digits
        X0 = np.where(M, Xs, 0).astype(np.float64)
        W = dz.W.astype(np.float64)
        SX = X0 @ W
        SM = M.astype(np.float64) @ W
        Win = W[:, dz.win_cols]
        X0 *= X0
        SXX = X0 @ Win
        del X0
        SZ = (Xs == 0).astype(np.float64) @ Win
        runs = _longest_run(Xs == 0, windows)
        for i, w in enumerate(windows):
            cnt = SM[:, dz.col(("in", w))]
            sx = SX[:, dz.col(("in", w))]
            mean = _div(sx, cnt)
            var = np.clip(_div(SXX[:, i], cnt) - mean * mean, 0, None)
            cv = _div(np.sqrt(var), mean)
            cv[(cnt < 2) | ~(mean > 0)] = np.nan
            st, stt = SM[:, dz.col(("t", w))], SM[:, dz.col(("tt", w))]
            stx = SX[:, dz.col(("t", w))]
            slope = _div(cnt * stx - st * sx, cnt * stt - st * st)
            slope[cnt < 2] = np.nan
            we = _div(SX[:, dz.col(("we", w))], SM[:, dz.col(("we", w))])
            wd = _div(SX[:, dz.col(("wd", w))], SM[:, dz.col(("wd", w))])
            put(f"{prefix}_mean_{w}d", s, mean)
            put(f"{prefix}_cv_{w}d", s, cv)
            put(f"{prefix}_slope_{w}d", s, slope)
            put(f"{prefix}_read_days_{w}d", s, cnt)
            put(f"{prefix}_zero_days_{w}d", s, SZ[:, i])
            put(f"{prefix}_longest_zero_run_{w}d", s, runs[w])
            put(f"{prefix}_weekend_ratio_{w}d", s, _div(we, wd))

        def mean_of(key, SX=SX, SM=SM, dz=dz):
            return _div(SX[:, dz.col(key)], SM[:, dz.col(key)])

        put(f"{prefix}_drop_ratio", s, _div(mean_of("last30"), mean_of("prev90")))
        put(f"{prefix}_yoy_change", s, _div(mean_of("recent90"), mean_of("prior90")) - 1.0)
        shoulder = mean_of("shoulder")
        put(f"{prefix}_summer_ratio", s, _div(mean_of("summer"), shoulder))
        put(f"{prefix}_winter_ratio", s, _div(mean_of("winter"), shoulder))
        if M.shape[1]:
            last_pos = M.shape[1] - 1 - np.argmax(M[:, ::-1], axis=1)
            since = (t_day - d0 - dz.lo - last_pos).astype(np.float64)
            since[~M.any(axis=1)] = np.nan
        else:
            since = np.full(n, np.nan)
        put(f"{prefix}_days_since_last", s, since)
        for name, A in (extra or {}).items():
            sums = (
                A[:, dz.lo : dz.hi].astype(np.float64) @ Win
            )  # extra matrices hold 0 where missing
            for i, w in enumerate(windows):
                put(("sum", name, w), s, sums[:, i])
    return feats


# ----------------------------------------------------------------------------------- events
def event_aggregates(codes, t_ns, snap_ns, windows, n: int, *, value=None, cat=None, n_cat=0):
    """Window counts, sums, category counts and recency of events per customer.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Customer positions (``-1`` = ignore).
    t_ns : numpy.ndarray of int64
        Event times (ns). Only events strictly before each snapshot are used.
    snap_ns : sequence of int
        Snapshot times (ns).
    windows : sequence of int
        Window lengths in days.
    n : int
        Number of customers.
    value : numpy.ndarray of float, optional
        Event values (``NaN`` ignored in sums and means).
    cat : numpy.ndarray of int, optional
        Category codes ``0 .. n_cat-1`` (``-1`` = none).
    n_cat : int, default=0
        Number of categories.

    Returns
    -------
    dict
        ``("count", w)``, ``("vsum", w)``, ``("vcnt", w)`` -> ``(S, n)``;
        ``("cat", w)`` -> ``(S, n, n_cat)``; ``"since_last"``, ``"since_first"`` ->
        ``(S, n)`` days; ``"cat_since_last"`` -> ``(S, n, n_cat)`` days.
    """
    S = len(snap_ns)
    keep = (codes >= 0) & (t_ns != NAT)
    codes, t_ns = codes[keep], t_ns[keep]
    value = None if value is None else np.asarray(value, dtype=np.float64)[keep]
    cat = None if cat is None else np.asarray(cat, dtype=np.int64)[keep]
    out: dict = {}

    def arr(key, shape):
        if key not in out:
            out[key] = np.zeros(shape)
        return out[key]

    for s, T in enumerate(snap_ns):
        vis = t_ns < T
        age = np.where(vis, (T - t_ns) / DAY_NS, np.inf)
        for w in windows:
            m = vis & (age <= w)
            c = codes[m]
            arr(("count", w), (S, n))[s] = np.bincount(c, minlength=n)
            if value is not None:
                v = value[m]
                ok = np.isfinite(v)
                arr(("vsum", w), (S, n))[s] = np.bincount(c[ok], weights=v[ok], minlength=n)
                arr(("vcnt", w), (S, n))[s] = np.bincount(c[ok], minlength=n)
            if cat is not None and n_cat:
                k = cat[m]
                ok = k >= 0
                cc = np.bincount(c[ok] * n_cat + k[ok], minlength=n * n_cat)
                arr(("cat", w), (S, n, n_cat))[s] = cc.reshape(n, n_cat)
        last = np.full(n, np.inf)
        np.minimum.at(last, codes[vis], age[vis])
        first = np.full(n, -np.inf)
        np.maximum.at(first, codes[vis], age[vis])
        arr("since_last", (S, n))[s] = np.where(np.isfinite(last), last, np.nan)
        arr("since_first", (S, n))[s] = np.where(np.isfinite(first), first, np.nan)
        if cat is not None and n_cat:
            ok = vis & (cat >= 0)
            lc = np.full(n * n_cat, np.inf)
            np.minimum.at(lc, codes[ok] * n_cat + cat[ok], age[ok])
            lc = np.where(np.isfinite(lc), lc, np.nan)
            arr("cat_since_last", (S, n, n_cat))[s] = lc.reshape(n, n_cat)
    return out


# ----------------------------------------------------------------------------------- public
_MAPPING_KEYS = ("id", "time", "value", "category", "recorded_at")


def _check_mapping(df, mapping, required, table):
    if not isinstance(mapping, dict) or set(mapping) - set(_MAPPING_KEYS):
        raise ValueError(
            f"mapping must be a dict with keys among {_MAPPING_KEYS!r}, got {mapping!r}; "
            "e.g. mapping={'id': 'meter_id', 'time': 'read_at', 'value': 'kwh'}"
        )
    for key in required:
        if key not in mapping:
            raise ValueError(f"mapping for {table!r} needs the key {key!r}, got {mapping!r}")
    require_columns(df, table, [c for c in mapping.values() if c is not None])


def _frame(feats: dict, ids: pd.Index, snaps: pd.DatetimeIndex, id_name: str) -> pd.DataFrame:
    S, n = len(snaps), len(ids)
    index = pd.MultiIndex.from_arrays(
        [np.tile(ids.to_numpy(), S), np.repeat(snaps.to_numpy(), n)],
        names=[id_name, "snapshot_date"],
    )
    cols = {k: v.reshape(-1).astype(np.float32) for k, v in feats.items() if isinstance(k, str)}
    return pd.DataFrame(cols, index=index).sort_index()


def _ids(df, col, customers):
    if customers is not None:
        return pd.Index(pd.unique(pd.Series(customers, dtype="string")), dtype="string")
    return pd.Index(
        pd.Series(df[col], dtype="string").dropna().unique(), dtype="string"
    ).sort_values()


def reading_features(
    df: pd.DataFrame,
    snapshots,
    mapping: dict,
    *,
    windows=(30, 90, 180, 365),
    prefix: str = "value",
    customers=None,
) -> pd.DataFrame:
    """Level, volatility, trend, zero-run and seasonality features of any reading table.

    Readings are summed per day (so 15-minute or hourly reads become daily totals) and
    only rows dated (and, with ``recorded_at``, recorded) strictly before each
    snapshot are used; the latest recorded version of a reading wins.

    Parameters
    ----------
    df : pandas.DataFrame
        Any reading table, e.g. another meter's readings.
    snapshots : date or sequence of dates
        Snapshot dates (exclusive cutoffs).
    mapping : dict
        Column mapping with keys ``"id"``, ``"time"``, ``"value"`` and optionally
        ``"recorded_at"``, e.g. ``{"id": "meter_id", "time": "read_at", "value": "kwh"}``.
    windows : sequence of int, default=(30, 90, 180, 365)
        Window lengths in days.
    prefix : str, default="value"
        Prefix of the feature names (``{prefix}_mean_90d``, ``{prefix}_slope_90d``, ...).
    customers : sequence of str, optional
        Ids to return (default: every id in ``df``); ids without readings get ``NaN``
        levels and zero counts.

    Returns
    -------
    pandas.DataFrame
        Indexed by (id, ``snapshot_date``), ``float32`` columns.

    Examples
    --------
    >>> import pandas as pd
    >>> reads = pd.DataFrame({"meter": ["m1"] * 3, "ts": pd.to_datetime(
    ...     ["2025-01-01", "2025-01-02", "2025-01-03"]), "kwh": [1.0, 2.0, 3.0]})
    >>> f = reading_features(reads, "2025-01-04", {"id": "meter", "time": "ts", "value": "kwh"},
    ...                      windows=(30,), prefix="m")
    >>> float(f["m_mean_30d"].iloc[0]), float(f["m_slope_30d"].iloc[0])
    (2.0, 1.0)
    """
    _check_mapping(df, mapping, ("id", "time", "value"), "reading table")
    windows = tuple(int(w) for w in windows)
    snaps = as_snapshots(snapshots)
    ids = _ids(df, mapping["id"], customers)
    codes = customer_codes(df[mapping["id"]], ids)
    days = to_days(df[mapping["time"]])
    values = pd.to_numeric(df[mapping["value"]], errors="coerce").to_numpy(dtype=np.float64)
    sd = snapshot_days(snaps)
    d0 = int(sd.min()) - lookback_days(windows)
    n_days = int(sd.max()) - d0
    rec_col = mapping.get("recorded_at")
    if rec_col is None:
        X = daily_matrix(codes, days, values, len(ids), d0, n_days, unique=False)
        feats = matrix_features(X, d0, sd, windows, prefix)
    else:
        rec = to_ns(df[rec_col])
        t_ns = to_ns(df[mapping["time"]])
        parts = []
        for T_day in sd:
            vis = visible_mask(t_ns, rec, int(T_day) * DAY_NS)
            idx = np.flatnonzero(vis)
            keep = idx[latest_versions([codes[idx], t_ns[idx]], rec[idx])]
            X = daily_matrix(
                codes[keep], days[keep], values[keep], len(ids), d0, n_days, unique=False
            )
            parts.append(matrix_features(X, d0, [T_day], windows, prefix))
        feats = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return _frame(feats, ids, snaps, mapping["id"])


def _slug(value) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_") or "na"


def event_features(
    df: pd.DataFrame,
    snapshots,
    mapping: dict,
    *,
    windows=(30, 90, 180, 365),
    prefix: str = "event",
    customers=None,
) -> pd.DataFrame:
    """Recency, frequency, value and category-mix features of any event table.

    Parameters
    ----------
    df : pandas.DataFrame
        Any event table, e.g. a purchase log or web-event log.
    snapshots : date or sequence of dates
        Snapshot dates (exclusive cutoffs).
    mapping : dict
        Column mapping with keys ``"id"``, ``"time"`` and optionally ``"value"``,
        ``"category"``, ``"recorded_at"``.
    windows : sequence of int, default=(30, 90, 180, 365)
        Window lengths in days.
    prefix : str, default="event"
        Feature name prefix.
    customers : sequence of str, optional
        Ids to return (default: every id in ``df``).

    Returns
    -------
    pandas.DataFrame
        Indexed by (id, ``snapshot_date``): ``{prefix}_count_{w}d``,
        ``{prefix}_value_sum_{w}d`` and ``{prefix}_value_mean_{w}d`` (with a value),
        ``{prefix}_{category}_count_{w}d`` and ``{prefix}_{category}_share_{w}d`` (with a
        category), ``{prefix}_days_since_last``, ``{prefix}_days_since_first`` and
        ``{prefix}_days_since_last_{category}``.
    """
    _check_mapping(df, mapping, ("id", "time"), "event table")
    windows = tuple(int(w) for w in windows)
    snaps = as_snapshots(snapshots)
    ids = _ids(df, mapping["id"], customers)
    codes = customer_codes(df[mapping["id"]], ids)
    t_ns = to_ns(df[mapping["time"]])
    if mapping.get("recorded_at") is not None:
        # an event recorded at or after a snapshot is unknown at it: push it past every snapshot
        rec = to_ns(df[mapping["recorded_at"]])
        t_ns = np.where(rec > t_ns, rec, t_ns)
    value = None
    if mapping.get("value") is not None:
        value = pd.to_numeric(df[mapping["value"]], errors="coerce").to_numpy(dtype=np.float64)
    cat, cats = None, []
    if mapping.get("category") is not None:
        cat_codes, uniques = pd.factorize(df[mapping["category"]], sort=True)
        cat, cats = cat_codes, [_slug(u) for u in uniques]
    agg = event_aggregates(
        codes, t_ns, snaps.asi8, windows, len(ids), value=value, cat=cat, n_cat=len(cats)
    )
    feats = {}
    for w in windows:
        cnt = agg[("count", w)]
        feats[f"{prefix}_count_{w}d"] = cnt
        if value is not None:
            feats[f"{prefix}_value_sum_{w}d"] = agg[("vsum", w)]
            feats[f"{prefix}_value_mean_{w}d"] = _div(agg[("vsum", w)], agg[("vcnt", w)])
        for j, c in enumerate(cats):
            feats[f"{prefix}_{c}_count_{w}d"] = agg[("cat", w)][:, :, j]
            feats[f"{prefix}_{c}_share_{w}d"] = _div(agg[("cat", w)][:, :, j], cnt)
    feats[f"{prefix}_days_since_last"] = agg["since_last"]
    feats[f"{prefix}_days_since_first"] = agg["since_first"]
    for j, c in enumerate(cats):
        feats[f"{prefix}_days_since_last_{c}"] = agg["cat_since_last"][:, :, j]
    return _frame(feats, ids, snaps, mapping["id"])
