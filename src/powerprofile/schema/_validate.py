"""Validation of the contract tables: coerce, check, quarantine, report.

Every check is a vectorised mask over a table's rows (:mod:`._checks`). The unit of
work is one **part** of a table (:func:`check_part`): a whole in-memory table, one
file, or one hash partition of a data-set folder; the streaming reader and
:func:`validate_tables` both call it, and :func:`~._problems.merge_problems`
combines the problems of the parts of a table into the report (counts summed, the
first five examples, the files named).

In strict mode (``errors="raise"``) all problems of all tables are gathered and raised
together in one :class:`~powerprofile.exceptions.DataValidationError`; in lenient mode
(``errors="quarantine"``) every row with at least one problem is moved, once, to
``Tables.quarantine[table]`` with a ``_problem`` column listing its problems. Nothing
is dropped silently: for every table, kept rows + quarantined rows = input rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ._checks import (
    _check_after_end,
    _check_columns,
    _check_customers,
    _check_key,
    _check_logic,
    _check_partition,
    _TableCheck,
)
from ._coerce import STRING_DTYPE, coerce_column, empty_column
from ._contract import DATE_MAX, DATE_MIN, TABLE_ORDER, TABLES, TableSpec
from ._problems import (
    REPORT_COLUMNS,
    STRUCTURAL,
    _Problem,
    _render,
    _report_frame,
    empty_table_problem,
    merge_problems,
    missing_table_problem,
    raise_problems,
    table_problem,
)
from ._tables import Tables

__all__ = ["REPORT_COLUMNS", "validate_tables"]


def _input_frames(
    tables_or_mapping,
) -> tuple[dict[str, pd.DataFrame], pd.Timestamp | None, list[str]]:
    if isinstance(tables_or_mapping, Tables):
        frames = dict(tables_or_mapping.items())
        return frames, tables_or_mapping.data_end, []
    if not isinstance(tables_or_mapping, Mapping):
        raise TypeError(
            "validate_tables expects a Tables object or a mapping of table name to DataFrame, "
            f"got {type(tables_or_mapping).__name__!r}"
        )
    frames, unknown = {}, []
    for name, df in tables_or_mapping.items():
        if name in TABLES:
            if df is None:
                continue
            if not isinstance(df, pd.DataFrame):
                raise TypeError(
                    f"table {name!r} must be a pandas DataFrame, got {type(df).__name__!r}"
                )
            frames[name] = df
        else:
            unknown.append(str(name))
    return frames, None, unknown


def _prepare_raw(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Move a named index that holds contract columns back into columns; drop others."""
    names = [n for n in df.index.names if n is not None]
    if names and all(n in spec.names and n not in df.columns for n in names):
        df = df.reset_index()
    elif not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        df = df.reset_index(drop=True)
    else:
        df = df.copy(deep=False)  # columns are released one by one later; never touch the caller's
    return df


def _empty_table(spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: empty_column(c.kind, 0, c.categories) for c in spec.columns})


def _finish(
    tc: _TableCheck, categorical_ids: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame | None, np.ndarray]:
    """Return (kept, quarantined or None, bad mask).

    Builds the kept table column by column, releasing each raw column as it goes, so
    that at most one column exists twice (the raw frame is a private shallow copy).
    """
    spec, raw, n = tc.spec, tc.raw, tc.n
    bad = np.zeros(n, dtype=bool)
    row_problems = [p for p in tc.problems if p.mask is not None]
    for p in row_problems:
        bad |= p.mask
    quarantined = None
    keep = None
    if bad.any():
        idx = np.flatnonzero(bad)
        q = raw.iloc[idx].copy()
        q.insert(0, "_row", idx.astype(np.int64) + tc.offset)
        labels = np.full(len(idx), "", dtype=object)
        for p in row_problems:
            hit = p.mask[idx]
            if hit.any():
                sep = np.where(labels[hit] == "", "", "; ")
                labels[hit] = labels[hit] + sep + p.label
        q["_problem"] = pd.array(labels, dtype="string")
        quarantined = q.reset_index(drop=True)
        keep = np.flatnonzero(~bad)
    for p in row_problems:
        p.mask = None  # the report keeps counts and examples, not masks
    n_kept = n if keep is None else len(keep)
    index = pd.RangeIndex(n_kept)
    extras = [c for c in raw.columns if c not in spec.names]
    cols: dict[str, pd.Series] = {}
    id_col = spec.customer_column if categorical_ids else None
    if id_col is not None and id_col in tc.values and id_col not in tc.deferred:
        codes, uniques = tc.factorize(id_col)
        tc.values[id_col] = pd.Series(
            pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(uniques.astype(object)))
        )
    for name in tc.deferred - {id_col}:  # dictionary-encoded text becomes ``string``
        tc.values[name] = coerce_column(tc.values[name], "text")[0]
    for name in [*spec.names, *extras]:
        if name in tc.values:
            col = tc.values.pop(name)
        elif name in extras:
            col = raw[name]
        else:
            c = spec.column(name)
            cols[name] = empty_column(c.kind, n_kept, c.categories, index=index)
            continue
        if name in raw.columns:
            del raw[name]
        if keep is not None:
            col = col.take(keep)
        col = col.set_axis(index)
        if (
            spec.names
            and name in spec.names
            and spec.column(name).kind == "bool"
            and col.dtype != bool
        ):
            col = col.astype(bool)
        cols[name] = col
        del col
    tc._factorized.clear()
    return pd.DataFrame(cols, copy=False), quarantined, bad


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the contract's columns and validated dtypes."""
    return _empty_table(TABLES[name])


