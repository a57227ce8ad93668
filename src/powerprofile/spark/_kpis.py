"""The report's channel KPIs as a Spark aggregation of the partitions' counts.

Each task counts one hash partition with the single-machine functions
(:class:`powerprofile.report.KpiAggregates` over the part's validated interactions,
payments and events) and emits the counts per group as Arrow rows; Spark sums them per
group (``groupBy(...).agg(sum)``), and the driver turns the sums into the KPIs
(:meth:`~powerprofile.report.KpiAggregates.from_counts`). The counts are integers
summed exactly; only the satisfaction and amount sums, which are floats, may differ from
the single-machine route's in the last bits (summation order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report._kpis import _COUNT_COLUMNS
from ._tasks import _fresh_sources, new_token

__all__ = ["spark_kpis"]

_KEYS = ("month", "region", "grid_unit", "customer_type", "channel", "payment_channel")
# the columns of channel_kpi_counts (owned by the report's KPI module), then the
# payment mix's counts and each part's row counts
_COUNTS = _COUNT_COLUMNS
_FLOATS = ("sat_sum", "amount")
_INTS = (
    *(c for c in _COUNT_COLUMNS if c not in _FLOATS),
    "rows_interactions",
    "rows_payments",
    "rows_events",
)
_TABLES = ("interactions", "payments", "events")
_META = -1  # the grouping number of a part's row counts and first activity month


def _schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("grouping", pa.int32()),
            ("month", pa.date32()),
            *[(k, pa.string()) for k in _KEYS[1:]],
            *[(c, pa.int64()) for c in _INTS],
            *[(c, pa.float64()) for c in _FLOATS],
        ]
    )


def _batch(grouping: int, frame: pd.DataFrame, schema):
    import pyarrow as pa

    n = len(frame)
    cols = {"grouping": pa.array(np.full(n, grouping, dtype=np.int32))}
    for f in schema:
        if f.name == "grouping":
            continue
        if f.name in frame.columns:
            v = frame[f.name]
            if f.name == "month":
                v = pd.to_datetime(v).to_numpy("datetime64[D]")
            elif pa.types.is_string(f.type):
                v = v.astype("string").to_numpy(dtype=object, na_value=None)
            else:
                v = v.to_numpy()
            cols[f.name] = pa.array(v, type=f.type)
        else:
            cols[f.name] = pa.nulls(n, type=f.type)
    return pa.RecordBatch.from_pydict(cols, schema=schema)


class _CountTask:
    """Counts of one partition, as Arrow batches of :func:`_schema` rows."""

    def __init__(self, args, P, groupings, start, end, data_end, kwargs, token):
        self.args, self.P, self.groupings = args, P, groupings
        self.start, self.end, self.data_end, self.kwargs = start, end, data_end, kwargs
        self.token = token

    def __call__(self, batches):
        from ..pipeline._stream import _source
        from ..report import KpiAggregates, first_activity_month

        _fresh_sources(self.token)
        schema = _schema()
        src = _source(*self.args)
        for batch in batches:
            for p in batch.column(0).to_pylist():
                part = src.partition(p, self.P, tables=_TABLES)
                tables = {n: part[n] for n in _TABLES if part[n] is not None}
                tables["customers"] = part["customers"]
                first = first_activity_month(tables)
                meta = {"month": [None if first is None else pd.Timestamp(first)]}
                for n in _TABLES:
                    meta[f"rows_{n}"] = [len(tables[n]) if n in tables else None]
                yield _batch(_META, pd.DataFrame(meta), schema)
                if self.start is None:
                    continue
                agg = KpiAggregates(
                    self.groupings,
                    start=self.start,
                    end=self.end,
                    customers=tables["customers"],
                    data_end=self.data_end,
                    **self.kwargs,
                )
                agg.add(tables)
                for i, by in enumerate(self.groupings):
                    yield _batch(i, agg.counts(by), schema)
                yield _batch(len(self.groupings), agg.payment_counts(), schema)


def _sums(spark, task, P: int):
    """The counts of every partition summed per grouping and group (an Arrow table)."""
    from pyspark.sql import functions as F

    spark_type = {"int32": "int", "int64": "long", "double": "double", "string": "string"}
    ddl = ", ".join(f"{f.name} {spark_type.get(str(f.type), 'date')}" for f in _schema())
    counted = spark.range(0, P, 1, numPartitions=P).mapInArrow(task, ddl)
    keys = ["grouping", *_KEYS]
    summed = counted.groupBy(*keys).agg(*[F.sum(c).alias(c) for c in (*_INTS, *_FLOATS)])
    sc = spark.sparkContext
    sc.setJobDescription("powerprofile channel KPIs")
    try:
        return summed.toArrow()
    finally:
        sc.setJobDescription(None)


def _rows(table, grouping: int, columns) -> pd.DataFrame:
    """One grouping's summed rows (columns without nulls keep their integer type)."""
    import pyarrow.compute as pc

    sel = table.filter(pc.equal(table.column("grouping"), grouping)).select(list(columns))
    df = sel.to_pandas()
    if "month" in df.columns:
        df["month"] = pd.to_datetime(df["month"]).astype("datetime64[us]")
    return df


def spark_kpis(spark, cfg, customers, *, data_start=None, data_end=None):
    """:func:`powerprofile.pipeline._stream.stream_kpis` as a Spark aggregation.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    cfg : powerprofile.config.Config
        The job's config (data folder, ``errors``, ``data_end``).
    customers : pandas.DataFrame
        The whole validated customers table (key types, customer count).
    data_start, data_end : date-like, optional
        As for ``stream_kpis``: the months start at the first month with a contact or
        payment over every partition (counted from ``data_start``'s month first, and
        counted again when no contact or payment falls in that month).

    Returns
    -------
    powerprofile.report.KpiAggregates
        Equal to the single-machine aggregates: the same counts, the same KPIs.
    """
    from ..pipeline._paths import _resolve
    from ..pipeline._stream import _source
    from ..report import REPORT_GROUPINGS, KpiAggregates

    args = (str(_resolve(cfg.data.path)), cfg.data.errors, cfg.data.data_end)
    P = _source(*args).native_partitions
    groupings = [tuple(b) for b in REPORT_GROUPINGS]
    token = new_token()

    def count(start):
        task = _CountTask(args, P, groupings, start, data_end, data_end, {}, token)
        sums = _sums(spark, task, P)
        meta = _rows(sums, _META, ["month", *(f"rows_{n}" for n in _TABLES)])
        months = meta["month"].dropna()
        first = np.datetime64(months.min(), "M") if len(months) else None
        rows = {"customers": len(customers)}
        for n in _TABLES:
            got = meta[f"rows_{n}"].dropna()
            if len(got):
                rows[n] = int(got.sum())
        if start is None:
            return None, first
        counts = {by: _rows(sums, i, [*by, *_COUNTS]) for i, by in enumerate(groupings)}
        pay = _rows(sums, len(groupings), ["month", "payment_channel", "payments", "amount"])
        agg = KpiAggregates.from_counts(
            counts,
            pay,
            start=start,
            end=data_end,
            customers=customers,
            rows=rows,
            data_end=data_end,
        )
        return agg, first

    guess = None if data_start is None else np.datetime64(pd.Timestamp(data_start), "M")
    agg, first = count(guess)
    if first is not None and first != guess:
        agg, _ = count(first)
    return agg
