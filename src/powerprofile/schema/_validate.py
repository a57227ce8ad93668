"""Validation of the contract tables: coerce, check, quarantine, report.

Every check is a vectorised mask over a table's rows. In strict mode
(``errors="raise"``) all problems of all tables are gathered and raised together in
one :class:`~powerprofile.exceptions.DataValidationError`; in lenient mode
(``errors="quarantine"``) every row with at least one problem is moved, once, to
``Tables.quarantine[table]`` with a ``_problem`` column listing its problems. Nothing
is dropped silently: for every table, kept rows + quarantined rows = input rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import DataValidationError
from ._coerce import coerce_column, empty_column
from ._contract import TABLE_ORDER, TABLES, ColumnSpec, TableSpec
from ._tables import Tables

__all__ = ["REPORT_COLUMNS", "validate_tables"]

REPORT_COLUMNS = ["table", "column", "check", "severity", "n_rows", "examples", "action", "message"]
"""Columns of ``Tables.report`` and ``DataValidationError.problems``."""

_STRUCTURAL = ("missing_table", "missing_column", "duplicate_column")
_N_EXAMPLES = 5
_US_PER_DAY = 86_400_000_000
_FIX_HINT = "fix the source or pass errors='quarantine' to set the bad rows aside"


@dataclass
class _Problem:
    table: str
    column: str
    check: str
    severity: str  # "error" or "info"
    n_rows: int
    examples: str
    message: str
    mask: np.ndarray | None = None
    label: str = ""


# ---------------------------------------------------------------- formatting


def _fmt_value(v) -> str:
    """Readable form of one cell for messages."""
    if v is None or v is pd.NA or v is pd.NaT:
        return "missing"
    if isinstance(v, float) and np.isnan(v):
        return "missing"
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
        if v is pd.NaT:
            return "missing"
    if isinstance(v, pd.Timestamp):
        if v == v.normalize():
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


class _TableCheck:
    """Coerced columns, problems and helpers for one table."""

    def __init__(self, spec: TableSpec, raw: pd.DataFrame):
        self.spec = spec
        self.raw = raw
        self.n = len(raw)
        self.values: dict[str, pd.Series] = {}
        self.present: set[str] = set()
        self.problems: list[_Problem] = []
        self._factorized: dict[tuple[str, bool], tuple[np.ndarray, pd.Index]] = {}

    def factorize(self, column: str, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
        """Codes (missing = -1) and uniques of a coerced column, computed once."""
        k = (column, sort)
        if k not in self._factorized:
            codes, uniques = pd.factorize(self.values[column], sort=sort, use_na_sentinel=True)
            self._factorized[k] = (np.asarray(codes, dtype=np.int64), pd.Index(uniques))
        return self._factorized[k]

    # identity of a row for examples: customer + time, or the key, or the row number
    def _identity(self, i: int) -> str:
        spec = self.spec
        parts = []
        cust = spec.customer_column
        if spec.name == "customers":
            cust = "customer_id"
        if cust and cust in self.values:
            v = self.values[cust].iloc[i]
            if not pd.isna(v):
                parts.append(f"customer {v!r}")
        elif spec.name == "outages" and "outage_id" in self.values:
            v = self.values["outage_id"].iloc[i]
            if not pd.isna(v):
                parts.append(f"outage {v!r}")
        if spec.time_column and spec.time_column in self.values and spec.name != "outages":
            t = self.values[spec.time_column].iloc[i]
            if not pd.isna(t):
                parts.append(f"on {_fmt_value(t)}")
        if not parts:
            return f"row {i}"
        return " ".join(parts)

    def _cell(self, column: str, i: int) -> str:
        if column in self.values:
            v = self.values[column].iloc[i]
            if not pd.isna(v):
                return _fmt_value(v)
        if column in self.raw.columns:
            return _fmt_value(self.raw[column].iloc[i])
        return "missing"

    def examples(self, mask: np.ndarray, columns: tuple[str, ...]) -> str:
        rows = np.flatnonzero(mask)[:_N_EXAMPLES]
        out = []
        for i in rows:
            ident = self._identity(int(i))
            cells = " ".join(f"{c}={self._cell(c, int(i))}" for c in columns)
            out.append(f"{ident} {cells}".strip())
        more = ", …" if mask.sum() > _N_EXAMPLES else ""
        return ", ".join(out) + more

    def add(
        self,
        column: str,
        check: str,
        mask: np.ndarray,
        what: str,
        label: str,
        show: tuple[str, ...] | None = None,
        name: str | None = None,
    ) -> None:
        """Record a row-level error if ``mask`` has any True."""
        n = int(mask.sum())
        if n == 0:
            return
        show = (column,) if show is None else show
        ex = self.examples(mask, show)
        if name is None:
            name = f"{self.spec.name}.{column}" if column else self.spec.name
        message = f"{name}: {n:,} {what} (examples: {ex})"
        self.problems.append(
            _Problem(
                self.spec.name, column, check, "error", n, ex, message, mask, f"{name}: {label}"
            )
        )

    def info(self, column: str, check: str, message: str) -> None:
        self.problems.append(_Problem(self.spec.name, column, check, "info", 0, "", message))

    def structural(self, column: str, check: str, message: str) -> None:
        self.problems.append(_Problem(self.spec.name, column, check, "error", 0, "", message))


# ---------------------------------------------------------------- checks


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _check_columns(tc: _TableCheck) -> None:
    """Coerce present columns; check types, nulls, categories and bounds."""
    spec, raw = tc.spec, tc.raw
    dup_names = list(dict.fromkeys(raw.columns[raw.columns.duplicated()]))
    for name in dup_names:
        tc.structural(
            str(name),
            "duplicate_column",
            f"{spec.name}.{name}: the column appears more than once; keep one of them",
        )
    for col in spec.columns:
        if col.name in dup_names:
            continue
        if col.name not in raw.columns:
            if col.required:
                found = ", ".join(repr(c) for c in raw.columns) or "none"
                tc.structural(
                    col.name,
                    "missing_column",
                    f"{spec.name}.{col.name}: required column is missing (columns found: {found}); "
                    f"add it to the source (a missing column cannot be quarantined)",
                )
            continue
        values, bad = coerce_column(raw[col.name], col.kind, col.categories)
        isna = values.isna().to_numpy(dtype=bool)
        if not col.required and not col.nullable and isna.all() and not bad.any():
            continue  # an optional column left entirely empty counts as absent
        tc.values[col.name] = values
        tc.present.add(col.name)
        if col.kind == "category":
            allowed = ", ".join(repr(c) for c in col.categories)
            tc.add(
                col.name,
                "category",
                bad,
                f"{_plural(int(bad.sum()), 'value', 'values')} not among the allowed categories ({allowed})",
                "value not an allowed category",
            )
        else:
            tc.add(
                col.name,
                "unparseable",
                bad,
                f"{_plural(int(bad.sum()), 'value', 'values')} that cannot be read as {_KIND_WORD[col.kind]}",
                f"cannot be read as {_KIND_WORD[col.kind]}",
            )
        if not col.nullable:
            null = isna & ~bad
            tc.add(
                col.name,
                "null",
                null,
                f"missing {_plural(int(null.sum()), 'value', 'values')} in a column that must be filled",
                "missing value",
            )
        if col.kind == "float" and (col.min_value is not None or col.max_value is not None):
            _check_bounds(tc, col, values.to_numpy(dtype="float64"))
    for name in dict.fromkeys(raw.columns):
        if name not in spec.names and name not in dup_names:
            tc.info(
                name,
                "extra_column",
                f"{spec.name}.{name}: column not in the data contract; kept unchanged",
            )


_KIND_WORD = {
    "id": "text",
    "text": "text",
    "date": "a date (use ISO YYYY-MM-DD)",
    "datetime": "a date-time (use ISO YYYY-MM-DD HH:MM:SS)",
    "float": "a number",
    "bool": "a boolean (true/false, 1/0, yes/no)",
}


def _check_bounds(tc: _TableCheck, col: ColumnSpec, x: np.ndarray) -> None:
    with np.errstate(invalid="ignore"):
        if col.min_value is not None:
            low = x < col.min_value
            if col.min_value == 0:
                tc.add(
                    col.name,
                    "negative",
                    low,
                    f"negative {_plural(int(low.sum()), 'value', 'values')}",
                    "negative value",
                )
            else:
                tc.add(
                    col.name,
                    "out_of_range",
                    low,
                    f"{_plural(int(low.sum()), 'value', 'values')} below the minimum {_num(col.min_value)}",
                    f"below the minimum {_num(col.min_value)}",
                )
        if col.max_value is not None:
            high = x > col.max_value  # +inf included
            tc.add(
                col.name,
                "absurd",
                high,
                f"absurd {_plural(int(high.sum()), 'value', 'values')} above the maximum {_num(col.max_value)}",
                f"absurd value above {_num(col.max_value)}",
            )


def _check_logic(tc: _TableCheck) -> None:
    """Cross-column checks: outage end before start, bill due before issue."""
    v = tc.values
    if tc.spec.name == "outages" and "start" in v and "end" in v:
        bad = (v["end"] < v["start"]).to_numpy(dtype=bool)
        tc.add(
            "end",
            "end_before_start",
            bad,
            f"{_plural(int(bad.sum()), 'outage ends', 'outages end')} before {_plural(int(bad.sum()), 'it starts', 'they start')}",
            "end before start",
            show=("start", "end"),
        )
    if tc.spec.name == "bills" and "issue_date" in v and "due_date" in v:
        bad = (v["due_date"] < v["issue_date"]).to_numpy(dtype=bool)
        tc.add(
            "due_date",
            "due_before_issue",
            bad,
            f"{_plural(int(bad.sum()), 'bill is', 'bills are')} due before {_plural(int(bad.sum()), 'it is', 'they are')} issued",
            "due before issue date",
            show=("issue_date", "due_date"),
        )


def _check_after_end(tc: _TableCheck, data_end: pd.Timestamp | None) -> None:
    col = tc.spec.time_column
    if data_end is None or col is None or col not in tc.values:
        return
    limit = np.datetime64(data_end.normalize() + pd.Timedelta(days=1), "us")
    bad = tc.values[col].to_numpy() >= limit
    tc.add(
        col,
        "after_end",
        bad,
        f"{_plural(int(bad.sum()), 'row', 'rows')} dated after data_end {data_end.date().isoformat()}",
        f"dated after data_end {data_end.date().isoformat()}",
        show=() if tc.spec.name != "outages" else (col,),
    )


def _codes(tc: _TableCheck, column: str, sort: bool) -> tuple[np.ndarray, int]:
    """Integer codes of a key column (missing = -1) and the number of distinct codes.

    Dates (already at midnight) become day numbers, which keeps the codes in time
    order without hashing; other columns are factorized (sorted when ``sort``).
    """
    s = tc.values[column]
    if s.dtype.kind == "M":
        values = s.to_numpy()
        nat = np.isnat(values)
        ints = values.view("int64")
        if tc.spec.column(column).kind == "date" and not nat.all():
            present = ints[~nat] if nat.any() else ints
            lo, hi = present.min(), present.max()
            del present
            span = int((hi - lo) // _US_PER_DAY) + 1
            if span < 10_000_000:
                codes = ints - lo
                codes //= _US_PER_DAY
                codes[nat] = -1
                return codes, span
        codes, uniq = pd.factorize(ints, sort=True)
        codes = np.asarray(codes, dtype=np.int64)
        codes[nat] = -1
        return codes, len(uniq)
    codes, uniq = tc.factorize(column, sort=sort)
    return codes, len(uniq)


def _check_key(tc: _TableCheck) -> None:
    spec = tc.spec
    key = [k for k in spec.key]
    if "recorded_at" in tc.present:
        key.append("recorded_at")
    if not key or any(k not in tc.present for k in key):
        return  # optional id columns (payments, interactions) absent: no key check
    valid = np.ones(tc.n, dtype=bool)
    combined = np.zeros(tc.n, dtype=np.int64)
    top = 1
    for j, k in enumerate(key):
        codes, m = _codes(tc, k, sort=j > 0)
        valid &= codes >= 0
        if top * (m + 1) >= 2**62:
            combined, _ = pd.factorize(combined)
            combined = np.asarray(combined, dtype=np.int64)
            top = int(combined.max()) + 1 if len(combined) else 1
        combined *= m + 1
        combined += codes
        combined += 1
        del codes
        top *= m + 1
    sub = combined if valid.all() else combined[valid]
    if len(sub) < 2 or bool(np.all(sub[1:] > sub[:-1])):
        return  # rows grouped by customer and sorted in time: no duplicate possible
    dup_sub = pd.Series(sub).duplicated(keep=False).to_numpy()
    dup = np.zeros(tc.n, dtype=bool)
    dup[valid] = dup_sub
    n_keys = int(pd.Series(sub[dup_sub]).nunique())
    cols = ", ".join(key)
    ident = {spec.customer_column or "customer_id"}
    ident |= {"outage_id"} if spec.name == "outages" else {spec.time_column}
    name = f"{spec.name}.{key[0]}" if len(key) == 1 else f"{spec.name} key ({cols})"
    tc.add(
        "+".join(key),
        "duplicate_key",
        dup,
        f"rows share {n_keys:,} duplicated {_plural(n_keys, 'key', 'keys')}; every copy is set aside",
        f"duplicated key ({cols})",
        show=tuple(k for k in key if k not in ident),
        name=name,
    )


def _isin(values: pd.Index, allowed: pd.Index) -> np.ndarray:
    """Vectorised membership of text values (Arrow's ``is_in``)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    a = pa.array(np.asarray(values.astype(object)), type=pa.large_string(), from_pandas=True)
    b = pa.array(np.asarray(allowed.astype(object)), type=pa.large_string(), from_pandas=True)
    return np.asarray(pc.is_in(a, value_set=b).to_numpy(zero_copy_only=False), dtype=bool)


def _check_customers(
    tc: _TableCheck, all_ids: pd.Index | None, kept_ids: pd.Index | None, lenient: bool
) -> None:
    col = tc.spec.customer_column
    if col is None or all_ids is None or col not in tc.values:
        return
    codes, uniques = tc.factorize(col)
    if len(uniques) == 0:
        return
    u_known = _isin(uniques, all_ids)
    present = codes >= 0
    safe = np.where(present, codes, 0)
    orphan = present & ~u_known[safe]
    tc.add(
        col,
        "orphan",
        orphan,
        f"{_plural(int(orphan.sum()), 'row refers', 'rows refer')} to customers absent from the customers table",
        "customer_id not in customers",
        show=(),
    )
    if lenient and kept_ids is not None:
        u_kept = _isin(uniques, kept_ids)
        gone = present & u_known[safe] & ~u_kept[safe]
        tc.add(
            col,
            "customer_quarantined",
            gone,
            f"{_plural(int(gone.sum()), 'row belongs', 'rows belong')} to customers whose customers row was quarantined",
            "customer quarantined in customers",
            show=(),
        )


# ---------------------------------------------------------------- assembly


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


def _finish(tc: _TableCheck) -> tuple[pd.DataFrame, pd.DataFrame | None, np.ndarray]:
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
        q.insert(0, "_row", idx.astype(np.int64))
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


def _report_frame(problems: list[_Problem], lenient: bool) -> pd.DataFrame:
    rows = []
    for p in problems:
        if p.severity == "info":
            action = "noted"
        elif p.check in _STRUCTURAL:
            action = "raised"
        else:
            action = "quarantined" if lenient else "raised"
        rows.append(
            (p.table, p.column, p.check, p.severity, p.n_rows, p.examples, action, p.message)
        )
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    df["n_rows"] = df["n_rows"].astype("int64")
    return df


def _error_message(problems: list[_Problem], lenient: bool) -> str:
    n = len(problems)
    tables = sorted(
        {p.table for p in problems}, key=lambda t: TABLE_ORDER.index(t) if t in TABLE_ORDER else 99
    )
    head = (
        f"{n} data-contract {_plural(n, 'problem', 'problems')} in "
        f"{len(tables)} {_plural(len(tables), 'table', 'tables')} ({', '.join(tables)}):"
    )
    lines = [head] + [f"  - {p.message}" for p in problems]
    if lenient:
        lines.append("Missing tables and columns cannot be quarantined; add them to the source.")
    else:
        lines.append(f"To go on: {_FIX_HINT}.")
    return "\n".join(lines)


def validate_tables(tables_or_mapping, errors: str = "raise", data_end=None) -> Tables:
    """Coerce the contract tables to their validated dtypes and check them.

    Parameters
    ----------
    tables_or_mapping : Tables or mapping of str to pandas.DataFrame
        The tables, by contract name. ``customers`` and ``usage`` are required; any
        other absent table becomes an empty frame with the contract's columns.
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


def _validate(frames: dict, errors: str, data_end, unknown=()) -> Tables:
    """Validate ``frames`` (a private dict, emptied as the tables are processed)."""
    if errors not in ("raise", "quarantine"):
        raise ValueError(f"errors must be 'raise' or 'quarantine', got {errors!r}")
    lenient = errors == "quarantine"
    if data_end is not None:
        try:
            data_end = pd.Timestamp(data_end).normalize()
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"data_end must be a date such as '2025-12-31', got {data_end!r}"
            ) from exc
        if data_end is pd.NaT:
            data_end = None

    problems: list[_Problem] = []
    checks: dict[str, _TableCheck] = {}
    for name in TABLE_ORDER:
        spec = TABLES[name]
        if name not in frames:
            if name in ("customers", "usage"):
                problems.append(
                    _Problem(
                        name,
                        "",
                        "missing_table",
                        "error",
                        0,
                        "",
                        f"{name}: required table is missing; provide {name}.parquet, "
                        f"{name}.csv or a folder {name}/ of part-*.parquet files",
                    )
                )
            else:
                problems.append(
                    _Problem(
                        name,
                        "",
                        "absent_table",
                        "info",
                        0,
                        "",
                        f"{name}: optional table absent; an empty table is used",
                    )
                )
            continue
        tc = _TableCheck(spec, _prepare_raw(frames.pop(name), spec))
        _check_columns(tc)
        _check_logic(tc)
        _check_after_end(tc, data_end)
        _check_key(tc)
        checks[name] = tc
    for name in unknown:
        problems.append(
            _Problem(
                name, "", "unknown_table", "info", 0, "", f"{name}: not a contract table; ignored"
            )
        )

    # referential integrity against customers
    all_ids = kept_ids = None
    cust = checks.get("customers")
    if cust is not None and "customer_id" in cust.values:
        ids = cust.values["customer_id"]
        cust_bad = np.zeros(cust.n, dtype=bool)
        for p in cust.problems:
            if p.mask is not None:
                cust_bad |= p.mask
        all_ids = pd.Index(ids.dropna().unique())
        kept_ids = pd.Index(ids[~cust_bad].dropna().unique())
    for name, tc in checks.items():
        if name != "customers":
            _check_customers(tc, all_ids, kept_ids, lenient)

    for name in TABLE_ORDER:
        if name in checks:
            problems.extend(checks[name].problems)
    order = {n: i for i, n in enumerate(TABLE_ORDER)}
    # what cannot be quarantined first, then table by table in contract order
    problems.sort(key=lambda p: (p.check not in _STRUCTURAL, order.get(p.table, 99)))

    errors_found = [p for p in problems if p.severity == "error"]
    structural = [p for p in errors_found if p.check in _STRUCTURAL]
    if structural or (errors_found and not lenient):
        shown = structural if lenient else errors_found
        raise DataValidationError(
            _error_message(shown, lenient), problems=_report_frame(shown, lenient)
        )

    out: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    input_rows: dict[str, int] = {}
    for name in TABLE_ORDER:
        if name in checks:
            input_rows[name] = checks[name].n
            kept, q, _ = _finish(checks.pop(name))
            out[name] = kept
            if q is not None:
                quarantine[name] = q
        else:
            out[name] = _empty_table(TABLES[name])
            input_rows[name] = 0
    return Tables(
        **out,
        data_end=data_end,
        quarantine=quarantine,
        report=_report_frame(problems, lenient),
        input_rows=input_rows,
    )