@dataclass
class PartContext:
    """What one part of a table is checked against.

    Attributes
    ----------
    lenient : bool
        Quarantine mode (``customer_quarantined`` cascades from customers).
    data_end : pandas.Timestamp or None
        Rows dated after it are errors.
    all_ids, kept_ids : pandas.Index or None
        Every customer id, and those kept after validation (orphan checks).
    offset : int
        Row number of the part's first row in its table (``_row`` of quarantined rows).
    file : str or None
        The file the part was read from, named in the problems.
    partition : (int, int) or None
        ``(p, P)`` when the part is hash partition ``p`` of ``P``: rows of customers
        belonging to another part are errors.
    duplicated : pandas.Index or None
        For a single-column key checked across parts: the values duplicated anywhere
        in the table.
    categorical_ids : bool
        Return the customer column as a categorical over its distinct ids (the
        feature builders map ids per distinct value) instead of ``string``.
    customers_file : str or None
        Where the customers were read from, named by orphan problems.
    """

    lenient: bool = False
    data_end: pd.Timestamp | None = None
    all_ids: pd.Index | None = None
    kept_ids: pd.Index | None = None
    offset: int = 0
    file: str | None = None
    partition: tuple[int, int] | None = None
    duplicated: pd.Index | None = None
    categorical_ids: bool = False
    customers_file: str | None = None


@dataclass
class PartResult:
    """The outcome of :func:`check_part`.

    Attributes
    ----------
    table : str
    n_rows : int
        Rows read.
    kept : pandas.DataFrame or None
        The validated rows (None when the part was not finished: a structural problem,
        or strict mode with errors).
    quarantine : pandas.DataFrame or None
        Rows set aside (lenient mode), raw values plus ``_row`` and ``_problem``.
    problems : list
        The problems of this part (see :func:`merge_problems`).
    ids, kept_ids : pandas.Index or None
        ``customers`` only: every customer id, and those of rows kept.
    """

    table: str
    n_rows: int
    kept: pd.DataFrame | None
    quarantine: pd.DataFrame | None
    problems: list = field(default_factory=list)
    ids: pd.Index | None = None
    kept_ids: pd.Index | None = None

    @property
    def n_bad(self) -> int:
        """Rows quarantined."""
        return 0 if self.quarantine is None else len(self.quarantine)

    @property
    def has_errors(self) -> bool:
        """Whether any error (row-level or structural) was found."""
        return any(p.severity == "error" for p in self.problems)


def _id_index(values: pd.Series) -> pd.Index:
    """The distinct customer ids of a column, as an index of the validated id dtype.

    Every other table's part is checked against it (:func:`._checks._isin`): an index
    of the parts' own id dtype keeps one hash table for all those look-ups, where a
    categorical one (ids read with an Arrow dictionary) would be converted again at
    every part.
    """
    u = values.dropna().unique()
    if isinstance(u.dtype, pd.CategoricalDtype):
        u = np.asarray(u)
    return pd.Index(u, dtype=STRING_DTYPE)


def check_part(name: str, raw: pd.DataFrame, ctx: PartContext | None = None) -> PartResult:
    """Coerce and check one part of table ``name``: the one validation of every route.

    Parameters
    ----------
    name : str
        Contract table name.
    raw : pandas.DataFrame
        The part as read or received (taken over: its columns are released as they
        are validated; pass a copy to keep it).
    ctx : PartContext, optional
        Mode, end date, customer ids, the file and partition of the part.

    Returns
    -------
    PartResult
        The validated rows (unless strict mode found errors or a structural problem
        was found), the quarantined rows and the problems.
    """
    ctx = ctx or PartContext()
    spec = TABLES[name]
    tc = _TableCheck(spec, _prepare_raw(raw, spec))
    tc.offset = ctx.offset
    _check_columns(tc)
    _check_logic(tc)
    _check_after_end(tc, ctx.data_end)
    _check_key(tc, ctx.duplicated)
    _check_partition(tc, ctx.partition)
    _check_customers(tc, ctx.all_ids, ctx.kept_ids, ctx.lenient, ctx.customers_file)
    ids = kept_ids = None
    if name == "customers" and "customer_id" in tc.values:
        cust_bad = np.zeros(tc.n, dtype=bool)
        for p in tc.problems:
            if p.mask is not None:
                cust_bad |= p.mask
        values = tc.values["customer_id"]
        ids = _id_index(values)
        kept_ids = _id_index(values[~cust_bad]) if cust_bad.any() else ids
    if ctx.file is not None:
        for p in tc.problems:
            if p.severity == "error":
                p.files = ((ctx.file, p.n_rows),)
                _render(p)
    errors = [p for p in tc.problems if p.severity == "error"]
    structural = any(p.check in STRUCTURAL for p in errors)
    kept = quarantine = None
    if not structural and (ctx.lenient or not errors):
        kept, quarantine, _ = _finish(tc, ctx.categorical_ids)
    for p in tc.problems:
        p.mask = None
    return PartResult(name, tc.n, kept, quarantine, tc.problems, ids, kept_ids)


