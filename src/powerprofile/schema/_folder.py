"""A data-set folder opened: ``dataset.json`` checked, every table's files located.

Opening checks what can be checked without reading rows: ``dataset.json`` (types
and values of its fields), the files each table is stored in, the declared partitions
(all present, none extra), the Parquet footers (a file that is not Parquet,
truncated or empty), the column types across parts, and the declared row counts.
Every problem found is raised at once, in both modes, as one
:class:`~powerprofile.exceptions.DataValidationError` naming the file, table and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from ..exceptions import DataValidationError
from ._contract import DATE_MAX, DATE_MIN, PER_CUSTOMER, SCHEMA_VERSION, TABLE_ORDER, TABLES
from ._files import _family, _parts, _read_csv, _read_parquet, _unreadable_problem
from ._problems import (
    empty_table_problem,
    merge_problems,
    missing_table_problem,
    raise_problems,
    table_problem,
)
from ._validate import normalize_data_end

__all__ = [
    "DATASET_FILE",
    "Declared",
    "Folder",
    "TableSource",
    "find_table_source",
    "open_folder",
    "part_file",
    "read_dataset_info",
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


def _read_files(src: TableSource, files, columns=None) -> pd.DataFrame:
    frames = [
        _read_csv(f, src.name) if f.suffix == ".csv" else _read_parquet(src.name, f, columns)
        for f in files
    ]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
