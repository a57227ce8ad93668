"""The pure partition function: one partition's rows in, that partition's features out.

:func:`partition_features` depends only on its arguments (no files, no globals, no
randomness), so it runs unchanged in a local loop, in worker processes, or inside a
distributed engine's tasks (e.g. Spark ``mapInArrow`` over partition ids, each task
reading its ``part-{p:05d}.parquet`` files, with ``area_stats`` broadcast). The only
cross-partition input is ``area_stats`` (see :mod:`._area`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..schema._contract import EVENT_KINDS, TABLES
from ._area import area_features, complained_in_windows, outage_stats
from ._billing import billing_features, payment_features
from ._interactions import interaction_features
from ._labels import LabelSpec, active_mask, collapse_flags, first_churn_day, label_arrays
from ._leakage import ATTRS_KEY, combine_leakage, report_to_attrs
from ._profile import profile_columns, tenure_days
from ._time import DAY_NS, NAT, as_snapshots, snapshot_days, to_ns, visible_mask
from ._usage import UsageRows, usage_features

__all__ = [
    "FeatureSpec",
    "compute_partition",
    "empty_table",
    "leakage_partial",
    "partition_features",
]

PER_CUSTOMER = ("usage", "bills", "payments", "interactions", "events")


@dataclass(frozen=True)
class FeatureSpec:
    """Parameters of the feature computation shared by every partition.

    Parameters
    ----------
    windows : tuple of int, default=(30, 90, 180, 365)
        Window lengths in days.
    min_history_days : int, default=60
        ``short_history`` flags customers with fewer reads in the longest window.
    churn_kinds : tuple of str, default=every event kind
        Event kinds after which a customer is no longer active.
    region_categories : tuple of str or None, default=None
        Categories of ``region`` over the whole data set.
    """

    windows: tuple = (30, 90, 180, 365)
    min_history_days: int = 60
    churn_kinds: tuple = EVENT_KINDS
    region_categories: tuple | None = None


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the contract's required columns of table ``name``."""
    spec = TABLES[name]
    cols = {}
    for c in spec.columns:
        if not c.required:
            continue
        if c.kind in ("date", "datetime"):
            cols[c.name] = pd.Series([], dtype="datetime64[ns]")
        elif c.kind == "float":
            cols[c.name] = pd.Series([], dtype="float64")
        elif c.kind == "bool":
            cols[c.name] = pd.Series([], dtype="bool")
        else:
            cols[c.name] = pd.Series([], dtype="string")
    return pd.DataFrame(cols)


def _get(tables: Mapping, name: str) -> pd.DataFrame:
    df = tables.get(name) if hasattr(tables, "get") else getattr(tables, name, None)
    return empty_table(name) if df is None else df


def leakage_partial(
    tables: Mapping, snap_days, names=(*PER_CUSTOMER, "outages"), usage_rows=None
) -> pd.DataFrame:
    """Per (table, snapshot): rows used, latest time and latest ``recorded_at`` used.

    Uses the same visibility rule as the builders (:func:`._time.visible_mask`);
    ``usage_rows`` (a :class:`._usage.UsageRows`) reports what the usage builder saw.
    """
    rows = []
    if usage_rows is not None and "usage" in names:
        names = tuple(n for n in names if n != "usage")
        for t in snap_days:
            n, max_day, max_rec = usage_rows.stats(int(t))
            rows.append(
                {
                    "table": "usage",
                    "snapshot_day": int(t),
                    "rows_used": n,
                    "max_time_ns": NAT if max_day is None else max_day * DAY_NS,
                    "max_recorded_ns": NAT if max_rec is None else max_rec,
                }
            )
    for name in names:
        df = tables.get(name) if hasattr(tables, "get") else None
        spec = TABLES[name]
        if df is None or len(df) == 0:
            t_ns = np.zeros(0, dtype=np.int64)
            rec = None
        else:
            t_ns = to_ns(df[spec.time_column])
            rec = to_ns(df["recorded_at"]) if "recorded_at" in df.columns else None
        for t in snap_days:
            m = visible_mask(t_ns, rec, int(t) * DAY_NS)
            rows.append(
                {
                    "table": name,
                    "snapshot_day": int(t),
                    "rows_used": int(m.sum()),
                    "max_time_ns": int(t_ns[m].max()) if m.any() else NAT,
                    "max_recorded_ns": int(rec[m].max()) if (rec is not None and m.any()) else NAT,
                }
            )
    return pd.DataFrame(rows)