def validate_tables(tables_or_mapping, errors: str = "raise", data_end=None) -> Tables:
    """Coerce the contract tables to their validated dtypes and check them.

    Parameters
    ----------
    tables_or_mapping : Tables or mapping of str to pandas.DataFrame
        The tables, by contract name. ``customers`` and ``usage`` are required (and
        must have rows); any other absent table becomes an empty frame with the
        contract's columns.
    errors : {"raise", "quarantine"}, default="raise"
        ``"raise"``: raise one :class:`~powerprofile.exceptions.DataValidationError`
        listing every problem. ``"quarantine"``: move every bad row to
        ``Tables.quarantine[table]`` (raw values, plus ``_row``, its position in the
        input, and ``_problem``, why) and keep the rest. Missing required tables or
        columns raise in both modes.
    data_end : str, date or pandas.Timestamp, optional
        Last day the data covers (inclusive). Rows dated after it (by the table's time
        column) are errors. Defaults to ``Tables.data_end`` when a ``Tables`` is given;
        ``None`` skips the check.

    Returns
    -------
    Tables
        Validated tables in the contract's column order (optional columns added:
        bools False, others missing; extra columns kept at the end), with
        ``data_end``, ``quarantine``, ``report`` and ``input_rows`` set.

    Raises
    ------
    DataValidationError
        In strict mode when any problem is found; in both modes when a required table
        or column is missing. ``.problems`` holds the report as a DataFrame.
    """
    frames, default_end, unknown = _input_frames(tables_or_mapping)
    return _validate(frames, errors, default_end if data_end is None else data_end, unknown)


def check_errors_argument(errors: str) -> bool:
    """Return True for quarantine mode; raise ValueError for anything but the two modes."""
    if errors not in ("raise", "quarantine"):
        raise ValueError(f"errors must be 'raise' or 'quarantine', got {errors!r}")
    return errors == "quarantine"


def normalize_data_end(data_end) -> pd.Timestamp | None:
    """``data_end`` as a midnight Timestamp (None stays None).

    Raises
    ------
    ValueError
        When it is not a date, or outside ``DATE_MIN`` .. ``DATE_MAX``.
    """
    if data_end is None:
        return None
    try:
        out = pd.Timestamp(data_end)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"data_end must be a date such as '2025-12-31', got {data_end!r}") from exc
    if out is pd.NaT:
        return None
    if out.tz is not None:
        out = out.tz_localize(None)
    out = out.normalize()
    if not (pd.Timestamp(DATE_MIN) <= out <= pd.Timestamp(DATE_MAX)):
        raise ValueError(
            f"data_end must be a date between {DATE_MIN} and {DATE_MAX}, got {data_end!r}"
        )
    return out


def _validate(frames: dict, errors: str, data_end, unknown=()) -> Tables:
    """Validate ``frames`` (a private dict, emptied as the tables are processed)."""
    lenient = check_errors_argument(errors)
    data_end = normalize_data_end(data_end)
    parts: list[list[_Problem]] = []
    results: dict[str, PartResult] = {}
    ctx = PartContext(lenient=lenient, data_end=data_end)
    for name in TABLE_ORDER:
        if name not in frames:
            parts.append([missing_table_problem(name)])
            continue
        res = check_part(name, frames.pop(name), ctx)
        if name == "customers":
            ctx = replace(ctx, all_ids=res.ids, kept_ids=res.kept_ids)
        if name in ("customers", "usage") and res.n_rows == 0:
            res.problems.append(empty_table_problem(name))
        results[name] = res
        parts.append(res.problems)
    for name in unknown:
        parts.append(
            [
                table_problem(
                    name, "", "unknown_table", f"{name}: not a contract table; ignored", "info"
                )
            ]
        )
    problems = merge_problems(parts)
    raise_problems(problems, lenient)
    return assemble(results, problems, lenient, data_end)


def assemble(results: Mapping[str, PartResult], problems, lenient: bool, data_end) -> Tables:
    """Build the Tables from one finished part per table (absent tables empty)."""
    out: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    input_rows: dict[str, int] = {}
    for name in TABLE_ORDER:
        res = results.get(name)
        if res is not None and res.kept is not None:
            input_rows[name] = res.n_rows
            out[name] = res.kept
            if res.quarantine is not None:
                quarantine[name] = res.quarantine
        else:
            out[name] = _empty_table(TABLES[name])
            input_rows[name] = 0 if res is None else res.n_rows
    return Tables(
        **out,
        data_end=data_end,
        quarantine=quarantine,
        report=_report_frame(problems, lenient),
        input_rows=input_rows,
    )
