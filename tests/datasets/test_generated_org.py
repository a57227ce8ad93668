"""The generated organisation and its planted service quality (ground truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerprofile.datasets import load_org_truth, make_utility_data, write_utility_data
from powerprofile.operations import customer_units, quality_tallies
from powerprofile.schema import check_hierarchy, read_org_units


@pytest.fixture(scope="module")
def generated():
    return make_utility_data(1500, seed=3)


def test_org_units_is_one_tree_placing_every_customer(generated):
    tables, truth = generated
    org = tables.org_units
    check_hierarchy(org, tables.customers)
    assert set(org["level"].astype(str)) == {
        "province",
        "city",
        "county",
        "service_centre",
        "grid_unit",
    }
    assert org["name_zh"].notna().all() and org["name_en"].notna().all()
    t = truth.org_units
    grids = t[t["level"] == "grid_unit"]
    assert set(grids["unit_id"]) == set(tables.customers["grid_unit"].astype(str))
    assert (t["planted"] == "weak_centre").sum() == 1 + (grids["planted"] == "weak_centre").sum()
    # the mix-only unit has a harder mix than any normal unit and normal service
    mix = grids[grids["planted"] == "mix_only"]
    assert len(mix) and not mix["weak_service"].any()
    assert mix["hard_share"].min() >= grids.loc[grids["planted"] == "normal", "hard_share"].max()


def test_weak_units_serve_worse_than_their_mix_predicts(generated):
    tables, truth = generated
    units, _ = customer_units(tables.customers, tables.org_units)
    c = tables.customers
    hard = ((c["customer_type"] == "residential") & ~(c["app_user"] | c["wechat_bound"])) | (
        c["customer_type"] == "agricultural"
    )
    tal = quality_tallies(tables, units, pd.Series(np.where(hard, "hard", "easy")))
    rates = tal.groupby("stratum")[["dissatisfied", "rated"]].sum()
    p = rates["dissatisfied"] / rates["rated"]
    tal["expected"] = tal["rated"] * tal["stratum"].map(p)
    by = tal.groupby("grid_unit")[["dissatisfied", "expected"]].sum()
    ratio = by["dissatisfied"] / by["expected"]
    weak = truth.org_units.set_index("unit_id")["weak_service"]
    weak = weak[weak.index.isin(ratio.index)]
    assert ratio[weak[weak].index].min() > ratio[weak[~weak].index].max()


def test_written_data_set_holds_org_units_and_truth(tmp_path):
    out = write_utility_data(tmp_path / "d", 600, seed=1, n_partitions=1, progress=False)
    tables, _ = make_utility_data(600, seed=1)
    org = read_org_units(out, tables.customers)
    pd.testing.assert_frame_equal(
        org.reset_index(drop=True), tables.org_units.reset_index(drop=True), check_dtype=False
    )
    truth = load_org_truth(out)
    assert set(truth.columns) == {"unit_id", "level", "planted", "weak_service", "hard_share"}


def test_follow_ups_stay_inside_the_period(generated):
    tables, _ = generated
    ts = tables.interactions["timestamp"]
    assert ts.max() < pd.Timestamp("2026-01-01") and ts.min() >= pd.Timestamp("2024-01-01")
    assert tables.interactions["interaction_id"].is_unique
