"""The streamed route of the job: one hash partition at a time, results in part files.

Every per-customer stage reads the data-set folder part by part through
:class:`powerprofile.schema.DataSource` (each part validated as read) and writes its
result for the part into the job's staging folder; only small aggregates (area
statistics, leakage partials, scores for the global deciles, the training and
segmentation samples) come back to the parent. Worker processes
(``features.n_jobs``) receive the folder path and a partition number and return file
paths, so running two workers does not bring every partition's frame into one
process. Outputs are published by the output folder's staging and commit, so a run
stopped half way leaves neither a partial portrait folder nor a partial export.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..features._concat import sorted_layout
from ._paths import _resolve
from ._sample import segment_sample_mask, training_sample

__all__ = ["StreamPlan", "stream_features", "stream_portraits", "validate_streamed"]

log = logging.getLogger("powerprofile")

PART = "part-{p:05d}.parquet"


@functools.lru_cache(maxsize=2)
def _source(path: str, errors: str, data_end):
    from ..schema import DataSource

    return DataSource(path, errors=errors, data_end=data_end)


MAX_AUTO_WORKERS = 2


def feature_workers(cfg: Config) -> int:
    """Worker processes of the streamed feature stage (``features.n_jobs``).

    None (the default) takes the cores this process may use, at most
    ``MAX_AUTO_WORKERS``: each worker holds one partition (about 1.5 GB at
    12,000-16,000 customers a part), so two stay within a 4 GB job.
    """
    from .._cores import available_cores

    n = cfg.features.n_jobs
    return max(1, int(n) if n is not None else min(available_cores(), MAX_AUTO_WORKERS))


def _release_memory() -> None:
    """Hand freed memory back to the system (Arrow's pool, then the C heap)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _map(fn, items, n_jobs: int, mapper=None, *, end: bool = True):
    """``fn`` over ``items``: in this process, ``n_jobs`` worker processes, or ``mapper``.

    ``mapper(fn, n)`` computes ``[fn(0), ..., fn(n - 1)]`` elsewhere (the Spark engine's
    :func:`powerprofile.spark.run_tasks`); ``items`` are then ``range(n)``.

    With ``end`` the workers are shut down afterwards: idle, they would keep their
    partition's memory through the later stages. Without, the next call reuses
    them (and their opened data-set folder).
    """
    return list(_imap(fn, items, n_jobs, mapper, end=end))


def _imap(fn, items, n_jobs: int, mapper=None, *, end: bool = True):
    """:func:`_map` yielding each result, in order, as soon as it is there.

    The caller can fold the results as they come (see :func:`_fold`) instead of
    holding every partition's result at once.
    """
    if mapper is not None:
        yield from mapper(fn, len(items))
        return
    if n_jobs <= 1 or len(items) <= 1:
        for i in items:
            yield fn(i)
        return
    from joblib import Parallel, delayed
    from joblib.externals.loky import get_reusable_executor

    ok = False
    try:
        yield from Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
            delayed(fn)(i) for i in items
        )
        ok = True
    finally:
        if end or not ok:
            get_reusable_executor().shutdown(wait=True)


@functools.lru_cache(maxsize=1)
def _shipped(path: str, nonce: str):
    """The callable pickled at ``path`` (loaded once per worker process and ``nonce``)."""
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 - written by this job's parent, in its own temp file


class _Shipped:
    """Runs the callable pickled at ``path``: one load per worker, not one per task."""

    def __init__(self, path: str):
        import secrets

        self.path, self.nonce = path, secrets.token_hex(8)  # a reused file name is not a hit

    def __call__(self, i):
        try:
            return _shipped(self.path, self.nonce)(i)
        finally:
            _release_memory()  # a part's pages, before the next task of this worker


