"""Reading and writing a data-set folder (``dataset.json`` plus one entry per table).

Layout::

    <dir>/dataset.json                  {"schema_version": "1.0", "data_end": "2025-12-31", ...}
    <dir>/<table>.parquet               a single Parquet file, or
    <dir>/<table>.csv                   a CSV file (UTF-8, with or without BOM; ISO dates), or
    <dir>/<table>/part-*.parquet        a folder of Parquet parts (read in name order)
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._partition import partition_of
from ..exceptions import DataValidationError
from ._coerce import STRING_DTYPE
from ._contract import SCHEMA_VERSION, TABLE_ORDER, TABLES
from ._tables import Tables
from ._validate import _validate

__all__ = [
    "find_table_source",
    "load_tables",
    "read_dataset_info",
    "read_table",
    "save_quarantine",
    "save_tables",
]

DATASET_FILE = "dataset.json"


def read_dataset_info(path) -> dict:
    """Return the content of ``<path>/dataset.json`` (empty dict when absent).

    Parameters
    ----------
    path : str or os.PathLike
        The data-set folder.

    Returns
    -------
    dict
    """
    f = Path(path) / DATASET_FILE
    if not f.exists():
        return {}
    try:
        info = json.loads(f.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"{str(f)!r} is not valid JSON ({exc}); fix the file or remove it"
        ) from exc
    if not isinstance(info, dict):
        raise DataValidationError(
            f"{str(f)!r} must hold a JSON object, got {type(info).__name__!r}"
        )
    return info


def find_table_source(path, name: str) -> Path | None:
    """Return the file or folder holding table ``name`` in ``path``, or None.

    Parameters
    ----------
    path : str or os.PathLike
        The data-set folder.
    name : str
        Table name.

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    DataValidationError
        When the table is stored in more than one form (e.g. both ``usage.csv`` and
        ``usage/``), since it is not clear which one is meant.
    """
    root = Path(path)
    found = []
    for cand in (root / f"{name}.parquet", root / f"{name}.csv"):
        if cand.is_file():
            found.append(cand)
    folder = root / name
    if folder.is_dir() and _parts(folder):
        found.append(folder)
    if len(found) > 1:
        names = ", ".join(repr(p.name) for p in found)
        raise DataValidationError(
            f"table {name!r} is stored more than once in {str(root)!r} ({names}); keep one of them"
        )
    return found[0] if found else None


def _parts(folder: Path) -> list[Path]:
    parts = sorted(folder.glob("part-*.parquet"))
    return parts if parts else sorted(folder.glob("*.parquet"))


def _types_mapper(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return STRING_DTYPE
    return None


def _arrow_to_pandas(holder: list) -> pd.DataFrame:
    """Convert ``holder.pop()`` (a pyarrow Table) with bounded memory.

    Dates and timestamps become datetime64[us], text pandas ``string``; dictionary
    (category) columns stay categorical. The table is taken out of ``holder`` so that
    ``self_destruct`` can free each Arrow column as soon as it is converted.
    """
    table = holder.pop()
    cols = []
    for i, field in enumerate(table.schema):
        col = table.column(i)
        t = field.type
        if pa.types.is_date(t):
            col = pc.cast(col, pa.timestamp("us"))
        elif pa.types.is_timestamp(t) and t.tz is None and t.unit != "us":
            col = pc.cast(col, pa.timestamp("us"), safe=False)
        cols.append(col)
    names = table.schema.names
    del table, col
    table = pa.table(cols, names=names)
    del cols
    return table.to_pandas(types_mapper=_types_mapper, self_destruct=True, split_blocks=True)


def read_table(source) -> pd.DataFrame:
    """Read one table from a Parquet file, a CSV file or a folder of Parquet parts.

    Parameters
    ----------
    source : str or os.PathLike
        ``<name>.parquet``, ``<name>.csv`` or a folder of ``part-*.parquet`` files.

    Returns
    -------
    pandas.DataFrame
        Raw (not yet validated) columns; CSV columns are all text.
    """
    source = Path(source)
    if source.is_dir():
        parts = _parts(source)
        if not parts:
            raise DataValidationError(f"folder {str(source)!r} holds no Parquet parts")
        return _arrow_to_pandas(
            [pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive")]
        )
    if source.suffix == ".parquet":
        return _arrow_to_pandas([pq.read_table(source)])
    if source.suffix == ".csv":
        return _read_csv(source)
    raise ValueError(f"cannot read {str(source)!r}: expected .parquet, .csv or a folder of parts")


def _read_csv(source: Path) -> pd.DataFrame:
    """Read a CSV file with every column as text (Arrow's reader, pandas' as fallback)."""
    try:
        with open(source, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (UnicodeDecodeError, csv.Error):
        header = []  # pandas reads it and says what is wrong
    if header and len(set(header)) == len(header):
        try:
            table = pacsv.read_csv(
                source,
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in header},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            if table.column_names == header:
                return _arrow_to_pandas([table])
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass  # ragged rows, odd quoting: let pandas read it and report
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # never lose fields silently
            return pd.read_csv(
                source,
                dtype=STRING_DTYPE,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8-sig",
                low_memory=False,
                index_col=False,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"{str(source)!r} is not a readable CSV file ({exc}); save it as UTF-8 CSV with "
            f"one header row and the same number of fields on every line"
        ) from exc


def load_tables(path, errors: str = "raise", data_end=None) -> Tables:
    """Read a data-set folder and validate it.

    Parameters
    ----------
    path : str or os.PathLike
        Folder with ``dataset.json`` (optional) and one entry per table:
        ``<name>.parquet``, ``<name>.csv`` (UTF-8, with or without BOM) or a folder
        ``<name>/part-*.parquet``. ``customers`` and ``usage`` are required.
    errors : {"raise", "quarantine"}, default="raise"
        Strict or lenient validation (see :func:`validate_tables`).
    data_end : str, date or pandas.Timestamp, optional
        Last day covered (inclusive). Defaults to ``data_end`` in ``dataset.json``;
        when neither is given, rows are not checked against an end date.

    Returns
    -------
    Tables
        The validated tables, with ``quarantine`` and ``report``.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a folder.
    DataValidationError
        When a required table or column is missing, or (strict mode) any problem.

    Examples
    --------
    >>> from powerprofile import load_tables  # doctest: +SKIP
    >>> tables = load_tables("data/sample", errors="quarantine")  # doctest: +SKIP
    >>> print(format_report(tables))  # doctest: +SKIP
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"data-set folder {str(root)!r} does not exist or is not a folder")
    info = read_dataset_info(root)
    if data_end is None:
        data_end = info.get("data_end")
    frames = {}
    for name in TABLE_ORDER:
        src = find_table_source(root, name)
        if src is not None:
            frames[name] = read_table(src)
    return _validate(frames, errors, data_end)  # frames is emptied as tables are validated


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
    for name, df in frames.items():
        spec = TABLES[name]
        if format == "csv":
            target = root / f"{name}.csv"
            _atomic_write(target, lambda p, df=df, name=name: _write_csv(df, name, p))
        elif n_partitions is not None and spec.customer_column is not None:
            target = root / name
            _write_parts(df, name, target, int(n_partitions))
        else:
            target = root / f"{name}.parquet"
            table = _to_arrow(df, name)
            _atomic_write(target, lambda p, table=table: pq.write_table(table, p))
        _remove_other_forms(root, name, target)
    info = read_dataset_info(root)
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
        }
    )
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
            q = q.astype({c: STRING_DTYPE for c in q.columns if q[c].dtype == object})
            _atomic_write(target, lambda p, q=q: q.to_parquet(p, index=False))
        written.append(target)
    return written


def _write_parts(df: pd.DataFrame, name: str, folder: Path, n_partitions: int) -> None:
    spec = TABLES[name]
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    ids = df[spec.customer_column]
    part = partition_of(ids, n_partitions) if len(df) else np.zeros(0, dtype=np.int64)
    cust_codes, _ = pd.factorize(ids, sort=True)
    keys = [np.asarray(cust_codes), part]
    if spec.time_column and spec.time_column in df.columns:
        keys.insert(0, df[spec.time_column].to_numpy().view("int64"))
    order = np.lexsort(keys)
    part_sorted = part[order]
    bounds = np.searchsorted(part_sorted, np.arange(n_partitions + 1))
    for p in range(n_partitions):
        rows = order[bounds[p] : bounds[p + 1]]
        table = _to_arrow(df.iloc[rows], name)
        _atomic_write(
            folder / f"part-{p:05d}.parquet", lambda f, table=table: pq.write_table(table, f)
        )
