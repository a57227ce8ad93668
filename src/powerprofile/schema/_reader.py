"""Reading a data-set folder part by part, validating each part as it is read.

Layout::

    <dir>/dataset.json                  {"schema_version": "1.0", "data_end": "2025-12-31", ...}
    <dir>/<table>.parquet               a single Parquet file, or
    <dir>/<table>.csv                   a CSV file (UTF-8, with or without BOM; ISO dates), or
    <dir>/<table>/part-*.parquet        a folder of Parquet parts (read in name order)

The folder is first opened (:func:`~._folder.open_folder`: ``dataset.json``, files,
partitions, footers, column types and row counts checked). Then each **part** is
read and validated by :func:`~._validate.check_part`, the one validation every route
shares: ``customers`` and ``outages`` whole, then every per-customer table one hash
partition at a time when ``dataset.json`` declares ``n_partitions`` (whole
otherwise). :func:`read_parts` streams validated parts; :func:`validate_folder`
returns only the report; :func:`load_tables` keeps every part.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.util import hash_array

from ._coerce import STRING_DTYPE
from ._contract import TABLE_ORDER, TABLES
from ._files import _family, _unreadable
from ._folder import Folder, TableSource, _check_counts, _read_files, open_folder
from ._problems import merge_problems, missing_table_problem, raise_problems, report_frame
from ._tables import Tables
from ._validate import PartContext, PartResult, assemble, check_errors_argument, check_part

__all__ = ["Part", "load_tables", "read_parts", "validate_folder"]


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


_BUCKET_BITS = 4
_DUP_BUCKETS = 1 << _BUCKET_BITS  # spill files of 64-bit hashes (by their top bits)


def _repeated(values):
    """The texts occurring more than once in ``values``."""
    vc = pc.value_counts(values)
    return pc.filter(vc.field("values"), pc.greater(vc.field("counts"), 1))


def _id_column(src: TableSource, f, column: str):
    """The ``column`` of part ``f`` as large strings, or None when it is not an id column."""
    try:
        if column not in pq.read_schema(f).names:
            return None
        col = pq.read_table(f, columns=[column]).column(0)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - named like any unreadable file
        raise _unreadable(src.name, f, exc, column) from exc
    if _family(col.type) not in ("text", "number"):
        return None  # not ids: the part's checks say why
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col.cast(pa.large_string())


def _hash_ids(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of each (non-null) id text: equal texts, equal hashes."""
    return hash_array(
        np.asarray(values.to_numpy(zero_copy_only=False), dtype=object), categorize=False
    )


_DUPLICATES: dict = {}  # per process: (table, column, files with size and mtime) -> result
_DUPLICATES_KEPT = 16


def _duplicates_key(src: TableSource, column: str) -> tuple:
    files = []
    for f in src.files:
        try:
            st = Path(f).stat()
        except OSError:
            return ()  # unreadable: not remembered, the read names the file
        files.append((str(f), st.st_size, st.st_mtime_ns))
    return (src.name, column, tuple(files))


def known_duplicates() -> dict:
    """The cross-part duplicate keys found so far in this process (small: the repeats).

    Handed to :func:`remember_duplicates` in a worker process, it spares the worker
    another pass over every part of the table.
    """
    return dict(_DUPLICATES)


def remember_duplicates(found: dict) -> None:
    """Take over duplicate keys found by another process (:func:`known_duplicates`).

    Entries are keyed by the table's files with their sizes and modification times,
    so a changed file is searched again.
    """
    _DUPLICATES.update(found)


def cross_part_key(name: str, src: TableSource) -> str | None:
    """The key column whose repeats must be searched across every part of ``src``.

    A one-column key other than the customer id, in a table stored in several parts:
    the parts are grouped by customer, so such a key (a payment or interaction id)
    can repeat in two parts, which neither part's own check sees.
    """
    spec = TABLES[name]
    key = spec.key
    if not src.partitioned or len(src.files) <= 1 or len(key) != 1:
        return None
    return None if key[0] in ("customer_id", spec.customer_column) else key[0]


class _DuplicateSearch:
    """:func:`_find_duplicates` of one table, by its number in ``jobs`` (picklable)."""

    def __init__(self, jobs):
        self.jobs = jobs

    def __call__(self, i: int):
        src, column = self.jobs[i]
        try:
            return _duplicates_key(src, column), _find_duplicates(src, column)
        except Exception:  # noqa: BLE001 - searched again in turn, which raises in order
            return (), None