def local_mapper(n_jobs: int, *, end: bool = False):
    """A ``mapper(fn, n)`` running ``fn(0), ..., fn(n - 1)`` on ``n_jobs`` worker processes.

    ``fn`` is pickled once to a private temporary file and each worker loads it once:
    a part check carries every customer id (the orphan check), which pickling per
    task would copy to the workers hundreds of times. Unless ``end``, the workers
    stay up for the next stage (see :func:`_map`).
    """

    def mapper(fn, n: int):
        import os
        import pickle
        import tempfile

        fd, path = tempfile.mkstemp(prefix="powerprofile-task-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(fn, f, protocol=pickle.HIGHEST_PROTOCOL)
            return _map(_Shipped(path), list(range(n)), n_jobs, end=end)
        finally:
            os.unlink(path)

    return mapper


FOLD_EVERY = 8  # partial results held before they are folded into the running total


def _fold(results, combine, every: int = FOLD_EVERY):
    """``combine`` of every result, folded ``every`` results at a time.

    ``combine`` takes a list and must be associative (the area partials' sums of
    counts are): memory holds the running total and at most ``every`` results, not
    one result per partition.
    """
    total, pending = None, []
    for r in results:
        pending.append(r)
        if len(pending) >= every:
            total = combine(pending if total is None else [total, *pending])
            pending = []
    if pending or total is None:
        total = combine(pending if total is None else [total, *pending])
    return total


# ------------------------------------------------------------------ validation


def validate_streamed(cfg: Config, folder: Path, key, mapper=None) -> pd.DataFrame:
    """Validate the folder part by part; quarantined rows written under the PII policy.

    ``mapper`` checks the parts elsewhere (see ``_map``): the Spark engine.

    Quarantined rows of each part go to ``folder/validation/quarantine/<table>/<part>.parquet``
    (``customer_key`` instead of the raw id, no PII column unless
    ``data.quarantine_pii``), never raw.

    Returns
    -------
    pandas.DataFrame
        The validation report (not yet redacted).
    """
    from ..schema import redact_quarantine, validate_folder
    from ..schema._reader import quarantine_frame

    out = folder / "validation" / "quarantine"

    def sink(part) -> None:
        safe = redact_quarantine(
            {part.table: part.quarantine}, key, keep_pii=cfg.data.quarantine_pii
        )
        stem = part.file.stem if part.file.is_file() else part.table
        f = out / part.table / f"{stem}.parquet"
        f.parent.mkdir(parents=True, exist_ok=True)
        quarantine_frame(safe[part.table]).to_parquet(f, index=False)

    errors = cfg.data.errors
    # checked in this process by default: two workers each holding a usage part beside
    # the parent (every customer id) went past 4 GB at a million customers, for 40 s
    # saved; ``mapper=local_mapper(n)`` checks the parts on ``n`` worker processes
    return validate_folder(
        _resolve(cfg.data.path),
        errors=errors,
        data_end=cfg.data.data_end,
        quarantine=sink,
        mapper=mapper,
    )


# ------------------------------------------------------------------ features


@dataclass(frozen=True)
class StreamPlan:
    """What every partition task needs (small, pickled to workers).

    Attributes
    ----------
    path : str
        Data-set folder.
    errors : str
    data_end : str or None
    n_partitions : int
    snapshots : pandas.DatetimeIndex
        Training snapshots.
    scoring_snapshot : pandas.Timestamp
    area : dict
        Area statistics over every snapshot (training and scoring).
    spec : FeatureSpec
    labels : LabelSpec
    fraction : float
        Training sample fraction of the all-negative rows.
    seg_fraction : float
        Segmentation sample fraction of the scored customers.
    seed : int
    out : str
        Staging folder for the part files.
    duplicates : dict
        Cross-part duplicate keys the parent already found (validation), so that
        workers do not search every part again.

    With local worker processes the plan travels once per worker, not with every
    task (:func:`local_mapper`): at a million customers ``area`` counts every area at
    every snapshot.
    """

    path: str
    errors: str
    data_end: object
    n_partitions: int
    snapshots: object
    scoring_snapshot: object
    area: dict
    spec: object
    labels: object
    fraction: float
    seg_fraction: float
    seed: int
    out: str
    duplicates: dict = field(default_factory=dict)

    def area_stats(self) -> dict:
        """The area statistics over every snapshot."""
        return self.area

    def source(self):
        """The (per-process cached) validated source of the folder."""
        from ..schema._reader import remember_duplicates

        remember_duplicates(self.duplicates)
        return _source(self.path, self.errors, self.data_end)


class _AreaTask:
    def __init__(self, path, errors, data_end, P, sd, windows, kinds, duplicates):
        self.args = (path, errors, data_end)
        self.P, self.sd, self.windows, self.kinds = P, sd, windows, kinds
        self.duplicates = duplicates

    def __call__(self, p):
        from ..features import area_partial
        from ..schema._reader import remember_duplicates

        remember_duplicates(self.duplicates)
        parts = _source(*self.args).partition(p, self.P, tables=("interactions", "events"))
        return area_partial(
            parts["customers"],
            parts["interactions"],
            parts["events"],
            self.sd,
            self.windows,
            self.kinds,
        )


def _features_task(plan: StreamPlan, p: int) -> dict:
    """Training sample and scoring features of partition ``p``, written to part files."""
    from ..features._partition import compute_partition

    src = plan.source()
    area = plan.area_stats()
    train, score, leaks, weights = [], [], [], []
    n_rows = n_pos = 0
    for parts in src.chunks(p, plan.n_partitions, arrow=True):  # clean usage: no pandas
        t, lk = compute_partition(
            parts, plan.snapshots, area_stats=area, spec=plan.spec, labels=plan.labels
        )
        n_rows += len(t)
        kept, w = training_sample(t, plan.fraction, plan.seed)
        train.append(kept)
        weights.append(w)
        leaks.append(lk)
        s, _ = compute_partition(
            parts, plan.scoring_snapshot, area_stats=area, spec=plan.spec, labels=None
        )
        score.append(s)
    out = Path(plan.out)
    res = {"leak": pd.concat(leaks, ignore_index=True) if leaks else None, "rows": n_rows}
    if train:
        t = pd.concat(train)
        t["_weight"] = np.concatenate(weights)
        n_pos = int(sum((t[c] > 0).sum() for c in t.columns if c.startswith("label_")))
        f = out / "train" / PART.format(p=p)
        t.to_parquet(f)
        res["train"] = str(f)
    if score:
        s = pd.concat(score)
        f = out / "score" / PART.format(p=p)
        s.to_parquet(f)
        res["score"] = str(f)
        res["n_score"] = len(s)
    res["positives"] = n_pos
    train = score = weights = t = s = None  # freed before the memory is handed back
    _release_memory()
    return res


def stream_features(
    cfg: Config, work: Path, *, snapshots, scoring_snapshot, fraction, seg_fraction, mapper=None
):
    """Build the training sample and the scoring features partition by partition.

    ``mapper`` runs the per-partition tasks elsewhere (see ``_map``): the Spark engine.

    Returns
    -------
    dict
        ``plan`` (:class:`StreamPlan`), ``parts`` (per partition: file paths and
        counts), ``leakage`` (the training frame's leakage report).
    """
    from ..features import (
        CollapseRule,
        FeatureSpec,
        LabelSpec,
        combine_area_partials,
        outage_stats,
    )
    from ..features._labels import resolve_kinds
    from ..features._leakage import combine_leakage
    from ..features._partition import leakage_partial
    from ..features._time import as_snapshots, snapshot_days

    path = str(_resolve(cfg.data.path))
    src = _source(path, cfg.data.errors, cfg.data.data_end)
    P = src.native_partitions
    snaps = as_snapshots(snapshots)
    score_snap = as_snapshots(scoring_snapshot)
    every = snapshot_days(snaps.append(score_snap).unique().sort_values())
    windows = tuple(sorted({int(w) for w in cfg.features.windows}))
    kinds = resolve_kinds(cfg.labels.churn_kinds)
    n_jobs = feature_workers(cfg)
    from ..schema._reader import known_duplicates

    dups = known_duplicates()
    outages = outage_stats(src.outages, every, windows)
    outage_leak = leakage_partial({"outages": src.outages}, snapshot_days(snaps), ("outages",))
    regions = src.region_categories()
    elsewhere = mapper is not None or (n_jobs > 1 and P > 1)
    if elsewhere:  # the tasks open the folder themselves: the population's customers go
        del src
        _source.cache_clear()
        _release_memory()
    # each partial counts nearly every area (customers are hashed, not grouped by area),
    # so the partials are folded as they arrive rather than all held at once
    partials = _imap(
        _AreaTask(path, cfg.data.errors, cfg.data.data_end, P, every, windows, kinds, dups),
        list(range(P)),
        n_jobs,
        mapper,
        end=False,  # the feature pass below reuses the workers and their opened folder
    )
    area = {"complaints": _fold(partials, combine_area_partials), "outages": outages}
    _release_memory()
    spec = FeatureSpec(
        windows=windows,
        min_history_days=int(cfg.features.min_history_days),
        churn_kinds=kinds,
        region_categories=regions,
    )
    labels = LabelSpec(
        horizon_days=int(cfg.labels.horizon_days),
        churn_kinds=kinds,
        collapse=CollapseRule.coerce(cfg.labels.churn_usage_collapse),
    )
    (work / "train").mkdir(parents=True, exist_ok=True)
    (work / "score").mkdir(parents=True, exist_ok=True)
    plan = StreamPlan(
        path=path,
        errors=cfg.data.errors,
        data_end=cfg.data.data_end,
        n_partitions=P,
        snapshots=snaps,
        scoring_snapshot=score_snap,
        area=area,
        spec=spec,
        labels=labels,
        fraction=fraction,
        seg_fraction=seg_fraction,
        seed=cfg.seed,
        out=str(work),
        duplicates=dups,
    )
    if mapper is None and elsewhere:  # the plan pickled once, loaded once per worker
        mapper = local_mapper(n_jobs, end=True)
    parts = _map(functools.partial(_features_task, plan), list(range(P)), n_jobs, mapper)
    leaks = [r["leak"] for r in parts if r["leak"] is not None]
    leaks.append(outage_leak)
    return {"plan": plan, "parts": parts, "leakage": combine_leakage(leaks)}


def read_training_sample(parts) -> tuple[pd.DataFrame, np.ndarray]:
    """The training sample of every partition, sorted as the in-memory frame, and its weights."""
    frame = merge_sorted([r["train"] for r in parts if "train" in r])
    w = frame.pop("_weight").to_numpy(dtype=float)
    return frame, w


def read_segment_sample(parts, fraction: float, seed: int) -> pd.DataFrame:
    """The scored customers the segmenter is fitted on (hash-chosen), sorted."""
    files = [r["score"] for r in parts if "score" in r]
    if fraction >= 1.0:
        return merge_sorted(files)
    return merge_sorted(files, lambda s: segment_sample_mask(s, fraction, seed))


def merge_sorted(files, mask=None) -> pd.DataFrame:
    """The rows of feature part files as one frame sorted by its index, built in place.

    Equal to ``pd.concat([pd.read_parquet(f)[mask(...)] for f in files]).sort_index()``
    (a single file is returned as read) without its copies: the sorted position of
    every row is found from the index alone, then each numeric column is allocated
    once and every part is read (one at a time) straight into its rows. The frame
    holds one column per block (as ``copy=False`` builds it), so dropping the label
    columns copies nothing. Columns of other dtypes (categories: a few) are
    concatenated and reordered.

    Parameters
    ----------
    files : list of str or pathlib.Path
        Part files written by the feature tasks (parts whose Arrow schemas differ are
        concatenated as pandas does).
    mask : callable, optional
        Rows of a part to keep, from a frame holding the part's index (no column).
    """
    import pyarrow.parquet as pq

    def read(f):
        df = pd.read_parquet(f)
        return df if mask is None else df[mask(df)]

    if len(files) == 1:
        return read(files[0])
    schema = pq.read_schema(files[0])
    if not all(pq.read_schema(f).equals(schema) for f in files[1:]):
        return pd.concat([read(f) for f in files]).sort_index()  # dtypes differ: as pandas does
    keep, index_parts = [], []
    for f in files:  # the index columns only
        idx = pd.read_parquet(f, columns=[])
        m = None if mask is None else np.asarray(mask(idx), dtype=bool)
        keep.append(m)
        index_parts.append(idx.index if m is None else idx.index[m])
    sizes = np.array([len(i) for i in index_parts])
    index, order, dest = sorted_layout(index_parts)
    del index_parts
    ends = np.cumsum(sizes)
    numeric, other, dtypes, attrs = {}, {}, None, []
    for f, m, stop, n in zip(files, keep, ends, sizes, strict=True):
        df = pd.read_parquet(f)
        attrs.append(df.attrs)
        df.attrs = {}  # else each column taken below would copy them
        if m is not None:
            df = df[m]
        if dtypes is None:
            dtypes = df.dtypes
            for c, dt in dtypes.items():
                if isinstance(dt, np.dtype) and dt.kind in "biuf":
                    numeric[c] = np.empty(len(order), dtype=dt)
                else:
                    other[c] = []
        at = dest[stop - n : stop]
        for c in numeric:
            numeric[c][at] = df[c].to_numpy()
        for c in other:
            other[c].append(df[c])
        del df
    cols = {
        c: numeric[c] if c in numeric else pd.concat(other[c], ignore_index=True).take(order).array
        for c in dtypes.index
    }
    frame = pd.DataFrame(cols, index=index, copy=False)
    if all(a == attrs[0] for a in attrs[1:]):  # as concat keeps them
        frame.attrs = attrs[0]
    return frame


ROW_GROUP_ROWS = 65_536


def write_row_groups(frame: pd.DataFrame, path, rows: int = ROW_GROUP_ROWS) -> None:
    """``frame.to_parquet(path)`` converted and written ``rows`` rows at a time.

    ``to_parquet`` first turns the whole frame into one Arrow table (a second copy of
    the frame); here only one row group is converted at a time. The file reads back
    as the same frame (index, columns, dtypes and values).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = pa.Table.from_pandas(frame.iloc[:rows], preserve_index=True)
    if frame.attrs:  # as to_parquet keeps them
        import json

        meta = {**(first.schema.metadata or {}), b"PANDAS_ATTRS": json.dumps(frame.attrs)}
        first = first.replace_schema_metadata(meta)
    with pq.ParquetWriter(path, first.schema) as w:
        w.write_table(first, row_group_size=rows)
        del first
        for i in range(rows, len(frame), rows):
            piece = pa.Table.from_pandas(frame.iloc[i : i + rows], preserve_index=True)
            w.write_table(piece.cast(w.schema), row_group_size=rows)


# ------------------------------------------------------------------ scores and portraits


def global_bands(cfg: Config, parts, models: dict) -> dict:
    """Band and decile of every scored row over the whole population, per target.

    Scores are computed part by part; only the score vectors are kept (8 bytes a
    row), so deciles rank each customer among all customers, as on the in-memory route.

    Returns
    -------
    dict of str to (pandas.Series, pandas.Series)
        Per target: band and decile in the order of the parts' rows.
    """
    from ..portraits import assign_bands

    scores = {t: [] for t in models}
    snaps = []
    for r in parts:
        if "score" not in r:
            continue
        X = pd.read_parquet(r["score"])
        snaps.append(X.index.get_level_values("snapshot_date").astype("string").to_numpy())
        for t, m in models.items():
            scores[t].append(m.predict_proba(X)[:, 1])
    groups = np.concatenate(snaps) if snaps else np.zeros(0, dtype=object)
    bands = cfg.portraits.params.get("bands", "deciles")
    out = {}
    for t, s in scores.items():
        spec = (
            bands.get(t, "deciles")
            if isinstance(bands, dict) and set(bands) <= {"churn", "complaint"} and bands
            else bands
        )
        out[t] = assign_bands(pd.Series(np.concatenate(s)), spec, groups=groups)
    return out


def read_customers(cfg: Config) -> pd.DataFrame:
    """The validated customers table of the folder (every column, PII included)."""
    from ..schema import read_parts

    for part in read_parts(
        _resolve(cfg.data.path),
        tables=("customers",),
        errors=cfg.data.errors,
        data_end=cfg.data.data_end,
    ):
        if part.table == "customers":
            return part.rows
    raise AssertionError("read_parts always yields the customers table")  # pragma: no cover


def stream_kpis(cfg: Config, customers: pd.DataFrame, *, data_start=None, data_end=None):
    """The report's channel KPIs summed from per-part counts (one part in memory).

    Each partition's interactions, payments and events are read (validated) and
    counted per group (:class:`powerprofile.report.KpiAggregates`); only the counts
    stay. The months start at the first month with a contact or payment over every
    part, as on the in-memory route: counted from ``data_start`` first, and counted
    again in the rare case that no contact or payment falls in that month.

    Returns
    -------
    powerprofile.report.KpiAggregates
    """
    from .._partition import partition_of
    from ..report import REPORT_GROUPINGS, KpiAggregates, first_activity_month

    src = _source(str(_resolve(cfg.data.path)), cfg.data.errors, cfg.data.data_end)
    P = src.native_partitions
    cust_part = partition_of(customers["customer_id"], P)
    names = ("interactions", "payments", "events")

    def count(start):
        agg = KpiAggregates(
            REPORT_GROUPINGS, start=start, end=data_end, customers=customers, data_end=data_end
        )
        rows = {"customers": len(customers)}
        first = None
        for p in range(P):
            part = src.partition(p, P, tables=names)
            tables = {n: part[n] for n in names if part[n] is not None}
            tables["customers"] = customers[cust_part == p].reset_index(drop=True)
            for n in names:
                if n in tables:
                    rows[n] = rows.get(n, 0) + len(tables[n])
            m = first_activity_month(tables)
            first = m if first is None or (m is not None and m < first) else first
            if start is not None:
                agg.add(tables)
        agg.rows = {n: rows[n] for n in ("customers", *names) if n in rows}
        return agg, first

    guess = None if data_start is None else np.datetime64(pd.Timestamp(data_start), "M")
    agg, first = count(guess)
    if first is not None and first != guess:
        agg, _ = count(first)
    return agg


def stream_tallies(cfg: Config, customers: pd.DataFrame, units, strata) -> pd.DataFrame:
    """The scorecards' quality tallies summed over the parts (one part's contacts in memory).

    :func:`powerprofile.operations.quality_tallies` of each partition's interactions
    (read and validated part by part), its customers' units and strata, summed by
    :func:`~powerprofile.operations._units.sum_tallies`.

    Parameters
    ----------
    cfg : Config
    customers : pandas.DataFrame
        The whole ``customers`` table; ``units`` and ``strata`` are aligned with it.
    units, strata
        As for :func:`~powerprofile.operations.quality_tallies`.

    Returns
    -------
    pandas.DataFrame
        The tallies of the whole folder, as ``quality_tallies`` of all its contacts.
    """
    from .._partition import partition_of
    from ..operations._units import quality_tallies, sum_tallies

    src = _source(str(_resolve(cfg.data.path)), cfg.data.errors, cfg.data.data_end)
    P = src.native_partitions
    cust_part = partition_of(customers["customer_id"], P)
    units = units.reset_index(drop=True)
    strata = pd.Series(strata).reset_index(drop=True)
    frames = []
    for p in range(P):
        inter = src.partition(p, P, tables=("interactions",))["interactions"]
        if inter is None or not len(inter):
            continue
        mine = cust_part == p
        frames.append(
            quality_tallies(
                {"interactions": inter},
                units[mine].reset_index(drop=True),
                strata[mine].reset_index(drop=True),
            )
        )
    return sum_tallies(frames)


def streamed_scorecard_inputs(cfg: Config, output_dir):
    """What ``powerprofile scorecard`` reads on the streamed route, one part at a time.

    Returns
    -------
    (powerprofile.report.KpiAggregates, pandas.DataFrame or None)
        The channel KPI counts of every part (the scorecards sum them up the
        hierarchy and count the quality tallies part by part), and the columns of
        ``output_dir``'s portrait parts the risk cases read (None without portraits).
    """
    from ..schema import read_dataset_info

    data = _resolve(cfg.data.path)
    info = read_dataset_info(data)
    start = pd.Timestamp(info["data_start"]) if info.get("data_start") else None
    src = _source(str(data), cfg.data.errors, cfg.data.data_end)
    end = cfg.data.data_end or src.data_end
    customers = read_customers(cfg)
    tables = stream_kpis(cfg, customers, data_start=start, data_end=end)
    folder = Path(output_dir) / "portraits"
    single = folder / "portraits.parquet"
    files = [single] if single.is_file() else sorted(folder.glob("part-*.parquet"))
    portraits = read_report_scores(files, scorecards=True) if files else None
    return tables, portraits


def read_report_scores(files, *, uplift: bool = False, scorecards: bool = False) -> pd.DataFrame:
    """The portrait columns the report's score section reads, of every part.

    Keys, snapshot, region, scores, bands and the first reason of each target: a few
    numbers a customer, like the scores kept for the global deciles. With ``uplift``,
    also the columns the uplift stage reads (its model's features and the
    ``contactable_<channel>`` flags; no texts). With ``scorecards``, also those the
    scorecards' risk cases and early warnings read (grid unit, segment, the risk
    flags, level and Chinese reasons).
    """
    import pyarrow.parquet as pq

    from ..uplift._model import uplift_features

    def wanted(name: str) -> bool:
        return name in ("customer_key", "snapshot_date", "region") or name.endswith(
            ("_score", "_band", "_reason_1_feature", "_reason_1_direction")
        )

    frames = []
    for f in files:
        names = pq.ParquetFile(f).schema_arrow.names
        extra = set()
        if uplift:
            extra = set(uplift_features(pd.DataFrame(columns=names)).columns)
            extra |= {c for c in names if c.startswith("contactable_")}
        if scorecards:
            extra |= {c for c in names if c in ("grid_unit", "segment_id")}
            extra |= {c for c in names if c.startswith("risk_")}
        cols = [c for c in names if wanted(c) or c in extra]
        frames.append(pd.read_parquet(f, columns=cols))
    return pd.concat(frames, ignore_index=True)


def stream_portraits(
    cfg: Config, parts, out_dir: Path, *, models, segmenter, catalog, key, customers, mapper=None
):
    """Portraits of every partition written to ``out_dir/part-XXXXX.parquet``.

    ``mapper`` runs the per-partition tasks elsewhere (see ``_map``): the Spark engine.

    Returns
    -------
    (list of pathlib.Path, pandas.DataFrame or None)
        The part files (in partition order) and the risk-rule hit report summed over parts.
    """
    bands = global_bands(cfg, parts, models)
    from .._partition import partition_of

    cust_part = partition_of(customers["customer_id"], len(parts))
    out_dir.mkdir(parents=True, exist_ok=True)
    part_customers, part_bands, offset = {}, {}, 0
    for p, r in enumerate(parts):
        if "score" not in r:
            continue
        n = int(r["n_score"])
        part_customers[p] = customers[cust_part == p]
        part_bands[p] = {
            t: (band.array[offset : offset + n], decile.array[offset : offset + n])
            for t, (band, decile) in bands.items()
        }
        offset += n
    task = _PortraitTask(
        cfg, parts, str(out_dir), models, segmenter, catalog, key, part_customers, part_bands
    )
    done = [r for r in _map(task, list(range(len(parts))), 1, mapper) if r is not None]
    files = [Path(f) for f, _ in done]
    return files, _sum_hits([h for _, h in done if h is not None])


class _PortraitTask:
    """Portraits of one partition, written to its part file (runs in this process or a task)."""

    def __init__(self, cfg, parts, out_dir, models, segmenter, catalog, key, customers, bands):
        self.cfg, self.parts, self.out_dir = cfg, parts, out_dir
        self.models, self.segmenter, self.catalog, self.key = models, segmenter, catalog, key
        self.customers, self.bands = customers, bands

    def __call__(self, p: int):
        from ._stages import make_portraits

        r = self.parts[p]
        if "score" not in r:
            return None
        X = pd.read_parquet(r["score"])
        portraits, h = make_portraits(
            self.cfg,
            X,
            models=self.models,
            segmenter=self.segmenter,
            tables=_PartTables(self.customers[p]),
            catalog=self.catalog,
            key=self.key,
        )
        for t, (band, decile) in self.bands[p].items():
            portraits[f"{t}_band"] = band
            portraits[f"{t}_decile"] = decile
        f = Path(self.out_dir) / PART.format(p=p)
        portraits.to_parquet(f, index=False)
        return str(f), h


class _PartTables:
    """The customers of one partition, where the stages expect ``tables.customers``."""

    def __init__(self, customers):
        self.customers = customers.reset_index(drop=True)


def _sum_hits(hits):
    if not hits:
        return None
    df = pd.concat(hits, ignore_index=True)
    keys = [c for c in df.columns if c not in ("n_rows", "count", "share")]
    g = df.groupby(keys, sort=False, dropna=False, observed=True)[["n_rows", "count"]].sum()
    g["share"] = g["count"] / g["n_rows"].where(g["n_rows"] > 0)
    return g.reset_index()
