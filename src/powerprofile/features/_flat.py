"""Generic point-in-time labels from any event table, and one-snapshot flat frames.

Time convention (the same as the contract's labels): features at a snapshot ``T`` use
rows strictly before ``T``; the label of ``T`` with a horizon ``h`` uses events at
times in ``[T, T + h)``. An event exactly at ``T`` (midnight) is a label input and
never a feature input, so every event is on exactly one side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._generic import builder_ids, check_mapping, time_column
from ._time import (
    DAY_NS,
    NAT,
    as_snapshots,
    customer_codes,
    parse_windows,
    snapshot_days,
    window_days,
)

__all__ = ["event_label", "flat_frame"]


def _where_mask(table: pd.DataFrame, where) -> np.ndarray:
    if where is None:
        return np.ones(len(table), dtype=bool)
    if isinstance(where, str):
        from powerprofile.portraits import parse_expression  # the one expression language

        return np.asarray(parse_expression(where, table.columns).evaluate(table), dtype=bool)
    mask = where(table) if callable(where) else where
    arr = np.asarray(mask)
    if arr.shape != (len(table),) or not (arr.dtype == bool or pd.api.types.is_bool_dtype(mask)):
        raise ValueError(
            f"where must be an expression such as \"kind == 'closure'\", a boolean mask of "
            f"the table's {len(table)} rows or a function returning one; got "
            f"{type(mask).__name__} of shape {arr.shape} and dtype {arr.dtype}"
        )
    if isinstance(mask, pd.Series) and not mask.index.equals(table.index):
        raise ValueError("where is a Series whose index differs from the table's; align it")
    return np.asarray(pd.Series(mask).fillna(False), dtype=bool)


def event_label(
    table: pd.DataFrame,
    snapshot,
    horizon,
    mapping: dict,
    where=None,
    *,
    customers=None,
    name: str = "label",
) -> pd.Series:
    """1 if an id has a matching event in the horizon after each snapshot, else 0.

    Point in time: the label of snapshot ``T`` looks only at events with a time in
    ``[T, T + horizon)``; an event exactly at ``T`` counts (features at ``T`` never see
    it) and one exactly at ``T + horizon`` does not. Rows with a missing time or id are
    ignored.

    Parameters
    ----------
    table : pandas.DataFrame
        Any event table (account closures, purchases, complaints, ...).
    snapshot : date or sequence of dates
        Snapshot dates (midnight).
    horizon : int or str
        Days (``90``) or a calendar span (``"3m"``, ``"1y"``: ``[T, T + 3 months)``).
    mapping : dict
        ``{"id": ..., "time": ...}``.
    where : str, array-like of bool or callable, optional
        Which rows count: an expression of the table's columns in the library's
        expression language (``"kind in ['closure', 'switch'] and amount > 0"``, see
        :func:`powerprofile.portraits.parse_expression`), a boolean mask of the rows,
        or a function of the table returning one. Default: every row.
    customers : sequence of str, optional
        Ids to label (default: every id of ``table``); ids without events get 0.
    name : str, default="label"
        Name of the returned series.

    Returns
    -------
    pandas.Series of int8
        Indexed by (id, ``snapshot_date``), like the builders' frames, so that
        ``features.join(label)`` aligns them.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"user": ["a", "b"], "at": pd.to_datetime(["2025-03-01", "2025-02-01"]),
    ...                    "kind": ["closure", "closure"]})
    >>> y = event_label(ev, "2025-03-01", 30, {"id": "user", "time": "at"}, "kind == 'closure'")
    >>> y.droplevel("snapshot_date").to_dict()
    {'a': 1, 'b': 0}
    """
    table_name = "event table"
    check_mapping(table, mapping, ("id", "time"), table_name, allowed=("id", "time"))
    if isinstance(horizon, tuple | list | np.ndarray):
        raise ValueError(f"horizon must be one span such as 90 or '3m', got {horizon!r}")
    (h,) = parse_windows((horizon,))
    snaps = as_snapshots(snapshot)
    ids = builder_ids(table, mapping["id"], customers)
    codes = customer_codes(table[mapping["id"]], ids)
    t_ns = time_column(table, mapping["time"], table_name, "time")
    ok = (codes >= 0) & (t_ns != NAT) & _where_mask(table, where)
    codes, t_ns = codes[ok], t_ns[ok]
    sd = snapshot_days(snaps)
    out = np.zeros((len(sd), len(ids)), dtype=np.int8)
    for s, t in enumerate(sd):
        lo = int(t) * DAY_NS
        hi = (int(t) + window_days(h, int(t), after=True)) * DAY_NS
        m = (t_ns >= lo) & (t_ns < hi)
        out[s] = np.bincount(codes[m], minlength=len(ids)) > 0
    index = pd.MultiIndex.from_arrays(
        [np.tile(ids.to_numpy(), len(sd)), np.repeat(snaps.to_numpy(), len(ids))],
        names=[mapping["id"], "snapshot_date"],
    )
    return pd.Series(out.reshape(-1), index=index, name=name).sort_index()


def flat_frame(*frames, snapshot=None) -> pd.DataFrame:
    """One row per id for one snapshot: builder frames and labels side by side.

    Joins frames and series indexed by (id, ``snapshot_date``) (the output of
    :func:`reading_features`, :func:`event_features`, :func:`event_label`,
    ``build_features``) on that index, keeps one snapshot and drops the
    ``snapshot_date`` level, giving the flat table that scikit-learn estimators and
    ``PropensityModel`` fit on.

    Parameters
    ----------
    *frames : pandas.DataFrame or pandas.Series
        The first one decides the rows (a left join); later ones add columns. Column
        names must not repeat.
    snapshot : date, optional
        Which snapshot to keep; required when the frames hold several.

    Returns
    -------
    pandas.DataFrame
        Indexed by the first frame's id level, one row per id.

    Examples
    --------
    >>> import pandas as pd
    >>> from powerprofile.features import event_features, event_label, flat_frame
    >>> ev = pd.DataFrame({"user": ["a", "a", "b"], "at": pd.to_datetime(
    ...     ["2025-01-05", "2025-03-02", "2025-02-20"])})
    >>> m = {"id": "user", "time": "at"}
    >>> X = event_features(ev, "2025-03-01", m, windows=(30,), prefix="ev")
    >>> flat = flat_frame(X[["ev_count_30d"]], event_label(ev, "2025-03-01", 30, m))
    >>> flat.to_dict("index")
    {'a': {'ev_count_30d': 0.0, 'label': 1}, 'b': {'ev_count_30d': 1.0, 'label': 0}}
    """
    if not frames:
        raise ValueError("flat_frame needs at least one frame (e.g. the output of event_features)")
    parts = []
    for i, f in enumerate(frames):
        if not isinstance(f, pd.DataFrame | pd.Series):
            raise TypeError(f"frame {i} is a {type(f).__name__}, not a pandas frame or series")
        if f.index.nlevels != 2 or f.index.names[1] != "snapshot_date":
            raise ValueError(
                f"frame {i} is indexed by {list(f.index.names)!r}; flat_frame joins frames "
                "indexed by (id, 'snapshot_date') such as event_features' output"
            )
        f = f.to_frame() if isinstance(f, pd.Series) else f
        if i:
            f = f.rename_axis(index=parts[0].index.names)
        parts.append(f)
    cols = [c for p in parts for c in p.columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise ValueError(f"columns {dup!r} appear in several frames; rename or drop them first")
    snaps = parts[0].index.get_level_values("snapshot_date").unique()
    if snapshot is None:
        if len(snaps) != 1:
            raise ValueError(
                f"the frames hold {len(snaps)} snapshots ({[str(s.date()) for s in snaps[:5]]!r}"
                f"{' ...' if len(snaps) > 5 else ''}); pass snapshot= to pick one"
            )
        snap = snaps[0]
    else:
        snap = as_snapshots(snapshot)[0]
        if snap not in snaps:
            raise ValueError(
                f"snapshot {str(snap.date())!r} is not in the frames; they hold "
                f"{[str(s.date()) for s in snaps[:5]]!r}"
            )
    out = parts[0].xs(snap, level="snapshot_date", drop_level=True)
    for p in parts[1:]:
        out = out.join(p.xs(snap, level="snapshot_date", drop_level=True), how="left")
    return out
