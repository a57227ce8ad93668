"""Summaries of validated tables and a readable validation report."""

from __future__ import annotations

import textwrap

import pandas as pd

from ._contract import TABLE_ORDER, TABLES
from ._tables import Tables

__all__ = ["format_report", "summarize"]


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