def compute_partition(
    tables: Mapping,
    snapshots,
    *,
    area_stats=None,
    spec: FeatureSpec = FeatureSpec(),
    labels: LabelSpec | None = None,
):
    """Features (and labels) of one partition plus its leakage partial.

    The partial covers the per-customer tables, plus ``outages`` only when
    ``area_stats`` is ``None`` (the partition is the whole population); otherwise the
    caller reports the global ``outages`` table once.

    The matrix products run on one BLAS thread: they are small (customers x ~455
    days times a few dozen design columns), so more threads only spin; partitions
    are what runs in parallel (``n_jobs``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The features indexed by (``customer_id``, ``snapshot_date``) and the partial
        leakage report (see :func:`leakage_partial`).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _compute_partition(tables, snapshots, area_stats, spec, labels)


def _compute_partition(tables, snapshots, area_stats, spec, labels):
    snaps = as_snapshots(snapshots)
    sd = snapshot_days(snaps)
    windows = tuple(int(w) for w in spec.windows)
    customers = _get(tables, "customers")
    index = pd.Index(customers["customer_id"].astype("string"))
    usage, bills = _get(tables, "usage"), _get(tables, "bills")
    payments, inter, events = (
        _get(tables, "payments"),
        _get(tables, "interactions"),
        _get(tables, "events"),
    )
    names = PER_CUSTOMER
    if area_stats is None:  # single-partition use: the partition is the whole population
        names = (*PER_CUSTOMER, "outages")
        from ._area import area_partial, combine_area_partials

        area_stats = {
            "complaints": combine_area_partials(
                [area_partial(customers, inter, events, sd, windows, spec.churn_kinds)]
            ),
            "outages": outage_stats(_get(tables, "outages"), sd, windows),
        }
    active = active_mask(customers, first_churn_day(events, index, spec.churn_kinds), sd)
    feats = {"tenure_days": tenure_days(customers, sd)}
    urows = UsageRows(usage, index)
    feats.update(usage_features(urows, index, sd, windows, spec.min_history_days))
    feats.update(billing_features(bills, payments, index, sd, windows))
    feats.update(payment_features(payments, index, sd, windows))
    feats.update(interaction_features(inter, index, sd, windows))
    own = complained_in_windows(inter, index, sd, windows)
    feats.update(area_features(customers, index, sd, windows, area_stats, own))
    if labels is not None:
        X = d0 = None
        if labels.collapse is not None:
            rule = labels.collapse
            d0 = int(sd.min()) - rule.baseline_days - rule.window_days
            X = urows.matrices(urows.rows(None), d0, int(sd.max()) + int(labels.horizon_days) - d0)[
                "kwh"
            ]
            active &= ~collapse_flags(X, d0, sd, labels, before=True)
        feats.update(
            label_arrays({"events": events, "interactions": inter}, index, sd, labels, X, d0)
        )
    s_idx, c_idx = np.nonzero(active)
    # rows sorted by customer id, then snapshot, before any column is taken
    _, rank = np.unique(index.to_numpy(dtype=object).astype(str), return_inverse=True)
    order = np.lexsort((s_idx, rank[c_idx]))
    s_idx, c_idx = s_idx[order], c_idx[order]
    cols = profile_columns(customers, c_idx, spec.region_categories)
    for name, arr in feats.items():
        v = arr[s_idx, c_idx]
        if v.dtype == bool or name.startswith("label_"):
            cols[name] = v
        else:
            cols[name] = v.astype(np.float32)
    mi = pd.MultiIndex.from_arrays(
        [pd.Index(index.to_numpy()[c_idx], dtype="string"), snaps[s_idx]],
        names=["customer_id", "snapshot_date"],
    )
    frame = pd.DataFrame(cols, index=mi)
    lk = leakage_partial(
        {**{k: _get(tables, k) for k in PER_CUSTOMER}, "outages": _get(tables, "outages")},
        sd,
        names,
        usage_rows=urows,
    )
    return frame, lk


def partition_features(
    tables: Mapping,
    snapshots,
    *,
    area_stats=None,
    spec: FeatureSpec = FeatureSpec(),
    labels: LabelSpec | None = None,
) -> pd.DataFrame:
    """Features of one partition: the pure function a distributed engine can run.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        This partition's ``customers``, ``usage``, ``bills``, ``payments``,
        ``interactions`` and ``events`` (absent tables are treated as empty).
    snapshots : date or sequence of dates
        Snapshot dates (exclusive cutoffs).
    area_stats : dict, optional
        ``{"complaints": ..., "outages": ...}`` from the pre-aggregation
        (:func:`powerprofile.features.area_statistics`). ``None`` treats the partition
        as the whole population (fine for one partition, wrong for several).
    spec : FeatureSpec, default=FeatureSpec()
        Windows, minimum history, churn kinds, region categories.
    labels : LabelSpec, optional
        Add ``label_churn`` and ``label_complaint``.

    Returns
    -------
    pandas.DataFrame
        One row per (active customer, snapshot), indexed by (``customer_id``,
        ``snapshot_date``), sorted; ``leakage_report(frame)`` gives this partition's
        leakage report (kept in ``attrs`` as plain values).
    """
    frame, lk = compute_partition(
        tables, snapshots, area_stats=area_stats, spec=spec, labels=labels
    )
    frame.attrs[ATTRS_KEY] = report_to_attrs(combine_leakage([lk]))
    return frame
