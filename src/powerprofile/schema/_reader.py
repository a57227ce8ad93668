"""Reading a data-set folder part by part, validating each part as it is read.

Layout::

    <dir>/dataset.json                  {"schema_version": "1.0", "data_end": "2025-12-31", ...}
    <dir>/<table>.parquet               a single Parquet file, or
    <dir>/<table>.csv                   a CSV file (UTF-8, with or without BOM; ISO dates), or
    <dir>/<table>/part-*.parquet        a folder of Parquet parts (read in name order)

Opening a folder checks what can be checked without reading rows: ``dataset.json``
(types and values of its fields), the files each table is stored in, the declared
partitions (all present, none extra), the Parquet footers (a file that is not Parquet,
truncated or empty), the column types across parts, and the declared row counts. Any
problem there is raised at once, in both modes, as one
:class:`~powerprofile.exceptions.DataValidationError` naming the file, table and column.

Then each **part** is read and validated by :func:`~._validate.check_part`, the one
validation every route shares: ``customers`` and ``outages`` whole, then every
per-customer table one hash partition at a time when ``dataset.json`` declares
``n_partitions`` (whole otherwise). :func:`read_parts` streams validated parts;
:func:`validate_folder` returns only the report; :func:`load_tables` keeps every part.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..exceptions import DataValidationError
from ._coerce import STRING_DTYPE
from ._contract import DATE_MAX, DATE_MIN, PER_CUSTOMER, SCHEMA_VERSION, TABLE_ORDER, TABLES
from ._tables import Tables
from ._validate import (
    PartContext,
    PartResult,
    assemble,
    check_errors_argument,
    check_part,
    empty_table_problem,
    merge_problems,
    missing_table_problem,
    normalize_data_end,
    raise_problems,
    report_frame,
    table_problem,
)

__all__ = [
    "DATASET_FILE",
    "Part",
    "find_table_source",
    "load_tables",
    "read_dataset_info",
    "read_parts",
    "read_table",
    "validate_folder",
]

DATASET_FILE = "dataset.json"
_ID_COLUMNS = ("customer_id",)  # read dictionary-encoded: one string per distinct id


# ---------------------------------------------------------------- dataset.json


def read_dataset_info(path) -> dict:
    """Return the content of ``<path>/dataset.json`` (empty dict when absent).

    Parameters
    ----------
    path : str or os.PathLike
        The data-set folder.

    Returns
    -------
    dict

    Raises
    ------
    DataValidationError
        When the file is not valid JSON or does not hold an object.
    """
    f = Path(path) / DATASET_FILE
    if not f.exists():
        return {}
    try:
        info = json.loads(f.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"{str(f)!r} is not valid JSON ({exc}); fix the file or remove it"
        ) from exc
    except OSError as exc:
        raise DataValidationError(
            f"{str(f)!r} cannot be read ({exc}); fix its permissions"
        ) from exc
    if not isinstance(info, dict):
        raise DataValidationError(
            f"{str(f)!r} must hold a JSON object, got {type(info).__name__!r}"
        )
    return info


@dataclass
class Declared:
    """What ``dataset.json`` declares, checked (absent or null fields are None).

    Attributes
    ----------
    data_start, data_end : pandas.Timestamp or None
    n_customers, n_partitions : int or None
    row_counts : dict of str to int
        Rows per table.
    part_rows : dict of str to list of int
        Rows per part of each partitioned table.
    """

    data_start: pd.Timestamp | None = None
    data_end: pd.Timestamp | None = None
    n_customers: int | None = None
    n_partitions: int | None = None
    row_counts: dict = field(default_factory=dict)
    part_rows: dict = field(default_factory=dict)


def _is_count(v, minimum: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def check_dataset_info(root: Path, info: dict) -> tuple[Declared, list]:
    """Check the fields of ``dataset.json``; return what they declare and the problems.

    Parameters
    ----------
    root : pathlib.Path
        The data-set folder (named in messages).
    info : dict
        Its ``dataset.json`` (see :func:`read_dataset_info`).

    Returns
    -------
    (Declared, list)
    """
    f = str(root / DATASET_FILE)
    out = Declared()
    problems = []

    def bad(key, value, want):
        problems.append(
            table_problem(
                "dataset.json",
                key,
                "dataset_json",
                f"{f!r}: {key!r} is {value!r}; {want}",
            )
        )

    version = info.get("schema_version")
    if version is not None:
        major = SCHEMA_VERSION.split(".")[0]
        if not isinstance(version, str) or version.split(".")[0] != major:
            bad(
                "schema_version",
                version,
                f"this version of powerprofile reads schema {SCHEMA_VERSION!r} "
                f"(any '{major}.x'); convert the data set or use a matching powerprofile",
            )
    for key in ("data_start", "data_end"):
        if key not in info or info[key] is None:
            continue
        v = info[key]
        ok = isinstance(v, str) and v.strip() not in ("", "NaT", "nat", "NaN", "nan")
        ts = None
        if ok:
            try:
                ts = normalize_data_end(v)
            except ValueError:
                ts = None
        if ts is None:
            bad(key, v, f"write the day as 'YYYY-MM-DD' between {DATE_MIN} and {DATE_MAX}")
        else:
            setattr(out, key, ts)
    for key, minimum in (("n_customers", 0), ("n_partitions", 1)):
        v = info.get(key)
        if v is None:
            continue
        if _is_count(v, minimum):
            setattr(out, key, v)
        else:
            bad(key, v, f"write a whole number >= {minimum} (or remove the key)")
    counts = info.get("row_counts")
    if counts is not None:
        if not isinstance(counts, dict):
            bad("row_counts", counts, "write an object of table name to row count")
        else:
            for name, v in counts.items():
                if not _is_count(v):
                    bad(f"row_counts.{name}", v, "write a whole number >= 0")
                elif name in TABLES:
                    out.row_counts[name] = v
    parts = info.get("part_rows")
    if parts is not None:
        if not isinstance(parts, dict):
            bad("part_rows", parts, "write an object of table name to a list of row counts")
        else:
            for name, v in parts.items():
                if not (isinstance(v, list) and all(_is_count(x) for x in v)):
                    bad(f"part_rows.{name}", v, "write a list of whole numbers >= 0, one per part")
                elif out.n_partitions is not None and len(v) != out.n_partitions:
                    bad(
                        f"part_rows.{name}",
                        v,
                        f"give one count per part ({out.n_partitions} parts declared by "
                        "'n_partitions')",
                    )
                elif name in TABLES:
                    out.part_rows[name] = v
    return out, problems


# ---------------------------------------------------------------- the folder's files


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


def part_file(folder, p: int) -> Path:
    """The file of hash partition ``p`` in a table's folder (``part-{p:05d}.parquet``)."""
    return Path(folder) / f"part-{p:05d}.parquet"


