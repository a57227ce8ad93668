"""Risk cases: every risk-rule hit followed from run to run until it is resolved.

A case is one customer (``customer_key``, the pseudonym) and one risk rule of
``configs/risk_rules.yaml``. At each run (snapshot ``T``):

- a hit with no open case opens one: state ``new``, owner unit the customer's grid
  unit, ``due_date = T + DUE_DAYS[severity]``;
- an open case whose rule still fires stays ``open``, or becomes ``overdue`` once
  ``T > due_date``;
- an open case whose rule no longer fires is ``resolved`` (``resolved_by = "rule"``),
  as is one named in an ingested resolution record (``resolved_by = "record"``);
- a resolved case stays resolved; a new hit after it opens a new case.

The cases live in a state file (``cases.parquet``) that the next run reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CASE_COLUMNS", "DUE_DAYS", "case_hits", "case_kpis", "early_warnings", "update_cases"]

DUE_DAYS = {"high": 7, "medium": 30, "low": 90}
"""Days allowed to close a case, by the rule's severity."""
OPEN_STATES = ("new", "open", "overdue")
CASE_COLUMNS = (
    "case_id",
    "customer_key",
    "rule",
    "severity",
    "owner_unit",
    "state",
    "opened",
    "due_date",
    "last_seen",
    "resolved",
    "resolved_by",
)


def case_hits(portraits: pd.DataFrame, severity: dict) -> pd.DataFrame:
    """The risk-rule hits of the portraits, one row per customer and rule.

    Parameters
    ----------
    portraits : pandas.DataFrame
        With ``customer_key``, ``grid_unit`` and one boolean ``risk_<rule>`` column
        per rule.
    severity : dict of str to str
        Rule name -> severity.

    Returns
    -------
    pandas.DataFrame
        ``customer_key``, ``rule``, ``severity``, ``owner_unit``.
    """
    rules = [r for r in severity if f"risk_{r}" in portraits.columns]
    if not rules:
        return pd.DataFrame(columns=["customer_key", "rule", "severity", "owner_unit"])
    flags = portraits[[f"risk_{r}" for r in rules]].fillna(False).to_numpy(bool)
    i, j = np.nonzero(flags)
    names = np.asarray(rules, dtype=object)
    return pd.DataFrame(
        {
            "customer_key": portraits["customer_key"].astype("string").to_numpy()[i],
            "rule": pd.array(names[j], dtype="string"),
            "severity": pd.array([severity[r] for r in names[j]], dtype="string"),
            "owner_unit": portraits["grid_unit"].astype("string").to_numpy()[i],
        }
    )


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in CASE_COLUMNS})
    for c in ("opened", "due_date", "last_seen", "resolved"):
        frame[c] = pd.Series([], dtype="datetime64[us]")
    return frame


