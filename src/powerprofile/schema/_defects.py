"""Inject one of each kind of row-level defect into a clean data set.

Used by the tests (lenient mode must quarantine exactly the injected rows) and to show
what the validator catches::

    python -m powerprofile.schema._defects data/sample
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._coerce import STRING_DTYPE
from ._contract import TABLE_ORDER, TABLES
from ._tables import Tables

__all__ = ["InjectedDefects", "inject_defects"]


@dataclass
class InjectedDefects:
    """A defective copy of a data set and where its defects are.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        The tables with the defects (RangeIndex; some columns turned into text so that
        unparseable values can be written into them).
    expected : pandas.DataFrame
        One row per injected defect: ``table``, ``row`` (position in ``tables[table]``),
        ``column``, ``check`` (the validator's check name), ``value`` (what was written).
        Rows of every table that belong to a customer whose ``customers`` row is
        defective are listed with check ``customer_quarantined``.
    data_end : pandas.Timestamp
        The declared end used for the ``after_end`` defects.
    bad_customer : str
        The customer whose ``customers`` row was made defective.
    """

    tables: dict
    expected: pd.DataFrame
    data_end: pd.Timestamp
    bad_customer: str


def _as_text(col: pd.Series, fmt: str | None = None) -> pd.Series:
    """Turn a column into pandas ``string``, formatting each distinct value once."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if fmt is not None:
        text = np.asarray(pd.Index(uniques).strftime(fmt), dtype=object)
    else:
        text = np.asarray([str(u) for u in uniques], dtype=object)
    out = np.where(codes >= 0, text[np.where(codes >= 0, codes, 0)] if len(text) else None, None)
    return pd.Series(pd.array(out, dtype=STRING_DTYPE), index=col.index, name=col.name)


def inject_defects(tables, data_end=None, seed: int = 0) -> InjectedDefects:
    """Return a copy of clean ``tables`` with one of each row-level defect.

    Defects: a customer row with an unknown category and an unparseable boolean (so
    its rows in every other table are quarantined with it); an outage ending before
    it starts; usage with an unparseable date, a negative, an absurd and a missing
    kWh, a row dated after ``data_end`` and a duplicated key; a bill with an
    unparseable amount and one due before it is issued; a payment from an unknown
    customer and one with an unknown channel; a contact with a satisfaction below
    the scale and one with an unknown channel; an event with an unknown kind.

    Parameters
    ----------
    tables : Tables or mapping of str to pandas.DataFrame
        A clean data set with all seven tables, validated dtypes, at least two
        customers and a few rows in each table.
    data_end : str or pandas.Timestamp, optional
        Declared end; defaults to ``tables.data_end``, else the latest usage date.
    seed : int, default=0
        Chooses the rows that get the defects.

    Returns
    -------
    InjectedDefects
    """
    rng = np.random.default_rng(seed)
    if isinstance(tables, Tables):
        frames = {k: v.copy() for k, v in tables.items()}
        data_end = tables.data_end if data_end is None else data_end
    else:
        frames = {k: tables[k].copy() for k in TABLE_ORDER}
    frames = {k: v.reset_index(drop=True) for k, v in frames.items()}
    if data_end is None:
        data_end = frames["usage"]["date"].max()
    data_end = pd.Timestamp(data_end).normalize()
    after = (data_end + pd.Timedelta(days=3)).date().isoformat()

    expected: list[tuple[str, int, str, str, object]] = []
    cust = frames["customers"]
    ids = cust["customer_id"].astype(STRING_DTYPE)
    # the customer whose profile row breaks: one that has bills, payments and contacts
    common = set(ids)
    for name in ("usage", "bills", "payments", "interactions"):
        common &= set(frames[name]["customer_id"].astype(STRING_DTYPE).dropna().unique())
    candidates = sorted(common)
    bad_customer = candidates[int(rng.integers(len(candidates)))]
    used: dict[str, set[int]] = {k: set() for k in TABLE_ORDER}

    def pick(name: str) -> int:
        df = frames[name]
        ok = np.ones(len(df), dtype=bool)
        if "customer_id" in df.columns and name != "customers":
            ok &= (
                (df["customer_id"].astype(STRING_DTYPE) != bad_customer)
                .fillna(True)
                .to_numpy(dtype=bool)
            )
        if used[name]:
            ok[list(used[name])] = False
        choices = np.flatnonzero(ok)
        i = int(choices[int(rng.integers(len(choices)))])
        used[name].add(i)
        return i

    def put(name: str, i: int, column: str, value, check: str) -> None:
        frames[name].loc[i, column] = value
        expected.append((name, i, column, check, value))

    # customers: unknown category and unparseable boolean on the same row
    i = int(np.flatnonzero((ids == bad_customer).to_numpy(dtype=bool))[0])
    used["customers"].add(i)
    cust["customer_type"] = cust["customer_type"].astype(STRING_DTYPE)
    cust["tou_flag"] = _as_text(cust["tou_flag"].map({True: "true", False: "false"}).astype(object))
    put("customers", i, "customer_type", "household", "category")
    put("customers", i, "tou_flag", "maybe", "unparseable")

    # outages: end before start
    out = frames["outages"]
    i = pick("outages")
    put("outages", i, "end", out.loc[i, "start"] - pd.Timedelta(hours=2), "end_before_start")

    # usage: date as text for the unparseable and after-end values
    use = frames["usage"]
    use["date"] = _as_text(use["date"], "%Y-%m-%d")
    put("usage", pick("usage"), "date", "2024-02-30", "unparseable")
    put("usage", pick("usage"), "kwh", -5.0, "negative")
    put("usage", pick("usage"), "kwh", 9.9e9, "absurd")
    put("usage", pick("usage"), "kwh", np.nan, "null")
    # the after-end row: a new row (copy of a real one) so no existing key is hit
    j = pick("usage")
    extra = use.iloc[[j]].copy()
    extra["date"] = pd.array([after], dtype=STRING_DTYPE)
    use = pd.concat([use, extra], ignore_index=True)
    frames["usage"] = use
    expected.append(("usage", len(use) - 1, "date", "after_end", after))
    used["usage"].add(len(use) - 1)
    # duplicated key: another copy of an existing row; both copies are bad
    j = pick("usage")
    use = pd.concat([use, use.iloc[[j]]], ignore_index=True)
    frames["usage"] = use
    key = "customer_id+date" + (
        "+recorded_at" if "recorded_at" in use.columns and use["recorded_at"].notna().all() else ""
    )
    expected.append(("usage", j, key, "duplicate_key", None))
    expected.append(("usage", len(use) - 1, key, "duplicate_key", None))

    # bills: unparseable amount, due before issue
    bills = frames["bills"]
    bills["amount"] = bills["amount"].astype(STRING_DTYPE)
    put("bills", pick("bills"), "amount", "12,5O", "unparseable")
    i = pick("bills")
    put(
        "bills",
        i,
        "due_date",
        bills.loc[i, "issue_date"] - pd.Timedelta(days=1),
        "due_before_issue",
    )

    # payments: unknown customer, unknown channel
    pay = frames["payments"]
    pay["channel"] = pay["channel"].astype(STRING_DTYPE)
    pay["customer_id"] = pay["customer_id"].astype(STRING_DTYPE)
    put("payments", pick("payments"), "customer_id", "X9999999", "orphan")
    put("payments", pick("payments"), "channel", "cash_in_envelope", "category")

    # interactions: satisfaction out of range, unknown channel
    inter = frames["interactions"]
    inter["channel"] = inter["channel"].astype(STRING_DTYPE)
    put("interactions", pick("interactions"), "satisfaction", 0.0, "out_of_range")
    put("interactions", pick("interactions"), "channel", "fax", "category")

    # events: unknown kind
    ev = frames["events"]
    ev["kind"] = ev["kind"].astype(STRING_DTYPE)
    put("events", pick("events"), "kind", "moved_abroad", "category")

    # rows of the defective customer in the per-customer tables
    for name in TABLE_ORDER:
        spec = TABLES[name]
        if spec.customer_column is None:
            continue
        mask = (frames[name][spec.customer_column].astype(STRING_DTYPE) == bad_customer).fillna(
            False
        )
        for r in np.flatnonzero(mask.to_numpy(dtype=bool)):
            expected.append((name, int(r), "customer_id", "customer_quarantined", bad_customer))

    exp = pd.DataFrame(expected, columns=["table", "row", "column", "check", "value"])
    return InjectedDefects(frames, exp, data_end, bad_customer)


def main(argv=None) -> int:
    """Inject one of each defect into a data-set folder and print the validator's report."""
    from ._reader import load_tables
    from ._report import format_report
    from ._validate import validate_tables

    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else "data/sample"
    clean = load_tables(path)
    inj = inject_defects(clean, seed=0)
    n_rows = len(inj.expected[["table", "row"]].drop_duplicates())
    print(
        f"Injected into {path!r} ({n_rows} bad rows expected, customer "
        f"{inj.bad_customer!r} broken in customers):"
    )
    print(inj.expected.groupby(["table", "check"], sort=False).size().to_string())
    print()
    result = validate_tables(inj.tables, errors="quarantine", data_end=inj.data_end)
    print(format_report(result))
    got = {(t, int(r)) for t, q in result.quarantine.items() for r in q["_row"]}
    want = {(t, int(r)) for t, r in zip(inj.expected["table"], inj.expected["row"], strict=True)}
    print()
    print(f"quarantined rows == injected rows: {got == want} ({len(got)} rows)")
    return 0 if got == want else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
