"""Writing a data-set folder (``dataset.json`` plus one entry per table).

Reading lives in :mod:`._reader` (re-exported here for older imports). Layout::

    <dir>/dataset.json                  {"schema_version": "1.0", "data_end": "2025-12-31", ...}
    <dir>/<table>.parquet               a single Parquet file, or
    <dir>/<table>.csv                   a CSV file (UTF-8 with BOM; ISO dates), or
    <dir>/<table>/part-*.parquet        a folder of Parquet parts, one per hash partition
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._partition import partition_of
from ._coerce import STRING_DTYPE
from ._contract import SCHEMA_VERSION, TABLE_ORDER, TABLES
from ._files import read_table
from ._folder import DATASET_FILE, find_table_source, part_file, read_dataset_info
from ._reader import load_tables, quarantine_frame
from ._tables import Tables

__all__ = [
    "find_table_source",
    "load_tables",
    "read_dataset_info",
    "read_table",
    "save_quarantine",
    "save_tables",
]


# ---------------------------------------------------------------- writing


def _atomic_write(target: Path, write) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove_other_forms(root: Path, name: str, keep: Path) -> None:
    for cand in (root / f"{name}.parquet", root / f"{name}.csv"):
        if cand != keep and cand.is_file():
            cand.unlink()
    folder = root / name
    if folder != keep and folder.is_dir():
        for p in folder.glob("*.parquet"):
            p.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()


def _to_arrow(df: pd.DataFrame, name: str) -> pa.Table:
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        bad = []
        for c in df.columns:
            try:
                pa.array(df[c], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                bad.append(c)
        raise ValueError(
            f"table {name!r}: column(s) {bad!r} cannot be written to Parquet ({exc}); "
            f"give each column one type (validate the tables first, or cast extra columns to str)"
        ) from exc
    spec = TABLES[name]
    for c in spec.columns:
        if c.kind == "date" and c.name in table.column_names:
            i = table.column_names.index(c.name)
            col = table.column(i)
            if pa.types.is_timestamp(col.type):
                table = table.set_column(i, c.name, pc.cast(col, pa.date32(), safe=False))
    return table


def _format_times(col: pd.Series, fmt: str) -> pd.Series:
    """Format datetimes with ``fmt``, once per distinct value."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    text = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    present = codes >= 0
    out = np.where(present, text[np.where(present, codes, 0)] if len(text) else None, None)
    return pd.Series(pd.array(out, dtype=STRING_DTYPE), index=col.index, name=col.name)


def _csv_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    out = df.copy(deep=False)
    spec = TABLES[name]
    for c in spec.columns:
        if c.name not in out.columns:
            continue
        col = out[c.name]
        if col.dtype.kind == "M":
            if c.kind == "date":
                fmt = "%Y-%m-%d"
            else:
                has_us = bool((col.dropna().dt.microsecond != 0).any())
                fmt = "%Y-%m-%d %H:%M:%S.%f" if has_us else "%Y-%m-%d %H:%M:%S"
            out[c.name] = _format_times(col, fmt)
        elif col.dtype == np.dtype(bool):
            out[c.name] = np.where(col.to_numpy(), "true", "false")
    return out


def _write_csv(df: pd.DataFrame, name: str, target: Path) -> None:
    """UTF-8 with BOM; Arrow's writer, pandas' when Arrow cannot convert a column."""
    try:
        table = _to_arrow(df, name)  # dates as date32: written YYYY-MM-DD
        cols = []
        for c in table.columns:
            if pa.types.is_dictionary(c.type):
                c = pc.cast(c, pa.string())
            elif pa.types.is_timestamp(c.type) and c.type.unit != "s":
                try:  # whole seconds are written without a fraction
                    c = pc.cast(c, pa.timestamp("s", c.type.tz))
                except pa.ArrowInvalid:
                    pass
            cols.append(c)
        table = pa.table(cols, names=table.column_names)
    except (ValueError, TypeError, pa.ArrowNotImplementedError):
        out = _csv_frame(df, name)
        out.to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\n")
        return
    with open(target, "wb") as fh:
        fh.write("\ufeff".encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="needed"))


def _date_range(frames: Mapping[str, pd.DataFrame]):
    lo, hi = [], []
    for name, df in frames.items():
        col = TABLES[name].time_column
        if col and col in df.columns and len(df) and df[col].dtype.kind == "M":
            lo.append(df[col].min())
            hi.append(df[col].max())
    lo = [x for x in lo if not pd.isna(x)]
    hi = [x for x in hi if not pd.isna(x)]
    return (min(lo) if lo else None), (max(hi) if hi else None)