@dataclass
class TableSource:
    """Where one table's rows are stored.

    Attributes
    ----------
    name : str
    path : pathlib.Path
        The file, or the folder of parts.
    files : list of pathlib.Path
        The files, in reading order.
    partitioned : bool
        File ``i`` is hash partition ``i`` of ``n_partitions`` (declared in
        ``dataset.json``), so the table is validated one part at a time.
    rows : list of int or None
        Rows per file from the Parquet footers (None for CSV).
    schemas : list of pyarrow.Schema or None
    """

    name: str
    path: Path
    files: list
    partitioned: bool = False
    rows: list = field(default_factory=list)
    schemas: list = field(default_factory=list)

    @property
    def is_csv(self) -> bool:
        return self.path.suffix == ".csv"

    @property
    def n_rows(self) -> int | None:
        """Total rows from the footers (None when any file is CSV)."""
        if any(r is None for r in self.rows):
            return None
        return int(sum(self.rows))


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


def _footer(src: TableSource, f: Path, problems: list) -> None:
    try:
        if f.stat().st_size == 0:
            raise ValueError("the file is empty (0 bytes)")
        meta = pq.read_metadata(f)
        schema = meta.schema.to_arrow_schema()
    except MemoryError:
        raise
    except Exception as exc:  # any failure to read a footer: the file is unusable
        problems.append(_unreadable_problem(src.name, f, exc))
        src.rows.append(None)
        src.schemas.append(None)
        return
    src.rows.append(int(meta.num_rows))
    src.schemas.append(schema)


