"""Time helpers shared by the builders: day numbers, snapshots, point-in-time visibility.

Conventions
-----------
* Times are handled as ``int64`` nanoseconds since the epoch and calendar days as
  ``int64`` day numbers since 1970-01-01, whatever the ``datetime64`` unit of the input.
* A snapshot ``T`` is a calendar day (midnight). The cutoff is **exclusive**: a row is a
  feature input only if its time is strictly before ``T``.
* A window of ``w`` days at ``T`` is the half-open interval ``[T - w days, T)``. A
  calendar window (``"3m"``, ``"1y"``) is ``[T - 3 months, T)`` by the calendar, so a
  one-year window across 29 February covers 366 days and loses no day of the year
  (from 29 February, one year back is 28 February).
* ``recorded_at`` (when present) is when a row became known. A row is visible at ``T``
  only if it is dated before ``T`` *and* recorded before ``T`` (a missing
  ``recorded_at`` means "known as soon as it happened"). When several versions of a
  row are visible, the one recorded last wins.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

DAY_NS = 86_400_000_000_000
NAT = np.iinfo(np.int64).min


def to_ns(values) -> np.ndarray:
    """Return ``int64`` nanoseconds since the epoch (``NAT`` for missing)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]").view(np.int64)


def to_days(values) -> np.ndarray:
    """Return ``int64`` day numbers since 1970-01-01 (``NAT`` for missing)."""
    ns = to_ns(values)
    out = np.floor_divide(ns, DAY_NS)
    out[ns == NAT] = NAT
    return out


def as_snapshots(snapshots) -> pd.DatetimeIndex:
    """Normalise one or many snapshot dates to a sorted, unique, midnight ``DatetimeIndex``."""
    if isinstance(snapshots, str | pd.Timestamp | np.datetime64) or not np.ndim(snapshots):
        snapshots = [snapshots]
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(list(snapshots)))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"snapshots must be dates such as '2025-06-01', got {snapshots!r}: {exc}"
        ) from exc
    if len(idx) == 0:
        raise ValueError("snapshots is empty; pass at least one date such as '2025-06-01'")
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return pd.DatetimeIndex(idx.normalize().unique().sort_values()).as_unit("ns")


def snapshot_days(snapshots: pd.DatetimeIndex) -> np.ndarray:
    """Day numbers of normalised snapshots."""
    return snapshots.as_unit("ns").asi8 // DAY_NS


def visible_mask(time_ns: np.ndarray, recorded_ns: np.ndarray | None, cutoff_ns: int) -> np.ndarray:
    """Rows known strictly before ``cutoff_ns``: dated and (if any) recorded before it."""
    mask = (time_ns < cutoff_ns) & (time_ns != NAT)
    if recorded_ns is not None:
        mask &= recorded_ns < cutoff_ns  # NAT (missing) is the smallest int64: always known
    return mask


def latest_versions(keys: list[np.ndarray], recorded_ns: np.ndarray) -> np.ndarray:
    """Indices of the last-recorded row of each key (rows with one version kept as is).

    Parameters
    ----------
    keys : list of numpy.ndarray
        Key columns (same length), e.g. ``[customer_code, day]``.
    recorded_ns : numpy.ndarray of int64
        ``recorded_at`` in nanoseconds (``NAT`` sorts first).

    Returns
    -------
    numpy.ndarray of int64
        Row positions, one per distinct key.
    """
    n = len(recorded_ns)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((recorded_ns, *reversed(keys)))
    last = np.ones(n, dtype=bool)
    same = np.ones(n - 1, dtype=bool)
    for k in keys:
        ks = k[order]
        same &= ks[1:] == ks[:-1]
    last[:-1] = ~same
    return order[last]


def customer_codes(column: pd.Series, index: pd.Index) -> np.ndarray:
    """Positions of ``column``'s customer ids in ``index`` (``-1`` when absent).

    Categorical columns (e.g. dictionary-encoded Parquet) are mapped through their
    categories, so the cost is per distinct id rather than per row.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        cat_pos = index.get_indexer(pd.Index(column.cat.categories.astype("string")))
        raw = column.cat.codes.to_numpy()
        out = np.full(len(raw), -1, dtype=np.int64)
        ok = raw >= 0
        out[ok] = cat_pos[raw[ok]]
        return out
    return index.get_indexer(pd.Index(column.astype("string"))).astype(np.int64)


def require_columns(df: pd.DataFrame, table: str, columns) -> None:
    """Raise a named error when ``df`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"table {table!r} lacks column(s) {missing!r} needed for features "
            f"(it has {list(df.columns)!r}); validate it with powerprofile.validate_tables "
            "or pass a column mapping"
        )


_WINDOW = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


def parse_windows(windows) -> tuple:
    """Validate window specifications: ``int`` days or calendar strings.

    Parameters
    ----------
    windows : sequence of int or str
        Days (``90``), or ``"<n>d"``, ``"<n>w"`` (days and weeks, returned as ``int``
        days), ``"<n>m"``, ``"<n>y"`` (calendar months and years, returned as the
        normalised string, e.g. ``"1y"``).

    Returns
    -------
    tuple of int or str
    """
    if isinstance(windows, str | int | np.integer):
        windows = (windows,)
    out = []
    for w in windows:
        if isinstance(w, bool):
            w = None  # not a number of days
        if isinstance(w, int | np.integer) and w > 0:
            out.append(int(w))
            continue
        m = _WINDOW.match(w) if isinstance(w, str) else None
        if m is None or int(m.group(1)) == 0:
            raise ValueError(
                f"window {w!r} is not a window; pass a positive number of days (90) or a "
                "calendar span such as '30d', '2w', '3m' or '1y'"
            )
        n, unit = int(m.group(1)), m.group(2).lower()
        out.append(n if unit == "d" else 7 * n if unit == "w" else f"{n}{unit}")
    if not out:
        raise ValueError("windows is empty; pass at least one window such as 90 or '1y'")
    return tuple(out)


def window_label(w) -> str:
    """Suffix of a window in feature names: ``90`` -> ``"90d"``, ``"1y"`` -> ``"1y"``."""
    return f"{w}d" if isinstance(w, int | np.integer) else str(w)


def window_days(w, t_day: int, *, after: bool = False) -> int:
    """Length in days of window ``w`` ending (exclusive) on day number ``t_day``.

    With ``after=True``, of the window starting on ``t_day`` (a label horizon
    ``[T, T + w)``).
    """
    if isinstance(w, int | np.integer):
        return int(w)
    n, unit = int(w[:-1]), w[-1]
    t = pd.Timestamp(int(t_day), unit="D")
    step = pd.DateOffset(months=n) if unit == "m" else pd.DateOffset(years=n)
    return int(((t + step) - t).days if after else (t - (t - step)).days)


def max_window_days(w) -> int:
    """Longest length in days that window ``w`` can have."""
    if isinstance(w, int | np.integer):
        return int(w)
    n, unit = int(w[:-1]), w[-1]
    return 31 * n if unit == "m" else 366 * n