def save_tables(tables, path, format: str = "parquet", n_partitions: int | None = None) -> Path:
    """Write tables in the data-set folder layout that :func:`load_tables` reads.

    Parameters
    ----------
    tables : Tables or mapping of str to pandas.DataFrame
        The tables to write (written as given, not validated, so defective data can
        be saved too).
    path : str or os.PathLike
        Target folder (created if needed). Another stored form of a table written
        here (e.g. ``usage.parquet`` when writing ``usage.csv``) is removed so the
        folder stays unambiguous.
    format : {"parquet", "csv"}, default="parquet"
        Parquet (date columns as ``date32``) or CSV (UTF-8 with BOM so that Excel
        shows Chinese text; dates ``YYYY-MM-DD``, date-times ``YYYY-MM-DD HH:MM:SS``,
        booleans ``true``/``false``, missing values empty).
    n_partitions : int, optional
        Parquet only: write each per-customer table as a folder of
        ``part-{p:05d}.parquet`` files, part ``p`` holding the customers with
        ``partition_of(customer_id, n_partitions) == p``, sorted by customer and time.
        By default every table is one file, in its row order.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    if format not in ("parquet", "csv"):
        raise ValueError(f"format must be 'parquet' or 'csv', got {format!r}")
    if n_partitions is not None and (format != "parquet" or int(n_partitions) < 1):
        raise ValueError(
            f"n_partitions needs format='parquet' and a value >= 1, got {n_partitions!r}"
        )
    declared = isinstance(tables, Tables)
    if declared:
        frames, data_end = dict(tables.items()), tables.data_end
    else:
        frames, data_end = {k: v for k, v in tables.items() if k in TABLES and v is not None}, None
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    info = read_dataset_info(root)
    row_counts = dict(info.get("row_counts") or {})
    part_rows = dict(info.get("part_rows") or {})
    for name, df in frames.items():
        spec = TABLES[name]
        row_counts[name] = int(len(df))
        part_rows.pop(name, None)
        if format == "csv":
            target = root / f"{name}.csv"
            _atomic_write(target, lambda p, df=df, name=name: _write_csv(df, name, p))
        elif n_partitions is not None and spec.customer_column is not None:
            target = root / name
            part_rows[name] = _write_parts(df, name, target, int(n_partitions))
        else:
            target = root / f"{name}.parquet"
            table = _to_arrow(df, name)
            _atomic_write(target, lambda p, table=table: pq.write_table(table, p))
        _remove_other_forms(root, name, target)
    start, _ = _date_range(frames)
    if not declared:  # a plain mapping keeps the end already declared in the folder
        data_end = info.get("data_end")
    info.update(
        {
            "schema_version": SCHEMA_VERSION,
            "data_start": info.get("data_start")
            or (None if start is None else pd.Timestamp(start).date().isoformat()),
            "data_end": None if data_end is None else pd.Timestamp(data_end).date().isoformat(),
            "n_customers": int(len(frames["customers"])) if "customers" in frames else None,
            "n_partitions": n_partitions,
            "format": format,
            "row_counts": {n: row_counts[n] for n in TABLE_ORDER if n in row_counts},
            "part_rows": {n: part_rows[n] for n in TABLE_ORDER if n in part_rows},
        }
    )
    if not info["part_rows"]:
        del info["part_rows"]
    info.setdefault("generator", "powerprofile.schema.save_tables")
    text = json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    _atomic_write(root / DATASET_FILE, lambda p: p.write_text(text, encoding="utf-8"))
    return root


def save_quarantine(tables: Tables, path, format: str = "csv") -> list[Path]:
    """Write the rows set aside by lenient validation, one file per table.

    Parameters
    ----------
    tables : Tables
        Tables returned by ``load_tables``/``validate_tables`` with
        ``errors="quarantine"``.
    path : str or os.PathLike
        Folder (created if needed); gets ``<table>.csv`` (UTF-8 with BOM, raw values,
        with ``_row`` and ``_problem``) or ``<table>.parquet`` per table with
        quarantined rows.
    format : {"csv", "parquet"}, default="csv"
        File format.

    Returns
    -------
    list of pathlib.Path
        The files written (none when nothing was quarantined).
    """
    if format not in ("parquet", "csv"):
        raise ValueError(f"format must be 'parquet' or 'csv', got {format!r}")
    root = Path(path)
    written = []
    for name in TABLE_ORDER:
        q = tables.quarantine.get(name)
        if q is None or len(q) == 0:
            continue
        root.mkdir(parents=True, exist_ok=True)
        target = root / f"{name}.{format}"
        if format == "csv":
            _atomic_write(
                target,
                lambda p, q=q: q.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n"),
            )
        else:
            q = quarantine_frame(q)
            _atomic_write(target, lambda p, q=q: q.to_parquet(p, index=False))
        written.append(target)
    return written


def _write_parts(df: pd.DataFrame, name: str, folder: Path, n_partitions: int) -> list[int]:
    """Write ``df`` as hash partitions; return the rows of each part."""
    spec = TABLES[name]
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    ids = df[spec.customer_column]
    part = partition_of(ids, n_partitions) if len(df) else np.zeros(0, dtype=np.int64)
    cust_codes, _ = pd.factorize(ids, sort=True)
    keys = [np.asarray(cust_codes), part]
    if spec.time_column and spec.time_column in df.columns:
        t = df[spec.time_column]
        if t.dtype.kind == "M":
            keys.insert(0, t.to_numpy().view("int64"))
        else:  # not yet validated (e.g. dates as text): sort by the values as given
            keys.insert(0, np.asarray(pd.factorize(t.astype(str), sort=True)[0]))
    order = np.lexsort(keys)
    part_sorted = part[order]
    bounds = np.searchsorted(part_sorted, np.arange(n_partitions + 1))
    for p in range(n_partitions):
        rows = order[bounds[p] : bounds[p + 1]]
        table = _to_arrow(df.iloc[rows], name)
        _atomic_write(part_file(folder, p), lambda f, table=table: pq.write_table(table, f))
    return np.diff(bounds).astype(int).tolist()
