"""Problems found by validation: records, merging across parts, the report and the error.

A problem is found in one part of a table (:func:`~._validate.check_part`); the
problems of the parts of a table are merged into one per table, column and check
(:func:`merge_problems`: counts summed, the first five examples, every file named),
then rendered as the report (``REPORT_COLUMNS``) and, when they must be raised, as
one :class:`~powerprofile.exceptions.DataValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ._contract import TABLE_ORDER

__all__ = [
    "REPORT_COLUMNS",
    "STRUCTURAL",
    "empty_table_problem",
    "merge_problems",
    "missing_table_problem",
    "raise_problems",
    "report_frame",
    "table_problem",
]

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


_N_EXAMPLES = 5


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


def _report_frame(problems: list[_Problem], lenient: bool) -> pd.DataFrame:
    rows = []
    for p in problems:
        if p.severity == "info":
            action = "noted"
        elif p.check in STRUCTURAL:
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


def empty_table_problem(name: str, where: str = "") -> _Problem:
    """A required table without rows."""
    return table_problem(
        name,
        "",
        "empty_table",
        f"{name}: required table has no rows{where}; provide its rows (an empty "
        f"{name} table leaves nothing to profile)",
    )
