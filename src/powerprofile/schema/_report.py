"""Summaries of validated tables, a readable validation report, and their file forms.

The report and the quarantined rows held in :class:`Tables` name raw customer ids and
values, for the operator fixing the source. Files follow the PII policy instead:
:func:`redact_report` and :func:`redact_quarantine` replace customer ids by the keyed
``customer_key`` and drop PII (the contract columns flagged ``pii``).
"""

from __future__ import annotations

import ast
import re
import textwrap

import pandas as pd

from ._coerce import coerce_column
from ._contract import PII_COLUMNS, TABLE_ORDER, TABLES
from ._tables import Tables

__all__ = ["format_report", "redact_quarantine", "redact_report", "summarize"]

_QUOTED = r"'(?:[^'\\]|\\.)*'" + "|" + r'"(?:[^"\\]|\\.)*"'
# how validation examples name a row's customer ("customer 'C0000042'") and show a
# cell ("phone='138...'"): values are Python reprs (schema._validate)
_CUSTOMER_RE = re.compile(rf"\bcustomer ({_QUOTED})")
_PII_CELL_RE = re.compile(rf"\b({'|'.join(map(re.escape, PII_COLUMNS))})=({_QUOTED}|[^\s,;)]+)")
REDACTED = "<redacted>"
"""What replaces a PII value in report files."""


def summarize(tables: Tables) -> pd.DataFrame:
    """One row per table: rows kept and quarantined, customers, date range.

    Parameters
    ----------
    tables : Tables
        Validated tables.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``table`` (contract order), with columns ``rows`` (kept),
        ``quarantined``, ``input_rows``, ``customers`` (distinct customer ids, or
        missing for ``outages``), ``date_column``, ``first`` and ``last`` (dates of the
        table's time column; missing when the table has none or is empty).
    """
    rows = []
    for name in TABLE_ORDER:
        df = tables[name]
        spec = TABLES[name]
        q = tables.quarantine.get(name)
        nq = 0 if q is None else len(q)
        cust_col = "customer_id" if name == "customers" else spec.customer_column
        n_cust = df[cust_col].nunique() if cust_col and cust_col in df.columns else pd.NA
        col = spec.time_column if name != "customers" else "supply_start"
        first = last = pd.NaT
        if col and col in df.columns and len(df):
            first, last = df[col].min(), df[col].max()
        rows.append(
            {
                "table": name,
                "rows": len(df),
                "quarantined": nq,
                "input_rows": tables.input_rows.get(name, len(df) + nq),
                "customers": n_cust,
                "date_column": col,
                "first": first,
                "last": last,
            }
        )
    out = pd.DataFrame(rows).set_index("table")
    out["customers"] = out["customers"].astype("Int64")
    return out


def _day(v) -> str:
    if v is None or pd.isna(v):
        return "-"
    v = pd.Timestamp(v)
    return v.date().isoformat() if v == v.normalize() else v.isoformat(sep=" ", timespec="minutes")


def format_report(tables: Tables, width: int = 100) -> str:
    """Render the validation report of ``tables`` as plain text.

    Parameters
    ----------
    tables : Tables
        Tables returned by :func:`load_tables` or :func:`validate_tables`.
    width : int, default=100
        Wrap long problem lines at this width.

    Returns
    -------
    str
        A table of row counts (kept, quarantined, customers, date range) followed by
        one line per problem found, or "No problems found."
    """
    s = summarize(tables)
    end = "not declared" if tables.data_end is None else _day(tables.data_end)
    lines = [f"Data validation report (data_end: {end})", ""]
    header = f"{'table':<13}{'input rows':>13}{'kept':>13}{'quarantined':>13}{'customers':>11}  date range"
    lines.append(header)
    lines.append("-" * len(header) + "-" * 24)
    for name, r in s.iterrows():
        cust = "-" if pd.isna(r["customers"]) else f"{int(r['customers']):,}"
        rng = "-" if pd.isna(r["first"]) else f"{_day(r['first'])} .. {_day(r['last'])}"
        lines.append(
            f"{name:<13}{int(r['input_rows']):>13,}{int(r['rows']):>13,}"
            f"{int(r['quarantined']):>13,}{cust:>11}  {rng}"
        )
    report = tables.report
    lines.append("")
    if report is None or len(report) == 0:
        lines.append("No problems found.")
        return "\n".join(lines)
    errors = report[report["severity"] == "error"]
    infos = report[report["severity"] != "error"]
    if len(errors):
        n_bad = sum(len(q) for q in tables.quarantine.values())
        lines.append(
            f"Problems ({len(errors)}; {n_bad:,} rows quarantined, see Tables.quarantine):"
        )
        for msg, action in zip(errors["message"], errors["action"], strict=True):
            lines.append(
                textwrap.fill(
                    f"[{action}] {msg}",
                    width=width,
                    initial_indent="  ",
                    subsequent_indent="      ",
                )
            )
    else:
        lines.append("No row-level problems found.")
    if len(infos):
        lines.append("Notes:")
        for msg in infos["message"]:
            lines.append(
                textwrap.fill(msg, width=width, initial_indent="  ", subsequent_indent="      ")
            )
    return "\n".join(lines)