def _check_types(src: TableSource, problems: list) -> None:
    """Every part stores each column with the same kind of type."""
    seen: dict[str, tuple[str, str, Path]] = {}
    reported = set()
    for f, schema in zip(src.files, src.schemas, strict=True):
        if schema is None:
            continue
        for fld in schema:
            fam = _family(fld.type)
            if fam is None:
                continue
            if fld.name not in seen:
                seen[fld.name] = (fam, str(fld.type), f)
                continue
            fam0, t0, f0 = seen[fld.name]
            if fam != fam0 and fld.name not in reported:
                reported.add(fld.name)
                problems.append(
                    table_problem(
                        src.name,
                        fld.name,
                        "mixed_types",
                        f"{src.name}.{fld.name}: the parts store the column with different "
                        f"types ({t0} in {str(f0)!r}, {fld.type} in {str(f)!r}); write every "
                        "part with the same column types",
                    )
                )


def _count_problem(name: str, what: str, found: int, declared: int, where: str):
    return table_problem(
        name,
        "",
        "row_count",
        f"{name}: {where} holds {found:,} {what} but dataset.json declares {declared:,}; a "
        "file was deleted, replaced or truncated: restore it, or write the data set again",
    )


@dataclass
class Folder:
    """A data-set folder opened: declared facts checked, sources located.

    Attributes
    ----------
    root : pathlib.Path
    info : dict
        ``dataset.json`` as written.
    declared : Declared
    data_end : pandas.Timestamp or None
        The ``data_end`` argument, else the declared one.
    sources : dict of str to TableSource
    """

    root: Path
    info: dict
    declared: Declared
    data_end: pd.Timestamp | None
    sources: dict


