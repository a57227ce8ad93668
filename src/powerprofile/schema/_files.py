"""Reading one table file (Parquet or CSV) into raw columns, failures named.

Any failure to decode a file (truncated, empty, corrupt pages or compression, not
Parquet at all, values beyond the representable range) becomes a
:class:`~powerprofile.exceptions.DataValidationError` naming the table, the file and,
when it can be found, the column; no other exception leaves the reader.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..exceptions import DataValidationError
from ._coerce import STRING_DTYPE
from ._problems import report_frame, table_problem

__all__ = ["arrow_frame", "read_table"]

_ID_COLUMNS = ("customer_id",)  # read dictionary-encoded: one string per distinct id


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unreadable(name: str, f: Path, exc: BaseException, column: str = "") -> DataValidationError:
    what = f"{name}.{column}" if column else name
    return DataValidationError(
        f"{what}: {str(f)!r} cannot be read ({_describe(exc)}); the file is damaged, "
        "truncated or not Parquet: write it again from the source",
        problems=report_frame([_unreadable_problem(name, f, exc, column)], lenient=False),
    )


def _unreadable_problem(name: str, f: Path, exc: BaseException, column: str = ""):
    what = f"{name}.{column}" if column else name
    return table_problem(
        name,
        column,
        "unreadable_file",
        f"{what}: {str(f)!r} cannot be read ({_describe(exc)}); the file is damaged, "
        "truncated or not Parquet: write it again from the source",
    )


def _family(t: pa.DataType) -> str | None:
    """The kind of a column's Arrow type that matters to the contract."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "date/time"
    return str(t)


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
    for i, fld in enumerate(table.schema):
        col = table.column(i)
        t = fld.type
        if pa.types.is_date(t):
            col = pc.cast(col, pa.timestamp("us"))
        elif pa.types.is_timestamp(t) and t.tz is None and t.unit != "us":
            col = pc.cast(col, pa.timestamp("us"), safe=False)
        elif pa.types.is_dictionary(t) and not pa.types.is_string(t.value_type):
            col = col.cast(t.value_type)
        cols.append(col)
    names = table.schema.names
    del table, col
    table = pa.table(cols, names=names)
    del cols
    return table.to_pandas(types_mapper=_types_mapper, self_destruct=True, split_blocks=True)


def _failing_column(f: Path, columns) -> str:
    """The first column that cannot be decoded alone (for the message), or ''."""
    try:
        names = columns or pq.read_schema(f).names
    except Exception:  # noqa: BLE001 - the footer itself failed: no column to name
        return ""
    for c in names:
        try:
            pq.read_table(f, columns=[c])
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - any decoding failure names this column
            return c
    return ""


def _read_parquet(name: str, f: Path, columns=None) -> pd.DataFrame:
    try:
        schema = pq.read_schema(f)
        names = schema.names if columns is None else [c for c in columns if c in schema.names]
        dict_cols = [
            c
            for c in _ID_COLUMNS
            if c in names
            and (
                pa.types.is_string(schema.field(c).type)
                or pa.types.is_large_string(schema.field(c).type)
            )
        ]
        table = pq.read_table(f, columns=names, read_dictionary=dict_cols)
        table.validate(full=True)  # e.g. text that is not UTF-8: named here, not later
    except MemoryError:
        raise
    except Exception as exc:  # corrupt pages, bad compression, truncation: name the file
        raise _unreadable(name, f, exc, _failing_column(f, columns)) from exc
    return arrow_frame(name, f, table)


def arrow_frame(name: str, f: Path, table: pa.Table) -> pd.DataFrame:
    """:func:`_arrow_to_pandas` with conversion failures named (table, column, file)."""
    try:
        return _arrow_to_pandas([table])
    except MemoryError:
        raise
    except Exception as exc:  # e.g. a date beyond the representable range
        column = ""
        for c in table.column_names:
            try:
                _arrow_to_pandas([table.select([c])])
            except Exception:  # noqa: BLE001 - the column that fails is named
                column = c
                break
        raise _unreadable(name, f, exc, column) from exc


def _read_csv(source: Path, name: str = "") -> pd.DataFrame:
    """Read a CSV file with every column as text (Arrow's reader, pandas' as fallback)."""
    label = f"{name}: " if name else ""
    hint = "save it as UTF-8 CSV with one header row and the same number of fields on every line"
    try:
        with open(source, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (UnicodeDecodeError, csv.Error):
        header = []  # pandas reads it and says what is wrong
    if header is None:
        raise DataValidationError(f"{label}{str(source)!r} is empty (no header row); {hint}")
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
            df = pd.read_csv(
                source,
                dtype=STRING_DTYPE,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8-sig",
                low_memory=False,
                index_col=False,
            )
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
    ) as exc:
        raise DataValidationError(
            f"{label}{str(source)!r} is not a readable CSV file ({exc}); {hint}"
        ) from exc
    if header and len(header) == len(df.columns):
        df.columns = header  # a repeated header name stays repeated (duplicate_column)
    return df


def _parts(folder: Path) -> list[Path]:
    parts = sorted(folder.glob("part-*.parquet"))
    return parts if parts else sorted(folder.glob("*.parquet"))


def read_table(source, name: str = "") -> pd.DataFrame:
    """Read one table from a Parquet file, a CSV file or a folder of Parquet parts.

    Parameters
    ----------
    source : str or os.PathLike
        ``<name>.parquet``, ``<name>.csv`` or a folder of ``part-*.parquet`` files.
    name : str, default=""
        The table's name, for messages.

    Returns
    -------
    pandas.DataFrame
        Raw (not yet validated) columns; CSV columns are all text.

    Raises
    ------
    DataValidationError
        When a file cannot be read (named in the message).
    """
    source = Path(source)
    name = name or source.stem
    if source.is_dir():
        parts = _parts(source)
        if not parts:
            raise DataValidationError(f"folder {str(source)!r} holds no Parquet parts")
        frames = [_read_parquet(name, p) for p in parts]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if source.suffix == ".parquet":
        return _read_parquet(name, source)
    if source.suffix == ".csv":
        return _read_csv(source, name)
    raise ValueError(f"cannot read {str(source)!r}: expected .parquet, .csv or a folder of parts")
