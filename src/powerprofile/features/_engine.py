"""Orchestration: area pre-aggregation, then the partition function over every partition.

Memory is bounded by one partition (plus the output frame): partitions are processed
one at a time, or ``n_jobs`` at a time in worker processes that read their own
Parquet parts.
"""

from __future__ import annotations

import functools
import warnings

import pandas as pd

from ..schema import DataSource
from ._area import area_partial, combine_area_partials, outage_stats
from ._concat import concat_sorted
from ._labels import CollapseRule, LabelSpec, resolve_kinds
from ._leakage import ATTRS_KEY, combine_leakage, report_from_attrs, report_to_attrs
from ._partition import PER_CUSTOMER, FeatureSpec, compute_partition, leakage_partial
from ._time import as_snapshots, snapshot_days

__all__ = ["area_statistics", "build_features", "build_training_frame", "leakage_report"]

DEFAULT_WINDOWS = (30, 90, 180, 365)


def _check_windows(windows) -> tuple:
    try:
        ws = tuple(sorted({int(w) for w in windows}))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"windows must be positive whole days such as (30, 90), got {windows!r}"
        ) from exc
    if not ws or ws[0] < 1:
        raise ValueError(f"windows must be positive whole days such as (30, 90), got {windows!r}")
    return ws


def _check_partitions(n_partitions, src: DataSource) -> int:
    if n_partitions is None:
        return src.default_partitions()
    if int(n_partitions) < 1:
        raise ValueError(f"n_partitions must be >= 1 (or None for automatic), got {n_partitions!r}")
    return int(n_partitions)


@functools.lru_cache(maxsize=2)
def _folder_source(path: str) -> DataSource:
    return DataSource(path)


def _source_for_task(src: DataSource):
    return _folder_source(str(src.path)) if src.path is not None else src


def _map(fn, src: DataSource, P: int, n_jobs: int, progress: bool, desc: str):
    items = range(P)
    if progress:
        from .._progress import progress_bar

        items = progress_bar(items, progress=progress, desc=desc, total=P)
    if n_jobs == 1 or P == 1:
        return [fn(src, p) for p in items]
    from joblib import Parallel, delayed

    if src.path is not None:  # workers read their own parts: nothing big is pickled
        path = str(src.path)
        # the tables' cross-part key searches once, side by side, not in every worker
        dups = src.search_duplicates(
            lambda f, n: Parallel(n_jobs=min(n_jobs, n), backend="loky")(
                delayed(f)(i) for i in range(n)
            )
        )
        return Parallel(n_jobs=n_jobs, backend="loky")(
            delayed(_folder_call)(fn, path, p, dups) for p in items
        )
    return Parallel(n_jobs=n_jobs, backend="threading")(delayed(fn)(src, p) for p in items)


def _folder_call(fn, path, p, duplicates):
    from ..schema._reader import remember_duplicates

    remember_duplicates(duplicates)
    return fn(_folder_source(path), p)


class _AreaTask:
    def __init__(self, P, sd, windows, kinds):
        self.P, self.sd, self.windows, self.kinds = P, sd, windows, kinds

    def __call__(self, src, p):
        parts = src.partition(p, self.P, tables=("interactions", "events"))
        return area_partial(
            parts["customers"],
            parts["interactions"],
            parts["events"],
            self.sd,
            self.windows,
            self.kinds,
        )


class _FeatureTask:
    def __init__(self, P, snaps, area_stats, spec, labels):
        self.P, self.snaps, self.area_stats, self.spec, self.labels = (
            P,
            snaps,
            area_stats,
            spec,
            labels,
        )

    def __call__(self, src, p):
        return [
            compute_partition(
                parts, self.snaps, area_stats=self.area_stats, spec=self.spec, labels=self.labels
            )
            for parts in src.chunks(p, self.P, arrow=True)
        ]


class _LeakTask:
    def __init__(self, P, sd):
        self.P, self.sd = P, sd

    def __call__(self, src, p):
        return leakage_partial(src.partition(p, self.P), self.sd, PER_CUSTOMER)


def _area_stats(src, P, sd, windows, kinds, n_jobs, progress) -> dict:
    partials = _map(_AreaTask(P, sd, windows, kinds), src, P, n_jobs, progress, "area statistics")
    return {
        "complaints": combine_area_partials(partials),
        "outages": outage_stats(src.outages, sd, windows),
    }