def open_folder(path, data_end=None) -> Folder:
    """Open a data-set folder and check everything that needs no row read.

    Parameters
    ----------
    path : str or os.PathLike
    data_end : str, date or pandas.Timestamp, optional
        Overrides ``dataset.json``'s ``data_end``.

    Returns
    -------
    Folder

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a folder.
    DataValidationError
        Listing every problem of ``dataset.json``, missing, extra or unreadable
        files, column types that differ between parts and row counts that differ
        from the declared ones (raised in both modes).
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"data-set folder {str(root)!r} does not exist or is not a folder")
    info = read_dataset_info(root)
    declared, problems = check_dataset_info(root, info)
    end = normalize_data_end(data_end) if data_end is not None else declared.data_end
    P = declared.n_partitions
    sources: dict[str, TableSource] = {}
    for name in TABLE_ORDER:
        src_path = find_table_source(root, name)
        if src_path is None:
            folder = root / name
            if P and name in PER_CUSTOMER and folder.is_dir():
                for p in range(P):  # every declared part is gone
                    problems.append(_missing_part(name, part_file(folder, p), P))
            declared_rows = declared.row_counts.get(name)
            if name in ("customers", "usage"):
                problems.append(missing_table_problem(name, f" from {str(root)!r}"))
            elif declared_rows:
                problems.append(
                    table_problem(
                        name,
                        "",
                        "row_count",
                        f"{name}: dataset.json declares {declared_rows:,} rows but the table "
                        f"is absent from {str(root)!r} (no {name}.parquet, {name}.csv or "
                        f"{name}/ there); restore its files, or write the data set again",
                    )
                )
            continue
        if src_path.is_dir():
            files = _parts(src_path)
            partitioned = bool(P) and name in PER_CUSTOMER
            if partitioned:
                expected = [part_file(src_path, p) for p in range(P)]
                for f in expected:
                    if not f.is_file():
                        problems.append(_missing_part(name, f, P))
                for f in files:
                    if f not in expected:
                        problems.append(
                            table_problem(
                                name,
                                "",
                                "extra_part",
                                f"{name}: {str(f)!r} is not one of the {P} parts declared by "
                                "dataset.json's 'n_partitions' (part-00000.parquet .. "
                                f"part-{P - 1:05d}.parquet); remove it or write the data set again",
                            )
                        )
                files = [f for f in expected if f.is_file()]
        else:
            files, partitioned = [src_path], False
        src = TableSource(name, src_path, files, partitioned)
        for f in files:
            if f.suffix == ".csv":
                src.rows.append(None)
                src.schemas.append(None)
            else:
                _footer(src, f, problems)
        _check_types(src, problems)
        sources[name] = src
        _check_counts(src, declared, problems)
    raise_problems(merge_problems([problems]), lenient=True)
    return Folder(root, info, declared, end, sources)


def _missing_part(name: str, f: Path, P: int):
    return table_problem(
        name,
        "",
        "missing_part",
        f"{name}: partition file {str(f)!r} is missing ({P} parts are declared by "
        "dataset.json's 'n_partitions'); restore it, or write the data set again",
    )


def _check_counts(src: TableSource, declared: Declared, problems: list, rows=None) -> None:
    """Compare the rows found with dataset.json (footers, or ``rows`` once read)."""
    name = src.name
    per_part = declared.part_rows.get(name) if src.partitioned else None
    if per_part is not None and rows is None:
        for f, found in zip(src.files, src.rows, strict=True):
            p = int(f.stem.split("-")[-1])
            if found is not None and p < len(per_part) and found != per_part[p]:
                problems.append(_count_problem(name, "rows", found, per_part[p], repr(str(f))))
    total = src.n_rows if rows is None else rows
    if total is None:
        return  # CSV: checked once read
    want = declared.row_counts.get(name)
    if want is not None and total != want:
        problems.append(_count_problem(name, "rows", total, want, repr(str(src.path))))
    if name == "customers" and declared.n_customers is not None and total != declared.n_customers:
        problems.append(
            _count_problem(name, "customers", total, declared.n_customers, repr(str(src.path)))
        )
    if name in ("customers", "usage") and total == 0:
        problems.append(empty_table_problem(name, f" in {str(src.path)!r}"))


# ---------------------------------------------------------------- reading one file


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


def _read_files(src: TableSource, files, columns=None) -> pd.DataFrame:
    frames = [
        _read_csv(f, src.name) if f.suffix == ".csv" else _read_parquet(src.name, f, columns)
        for f in files
    ]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- streaming


@dataclass
class Part:
    """One validated part of a table, as streamed by :func:`read_parts`.

    Attributes
    ----------
    table : str
    file : pathlib.Path
        The file read (or the table's folder when its files were read together).
    partition : int or None
        Hash partition number, when the table is stored partitioned.
    rows : pandas.DataFrame
        The validated rows (contract dtypes).
    quarantine : pandas.DataFrame or None
        Rows set aside in quarantine mode (raw values, ``_row``, ``_problem``).
    report : pandas.DataFrame
        This part's problems (``REPORT_COLUMNS``).
    n_input : int
        Rows read.
    """

    table: str
    file: Path
    partition: int | None
    rows: pd.DataFrame
    quarantine: pd.DataFrame | None
    report: pd.DataFrame
    n_input: int


def quarantine_frame(q: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows made writable to Parquet (mixed raw objects as text)."""
    return q.astype({c: STRING_DTYPE for c in q.columns if q[c].dtype == object})


def _quarantine_writer(target) -> Callable[[Part], None] | None:
    if target is None or callable(target):
        return target
    root = Path(target)

    def write(part: Part) -> None:
        stem = part.file.stem if part.file.is_file() else part.table
        f = root / part.table / f"{stem}.parquet"
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f".{f.name}.tmp")
        quarantine_frame(part.quarantine).to_parquet(tmp, index=False)
        tmp.replace(f)

    return write


def _global_duplicates(src: TableSource, column: str) -> tuple[pd.Index, int]:
    """Values of ``column`` occurring more than once over all the parts of ``src``."""
    counts = []
    for f in src.files:
        try:
            if column not in pq.read_schema(f).names:
                return pd.Index([]), 0
            col = pq.read_table(f, columns=[column]).column(0)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - named like any unreadable file
            raise _unreadable(src.name, f, exc, column) from exc
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = col.cast(pa.string()) if _family(col.type) in ("text", "number") else None
            if col is None:
                return pd.Index([]), 0
        vc = pc.value_counts(col.cast(pa.large_string()))
        counts.append(pa.table({"v": vc.field("values"), "n": vc.field("counts")}))
    if not counts:
        return pd.Index([]), 0
    total = pa.concat_tables(counts).group_by("v").aggregate([("n", "sum")])
    dup = total.filter(pc.greater(total.column("n_sum"), 1)).column("v")
    values = pd.Index(dup.to_numpy(zero_copy_only=False), dtype=object)
    values = values[pd.notna(values) & (values != "")]
    return pd.Index(values, dtype="string"), len(values)


