"""Scorecards on generated data: roll-ups add up, files, derived hierarchy, report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerprofile.datasets import make_utility_data
from powerprofile.operations import (
    Target,
    TargetSet,
    build_scorecards,
    planted_recall,
    write_scorecards,
)
from powerprofile.schema import check_hierarchy

COUNTS = ["customers", "contacts", "complaints", "payments", "active_customers"]


@pytest.fixture(scope="module")
def data():
    return make_utility_data(1500, seed=3)


@pytest.fixture(scope="module")
def result(data):
    tables, _ = data
    targets = TargetSet(targets=[Target("complaints_per_10000", "province", 100.0)])
    return build_scorecards(tables, targets=targets)


def test_generated_org_units_place_every_customer(data):
    tables, truth = data
    check_hierarchy(tables.org_units, tables.customers)
    roles = set(truth.org_units["planted"])
    assert {"weak_centre", "mix_only"} <= roles


def test_rollups_add_up_level_by_level(data, result):
    tables, _ = data
    org = tables.org_units
    parent = org.set_index("unit_id")["parent_id"]
    ind = result.indicators
    assert result.levels == ("province", "city", "county", "service_centre", "grid_unit")
    for child, up in (
        ("county", "city"),
        ("service_centre", "county"),
        ("grid_unit", "service_centre"),
    ):
        kids = ind[ind["level"] == child].assign(parent=lambda d: d["unit_id"].map(parent))
        summed = kids.groupby(["parent", "month"])[COUNTS].sum()
        ups = ind[ind["level"] == up].set_index(["unit_id", "month"])[COUNTS]
        ups.index.names = ["parent", "month"]
        pd.testing.assert_frame_equal(
            summed.sort_index(),
            ups.loc[summed.index].sort_index(),
            check_dtype=False,
            check_index_type=False,
        )
    # the province holds every customer in service, as the channel KPIs count them
    prov = ind[ind["level"] == "province"]
    assert prov["complaints"].sum() == (tables.interactions["type"] == "complaint").sum()


def test_targets_reach_grid_units_and_status_is_set(result):
    cards = result.scorecards
    g = cards[(cards["level"] == "grid_unit") & (cards["indicator"] == "complaints_per_10000")]
    assert (g["target"] == 100.0).all()
    assert set(cards["status"]) <= {"weak link", "below target", "watch", "on track"}
    # weak links first within each level
    for _, lv in cards.groupby("level", sort=False):
        w = (lv["status"] == "weak link").to_numpy()
        assert not (w[1:] & ~w[:-1]).any()


def test_drill_down_parts_add_up_to_the_unit_gap(result):
    d = result.drill
    if not len(d):
        pytest.skip("no weak link at this size")
    fair = result.fair.set_index(["level", "unit_id", "indicator"])
    for (lv, unit, ind, _by), g in d.groupby(["level", "unit_id", "indicator", "by"]):
        gap = fair.loc[(lv, unit, ind), "observed"] - fair.loc[(lv, unit, ind), "expected"]
        assert g["excess"].sum() == pytest.approx(gap, rel=1e-6, abs=1e-6)


def test_files_have_bilingual_headers_and_a_bom(result, tmp_path):
    files = write_scorecards(result, tmp_path)
    names = {f.name for f in files}
    assert {"scorecard_grid_unit.csv", "scorecard_grid_unit.parquet", "drill_down.csv"} <= names
    raw = (tmp_path / "scorecard_city.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    head = raw.decode("utf-8-sig").splitlines()[0]
    assert "Unit · 单位编码" in head and "Status · 状态" in head
    back = pd.read_parquet(tmp_path / "weak_links_grid_unit.parquet")
    assert "Weak link · 薄弱环节" in back.columns


def test_without_org_units_the_hierarchy_is_derived(data):
    tables, truth = data
    import dataclasses

    plain = dataclasses.replace(tables, org_units=None)
    r = build_scorecards(plain)
    assert r.derived and r.levels == ("province", "city", "grid_unit")
    assert any("derived" in n for n in r.notes)
    assert planted_recall(r, truth.org_units)["grid_unit"]["planted"] >= 1


def test_report_section_shows_weak_links_first(result, tmp_path):
    from powerprofile.report import write_report

    path = write_report(tmp_path / "r.html", scorecards=result, generated_at="x")
    text = path.read_text(encoding="utf-8")
    sec = text[text.index('<section id="scorecards">') :]
    sec = sec[: sec.index("</section>")]
    assert "Unit scorecards and weak links" in sec and "单位记分卡" in sec
    assert "<svg" in sec  # funnel plots
    first_level = sec.index("<h3>")
    assert (
        sec.index("Weak link") < sec.index("Scorecard, latest month")
        or "No weak link" in sec[first_level : sec.index("Scorecard, latest month")]
    )


def test_share_of_high_risk_customers_reached_adds_up(data):
    tables, _ = data
    c = tables.customers.reset_index(drop=True)
    portraits = pd.DataFrame(
        {
            "customer_key": "K" + c["customer_id"].astype(str),
            "grid_unit": c["grid_unit"],
            "risk_level": np.where(np.arange(len(c)) % 3 == 0, "high", "low"),
        }
    )
    reached = set(portraits["customer_key"].iloc[::2])  # every other customer
    r = build_scorecards(tables, portraits=portraits, reached=reached)
    ind = r.indicators[r.indicators["month"] == r.indicators["month"].max()]
    prov = ind[ind["level"] == "province"].iloc[0]
    n_high = int((np.arange(len(c)) % 3 == 0).sum())
    n_reached = int(((np.arange(len(c)) % 3 == 0) & (np.arange(len(c)) % 2 == 0)).sum())
    assert prov["high_risk_customers"] == n_high
    assert prov["high_risk_reach_share"] == pytest.approx(n_reached / n_high)
    cities = ind[ind["level"] == "city"]
    assert cities["high_risk_reached"].sum() == n_reached
