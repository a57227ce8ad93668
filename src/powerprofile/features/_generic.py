"""Generic builders: any reading table (level/trend/seasonality) and any event table
(recency/frequency/active days/gaps/value), through a column mapping.

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

from ..exceptions import DataValidationError
from ._eventstats import active_days, distinct_days, gap_stats
from ._time import (
    DAY_NS,
    NAT,
    as_snapshots,
    customer_codes,
    latest_versions,
    max_window_days,
    parse_windows,
    require_columns,
    snapshot_days,
    to_ns,
    visible_mask,
    window_days,
    window_label,
)

__all__ = ["event_features", "reading_features"]

YOY_LOOKBACK = 455  # recent 90 days vs the same 90 days a year earlier: [T-455, T-365)
SUMMER, WINTER, SHOULDER = (6, 7, 8), (12, 1, 2), (3, 4, 5, 9, 10, 11)


def lookback_days(windows) -> int:
    """Days of history before a snapshot that the reading features look at."""
    return max(max(max_window_days(w) for w in windows), YOY_LOOKBACK, 365)


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

        self.days = {w: window_days(w, t_day) for w in windows}
        for w in windows:
            wd = self.days[w]
            inw = rel >= -wd
            tc = (rel + (wd + 1) / 2.0) * inw  # centred day number inside the window
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


def _longest_run(z: np.ndarray, windows: dict) -> dict:
    """Longest run of consecutive ``True`` inside each trailing window of ``z``.

    ``windows`` maps a window to its length in days.
    """
    n, span = z.shape
    out = {}
    if span == 0:
        return {w: np.zeros(n) for w in windows}
    c = np.cumsum(z, axis=1, dtype=np.int32)
    reset = np.maximum.accumulate(np.where(z, 0, c), axis=1)
    run = c - reset  # length of the run ending at each day (may start before a window)
    del c, reset
    for w, wd in windows.items():
        k = min(wd, span)
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
    windows : sequence of int or str
        Window lengths in days, or calendar windows (``"1y"``, see
        :func:`~powerprofile.features._time.parse_windows`).
    prefix : str
        Feature name prefix (``"kwh"`` gives ``kwh_mean_90d``; ``"1y"`` gives
        ``kwh_mean_1y``).
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
        runs = _longest_run(Xs == 0, dz.days)
        for i, w in enumerate(windows):
            lab = window_label(w)
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
            put(f"{prefix}_mean_{lab}", s, mean)
            put(f"{prefix}_cv_{lab}", s, cv)
            put(f"{prefix}_slope_{lab}", s, slope)
            put(f"{prefix}_read_days_{lab}", s, cnt)
            put(f"{prefix}_zero_days_{lab}", s, SZ[:, i])
            put(f"{prefix}_longest_zero_run_{lab}", s, runs[w])
            put(f"{prefix}_weekend_ratio_{lab}", s, _div(we, wd))

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
    windows : sequence of int or str
        Window lengths in days, or calendar windows (``"1y"``).
    n : int
        Number of customers.
    value : numpy.ndarray of float, optional
        Event values (``NaN`` ignored in sums and means), shape ``(rows,)`` or
        ``(rows, k)`` for ``k`` value columns at once.
    cat : numpy.ndarray of int, optional
        Category codes ``0 .. n_cat-1`` (``-1`` = none).
    n_cat : int, default=0
        Number of categories.

    Returns
    -------
    dict
        ``("count", w)`` -> ``(S, n)``; ``("vsum", w)``, ``("vcnt", w)`` -> ``(S, n)``
        (or ``(S, n, k)`` for a 2-D ``value``);
        ``("cat", w)`` -> ``(S, n, n_cat)``; ``"since_last"``, ``"since_first"`` ->
        ``(S, n)`` days; ``"cat_since_last"`` -> ``(S, n, n_cat)`` days.
    """
    S = len(snap_ns)
    keep = (codes >= 0) & (t_ns != NAT)
    codes, t_ns = codes[keep], t_ns[keep]
    value = None if value is None else np.asarray(value, dtype=np.float64)[keep]
    flat_value = value is not None and value.ndim == 1
    if flat_value:
        value = value[:, None]
    k_val = 0 if value is None else value.shape[1]
    cat = None if cat is None else np.asarray(cat, dtype=np.int64)[keep]
    out: dict = {}

    def arr(key, shape):
        if key not in out:
            out[key] = np.zeros(shape)
        return out[key]

    vshape = (S, n) if flat_value else (S, n, k_val)
    for s, T in enumerate(snap_ns):
        vis = t_ns < T
        age = np.where(vis, (T - t_ns) / DAY_NS, np.inf)
        for w in windows:
            m = vis & (age <= window_days(w, int(T) // DAY_NS))
            c = codes[m]
            arr(("count", w), (S, n))[s] = np.bincount(c, minlength=n)
            if value is not None:
                vs, vc = np.zeros((n, k_val)), np.zeros((n, k_val))
                for j in range(k_val):  # a few value columns, each one vectorised pass
                    v = value[m, j]
                    ok = np.isfinite(v)
                    vs[:, j] = np.bincount(c[ok], weights=v[ok], minlength=n)
                    vc[:, j] = np.bincount(c[ok], minlength=n)
                arr(("vsum", w), vshape)[s] = vs[:, 0] if flat_value else vs
                arr(("vcnt", w), vshape)[s] = vc[:, 0] if flat_value else vc
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
# ----------------------------------------------------------------------------------- public
_MAPPING_KEYS = ("id", "time", "value", "category", "recorded_at", "count")


def check_mapping(df, mapping, required, table, allowed=_MAPPING_KEYS) -> None:
    """Check a column mapping: a dict of known keys whose columns exist in ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
    mapping : dict
        Mapping key -> column name (``"value"`` may also be a list of names where the
        builder accepts several).
    required : sequence of str
        Keys that must be present.
    table : str
        Name of the table in messages.
    allowed : sequence of str
        Keys the builder knows.
    """
    if not isinstance(mapping, dict) or set(mapping) - set(allowed):
        raise ValueError(
            f"mapping must be a dict with keys among {tuple(allowed)!r}, got {mapping!r}; "
            "e.g. mapping={'id': 'meter_id', 'time': 'read_at', 'value': 'kwh'}"
        )
    for key in required:
        if mapping.get(key) is None:
            raise ValueError(f"mapping for {table!r} needs the key {key!r}, got {mapping!r}")
    cols = []
    for v in mapping.values():
        cols.extend([v] if isinstance(v, str) or v is None else list(v))
    require_columns(df, table, [c for c in cols if c is not None])


def _plain(v):
    """A numpy scalar as the Python value it holds (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def numeric_column(df, col, table, key) -> np.ndarray:
    """``float64`` values of a numeric (or boolean) column; a clear error otherwise."""
    s = df[col]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        raise DataValidationError(
            f"{table} column {col!r} (mapping key {key!r}) has dtype {str(s.dtype)!r}, not "
            f"numbers (first value: {_plain(s.iloc[0])!r}); convert it, e.g. "
            f"df[{col!r}] = pd.to_numeric(df[{col!r}], errors='coerce')"
            if len(s)
            else f"{table} column {col!r} (mapping key {key!r}) has dtype {str(s.dtype)!r}, "
            f"not numbers; convert it with pd.to_numeric"
        )
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def time_column(df, col, table, key) -> np.ndarray:
    """``int64`` nanoseconds of a date/time column (text is parsed); a clear error otherwise."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise DataValidationError(
            f"{table} column {col!r} (mapping key {key!r}) has dtype {str(s.dtype)!r}, not "
            f"dates or times; convert it, e.g. df[{col!r}] = pd.to_datetime(df[{col!r}], "
            "unit='s') for epoch seconds"
        )
    try:
        return to_ns(s)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{table} column {col!r} (mapping key {key!r}) has values that are not dates or "
            f"times ({exc}); fix them or convert with pd.to_datetime(..., errors='coerce')"
        ) from exc