def _customer_ids(series: pd.Series) -> pd.Series:
    """Customer ids as validation reads them (text, empty = missing)."""
    values, _bad = coerce_column(series, "id")
    return values


def redact_report(report: pd.DataFrame, key=None) -> pd.DataFrame:
    """The validation report as it may be written to a file.

    Every ``customer '<id>'`` in ``examples`` and ``message`` becomes
    ``customer_key '<pseudonym>'`` (the keyed hash used in every output) and every shown
    PII cell (``name=``, ``phone=``, ``address=``, ``customer_id=``) becomes
    ``<redacted>`` unless it is ``missing``.

    Parameters
    ----------
    report : pandas.DataFrame
        ``Tables.report`` (columns ``REPORT_COLUMNS``).
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key (see :func:`powerprofile.privacy.resolve_pseudonym_key`).

    Returns
    -------
    pandas.DataFrame
        A copy; the input is unchanged.

    Raises
    ------
    PseudonymKeyError
        No key, or a weak key.
    """
    from ..privacy import pseudonymise, resolve_pseudonym_key

    key = resolve_pseudonym_key(key)
    out = report.copy()
    cols = [c for c in ("examples", "message") if c in out.columns]
    if not cols or not len(out):
        return out
    # one report row per problem (at most a few examples each): small, so plain re
    texts = {c: out[c].astype("string").fillna("").tolist() for c in cols}
    raw_ids = sorted(
        {ast.literal_eval(m) for c in cols for t in texts[c] for m in _CUSTOMER_RE.findall(t)}
    )
    keys = dict(zip(raw_ids, pseudonymise(raw_ids, key).tolist(), strict=True))

    def _customer(m: re.Match) -> str:
        return f"customer_key {keys[ast.literal_eval(m.group(1))]!r}"

    def _cell(m: re.Match) -> str:
        return m.group(0) if m.group(2) == "missing" else f"{m.group(1)}={REDACTED}"

    for c in cols:
        redacted = [_PII_CELL_RE.sub(_cell, _CUSTOMER_RE.sub(_customer, t)) for t in texts[c]]
        out[c] = pd.Series(redacted, index=out.index, dtype="string").where(out[c].notna())
    return out


def redact_quarantine(quarantine: dict, key=None, *, keep_pii: bool = False) -> dict:
    """Quarantined rows as they may be written to files.

    Each table's rows get a ``customer_key`` column (the keyed hash of the customer id,
    missing where the id is). Unless ``keep_pii``, the contract's PII columns of the
    table (raw ``customer_id``, ``name``, ``phone``, ``address``) and every column
    outside the contract (it cannot be classified) are dropped; ``_row`` (the row
    number in the input) and ``_problem`` stay.

    Parameters
    ----------
    quarantine : dict of str to pandas.DataFrame
        ``Tables.quarantine``.
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key (see :func:`powerprofile.privacy.resolve_pseudonym_key`).
    keep_pii : bool, default=False
        Keep every column as read (config key ``data.quarantine_pii``).

    Returns
    -------
    dict of str to pandas.DataFrame
        New frames, same keys; the input is unchanged.

    Raises
    ------
    PseudonymKeyError
        No key, or a weak key.
    """
    from ..privacy import pseudonymise, resolve_pseudonym_key

    key = resolve_pseudonym_key(key)
    out = {}
    for name, rows in quarantine.items():
        spec = TABLES.get(name)
        frame = rows.copy()
        cust = None
        if spec is not None:
            cust = "customer_id" if name == "customers" else spec.customer_column
        if cust and cust in frame.columns:
            ids = _customer_ids(frame[cust])
            hashed = pseudonymise(ids, key).where(ids.notna())
            at = 1 if "_row" in frame.columns else 0
            if "customer_key" in frame.columns:
                frame = frame.drop(columns="customer_key")
            frame.insert(at, "customer_key", hashed.astype("string").to_numpy())
        if not keep_pii:
            pii = {c.name for c in spec.columns if c.pii} if spec is not None else set()
            known = set(spec.names) if spec is not None else set()
            keep = [
                c
                for c in frame.columns
                if c in ("_row", "_problem", "customer_key") or (c in known and c not in pii)
            ]
            frame = frame[keep]
        out[name] = frame
    return out