def update_cases(
    previous: pd.DataFrame | None,
    hits: pd.DataFrame,
    snapshot,
    resolutions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Carry the cases of the previous run to ``snapshot`` (see the module docstring).

    Parameters
    ----------
    previous : pandas.DataFrame or None
        The previous run's cases (:data:`CASE_COLUMNS`), None for the first run.
    hits : pandas.DataFrame
        :func:`case_hits` of this run.
    snapshot : date-like
        This run's snapshot date.
    resolutions : pandas.DataFrame, optional
        Resolution records: ``case_id`` or (``customer_key``, ``rule``), and
        optionally ``resolved`` (date; default the snapshot).

    Returns
    -------
    pandas.DataFrame
        Every case ever opened, with its state at ``snapshot``.
    """
    T = pd.Timestamp(snapshot).normalize()
    prev = _empty() if previous is None or not len(previous) else previous.copy()
    for c in ("customer_key", "rule", "case_id", "state"):
        prev[c] = prev[c].astype("string")
    open_ = prev["state"].isin(OPEN_STATES).to_numpy()
    key_prev = prev["customer_key"] + "|" + prev["rule"]
    key_hit = hits["customer_key"].astype("string") + "|" + hits["rule"].astype("string")
    firing = key_prev.isin(set(key_hit)).to_numpy()
    still = open_ & firing
    stopped = open_ & ~firing
    prev.loc[still, "last_seen"] = T
    over = still & (prev["due_date"].to_numpy() < T.to_datetime64())
    prev.loc[still, "state"] = np.where(over[still], "overdue", "open")
    prev.loc[stopped, "state"] = "resolved"
    prev.loc[stopped, "resolved"] = T
    prev.loc[stopped, "resolved_by"] = "rule"
    # new cases: hits without an open case
    open_keys = set(key_prev[open_])
    new = hits[~key_hit.isin(open_keys).to_numpy()]
    due = new["severity"].astype(str).map(DUE_DAYS).fillna(DUE_DAYS["low"]).to_numpy(int)
    stamp = T.strftime("%Y%m%d")
    created = pd.DataFrame(
        {
            "case_id": pd.array(
                (
                    "R"
                    + stamp
                    + "-"
                    + new["rule"].astype(str)
                    + "-"
                    + new["customer_key"].astype(str)
                ),
                dtype="string",
            ),
            "customer_key": new["customer_key"].astype("string").to_numpy(),
            "rule": new["rule"].astype("string").to_numpy(),
            "severity": new["severity"].astype("string").to_numpy(),
            "owner_unit": new["owner_unit"].astype("string").to_numpy(),
            "state": "new",
            "opened": T,
            "due_date": T + pd.to_timedelta(due, unit="D"),
            "last_seen": T,
            "resolved": pd.NaT,
            "resolved_by": pd.NA,
        }
    )
    cases = pd.concat([prev, created], ignore_index=True) if len(prev) else created
    if resolutions is not None and len(resolutions):
        res = resolutions.copy()
        if "case_id" in res.columns:
            hit = cases["case_id"].isin(res["case_id"].astype("string"))
        else:
            rk = res["customer_key"].astype("string") + "|" + res["rule"].astype("string")
            hit = (cases["customer_key"] + "|" + cases["rule"]).isin(set(rk))
        hit &= cases["state"].isin(OPEN_STATES)
        cases.loc[hit, "state"] = "resolved"
        cases.loc[hit, "resolved"] = T
        cases.loc[hit, "resolved_by"] = "record"
    for c in ("case_id", "customer_key", "rule", "severity", "owner_unit", "state", "resolved_by"):
        cases[c] = cases[c].astype("string")
    for c in ("opened", "due_date", "last_seen", "resolved"):
        cases[c] = pd.to_datetime(cases[c]).astype("datetime64[us]")
    return cases[list(CASE_COLUMNS)].sort_values("case_id", ignore_index=True)


def case_kpis(cases: pd.DataFrame, unit_of_grid: pd.Series, level: str) -> pd.DataFrame:
    """Open, overdue and resolved cases and median days to resolve, per unit of a level."""
    c = cases.assign(unit_id=cases["owner_unit"].map(unit_of_grid).astype("string"))
    c = c[c["unit_id"].notna()]
    days = (c["resolved"] - c["opened"]).dt.days
    g = c.assign(
        open_cases=c["state"].isin(OPEN_STATES),
        overdue_cases=c["state"] == "overdue",
        resolved_cases=c["state"] == "resolved",
        days_to_resolve=days.where(c["state"] == "resolved"),
    ).groupby("unit_id")
    out = g[["open_cases", "overdue_cases", "resolved_cases"]].sum().astype(np.int64)
    out["median_days_to_resolve"] = g["days_to_resolve"].median()
    out = out.reset_index()
    out.insert(0, "level", level)
    return out


def early_warnings(portraits: pd.DataFrame) -> pd.DataFrame:
    """Public-opinion (舆情) early warnings: escalating complaints and high propensity.

    A customer is listed when the ``public_opinion`` or ``escalation`` risk rule fires
    (repeated or unresolved complaints) and the complaint propensity band is ``high``.
    """
    p = portraits
    flag = np.zeros(len(p), dtype=bool)
    for r in ("risk_public_opinion", "risk_escalation"):
        if r in p.columns:
            flag |= p[r].fillna(False).to_numpy(bool)
    if "complaint_band" in p.columns:
        flag &= (p["complaint_band"].astype("string") == "high").fillna(False).to_numpy(bool)
    else:
        flag &= False
    cols = [
        c
        for c in ("customer_key", "grid_unit", "complaint_score", "risk_flags", "risk_reasons_zh")
        if c in p.columns
    ]
    out = p.loc[flag, cols]
    if "complaint_score" in out.columns:
        out = out.sort_values("complaint_score", ascending=False)
    return out.reset_index(drop=True)
