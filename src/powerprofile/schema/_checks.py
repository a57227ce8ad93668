"""The checks of one part of a table: coerce each column, then vectorised masks.

Each check adds a problem with the mask of the rows it hits (see :mod:`._problems`);
no check loops over rows in Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._partition import partition_of
from ._coerce import coerce_column
from ._contract import DATE_MAX, DATE_MIN, ColumnSpec, TableSpec
from ._problems import _N_EXAMPLES, _Problem, _render

__all__ = []

_US_PER_DAY = 86_400_000_000


_DATE_LO = np.datetime64(DATE_MIN, "us")


_DATE_HI = np.datetime64(DATE_MAX, "us") + np.timedelta64(1, "D")


_STAGE = {
    "logic": 1,
    "after_end": 2,
    "duplicate_key": 3,
    "wrong_partition": 4,
    "orphan": 5,
    "customer_quarantined": 6,
}


_COLUMN_CHECKS = ("category", "unparseable", "null", "negative", "out_of_range", "absurd")


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
        self.deferred: set[str] = set()  # text columns still categorical (see _check_columns)

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
        rc = raw[col.name]
        if col.kind in ("id", "text") and isinstance(rc.dtype, pd.CategoricalDtype):
            # dictionary-encoded text: checked as categories, made ``string`` when kept
            empty = [c for c in rc.cat.categories if c == ""]
            values = rc.cat.remove_categories(empty) if empty else rc
            bad = np.zeros(len(rc), dtype=bool)
            tc.deferred.add(col.name)
        else:
            values, bad = coerce_column(rc, col.kind, col.categories)
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
    if len(x) == 0:
        return
    ints = x.view("int64")
    lo, hi = _DATE_LO.astype("int64"), _DATE_HI.astype("int64")
    if ints.min() >= lo and ints.max() < hi:  # NaT (INT64_MIN) takes the slow path
        return
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


def _order_values(tc: _TableCheck, column: str) -> np.ndarray:
    """int64 values of a key column that sort like the column (missing = INT64_MIN).

    Text is factorized in order of appearance (clustered rows give rising codes),
    date-times are their microseconds.
    """
    s = tc.values[column]
    if s.dtype.kind == "M":
        return s.to_numpy().view("int64")  # NaT is INT64_MIN
    codes, _ = tc.factorize(column)
    return np.where(codes >= 0, codes, np.iinfo(np.int64).min) if (codes < 0).any() else codes


def _strictly_increasing(tc: _TableCheck, key: list[str]) -> bool:
    """Whether the rows' keys rise strictly (then no key repeats), without hashing.

    One vectorised lexicographic comparison of neighbouring rows; rows with a
    missing key value are left out (they are flagged by the null check).
    """
    if tc.n < 2:
        return True
    cols = [_order_values(tc, k) for k in key]
    missing = np.iinfo(np.int64).min
    valid = None
    for c in cols:
        bad = c == missing
        if bad.any():
            valid = ~bad if valid is None else valid & ~bad
    if valid is not None:
        cols = [c[valid] for c in cols]
        if len(cols[0]) < 2:
            return True
    gt = np.zeros(len(cols[0]) - 1, dtype=bool)  # built from the last key column back
    for c in reversed(cols):
        a, b = c[:-1], c[1:]
        gt = (b > a) | ((b == a) & gt)
    return bool(gt.all())


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
    elif _strictly_increasing(tc, key):
        return  # rows grouped by customer and sorted in time: no duplicate possible
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
    """Vectorised membership of text values.

    Against a large set of unique texts (every customer id, checked part after
    part) the look-up goes through the set's own hash table, which pandas builds
    once per index and keeps; otherwise Arrow's ``is_in``.
    """
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    if (
        len(allowed) > 4 * len(values)
        and isinstance(values.dtype, pd.StringDtype)
        and isinstance(allowed.dtype, pd.StringDtype)
        and allowed.is_unique
    ):
        # one string dtype on both sides: with two ("string" and "str") pandas would
        # compare through a common dtype and rebuild the hash table at every call
        return allowed.get_indexer(values.astype(allowed.dtype)) >= 0
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
