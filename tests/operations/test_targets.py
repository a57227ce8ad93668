"""Targets: strict file, cascade down the organisation as documented."""

from __future__ import annotations

import pandas as pd
import pytest

from powerprofile.exceptions import ConfigError
from powerprofile.operations import Target, TargetSet, cascade_targets, load_targets

ORG = pd.DataFrame(
    [
        ("P", None, "province"),
        ("C1", "P", "city"),
        ("X1", "C1", "county"),
        ("X2", "C1", "county"),
        ("S1", "X1", "service_centre"),
        ("S2", "X2", "service_centre"),
        ("G1", "S1", "grid_unit"),
        ("G2", "S2", "grid_unit"),
    ],
    columns=["unit_id", "parent_id", "level"],
).astype("string")
M = pd.Timestamp("2025-01-01")
IND = pd.DataFrame(
    {
        "unit_id": ["P", "C1", "X1", "X2", "S1", "S2", "G1", "G2"],
        "month": M,
        "customers": [100, 100, 30, 70, 30, 70, 30, 70],
    }
)


def test_rates_are_inherited_counts_apportioned_and_lower_targets_win():
    ts = TargetSet(
        targets=[
            Target("repeat_contact_rate_7d", "province", 0.3),
            Target("complaints", "province", 50.0),
            Target("repeat_contact_rate_7d", "county", 0.2, unit="X2"),
        ]
    )
    got = cascade_targets(ts, ORG, IND).set_index(["indicator", "unit_id"])
    t = got["target"]
    assert t[("repeat_contact_rate_7d", "G1")] == 0.3  # inherited from the province
    assert t[("repeat_contact_rate_7d", "G2")] == 0.2  # X2's own target wins below X2
    assert t[("repeat_contact_rate_7d", "X2")] == 0.2
    assert t[("complaints", "X1")] == pytest.approx(50.0 * 30 / 100)  # by customers
    assert t[("complaints", "G2")] == pytest.approx(50.0 * 70 / 100)
    assert got.loc[("repeat_contact_rate_7d", "G1"), "source"] == "inherited from P"
    assert got.loc[("repeat_contact_rate_7d", "X2"), "source"] == "set"


def test_a_monthly_target_applies_to_its_month_only():
    ind = pd.concat([IND, IND.assign(month=pd.Timestamp("2025-02-01"))])
    ts = TargetSet(targets=[Target("complaints", "city", 10.0, period="2025-02")])
    got = cascade_targets(ts, ORG, ind)
    assert set(got["month"]) == {pd.Timestamp("2025-02-01")}


def test_the_file_is_strict(tmp_path):
    f = tmp_path / "targets.yaml"
    f.write_text(
        "kind: targets\ntargets:\n  - indicator: complaints\n    level: grid\n    value: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"targets\[0\]\.level|level"):
        load_targets(f)
    f.write_text(
        "kind: targets\ntargets:\n  - indicator: complaint_rate\n    level: city\n    value: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"did you mean 'complaints'"):
        load_targets(f, indicators={"complaints", "contacts"})
    f.write_text(
        "kind: targets\ntargets:\n  - indicator: complaints\n    level: city\n    value: 1\n"
        "    periode: 2025-01\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"did you mean 'period'"):
        load_targets(f)


def test_the_shipped_targets_file_loads():
    from pathlib import Path

    from powerprofile.operations import LABELS

    path = Path(__file__).resolve().parents[2] / "configs" / "targets.yaml"
    assert load_targets(path, indicators=set(LABELS)).targets