def area_statistics(
    tables, snapshots, *, windows=DEFAULT_WINDOWS, churn_kinds=None, n_partitions=None, n_jobs=1
) -> dict:
    """The cross-partition pre-aggregation behind the area features.

    Parameters
    ----------
    tables : Tables or str or os.PathLike
        Validated tables or a data-set folder.
    snapshots : date or sequence of dates
        Snapshot dates.
    windows : sequence of int, default=(30, 90, 180, 365)
        Window lengths in days.
    churn_kinds : sequence of str, optional
        Event kinds after which a customer no longer counts as active (default: all).
    n_partitions : int, optional
        Partitions to stream through (default: the folder's own, or ~50,000 customers each).
    n_jobs : int, default=1
        Partitions processed in parallel.

    Returns
    -------
    dict
        ``"complaints"``: per (level, area, snapshot_day) active customers and
        complainers per window; ``"outages"``: per (area, snapshot_day) outage counts
        and minutes per window. Pass it to :func:`partition_features`.
    """
    src = DataSource(tables)
    sd = snapshot_days(as_snapshots(snapshots))
    return _area_stats(
        src,
        _check_partitions(n_partitions, src),
        sd,
        _check_windows(windows),
        resolve_kinds(churn_kinds),
        n_jobs,
        False,
    )


def leakage_report(tables, snapshots=None, *, n_partitions=None, n_jobs=1) -> pd.DataFrame:
    """For every source table and snapshot, the latest event and recorded time used.

    The rows counted are exactly those the builders may read (dated, and recorded,
    strictly before the snapshot). ``leakage_report(frame)`` gives the report a
    feature frame carries (``build_features``, ``build_training_frame`` and
    ``partition_features`` keep it in ``frame.attrs["leakage_report"]`` as plain
    JSON values, so it survives Parquet and Feather files, not CSV);
    ``leakage_report(tables, snapshots)`` computes it from the data.

    Parameters
    ----------
    tables : Tables or str or os.PathLike or pandas.DataFrame
        Validated tables or a data-set folder; or a feature frame, whose own report
        is returned (``snapshots`` must then be None).
    snapshots : date or sequence of dates, optional
        Snapshot dates (required with tables).
    n_partitions : int, optional
        Partitions to stream through.
    n_jobs : int, default=1
        Partitions processed in parallel.

    Returns
    -------
    pandas.DataFrame
        Columns ``snapshot_date, table, rows_used, latest_time_used,
        latest_recorded_at_used, ok`` (``ok`` is ``True`` when both times are before
        the snapshot).

    Raises
    ------
    ValueError
        A frame that carries no report (e.g. read back from CSV), or tables without
        ``snapshots``.

    Examples
    --------
    >>> frame = build_training_frame(tables, snapshots, 90)  # doctest: +SKIP
    >>> frame.to_parquet("training.parquet")  # doctest: +SKIP
    >>> leakage_report(pd.read_parquet("training.parquet"))  # doctest: +SKIP
    """
    if isinstance(tables, pd.DataFrame) and snapshots is None:
        return report_from_attrs(tables)
    if snapshots is None:
        raise ValueError(
            "leakage_report needs the snapshot dates with tables, e.g. "
            "leakage_report(tables, ['2025-10-01']); pass a feature frame alone to read its "
            "own report."
        )
    src = DataSource(tables)
    snaps = as_snapshots(snapshots)
    P = _check_partitions(n_partitions, src)
    sd = snapshot_days(snaps)
    parts = _map(_LeakTask(P, sd), src, P, n_jobs, False, "leakage")
    return combine_leakage(parts + [leakage_partial({"outages": src.outages}, sd, ("outages",))])


def _run(
    tables,
    snapshots,
    *,
    windows,
    min_history_days,
    churn_kinds,
    labels,
    n_partitions,
    n_jobs,
    progress,
) -> pd.DataFrame:
    src = DataSource(tables)
    snaps = as_snapshots(snapshots)
    sd = snapshot_days(snaps)
    windows = _check_windows(windows)
    if int(min_history_days) < 0:
        raise ValueError(f"min_history_days must be >= 0, got {min_history_days!r}")
    kinds = resolve_kinds(churn_kinds)
    P = _check_partitions(n_partitions, src)
    n_jobs = max(1, int(n_jobs))
    spec = FeatureSpec(
        windows=windows,
        min_history_days=int(min_history_days),
        churn_kinds=kinds,
        region_categories=src.region_categories(),
    )
    if src.data_end is not None:
        end = pd.Timestamp(src.data_end).normalize()
        if snaps.max() > end + pd.Timedelta(days=1):
            warnings.warn(
                f"snapshot {snaps.max().date()} is after the data's end {end.date()}; "
                "recent windows will be empty",
                UserWarning,
                stacklevel=3,
            )
        if labels is not None and snaps.max() + pd.Timedelta(
            days=labels.horizon_days
        ) > end + pd.Timedelta(days=1):
            warnings.warn(
                f"the {labels.horizon_days}-day horizon after snapshot {snaps.max().date()} ends "
                f"after the data's end {end.date()}: those labels are censored (too few positives); "
                "use earlier snapshots for training",
                UserWarning,
                stacklevel=3,
            )
    area = _area_stats(src, P, sd, windows, kinds, n_jobs, progress)
    results = [
        r
        for task in _map(
            _FeatureTask(P, snaps, area, spec, labels), src, P, n_jobs, progress, "features"
        )
        for r in task
    ]
    leaks = [r[1] for r in results] + [leakage_partial({"outages": src.outages}, sd, ("outages",))]
    frames = [r[0] for r in results]
    del results
    frame = concat_sorted(frames)
    del frames
    frame.attrs[ATTRS_KEY] = report_to_attrs(combine_leakage(leaks))
    return frame


