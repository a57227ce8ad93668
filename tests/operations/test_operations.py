"""Hierarchy checks, target cascade, roll-ups and risk-case states."""

from __future__ import annotations

import pandas as pd
import pytest

from powerprofile.exceptions import DataValidationError
from powerprofile.operations import Target, TargetSet, cascade_targets, update_cases
from powerprofile.schema import check_hierarchy


def _org(rows):
    f = pd.DataFrame(rows, columns=["unit_id", "parent_id", "level"])
    f["name_zh"] = f["unit_id"]
    f["name_en"] = f["unit_id"]
    return f.astype({"unit_id": "string", "parent_id": "string", "level": "string"})


GOOD = [
    ("P", None, "province"),
    ("C1", "P", "city"),
    ("X1", "C1", "county"),
    ("X2", "C1", "county"),
    ("S1", "X1", "service_centre"),
    ("S2", "X2", "service_centre"),
    ("G1", "S1", "grid_unit"),
    ("G2", "S2", "grid_unit"),
]


def test_good_hierarchy_passes():
    customers = pd.DataFrame({"grid_unit": ["G1", "G2"]})
    check_hierarchy(_org(GOOD), customers)


def test_orphan_is_named():
    rows = [*GOOD, ("G3", "S9", "grid_unit")]
    with pytest.raises(DataValidationError, match=r"unit 'G3' is an orphan: its parent 'S9'"):
        check_hierarchy(_org(rows))


def test_cycle_is_named():
    rows = [r for r in GOOD if r[0] not in ("S1",)] + [("S1", "G1", "service_centre")]
    with pytest.raises(DataValidationError, match=r"is its own ancestor \(cycle"):
        check_hierarchy(_org(rows))


def test_unknown_customer_grid_unit_is_named():
    customers = pd.DataFrame({"grid_unit": ["G1", "G7", "G7"]})
    with pytest.raises(
        DataValidationError, match=r"1 unknown grid unit\(s\) \(2 customers; first: \['G7'\]"
    ):
        check_hierarchy(_org(GOOD), customers)


def test_targets_cascade_inherit_rates_and_apportion_counts():
    org = _org(GOOD)
    m = pd.Timestamp("2025-01-01")
    ind = pd.DataFrame(
        {
            "unit_id": ["P", "C1", "X1", "X2", "S1", "S2", "G1", "G2"],
            "month": m,
            "customers": [100, 100, 30, 70, 30, 70, 30, 70],
        }
    )
    ts = TargetSet(
        targets=[
            Target("repeat_contact_rate_7d", "province", 0.3),
            Target("complaints", "province", 50.0),
            Target("repeat_contact_rate_7d", "county", 0.2, unit="X2"),
        ]
    )
    t = cascade_targets(ts, org, ind).set_index(["indicator", "unit_id"])["target"]
    assert t[("repeat_contact_rate_7d", "G1")] == 0.3  # inherited from the province
    assert t[("repeat_contact_rate_7d", "G2")] == 0.2  # X2's own target wins below it
    assert t[("complaints", "X1")] == pytest.approx(50.0 * 30 / 100)  # apportioned
    assert t[("complaints", "G2")] == pytest.approx(35.0)


def test_case_states_across_two_runs():
    hits1 = pd.DataFrame(
        {
            "customer_key": ["K1", "K2"],
            "rule": ["escalation", "payment_arrears"],
            "severity": ["high", "high"],
            "owner_unit": ["G1", "G2"],
        }
    )
    run1 = update_cases(None, hits1, "2025-01-01")
    assert list(run1["state"]) == ["new", "new"]
    assert (run1["due_date"] == pd.Timestamp("2025-01-08")).all()  # high: 7 days
    run2 = update_cases(run1, hits1.iloc[[0]], "2025-01-15")  # K1 persists, K2 stopped
    s = run2.set_index("customer_key")["state"]
    assert s["K1"] == "overdue"  # still firing after its due date
    assert s["K2"] == "resolved"
    assert run2.set_index("customer_key").loc["K2", "resolved_by"] == "rule"
    assert len(run2) == 2