def _plan(folder: Folder, names) -> list[str]:
    names = list(TABLE_ORDER if names is None else names)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise ValueError(f"unknown table(s) {unknown!r}; tables are {', '.join(TABLE_ORDER)}")
    if "customers" not in names:  # orphan checks need the customer list
        names = ["customers", *names]
    return [n for n in TABLE_ORDER if n in names]


def _checked(folder: Folder, lenient: bool, names=None) -> Iterator:
    """Yield ``(source, file, partition, PartResult)`` for every part, in contract order.

    A table that is absent yields ``(None, None, None, None)`` with its name checked
    by the caller; problems found after reading (CSV row counts, an empty required
    table) are yielded as ``(name, "problems", None, [problems])``.
    """
    ctx = PartContext(lenient=lenient, data_end=folder.data_end)
    for name in _plan(folder, names):
        src = folder.sources.get(name)
        if src is None:
            yield name, None, None, None
            continue
        spec = TABLES[name]
        key = list(spec.key)
        dup = None
        dup_n = None
        if src.partitioned and len(src.files) > 1 and len(key) == 1 and key[0] != "customer_id":
            dup, dup_n = _global_duplicates(src, key[0])
        if src.partitioned:
            units = [([f], f, int(f.stem.split("-")[-1])) for f in src.files]
        else:
            units = [(src.files, src.files[0] if len(src.files) == 1 else src.path, None)]
        offset = 0
        for files, label, p in units:
            raw = _read_files(src, files)
            n = len(raw)
            part_ctx = replace(
                ctx,
                offset=offset,
                file=str(label),
                partition=None if p is None else (p, folder.declared.n_partitions),
                duplicated=dup,
            )
            res = check_part(name, raw, part_ctx)
            del raw
            offset += n
            if name == "customers":
                ctx = replace(
                    ctx, all_ids=res.ids, kept_ids=res.kept_ids, customers_file=str(label)
                )
            yield name, src, (label, p, dup_n), res
        late = []
        if src.n_rows is None:  # CSV: counts known only now
            _check_counts(src, folder.declared, late, rows=offset)
        if late:
            yield name, "problems", None, late


def _part_report(res: PartResult, lenient: bool) -> pd.DataFrame:
    return report_frame(merge_problems([res.problems]), lenient)


def read_parts(
    path,
    tables=None,
    errors: str = "raise",
    data_end=None,
    quarantine=None,
) -> Iterator[Part]:
    """Stream a data-set folder part by part, each part validated as it is read.

    Memory holds one part (plus the customer ids). ``customers`` comes first (other
    tables are checked against it), then the tables in contract order, a
    per-customer table one hash partition at a time when ``dataset.json`` declares
    ``n_partitions``.

    Parameters
    ----------
    path : str or os.PathLike
        The data-set folder.
    tables : sequence of str, optional
        Tables to stream (default: all present); ``customers`` is always read.
    errors : {"raise", "quarantine"}, default="raise"
        ``"raise"``: the first part with a problem raises a
        :class:`~powerprofile.exceptions.DataValidationError` naming the table,
        column, file and examples. ``"quarantine"``: bad rows are set aside
        (``Part.quarantine``, and ``quarantine`` below) and reading goes on.
    data_end : str, date or pandas.Timestamp, optional
        Last day covered; defaults to ``dataset.json``'s ``data_end``.
    quarantine : str, os.PathLike or callable, optional
        Where quarantined rows go as each part is read: a folder (gets
        ``<table>/<part>.parquet``), or a function called with each :class:`Part`
        that has quarantined rows.

    Yields
    ------
    Part

    Raises
    ------
    DataValidationError
        On opening: any problem of ``dataset.json``, missing, extra or unreadable
        files, mixed column types or row counts (both modes); while reading: a file
        that cannot be decoded (both modes) or, in strict mode, any row problem.

    Examples
    --------
    >>> from powerprofile.schema import read_parts  # doctest: +SKIP
    >>> for part in read_parts("data/sample", tables=["usage"], errors="quarantine",
    ...                        quarantine="out/quarantine"):  # doctest: +SKIP
    ...     print(part.table, part.file.name, len(part.rows))
    """
    lenient = check_errors_argument(errors)
    folder = open_folder(path, data_end)
    sink = _quarantine_writer(quarantine)
    want = None if tables is None else set(tables)
    for name, src, where, res in _checked(folder, lenient, tables):
        if src is None:
            raise_problems(merge_problems([[missing_table_problem(name)]]), lenient)
            continue
        if src == "problems":
            raise_problems(merge_problems([res]), lenient)
            continue
        label, p, dup_n = where
        problems = merge_problems([res.problems], {name: dup_n} if dup_n is not None else None)
        raise_problems(problems, lenient)
        part = Part(
            name,
            Path(label),
            p,
            res.kept,
            res.quarantine,
            report_frame(problems, lenient),
            res.n_rows,
        )
        if sink is not None and part.quarantine is not None and len(part.quarantine):
            sink(part)
        if want is None or name in want:
            yield part