def build_features(
    tables,
    snapshot,
    *,
    windows=DEFAULT_WINDOWS,
    min_history_days=60,
    n_partitions=None,
    n_jobs=1,
    progress=False,
    churn_kinds=None,
) -> pd.DataFrame:
    """Point-in-time features of every active customer at one (or more) snapshot(s).

    Only rows dated strictly before the snapshot (and, with ``recorded_at``, recorded
    before it) are used. Customers whose supply starts on or after the snapshot, or who
    churned before it, are left out.

    Parameters
    ----------
    tables : Tables or str or os.PathLike
        Validated tables, or a data-set folder (a partitioned folder is streamed
        partition by partition straight from Parquet).
    snapshot : date or sequence of dates
        The snapshot date(s), e.g. ``"2025-12-01"``.
    windows : sequence of int, default=(30, 90, 180, 365)
        Window lengths in days (feature names end in ``_{w}d``).
    min_history_days : int, default=60
        ``short_history`` is ``True`` for customers with fewer daily reads than this in
        the longest window.
    n_partitions : int, optional
        Number of hash partitions (default: the folder's own, or ~50,000 customers each).
        The result does not depend on it.
    n_jobs : int, default=1
        Partitions processed in parallel.
    progress : bool, default=False
        Show a progress bar.
    churn_kinds : sequence of str, optional
        Event kinds that end a customer's activity (default: every kind).

    Returns
    -------
    pandas.DataFrame
        Indexed by (``customer_id``, ``snapshot_date``); ``float32`` numeric features,
        ``category`` profile columns (``customer_type``, ``region``, ``tariff``),
        ``bool`` flags (``tou_flag``, ``short_history``, ``bank_withholding``). See
        :func:`feature_catalog` for every name. The leakage report travels in
        ``attrs`` as plain values: read it with ``leakage_report(frame)``.

    Examples
    --------
    >>> from powerprofile.features import build_features
    >>> X = build_features("data/sample", "2025-10-01")  # doctest: +SKIP
    """
    return _run(
        tables,
        snapshot,
        windows=windows,
        min_history_days=min_history_days,
        churn_kinds=churn_kinds,
        labels=None,
        n_partitions=n_partitions,
        n_jobs=n_jobs,
        progress=progress,
    )


def build_training_frame(
    tables,
    snapshots,
    horizon_days=90,
    *,
    churn_kinds=None,
    churn_usage_collapse=None,
    windows=DEFAULT_WINDOWS,
    min_history_days=60,
    n_partitions=None,
    n_jobs=1,
    progress=False,
) -> pd.DataFrame:
    """Features at each snapshot plus the labels over the horizon after it.

    Parameters
    ----------
    tables : Tables or str or os.PathLike
        Validated tables or a data-set folder.
    snapshots : sequence of dates
        Snapshot dates, e.g. monthly ``pd.date_range("2024-07-01", "2025-06-01", freq="MS")``.
    horizon_days : int, default=90
        Label horizon: the days ``[T, T + horizon_days)``.
    churn_kinds : sequence of str, optional
        Event kinds that make ``label_churn`` positive (default: every kind in
        ``events``); ``()`` to use only the usage collapse. Customers with such an event
        before the snapshot are excluded.
    churn_usage_collapse : bool or dict or CollapseRule, optional
        Also count a usage collapse as churn: ``True`` for 60-day mean below 20 % of the
        prior 180-day mean, or ``{"window_days": .., "baseline_days": .., "ratio": ..}``.
        Customers already collapsed at the snapshot are excluded.
    windows, min_history_days, n_partitions, n_jobs, progress
        As in :func:`build_features`.

    Returns
    -------
    pandas.DataFrame
        The features of :func:`build_features` plus ``label_churn`` and
        ``label_complaint`` (``int8`` 0/1). ``leakage_report(frame)`` lists, per
        snapshot and source table, the latest event and recorded time used (all
        strictly before the snapshot).
    """
    if int(horizon_days) < 1:
        raise ValueError(f"horizon_days must be a positive number of days, got {horizon_days!r}")
    kinds = resolve_kinds(churn_kinds)
    labels = LabelSpec(
        horizon_days=int(horizon_days),
        churn_kinds=kinds,
        collapse=CollapseRule.coerce(churn_usage_collapse),
    )
    return _run(
        tables,
        snapshots,
        windows=windows,
        min_history_days=min_history_days,
        churn_kinds=kinds,
        labels=labels,
        n_partitions=n_partitions,
        n_jobs=n_jobs,
        progress=progress,
    )