def _frame(feats: dict, ids: pd.Index, snaps: pd.DatetimeIndex, id_name: str) -> pd.DataFrame:
    S, n = len(snaps), len(ids)
    index = pd.MultiIndex.from_arrays(
        [np.tile(ids.to_numpy(), S), np.repeat(snaps.to_numpy(), n)],
        names=[id_name, "snapshot_date"],
    )
    cols = {k: v.reshape(-1).astype(np.float32) for k, v in feats.items() if isinstance(k, str)}
    return pd.DataFrame(cols, index=index).sort_index()


def builder_ids(df, col, customers) -> pd.Index:
    """Ids a builder returns: ``customers`` if given, else every id of ``df`` (sorted)."""
    if customers is not None:
        return pd.Index(pd.unique(pd.Series(customers, dtype="string")), dtype="string")
    return pd.Index(
        pd.Series(df[col], dtype="string").dropna().unique(), dtype="string"
    ).sort_values()


def _day_matrix(codes, days, values, counts, n, d0, n_days, full_count):
    """Day matrix of summed values, scaled to a full day when counts are given."""
    if counts is None:
        return daily_matrix(codes, days, values, n, d0, n_days, unique=False), None
    ok = np.isfinite(values) & np.isfinite(counts)
    codes = np.where(ok, codes, -1)
    V = daily_matrix(codes, days, values, n, d0, n_days, unique=False)
    C = daily_matrix(codes, days, counts, n, d0, n_days, unique=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        X = np.where(C > 0, V * np.float32(full_count) / C, np.nan).astype(np.float32)
    partial = ((C > 0) & (C < full_count)).astype(np.float32)
    return X, partial


def reading_features(
    df: pd.DataFrame,
    snapshots,
    mapping: dict,
    *,
    windows=(30, 90, 180, 365),
    prefix: str = "value",
    customers=None,
    full_count=None,
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
        ``"recorded_at"`` and ``"count"``, e.g.
        ``{"id": "meter_id", "time": "read_at", "value": "kwh"}``. ``"count"`` names a
        column holding how many intervals a row's value covers (e.g. the number of
        15-minute reads in a daily total): a day's value is then scaled to a full day,
        ``sum(value) * full_count / sum(count)``, so a partial day does not look like a
        usage drop, and ``{prefix}_partial_days_{w}`` counts days with
        ``0 < sum(count) < full_count``; a day whose counts sum to 0 is missing.
    windows : sequence of int or str, default=(30, 90, 180, 365)
        Window lengths in days, or calendar windows such as ``"3m"`` or ``"1y"``
        (``[T - 1 year, T)`` by the calendar: 366 days across 29 February).
    prefix : str, default="value"
        Prefix of the feature names (``{prefix}_mean_90d``, ``{prefix}_slope_1y``, ...).
    customers : sequence of str, optional
        Ids to return (default: every id in ``df``); ids without readings get ``NaN``
        levels and zero counts.
    full_count : float, optional
        Intervals in a full day (96 for 15-minute reads); required with ``"count"``.

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
    table = "reading table"
    check_mapping(df, mapping, ("id", "time", "value"), table)
    if not isinstance(mapping["value"], str):
        raise ValueError(
            f"reading_features takes one value column, got {mapping['value']!r}; "
            "call it once per column with its own prefix"
        )
    windows = parse_windows(windows)
    snaps = as_snapshots(snapshots)
    ids = builder_ids(df, mapping["id"], customers)
    codes = customer_codes(df[mapping["id"]], ids)
    t_ns = time_column(df, mapping["time"], table, "time")
    days = np.where(t_ns == NAT, NAT, np.floor_divide(t_ns, DAY_NS))
    values = numeric_column(df, mapping["value"], table, "value")
    counts = None
    if mapping.get("count") is not None:
        counts = numeric_column(df, mapping["count"], table, "count")
        if full_count is None or not np.isfinite(full_count) or float(full_count) <= 0:
            raise ValueError(
                f"full_count must be the number of intervals in a full day when the mapping "
                f"has 'count', got {full_count!r}; e.g. full_count=96 for 15-minute reads"
            )
        if (counts < 0).any():
            bad = df.loc[counts < 0, mapping["count"]].iloc[0]
            bad = _plain(bad)
            raise DataValidationError(
                f"{table} column {mapping['count']!r} (mapping key 'count') has "
                f"{int((counts < 0).sum())} negative value(s) (first: {bad!r}); counts of "
                "intervals are >= 0"
            )
    sd = snapshot_days(snaps)
    d0 = int(sd.min()) - lookback_days(windows)
    n_days = int(sd.max()) - d0
    rec_col = mapping.get("recorded_at")

    def features(keep, snap_days):
        X, partial = _day_matrix(
            codes[keep],
            days[keep],
            values[keep],
            None if counts is None else counts[keep],
            len(ids),
            d0,
            n_days,
            full_count,
        )
        extra = None if partial is None else {"partial": partial}
        f = matrix_features(X, d0, snap_days, windows, prefix, extra=extra)
        if partial is not None:
            for w in windows:
                f[f"{prefix}_partial_days_{window_label(w)}"] = f.pop(("sum", "partial", w))
        return f

    if rec_col is None:
        feats = features(np.arange(len(df)), sd)
    else:
        rec = time_column(df, rec_col, table, "recorded_at")
        parts = []
        for T_day in sd:
            vis = visible_mask(t_ns, rec, int(T_day) * DAY_NS)
            idx = np.flatnonzero(vis)
            keep = idx[latest_versions([codes[idx], t_ns[idx]], rec[idx])]
            parts.append(features(keep, [T_day]))
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
    """Recency, frequency, active days, gaps, value and category-mix features of any event table.

    An event is used at snapshot ``T`` only if its time (and, with ``recorded_at``, the
    time it was recorded, which then also counts as its time) is strictly before ``T``.

    Parameters
    ----------
    df : pandas.DataFrame
        Any event table, e.g. a purchase log or web-event log.
    snapshots : date or sequence of dates
        Snapshot dates (exclusive cutoffs).
    mapping : dict
        Column mapping with keys ``"id"``, ``"time"`` and optionally ``"value"`` (one
        column name, or a list of names for several value columns in one pass),
        ``"category"``, ``"recorded_at"``.
    windows : sequence of int or str, default=(30, 90, 180, 365)
        Window lengths in days, or calendar windows such as ``"3m"`` or ``"1y"``
        (``[T - 1 year, T)`` by the calendar: 366 days across 29 February).
    prefix : str, default="event"
        Feature name prefix.
    customers : sequence of str, optional
        Ids to return (default: every id in ``df``).

    Returns
    -------
    pandas.DataFrame
        Indexed by (id, ``snapshot_date``), ``float32`` columns, with ``{w}`` the
        window label (``90d``, ``1y``):

        * ``{prefix}_count_{w}``: rows; ``{prefix}_active_days_{w}``: distinct calendar
          days with at least one event (duplicated rows count once);
        * with one value column: ``{prefix}_value_sum_{w}`` and ``{prefix}_value_mean_{w}``;
          with a list: ``{prefix}_{column}_sum_{w}`` and ``{prefix}_{column}_mean_{w}``
          per column (``NaN`` values are skipped);
        * with a category: ``{prefix}_{category}_count_{w}``,
          ``{prefix}_{category}_share_{w}`` and ``{prefix}_days_since_last_{category}``;
        * ``{prefix}_days_since_last``, ``{prefix}_days_since_first`` (fractional days);
        * inter-event gaps over the whole history before ``T``, between consecutive
          active days (>= 1 day): ``{prefix}_gap_mean``, ``{prefix}_gap_std``
          (population, needs two gaps), ``{prefix}_gap_last`` and
          ``{prefix}_days_since_last_over_mean_gap`` (days from the last active day to
          ``T`` over the mean gap; above 1 means overdue).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"user": ["u"] * 4, "at": pd.to_datetime(
    ...     ["2025-01-01", "2025-01-03", "2025-01-03", "2025-01-07"]),
    ...     "spent": [1.0, 2.0, 3.0, 4.0], "items": [1, 1, 2, 5]})
    >>> f = event_features(log, "2025-01-10", {"id": "user", "time": "at",
    ...                    "value": ["spent", "items"]}, windows=(30,), prefix="buy")
    >>> r = f.iloc[0]
    >>> int(r["buy_count_30d"]), int(r["buy_active_days_30d"]), float(r["buy_items_sum_30d"])
    (4, 3, 9.0)
    >>> float(r["buy_gap_mean"]), float(r["buy_gap_last"]), float(r["buy_days_since_last_over_mean_gap"])
    (3.0, 4.0, 1.0)
    """
    table = "event table"
    check_mapping(df, mapping, ("id", "time"), table, allowed=_MAPPING_KEYS[:5])
    windows = parse_windows(windows)
    snaps = as_snapshots(snapshots)
    ids = builder_ids(df, mapping["id"], customers)
    codes = customer_codes(df[mapping["id"]], ids)
    t_ns = time_column(df, mapping["time"], table, "time")
    if mapping.get("recorded_at") is not None:
        # an event recorded at or after a snapshot is unknown at it: push it past every snapshot
        rec = time_column(df, mapping["recorded_at"], table, "recorded_at")
        t_ns = np.where(rec > t_ns, rec, t_ns)
    value, vnames = None, []
    v_map = mapping.get("value")
    if v_map is not None:
        cols = [v_map] if isinstance(v_map, str) else list(v_map)
        if not cols or len(set(cols)) != len(cols):
            raise ValueError(f"mapping 'value' must name distinct columns, got {v_map!r}")
        value = np.column_stack([numeric_column(df, c, table, "value") for c in cols])
        vnames = ["value"] if isinstance(v_map, str) else [_slug(c) for c in cols]
        if len(set(vnames)) != len(vnames):
            raise ValueError(
                f"value columns {cols!r} give the same feature names {vnames!r}; rename them"
            )
    cat, cats = None, []
    if mapping.get("category") is not None:
        cat_codes, uniques = pd.factorize(df[mapping["category"]], sort=True)
        cat, cats = cat_codes, [_slug(u) for u in uniques]
    agg = event_aggregates(
        codes, t_ns, snaps.asi8, windows, len(ids), value=value, cat=cat, n_cat=len(cats)
    )
    sd = snapshot_days(snaps)
    c_u, d_u = distinct_days(codes, t_ns)
    act = active_days(c_u, d_u, sd, windows, len(ids))
    feats = {}
    for w in windows:
        lab = window_label(w)
        cnt = agg[("count", w)]
        feats[f"{prefix}_count_{lab}"] = cnt
        feats[f"{prefix}_active_days_{lab}"] = act[w]
        for j, v in enumerate(vnames):
            vsum, vcnt = agg[("vsum", w)][:, :, j], agg[("vcnt", w)][:, :, j]
            feats[f"{prefix}_{v}_sum_{lab}"] = vsum
            feats[f"{prefix}_{v}_mean_{lab}"] = _div(vsum, vcnt)
        for j, c in enumerate(cats):
            feats[f"{prefix}_{c}_count_{lab}"] = agg[("cat", w)][:, :, j]
            feats[f"{prefix}_{c}_share_{lab}"] = _div(agg[("cat", w)][:, :, j], cnt)
    feats[f"{prefix}_days_since_last"] = agg["since_last"]
    feats[f"{prefix}_days_since_first"] = agg["since_first"]
    for j, c in enumerate(cats):
        feats[f"{prefix}_days_since_last_{c}"] = agg["cat_since_last"][:, :, j]
    for k, v in gap_stats(c_u, d_u, sd, len(ids)).items():
        feats[f"{prefix}_{k}"] = v
    return _frame(feats, ids, snaps, mapping["id"])