def _collect(folder: Folder, lenient: bool, keep: bool, quarantine=None):
    """Read every part; return (results per table or None, merged problems)."""
    sink = _quarantine_writer(quarantine)
    parts: list[list] = []
    kept: dict[str, list] = {}
    counts: dict[str, int] = {}
    quar: dict[str, list] = {}
    dup_keys: dict[str, int] = {}
    for name, src, where, res in _checked(folder, lenient):
        if src is None:
            parts.append([missing_table_problem(name)])
            continue
        if src == "problems":
            parts.append(res)
            continue
        label, p, dup_n = where
        if dup_n is not None:
            dup_keys[name] = dup_n
        parts.append(res.problems)
        counts[name] = counts.get(name, 0) + res.n_rows
        if sink is not None and res.quarantine is not None and len(res.quarantine):
            sink(
                Part(
                    name,
                    Path(label),
                    p,
                    res.kept,
                    res.quarantine,
                    _part_report(res, lenient),
                    res.n_rows,
                )
            )
        if keep and res.kept is not None:
            kept.setdefault(name, []).append(res.kept)
            if res.quarantine is not None:
                quar.setdefault(name, []).append(res.quarantine)
        elif keep:
            keep = False  # strict mode with errors: nothing will be returned
            kept.clear()
            quar.clear()
    problems = merge_problems(parts, dup_keys)
    if not keep:
        return None, problems, counts
    results = {}
    for name, frames in kept.items():
        q = quar.get(name)
        results[name] = PartResult(
            name,
            counts[name],
            frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True),
            None if not q else (q[0] if len(q) == 1 else pd.concat(q, ignore_index=True)),
        )
        frames.clear()
    return results, problems, counts


def validate_folder(path, errors: str = "raise", data_end=None, quarantine=None) -> pd.DataFrame:
    """Validate a data-set folder part by part without keeping the tables.

    Parameters
    ----------
    path : str or os.PathLike
    errors : {"raise", "quarantine"}, default="raise"
        Strict: after reading every part, raise one
        :class:`~powerprofile.exceptions.DataValidationError` listing every problem
        (each naming its files). Quarantine: return the report.
    data_end : str, date or pandas.Timestamp, optional
    quarantine : str, os.PathLike or callable, optional
        Where each part's quarantined rows go (see :func:`read_parts`).

    Returns
    -------
    pandas.DataFrame
        The report (``REPORT_COLUMNS``), the same as ``load_tables(...).report``.
    """
    lenient = check_errors_argument(errors)
    folder = open_folder(path, data_end)
    _, problems, _ = _collect(folder, lenient, keep=False, quarantine=quarantine)
    raise_problems(problems, lenient)
    return report_frame(problems, lenient)


def load_tables(path, errors: str = "raise", data_end=None) -> Tables:
    """Read a data-set folder and validate it.

    The folder is read part by part (see :func:`read_parts`) and the validated parts
    are concatenated, so the problems found and their messages are those of the
    streaming reader.

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
        When a file cannot be read, ``dataset.json`` is wrong or disagrees with the
        files, a required table or column is missing, or (strict mode) any problem.
        The message names the table, column and file.

    Examples
    --------
    >>> from powerprofile import load_tables  # doctest: +SKIP
    >>> tables = load_tables("data/sample", errors="quarantine")  # doctest: +SKIP
    >>> print(format_report(tables))  # doctest: +SKIP
    """
    lenient = check_errors_argument(errors)
    folder = open_folder(path, data_end)
    results, problems, _ = _collect(folder, lenient, keep=True)
    raise_problems(problems, lenient)
    return assemble(results or {}, problems, lenient, folder.data_end)