def search_duplicates(folder: Folder, mapper, names=None) -> dict:
    """Search the cross-part duplicate keys of every table at once, one task per table.

    ``mapper(fn, n)`` runs the searches elsewhere (Spark tasks, worker processes),
    side by side instead of one after the other; the results are remembered in this
    process (:func:`known_duplicates`) and returned, ready to hand to the tasks that
    read the parts (:func:`remember_duplicates`), so no task searches again. A table
    whose search fails (an unreadable part) is left out: the reading of that table
    searches it again in its turn and raises there, as without a mapper.

    Parameters
    ----------
    folder : Folder
        The opened data-set folder.
    mapper : callable
        ``mapper(fn, n)`` returns ``[fn(0), ..., fn(n - 1)]``.
    names : sequence of str, optional
        Tables to search (default: every table of the folder).

    Returns
    -------
    dict
        The entries of :func:`known_duplicates` for the folder's tables.
    """
    wanted = []
    for name in TABLE_ORDER if names is None else names:
        src = folder.sources.get(name)
        column = None if src is None else cross_part_key(name, src)
        if column is not None:
            wanted.append((src, column, _duplicates_key(src, column)))
    jobs = [(src, column) for src, column, key in wanted if not key or key not in _DUPLICATES]
    if jobs:
        for key, hit in mapper(_DuplicateSearch(jobs), len(jobs)):
            if key and hit is not None:
                _remember(key, hit)
    return {key: _DUPLICATES[key] for _, _, key in wanted if key in _DUPLICATES}


def _remember(key: tuple, hit) -> None:
    while len(_DUPLICATES) >= _DUPLICATES_KEPT:
        _DUPLICATES.pop(next(iter(_DUPLICATES)))
    _DUPLICATES[key] = hit


def _global_duplicates(src: TableSource, column: str) -> tuple[pd.Index, int]:
    """Values of ``column`` occurring more than once over all the parts of ``src``.

    Remembered per process for the same files (:func:`known_duplicates`): the job
    validates a table, then reads it again part by part.
    """
    key = _duplicates_key(src, column)
    hit = _DUPLICATES.get(key) if key else None
    if hit is None:
        hit = _find_duplicates(src, column)
        if key:
            _remember(key, hit)
    return hit


def _find_duplicates(src: TableSource, column: str) -> tuple[pd.Index, int]:
    """Values of ``column`` occurring more than once over all the parts of ``src``.

    Bounded memory, whatever the population: one pass over the parts hashes each
    part's ids to 64 bits and sorts the hashes; a hash repeated within the part has
    its texts counted exactly (the part's own repeats), and each distinct hash is
    spilled to one of ``_DUP_BUCKETS`` files on disk by its top bits (the sorted
    hashes are cut, not grouped again); each bucket is then sorted alone, and a
    hash seen in two parts is a candidate. Only
    when there are candidates does a second pass read the parts again and count
    the texts of the candidate hashes exactly, so a hash collision never makes a
    false duplicate. Memory holds one part's distinct values and one bucket's
    hashes, never every id of the table.
    """
    none = pd.Index([], dtype="string"), 0
    within = []
    with tempfile.TemporaryDirectory(prefix="powerprofile-dups-") as tmp:
        spill = [Path(tmp) / f"{b:02d}.u64" for b in range(_DUP_BUCKETS)]
        for f in src.files:
            col = _id_column(src, f, column)
            if col is None:
                return none
            col = col.drop_null()
            raw = _hash_ids(col)
            h = np.sort(raw)
            again = h[1:] == h[:-1]
            if again.any():  # a hash seen twice in the part: its texts counted exactly
                seen = np.isin(raw, h[1:][again])
                within.append(_repeated(col.filter(pa.array(seen))))
            h = h[np.r_[True, ~again]] if len(h) else h  # the part's distinct hashes
            del col, raw, again
            # sorted hashes are grouped by their top bits, the bucket: one cut per bucket
            top = np.arange(_DUP_BUCKETS, dtype=np.uint64) << np.uint64(64 - _BUCKET_BITS)
            cuts = np.searchsorted(h, top).tolist() + [len(h)]
            for b in range(_DUP_BUCKETS):
                if cuts[b + 1] > cuts[b]:
                    with spill[b].open("ab") as fh:
                        h[cuts[b] : cuts[b + 1]].tofile(fh)
            del h
        candidates = []
        for b in spill:
            if not b.exists():
                continue
            # sorted runs, one per part: the stable (merging) sort takes them as they are
            h = np.sort(np.fromfile(b, dtype=np.uint64), kind="stable")
            b.unlink()
            candidates.append(np.unique(h[1:][h[1:] == h[:-1]]))
            del h
    candidates = np.concatenate(candidates) if candidates else np.empty(0, np.uint64)
    across = []
    if len(candidates):  # second pass: the texts behind the candidate hashes, counted exactly
        texts = []
        for f in src.files:
            values = pc.unique(_id_column(src, f, column)).drop_null()
            texts.append(values.filter(pa.array(np.isin(_hash_ids(values), candidates))))
        across.append(_repeated(pa.chunked_array(texts, type=pa.large_string())))
    dup = pa.chunked_array([*within, *across], type=pa.large_string())
    values = pd.Index(pc.unique(dup).to_numpy(zero_copy_only=False), dtype=object)
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


