"""Risk cases carried from run to run."""

from __future__ import annotations

import pandas as pd

from powerprofile.operations import case_hits, case_kpis, update_cases

HITS = pd.DataFrame(
    {
        "customer_key": ["K1", "K2", "K3"],
        "rule": ["escalation", "payment_arrears", "estimated_reads"],
        "severity": ["high", "high", "low"],
        "owner_unit": ["G1", "G2", "G2"],
    }
)


def test_states_across_two_consecutive_runs():
    run1 = update_cases(None, HITS, "2025-01-01")
    assert list(run1["state"]) == ["new", "new", "new"]
    due = run1.set_index("customer_key")["due_date"]
    assert due["K1"] == pd.Timestamp("2025-01-08")  # high: 7 days
    assert due["K3"] == pd.Timestamp("2025-04-01")  # low: 90 days
    # a month later K1 and K3 still fire, K2 does not
    run2 = update_cases(run1, HITS.iloc[[0, 2]], "2025-02-01").set_index("customer_key")
    assert run2.loc["K1", "state"] == "overdue"  # persists past its due date
    assert run2.loc["K3", "state"] == "open"  # persists, not yet due
    assert run2.loc["K2", "state"] == "resolved"  # stopped firing
    assert run2.loc["K2", "resolved_by"] == "rule"
    assert run2.loc["K2", "resolved"] == pd.Timestamp("2025-02-01")
    assert len(run2) == 3  # no case opened twice


def test_a_resolution_record_closes_a_firing_case_and_a_new_hit_reopens():
    run1 = update_cases(None, HITS, "2025-01-01")
    rec = pd.DataFrame({"customer_key": ["K1"], "rule": ["escalation"]})
    run2 = update_cases(run1, HITS, "2025-01-05", resolutions=rec).set_index("customer_key")
    assert run2.loc["K1", "state"] == "resolved" and run2.loc["K1", "resolved_by"] == "record"
    run3 = update_cases(run2.reset_index(), HITS, "2025-01-10")
    k1 = run3[run3["customer_key"] == "K1"].sort_values("opened")
    assert list(k1["state"]) == ["resolved", "new"]


def test_hits_from_portraits_and_case_kpis_per_unit():
    portraits = pd.DataFrame(
        {
            "customer_key": ["K1", "K2"],
            "grid_unit": ["G1", "G2"],
            "risk_escalation": [True, False],
            "risk_payment_arrears": [True, True],
        }
    )
    hits = case_hits(portraits, {"escalation": "high", "payment_arrears": "high", "x": "low"})
    assert sorted(zip(hits["customer_key"], hits["rule"], strict=True)) == [
        ("K1", "escalation"),
        ("K1", "payment_arrears"),
        ("K2", "payment_arrears"),
    ]
    run1 = update_cases(None, hits, "2025-01-01")
    run2 = update_cases(run1, hits.iloc[[0]], "2025-01-20")
    kpis = case_kpis(run2, pd.Series({"G1": "S1", "G2": "S1"}), "service_centre")
    row = kpis.set_index("unit_id").loc["S1"]
    assert row["open_cases"] == 1 and row["overdue_cases"] == 1
    assert row["resolved_cases"] == 2 and row["median_days_to_resolve"] == 19
