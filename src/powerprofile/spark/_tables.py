"""The data contract read from Spark DataFrames or catalog (Hive) tables.

The tables are laid out as the partitioned data-set folder the engine reads: each
per-customer table is grouped by ``partition_of(customer_id, P)`` (the one hash of
:func:`powerprofile.partition_of`, as a pandas UDF) and each group is written by its own
task as ``<table>/part-{p:05d}.parquet``, sorted by customer and time as
:func:`powerprofile.schema.save_tables` sorts it; the small whole tables (customers,
outages, org units) are collected and written by the driver through ``save_tables``.
Then every part is validated inside a task (:func:`powerprofile.spark.validate_folder`),
so a defect gives the single-machine reader's error, named and worded the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..schema._contract import TABLES

__all__ = ["stage_tables"]


class _PartWriter:
    """One bucket of a table -> its part file (sorted by customer, then time)."""

    def __init__(self, name: str, folder: str):
        self.name, self.folder = name, folder

    def __call__(self, key, pdf: pd.DataFrame) -> pd.DataFrame:
        import pyarrow.parquet as pq

        from ..schema._folder import part_file
        from ..schema._io import _to_arrow

        p = int(key[0])
        spec = TABLES[self.name]
        pdf = pdf.drop(columns="_part")
        by = [spec.customer_column]
        if spec.time_column and spec.time_column in pdf.columns:
            by.append(spec.time_column)
        # the rest of the key orders rows that tie on customer and time (Spark gives no order)
        by += [c for c in spec.key if c in pdf.columns and c not in by]
        pdf = pdf.sort_values(by, kind="stable").reset_index(drop=True)
        pq.write_table(_to_arrow(pdf, self.name), part_file(Path(self.folder), p))
        return pd.DataFrame({"part": [p], "rows": [len(pdf)]})


def _two_arguments(fn):
    """``fn`` as a plain ``(key, data)`` function: the signature ``applyInPandas`` reads."""

    def write(key, pdf):
        return fn(key, pdf)

    return write


def _bucket(n_partitions: int):
    from pyspark.sql.functions import pandas_udf

    def bucket(ids: pd.Series) -> pd.Series:
        from .._partition import partition_of

        return pd.Series(partition_of(ids, n_partitions), dtype="int32")

    return pandas_udf(bucket, "int")


def _time_range(sdf, name):
    from pyspark.sql import functions as F

    col = TABLES[name].time_column
    if not col or col not in sdf.columns:
        return None, None
    lo, hi = sdf.agg(F.min(col), F.max(col)).first()
    return lo, hi


def stage_tables(
    spark, tables, path, n_partitions: int, *, errors="raise", data_end=None, quarantine=None
):
    """Lay out Spark DataFrames (or catalog tables) as a partitioned folder, validated.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    tables : mapping of str to pyspark.sql.DataFrame or str
        The data-contract tables by name (``customers``, ``usage``, ...); a string is
        a table of the session's catalog (``spark.table(name)``, e.g. a Hive table
        ``"grid.usage_daily"``). The column names and meanings are the contract's
        (``docs/data-contract.md``); the types may be Spark's own (the reader checks
        and converts them as it does a Parquet file's).
    path : str or os.PathLike
        The folder to write: every executor must be able to write there and the job
        to read it (a shared or mounted file system).
    n_partitions : int
        Hash partitions (``partition_of`` buckets): one task per partition later.
    errors : {"raise", "quarantine"}, default="raise"
        As in :func:`powerprofile.schema.validate_folder`.
    data_end : date-like, optional
        Last day the data covers (default: the latest date in the tables).
    quarantine : str, os.PathLike or callable, optional
        As in :func:`powerprofile.schema.validate_folder`.

    Returns
    -------
    pathlib.Path
        The folder (``dataset.json`` declares ``n_partitions``), ready for
        :func:`build_features` and ``powerprofile run --engine spark``.
    pandas.DataFrame
        The validation report.

    Raises
    ------
    DataValidationError
        (strict mode) A partition breaks the contract: the single-machine reader's error.
    ValueError
        ``tables`` has no ``customers`` table, names an unknown table, or
        ``n_partitions`` is not a positive whole number.
    """
    from pyspark.sql import functions as F

    from ..schema import save_tables
    from ..schema._folder import DATASET_FILE
    from ._validate import validate_folder

    if int(n_partitions) < 1:
        raise ValueError(f"n_partitions must be a whole number >= 1, got {n_partitions!r}")
    P = int(n_partitions)
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise ValueError(
            f"tables names {unknown!r}, which the data contract does not define; "
            f"use the contract's names: {sorted(TABLES)!r}"
        )
    if "customers" not in tables:
        raise ValueError("tables has no 'customers' table; every other table is checked against it")
    frames = {n: (spark.table(t) if isinstance(t, str) else t) for n, t in tables.items()}
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    row_counts, part_rows, whole = {}, {}, {}
    lo, hi = [], []
    for name, sdf in frames.items():
        a, b = _time_range(sdf, name)
        lo += [a] if a is not None else []
        hi += [b] if b is not None else []
        cust = TABLES[name].customer_column
        if cust is None:
            whole[name] = sdf.toPandas()
            continue
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.parquet"):
            old.unlink()
        keyed = sdf.withColumn("_part", _bucket(P)(F.col(cust)))
        sc = spark.sparkContext
        sc.setJobDescription(f"powerprofile partition {name}")
        write = _two_arguments(_PartWriter(name, str(folder)))
        try:
            done = keyed.groupBy("_part").applyInPandas(write, "part int, rows long").toPandas()
        finally:
            sc.setJobDescription(None)
        rows = dict(zip(done["part"].tolist(), done["rows"].tolist(), strict=True))
        missing = [p for p in range(P) if p not in rows]
        if missing:  # buckets without rows: empty parts with the table's columns
            empty = sdf.limit(0).toPandas().assign(_part=pd.Series(dtype="int32"))
            writer = _PartWriter(name, str(folder))
            for p in missing:
                writer((p,), empty)
                rows[p] = 0
        part_rows[name] = [int(rows[p]) for p in range(P)]
        row_counts[name] = int(sum(part_rows[name]))
    start = min(pd.Timestamp(x) for x in lo) if lo else None
    end = data_end if data_end is not None else (max(pd.Timestamp(x) for x in hi) if hi else None)
    # what save_tables keeps from an existing dataset.json: the parts written above
    seed = {
        "data_start": None if start is None else start.date().isoformat(),
        "data_end": None if end is None else pd.Timestamp(end).date().isoformat(),
        "row_counts": row_counts,
        "part_rows": part_rows,
        "generator": "powerprofile.spark.stage_tables",
    }
    (root / DATASET_FILE).write_text(json.dumps(seed, indent=2) + "\n", encoding="utf-8")
    save_tables(whole, root, n_partitions=P)
    report = validate_folder(spark, root, errors=errors, data_end=data_end, quarantine=quarantine)
    return root, report