class _PartCheck:
    """:func:`check_part` of one part of a partitioned table, by part number (picklable).

    The rows kept are not returned: a validation pass keeps none, and a task
    engine would otherwise ship every row back.
    """

    def __init__(self, name, src, units, contexts):
        self.name, self.src, self.units, self.contexts = name, src, units, contexts

    def __call__(self, i: int) -> PartResult:
        raw = _read_files(self.src, self.units[i][0])
        return replace(check_part(self.name, raw, self.contexts[i]), kept=None)


def _checked(folder: Folder, lenient: bool, names=None, mapper=None) -> Iterator:
    """Yield ``(source, file, partition, PartResult)`` for every part, in contract order.

    A table that is absent yields ``(None, None, None, None)`` with its name checked
    by the caller; problems found after reading (CSV row counts, an empty required
    table) are yielded as ``(name, "problems", None, [problems])``. ``mapper(fn, n)``
    (``[fn(0), ..., fn(n - 1)]`` elsewhere, e.g. as Spark tasks) checks the parts of
    each partitioned Parquet table in parallel; the results then carry no kept rows.
    """
    ctx = PartContext(lenient=lenient, data_end=folder.data_end)
    plan = _plan(folder, names)
    if mapper is not None:  # the tables' searches side by side, not in turn on this process
        search_duplicates(folder, mapper, plan)
    for name in plan:
        src = folder.sources.get(name)
        if src is None:
            yield name, None, None, None
            continue
        dup = None
        dup_n = None
        column = cross_part_key(name, src)
        if column is not None:
            dup, dup_n = _global_duplicates(src, column)
        if src.partitioned:
            units = [([f], f, int(f.stem.split("-")[-1])) for f in src.files]
        else:
            units = [(src.files, src.files[0] if len(src.files) == 1 else src.path, None)]
        offset = 0
        if mapper is not None and src.partitioned and None not in src.rows:
            contexts = []
            for (_, label, p), n in zip(units, src.rows, strict=True):
                contexts.append(
                    replace(
                        ctx,
                        offset=offset,
                        file=str(label),
                        partition=(p, folder.declared.n_partitions),
                        duplicated=dup,
                    )
                )
                offset += n
            done = mapper(_PartCheck(name, src, units, contexts), len(units))
            for (_, label, p), res in zip(units, done, strict=True):
                yield name, src, (label, p, dup_n), res
            units = []
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


def _collect(folder: Folder, lenient: bool, keep: bool, quarantine=None, mapper=None):
    """Read every part; return (results per table or None, merged problems)."""
    sink = _quarantine_writer(quarantine)
    parts: list[list] = []
    kept: dict[str, list] = {}
    counts: dict[str, int] = {}
    quar: dict[str, list] = {}
    dup_keys: dict[str, int] = {}
    for name, src, where, res in _checked(folder, lenient, mapper=None if keep else mapper):
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


def validate_folder(
    path, errors: str = "raise", data_end=None, quarantine=None, mapper=None
) -> pd.DataFrame:
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
    mapper : callable, optional
        ``mapper(fn, n)`` returns ``[fn(0), ..., fn(n - 1)]`` computed elsewhere: the
        parts of each partitioned table are then checked in parallel there (the Spark
        engine runs them as tasks); problems are merged and reported here, the same.

    Returns
    -------
    pandas.DataFrame
        The report (``REPORT_COLUMNS``), the same as ``load_tables(...).report``.
    """
    lenient = check_errors_argument(errors)
    folder = open_folder(path, data_end)
    _, problems, _ = _collect(folder, lenient, keep=False, quarantine=quarantine, mapper=mapper)
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
