"""Validation of the contract tables: coerce, check, quarantine, report.

Every check is a vectorised mask over a table's rows. The unit of work is one
**part** of a table (:func:`check_part`): a whole in-memory table, one file, or one
hash partition of a data-set folder; the streaming reader and :func:`validate_tables`
both call it, and :func:`merge_problems` combines the problems of the parts of a table
into the report (counts summed, the first five examples, the files named).

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
import pyarrow as pa
import pyarrow.compute as pc

from .._partition import partition_of
from ..exceptions import DataValidationError
from ._coerce import coerce_column, empty_column
from ._contract import DATE_MAX, DATE_MIN, TABLE_ORDER, TABLES, ColumnSpec, TableSpec
from ._tables import Tables

__all__ = ["REPORT_COLUMNS", "validate_tables"]

REPORT_COLUMNS = ["table", "column", "check", "severity", "n_rows", "examples", "action", "message"]
"""Columns of ``Tables.report`` and ``DataValidationError.problems``."""

STRUCTURAL = (
    "dataset_json",
    "unreadable_file",
    "missing_part",
    "extra_part",
    "mixed_types",
    "row_count",
    "missing_table",
    "empty_table",
    "missing_column",
    "duplicate_column",
)
"""Checks about the data set's files and layout: raised in both modes (no row can be
set aside to fix them)."""
_STRUCTURAL = STRUCTURAL
_N_EXAMPLES = 5
_US_PER_DAY = 86_400_000_000
_FIX_HINT = "fix the source or pass errors='quarantine' to set the bad rows aside"
_DATE_LO = np.datetime64(DATE_MIN, "us")
_DATE_HI = np.datetime64(DATE_MAX, "us") + np.timedelta64(1, "D")
# order of the checks of one table (so that merged parts list them as one table would)
_STAGE = {
    "logic": 1,
    "after_end": 2,
    "duplicate_key": 3,
    "wrong_partition": 4,
    "orphan": 5,
    "customer_quarantined": 6,
}
_COLUMN_CHECKS = ("category", "unparseable", "null", "negative", "out_of_range", "absurd")


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
    name: str = ""  # "usage.kwh": the message's subject
    what: tuple[str, str] = ("", "")  # description for one row, for several rows
    example_list: tuple[str, ...] = ()
    n_keys: int = 0  # duplicate_key: distinct keys involved
    files: tuple[tuple[str, int], ...] = ()  # (file, rows) where the rows were read
    rank: tuple = ()

    @property
    def row_level(self) -> bool:
        return self.severity == "error" and self.check not in STRUCTURAL and bool(self.name)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _render(p: _Problem) -> _Problem:
    """Fill ``examples`` and ``message`` of a problem from its parts (and its files)."""
    if not p.row_level:
        if p.files:
            if not p.label:  # the message without files, kept to render merged files
                p.label = p.message
            names = ", ".join(repr(f) for f, _ in p.files)
            p.message = f"{p.label} ({_plural(len(p.files), 'file', 'files')} {names})"
        return p
    shown = p.example_list[:_N_EXAMPLES]
    p.examples = ", ".join(shown) + (", …" if p.n_rows > len(shown) else "")
    what = p.what[0 if p.n_rows == 1 else 1]
    if p.check == "duplicate_key":
        what = what.format(k=f"{p.n_keys:,}", keys=_plural(p.n_keys, "key", "keys"))
    where = ""
    if p.files:
        if len(p.files) == 1:
            where = f" in {p.files[0][0]!r}"
        else:
            where = " in " + ", ".join(
                f"{f!r} ({n:,} {_plural(n, 'row', 'rows')})" for f, n in p.files
            )
    p.message = f"{p.name}: {p.n_rows:,} {what} (examples: {p.examples}){where}"
    return p


def merge_problems(parts, duplicated_keys: Mapping[str, int] | None = None) -> list[_Problem]:
    """Combine the problems found in the parts of the tables into one list.

    Parameters
    ----------
    parts : iterable of list of _Problem
        The problems of each part, parts of a table in row order.
    duplicated_keys : mapping of str to int, optional
        Per table, the number of distinct duplicated keys when duplicates were
        looked for across parts (the parts' own counts would count a key once per
        part it appears in).

    Returns
    -------
    list of _Problem
        One problem per table, column and check: row counts summed, the first five
        examples, every file named; what cannot be quarantined first, then table by
        table in contract order, each table's checks in the order they run.
    """
    merged: dict[tuple, _Problem] = {}
    for problems in parts:
        for p in problems:
            k = (p.table, p.column, p.check, p.severity)
            q = merged.get(k)
            if q is None:
                merged[k] = replace(p, mask=None)
                continue
            if not p.row_level:
                if p.files:
                    q.files = q.files + tuple(f for f in p.files if f not in q.files)
                    _render(q)
                continue
            q.n_rows += p.n_rows
            q.n_keys += p.n_keys
            if len(q.example_list) < _N_EXAMPLES:
                q.example_list = (q.example_list + p.example_list)[:_N_EXAMPLES]
            q.files = q.files + p.files
    for (table, _, check, _), q in merged.items():
        if check == "duplicate_key" and duplicated_keys and table in duplicated_keys:
            q.n_keys = duplicated_keys[table]
        _render(q)
    order = {n: i for i, n in enumerate(TABLE_ORDER)}
    return sorted(
        merged.values(),
        key=lambda p: (p.check not in STRUCTURAL, order.get(p.table, 99), p.rank),
    )


# ---------------------------------------------------------------- formatting


def _fmt_value(v) -> str:
    """Readable form of one cell for messages."""
    if v is None or v is pd.NA or v is pd.NaT:
        return "missing"
    if isinstance(v, float) and np.isnan(v):
        return "missing"
    if isinstance(v, pd.Timestamp):
        v = v.tz_localize(None).to_datetime64() if v.tz is not None else v.to_datetime64()
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return "missing"
        v = v.astype("datetime64[us]")
        if v.astype("int64") % _US_PER_DAY == 0:  # numpy formats any year (-5, 9999)
            return str(np.datetime_as_string(v, unit="D"))
        text = str(np.datetime_as_string(v, unit="us")).replace("T", " ")
        return text[:-7] if text.endswith(".000000") else text
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


class _TableCheck:
    """Coerced columns, problems and helpers for one part of a table."""

    def __init__(self, spec: TableSpec, raw: pd.DataFrame):
        self.spec = spec
        self.raw = raw
        self.n = len(raw)
        self.values: dict[str, pd.Series] = {}
        self.present: set[str] = set()
        self.problems: list[_Problem] = []
        self._factorized: dict[tuple[str, bool], tuple[np.ndarray, pd.Index]] = {}
        self._stage = 0

    def factorize(self, column: str, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
        """Codes (missing = -1) and uniques of a coerced column, computed once.

        A text column read dictionary-encoded (categorical) is factorized through its
        categories, so the cost is per distinct value rather than per row.
        """
        k = (column, sort)
        if k not in self._factorized:
            raw = self.raw[column] if column in self.raw.columns else None
            kind = self.spec.column(column).kind if column in self.spec.names else ""
            if (
                not sort
                and kind in ("id", "text")
                and raw is not None
                and isinstance(raw.dtype, pd.CategoricalDtype)
            ):
                cats = pd.Index(raw.cat.categories.astype(str))
                codes = raw.cat.codes.to_numpy().astype(np.int64)
                if (cats == "").any() or not cats.is_unique:
                    u_codes, uniques = pd.factorize(cats.where(cats != "", None))
                    lookup = np.asarray(u_codes, dtype=np.int64)
                    codes = np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
                    cats = pd.Index(uniques)
                self._factorized[k] = (codes, pd.Index(cats.astype(object)).astype("string"))
            else:
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
            return f"row {i + self.offset}"
        return " ".join(parts)

    offset = 0  # row number of the part's first row in its table

    def _cell(self, column: str, i: int) -> str:
        if column in self.values:
            v = self.values[column].iloc[i]
            if not pd.isna(v):
                return _fmt_value(v)
        if column in self.raw.columns:
            return _fmt_value(self.raw[column].iloc[i])
        return "missing"

    def examples(self, mask: np.ndarray, columns: tuple[str, ...]) -> tuple[str, ...]:
        rows = np.flatnonzero(mask)[:_N_EXAMPLES]
        out = []
        for i in rows:
            ident = self._identity(int(i))
            cells = " ".join(f"{c}={self._cell(c, int(i))}" for c in columns)
            out.append(f"{ident} {cells}".strip())
        return tuple(out)

    def add(
        self,
        column: str,
        check: str,
        mask: np.ndarray,
        what: tuple[str, str],
        label: str,
        show: tuple[str, ...] | None = None,
        name: str | None = None,
        n_keys: int = 0,
    ) -> None:
        """Record a row-level error if ``mask`` has any True.

        ``what`` describes the problem for one row and for several rows.
        """
        n = int(np.count_nonzero(mask))
        if n == 0:
            return
        show = (column,) if show is None else show
        if name is None:
            name = f"{self.spec.name}.{column}" if column else self.spec.name
        if check in _STAGE:
            rank = (_STAGE[check], 0, 0)
        else:
            pos = self.spec.names.index(column) if column in self.spec.names else 99
            rank = (0, pos, _COLUMN_CHECKS.index(check) if check in _COLUMN_CHECKS else 9)
        p = _Problem(
            self.spec.name,
            column,
            check,
            "error",
            n,
            "",
            "",
            mask,
            f"{name}: {label}",
            name=name,
            what=what,
            example_list=self.examples(mask, show),
            n_keys=n_keys,
            rank=rank,
        )
        self.problems.append(_render(p))

    def info(self, column: str, check: str, message: str) -> None:
        self.problems.append(
            _Problem(self.spec.name, column, check, "info", 0, "", message, rank=(0, 999, 0))
        )

    def structural(self, column: str, check: str, message: str) -> None:
        pos = self.spec.names.index(column) if column in self.spec.names else 99
        self.problems.append(
            _Problem(self.spec.name, column, check, "error", 0, "", message, rank=(0, pos, 0))
        )


# ---------------------------------------------------------------- checks


def _check_columns(tc: _TableCheck) -> None:
    """Coerce present columns; check types, nulls, categories, bounds and date range."""
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
                (
                    f"value not among the allowed categories ({allowed})",
                    f"values not among the allowed categories ({allowed})",
                ),
                "value not an allowed category",
            )
        else:
            word = _KIND_WORD[col.kind]
            tc.add(
                col.name,
                "unparseable",
                bad,
                (f"value that cannot be read as {word}", f"values that cannot be read as {word}"),
                f"cannot be read as {word}",
            )
        if not col.nullable:
            null = isna & ~bad
            tc.add(
                col.name,
                "null",
                null,
                (
                    "missing value in a column that must be filled",
                    "missing values in a column that must be filled",
                ),
                "missing value",
            )
        if col.kind == "float" and (col.min_value is not None or col.max_value is not None):
            _check_bounds(tc, col, values.to_numpy(dtype="float64"))
        if col.kind in ("date", "datetime"):
            _check_date_range(tc, col, values.to_numpy())
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
    "datetime": "a date-time (use ISO YYYY-MM-DD HH:MM:SS, naive local time)",
    "float": "a number",
    "bool": "a boolean (true/false, 1/0, yes/no)",
}


def _check_date_range(tc: _TableCheck, col: ColumnSpec, x: np.ndarray) -> None:
    """Dates outside ``DATE_MIN`` .. ``DATE_MAX`` (year 1, 9999, -5 ...) are errors."""
    x = x.astype("datetime64[us]", copy=False)
    out = (x < _DATE_LO) | (x >= _DATE_HI)  # NaT compares False
    tc.add(
        col.name,
        "out_of_range",
        out,
        (
            f"date outside the plausible range {DATE_MIN} .. {DATE_MAX}",
            f"dates outside the plausible range {DATE_MIN} .. {DATE_MAX}",
        ),
        f"date outside {DATE_MIN} .. {DATE_MAX}",
    )


def _check_bounds(tc: _TableCheck, col: ColumnSpec, x: np.ndarray) -> None:
    with np.errstate(invalid="ignore"):
        if col.min_value is not None:
            low = x < col.min_value
            if col.min_value == 0:
                tc.add(
                    col.name,
                    "negative",
                    low,
                    ("negative value", "negative values"),
                    "negative value",
                )
            else:
                m = _num(col.min_value)
                tc.add(
                    col.name,
                    "out_of_range",
                    low,
                    (f"value below the minimum {m}", f"values below the minimum {m}"),
                    f"below the minimum {m}",
                )
        if col.max_value is not None:
            high = x > col.max_value  # +inf included
            m = _num(col.max_value)
            tc.add(
                col.name,
                "absurd",
                high,
                (f"absurd value above the maximum {m}", f"absurd values above the maximum {m}"),
                f"absurd value above {m}",
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
            ("outage ends before it starts", "outages end before they start"),
            "end before start",
            show=("start", "end"),
        )
    if tc.spec.name == "bills" and "issue_date" in v and "due_date" in v:
        bad = (v["due_date"] < v["issue_date"]).to_numpy(dtype=bool)
        tc.add(
            "due_date",
            "due_before_issue",
            bad,
            ("bill is due before it is issued", "bills are due before they are issued"),
            "due before issue date",
            show=("issue_date", "due_date"),
        )


def _check_after_end(tc: _TableCheck, data_end: pd.Timestamp | None) -> None:
    col = tc.spec.time_column
    if data_end is None or col is None or col not in tc.values:
        return
    limit = np.datetime64(data_end.normalize() + pd.Timedelta(days=1), "us")
    bad = tc.values[col].to_numpy() >= limit
    end = data_end.date().isoformat()
    tc.add(
        col,
        "after_end",
        bad,
        (f"row dated after data_end {end}", f"rows dated after data_end {end}"),
        f"dated after data_end {end}",
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
        any_nat = bool(nat.any())
        if tc.spec.column(column).kind == "date" and len(ints) and not (any_nat and nat.all()):
            present = ints[~nat] if any_nat else ints
            lo, hi = present.min(), present.max()
            del present
            span = int((hi - lo) // _US_PER_DAY) + 1
            if span < 10_000_000:
                codes = ints - lo
                codes //= _US_PER_DAY
                if any_nat:
                    codes[nat] = -1
                return codes, span
        codes, uniq = pd.factorize(ints, sort=True)
        codes = np.asarray(codes, dtype=np.int64)
        codes[nat] = -1
        return codes, len(uniq)
    codes, uniq = tc.factorize(column, sort=sort)
    return codes, len(uniq)


def _key_columns(tc: _TableCheck) -> list[str]:
    key = list(tc.spec.key)
    if "recorded_at" in tc.present:
        key.append("recorded_at")
    return key


def _check_key(tc: _TableCheck, duplicated: pd.Index | None = None) -> None:
    """Rows sharing a key; every copy is flagged.

    ``duplicated``: for a single-column key checked across the parts of a table,
    the key values that occur more than once in the whole table.
    """
    spec = tc.spec
    key = _key_columns(tc)
    if not key or any(k not in tc.present for k in key):
        return  # optional id columns (payments, interactions) absent: no key check
    cols = ", ".join(key)
    ident = {spec.customer_column or "customer_id"}
    ident |= {"outage_id"} if spec.name == "outages" else {spec.time_column}
    name = f"{spec.name}.{key[0]}" if len(key) == 1 else f"{spec.name} key ({cols})"
    if duplicated is not None and len(key) == 1:
        codes, uniques = tc.factorize(key[0])
        if len(uniques) == 0 or len(duplicated) == 0:
            return
        hit = _isin(uniques, duplicated)
        dup = (codes >= 0) & hit[np.maximum(codes, 0)]
        n_keys = int(np.count_nonzero(hit))
    else:
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
        all_valid = bool(valid.all())
        sub = combined if all_valid else combined[valid]
        if len(sub) < 2 or bool(np.all(sub[1:] > sub[:-1])):
            return  # rows grouped by customer and sorted in time: no duplicate possible
        dup_sub = pd.Series(sub).duplicated(keep=False).to_numpy()
        if all_valid:
            dup = dup_sub
        else:
            dup = np.zeros(tc.n, dtype=bool)
            dup[valid] = dup_sub
        n_keys = int(pd.Series(sub[dup_sub]).nunique())
    tc.add(
        "+".join(key),
        "duplicate_key",
        dup,
        (
            "row shares {k} duplicated {keys}; every copy is set aside",
            "rows share {k} duplicated {keys}; every copy is set aside",
        ),
        f"duplicated key ({cols})",
        show=tuple(k for k in key if k not in ident),
        name=name,
        n_keys=n_keys,
    )


def _isin(values: pd.Index, allowed: pd.Index) -> np.ndarray:
    """Vectorised membership of text values (Arrow's ``is_in``)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    a = pa.array(np.asarray(values.astype(object)), type=pa.large_string(), from_pandas=True)
    b = pa.array(np.asarray(allowed.astype(object)), type=pa.large_string(), from_pandas=True)
    return np.asarray(pc.is_in(a, value_set=b).to_numpy(zero_copy_only=False), dtype=bool)


def _check_partition(tc: _TableCheck, partition: tuple[int, int] | None) -> None:
    """Rows of hash partition ``p`` of ``P`` whose customer belongs to another part."""
    col = tc.spec.customer_column
    if partition is None or col is None or col not in tc.values:
        return
    p, n_parts = partition
    codes, uniques = tc.factorize(col)
    if len(uniques) == 0:
        return
    elsewhere = partition_of(uniques, n_parts) != p
    if not elsewhere.any():
        return
    wrong = (codes >= 0) & elsewhere[np.maximum(codes, 0)]
    tc.add(
        col,
        "wrong_partition",
        wrong,
        (
            f"row stored in the wrong part (by powerprofile.partition_of(customer_id, {n_parts})"
            " its customer belongs to another part)",
            f"rows stored in the wrong part (by powerprofile.partition_of(customer_id, {n_parts})"
            " their customers belong to other parts)",
        ),
        "stored in the wrong partition",
        show=(),
    )


def _check_customers(
    tc: _TableCheck,
    all_ids: pd.Index | None,
    kept_ids: pd.Index | None,
    lenient: bool,
    customers_file: str | None = None,
) -> None:
    col = tc.spec.customer_column
    if col is None or all_ids is None or col not in tc.values:
        return
    codes, uniques = tc.factorize(col)
    if len(uniques) == 0:
        return
    u_known = _isin(uniques, all_ids)
    where = f" ({customers_file!r})" if customers_file else ""
    present = codes >= 0
    safe = np.where(present, codes, 0)
    if not u_known.all():
        orphan = present & ~u_known[safe]
        tc.add(
            col,
            "orphan",
            orphan,
            (
                f"row refers to customers absent from the customers table{where}",
                f"rows refer to customers absent from the customers table{where}",
            ),
            "customer_id not in customers",
            show=(),
        )
    if lenient and kept_ids is not None and len(kept_ids) < len(all_ids):
        u_kept = _isin(uniques, kept_ids)
        gone_u = u_known & ~u_kept
        if gone_u.any():
            gone = present & gone_u[safe]
            tc.add(
                col,
                "customer_quarantined",
                gone,
                (
                    "row belongs to customers whose customers row was quarantined",
                    "rows belong to customers whose customers row was quarantined",
                ),
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
    if id_col is not None and id_col in tc.values:
        codes, uniques = tc.factorize(id_col)
        tc.values[id_col] = pd.Series(
            pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(uniques.astype(object)))
        )
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
    if lenient or all(p.check in STRUCTURAL for p in problems):
        lines.append(
            "Missing or unreadable files, tables and columns cannot be quarantined; fix the source."
        )
    else:
        lines.append(f"To go on: {_FIX_HINT}.")
    return "\n".join(lines)


def raise_problems(problems: list[_Problem], lenient: bool) -> None:
    """Raise the one DataValidationError for ``problems`` (merged), if any must be raised.

    What cannot be quarantined (files, layout, missing tables and columns) is raised
    in both modes; row-level errors only in strict mode.
    """
    errors_found = [p for p in problems if p.severity == "error"]
    structural = [p for p in errors_found if p.check in STRUCTURAL]
    if structural or (errors_found and not lenient):
        shown = structural if lenient else errors_found
        raise DataValidationError(
            _error_message(shown, lenient), problems=_report_frame(shown, lenient)
        )


def report_frame(problems: list[_Problem], lenient: bool) -> pd.DataFrame:
    """The report DataFrame (``REPORT_COLUMNS``) of merged problems."""
    return _report_frame(problems, lenient)


def table_problem(table: str, column: str, check: str, message: str, severity="error") -> _Problem:
    """A problem of a whole table or file (not tied to rows)."""
    return _Problem(table, column, check, severity, 0, "", message)


def missing_table_problem(name: str, where: str = "") -> _Problem:
    """The report entry of an absent table (an error for ``customers`` and ``usage``)."""
    if name in ("customers", "usage"):
        return table_problem(
            name,
            "",
            "missing_table",
            f"{name}: required table is missing{where}; provide {name}.parquet, "
            f"{name}.csv or a folder {name}/ of part-*.parquet files",
        )
    return table_problem(
        name,
        "",
        "absent_table",
        f"{name}: optional table absent; an empty table is used",
        severity="info",
    )


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
        ids = pd.Index(values.dropna().unique())
        kept_ids = pd.Index(values[~cust_bad].dropna().unique()) if cust_bad.any() else ids
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


def empty_table_problem(name: str, where: str = "") -> _Problem:
    """A required table without rows."""
    return table_problem(
        name,
        "",
        "empty_table",
        f"{name}: required table has no rows{where}; provide its rows (an empty "
        f"{name} table leaves nothing to profile)",
    )


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
