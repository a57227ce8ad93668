"""Point-in-time features of a partitioned folder, one Spark task per hash partition.

The same two passes as :func:`powerprofile.features.build_features` on a folder, with
the same pure functions: area partials per partition (:func:`~powerprofile.features.area_partial`)
combined on the driver and broadcast in the task closure, then the partition function
over each partition's chunks of whole customers. Each task reads and validates its
own partition's files (:class:`powerprofile.schema.DataSource`), so a defect in one
partition raises the single-machine reader's error.
"""

from __future__ import annotations

import functools

import pandas as pd

from ..features import (
    CollapseRule,
    FeatureSpec,
    LabelSpec,
    combine_area_partials,
    outage_stats,
)
from ..features._concat import concat_sorted
from ..features._engine import _AreaTask as _EngineAreaTask
from ..features._engine import _FeatureTask as _EngineFeatureTask
from ..features._labels import resolve_kinds
from ..features._leakage import ATTRS_KEY, combine_leakage, report_to_attrs
from ..features._partition import leakage_partial
from ..features._time import as_snapshots, snapshot_days
from ._tasks import new_token, run_tasks

__all__ = ["build_features", "build_training_frame"]

DEFAULT_WINDOWS = (30, 90, 180, 365)


@functools.lru_cache(maxsize=2)
def _source(path: str, errors: str, data_end):
    """The folder's validated source, once per worker process."""
    from ..schema import DataSource

    return DataSource(path, errors=errors, data_end=data_end)


def _task_source(args, duplicates):
    """The worker's source, with the duplicate keys the driver's search found."""
    from ..schema._reader import remember_duplicates

    remember_duplicates(duplicates)
    return _source(*args)


class _AreaTask:
    """The single-machine area task, on the partition this worker's reader gives."""

    def __init__(self, args, duplicates, P, sd, windows, kinds):
        self.args, self.duplicates = args, duplicates
        self.task = _EngineAreaTask(P, sd, windows, kinds)

    def __call__(self, p):
        return self.task(_task_source(self.args, self.duplicates), p)


class _FeatureTask:
    """The single-machine feature task; frames and leakage partials returned apart."""

    def __init__(self, args, duplicates, P, snaps, area, spec, labels):
        self.args, self.duplicates = args, duplicates
        self.task = _EngineFeatureTask(P, snaps, area, spec, labels)

    def __call__(self, p):
        pairs = self.task(_task_source(self.args, self.duplicates), p)
        return [f for f, _ in pairs], [lk for _, lk in pairs]


def _run(spark, path, snapshots, *, windows, min_history_days, kinds, labels, errors, data_end):
    args = (str(path), errors, data_end)
    src = _source(*args)
    P = src.default_partitions()
    snaps = as_snapshots(snapshots)
    sd = snapshot_days(snaps)
    windows = tuple(sorted({int(w) for w in windows}))
    token = new_token()  # the jobs share each worker's reader of the folder
    # the tables' cross-part key searches once, side by side, instead of in every worker
    dups = src.search_duplicates(
        lambda fn, n: run_tasks(spark, fn, n, desc="duplicate keys", token=token)
    )
    partials = run_tasks(
        spark,
        _AreaTask(args, dups, P, sd, windows, kinds),
        P,
        desc="area statistics",
        token=token,
    )
    area = {
        "complaints": combine_area_partials(partials),
        "outages": outage_stats(src.outages, sd, windows),
    }
    spec = FeatureSpec(
        windows=windows,
        min_history_days=int(min_history_days),
        churn_kinds=kinds,
        region_categories=src.region_categories(),
    )
    done = run_tasks(
        spark,
        _FeatureTask(args, dups, P, snaps, area, spec, labels),
        P,
        desc="features",
        token=token,
    )
    frames = [f for fs, _ in done for f in fs]
    leaks = [lk for _, ls in done for lk in ls]
    leaks.append(leakage_partial({"outages": src.outages}, sd, ("outages",)))
    frame = concat_sorted(frames)
    del frames
    frame.attrs[ATTRS_KEY] = report_to_attrs(combine_leakage(leaks))
    return frame


def build_features(
    spark,
    path,
    snapshot,
    *,
    windows=DEFAULT_WINDOWS,
    min_history_days=60,
    churn_kinds=None,
    errors="raise",
    data_end=None,
) -> pd.DataFrame:
    """:func:`powerprofile.features.build_features` of a partitioned folder, run by Spark.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path : str or os.PathLike
        A partitioned data-set folder (``dataset.json`` with ``n_partitions``) that
        every executor can read (a shared or mounted file system).
    snapshot : date or sequence of dates
    windows, min_history_days, churn_kinds
        As in :func:`powerprofile.features.build_features`.
    errors : {"raise", "quarantine"}, default="raise"
        How the tasks' readers treat bad rows (see :func:`powerprofile.schema.read_parts`).
    data_end : date, optional
        Last day covered (default: ``dataset.json``'s).

    Returns
    -------
    pandas.DataFrame
        The frame :func:`powerprofile.features.build_features` returns, value for
        value (leakage report in ``attrs`` included).

    Raises
    ------
    DataValidationError
        A partition's rows break the contract (strict mode): the reader's own error.
    """
    return _run(
        spark,
        path,
        snapshot,
        windows=windows,
        min_history_days=min_history_days,
        kinds=resolve_kinds(churn_kinds),
        labels=None,
        errors=errors,
        data_end=data_end,
    )


def build_training_frame(
    spark,
    path,
    snapshots,
    horizon_days=90,
    *,
    churn_kinds=None,
    churn_usage_collapse=None,
    windows=DEFAULT_WINDOWS,
    min_history_days=60,
    errors="raise",
    data_end=None,
) -> pd.DataFrame:
    """:func:`powerprofile.features.build_training_frame` of a folder, run by Spark.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path : str or os.PathLike
    snapshots : sequence of dates
    horizon_days, churn_kinds, churn_usage_collapse, windows, min_history_days
        As in :func:`powerprofile.features.build_training_frame`.
    errors, data_end
        As in :func:`build_features`.

    Returns
    -------
    pandas.DataFrame
        Features and ``label_*`` columns, equal to the single-machine frame.
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
        spark,
        path,
        snapshots,
        windows=windows,
        min_history_days=min_history_days,
        kinds=kinds,
        labels=labels,
        errors=errors,
        data_end=data_end,
    )
