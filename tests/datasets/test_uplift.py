"""Campaign ground truth: heterogeneous and backfiring effects, randomised pilots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerprofile.datasets import (
    CAMPAIGN_CHANNELS,
    load_ground_truth,
    simulate_pilot,
    simulate_responses,
    true_effects,
    write_utility_data,
)
from powerprofile.schema import load_feedback_table


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("camp") / "data"
    write_utility_data(out, 600, "2024-01-01", "2025-06-30", 4, progress=False)
    return out


@pytest.fixture(scope="module")
def effects(folder):
    truth = load_ground_truth(folder)
    customers = pd.read_parquet(folder / "customers.parquet")
    return true_effects(truth, customers, "2025-07-01")


def test_sample_writes_truth_and_pilot_responses_that_validate(folder, effects):
    saved = pd.read_parquet(folder / "truth" / "uplift.parquet")
    pd.testing.assert_frame_equal(saved, effects, check_dtype=False)
    pilot = load_feedback_table(folder / "responses.parquet")
    assert set(pilot["campaign_id"]) == {f"pilot_{k}@2025-07-01" for k in range(1, 5)}
    assert len(pilot) == 4 * len(effects)
    control = (pilot["group"] == "control").mean()
    assert 0.12 < control < 0.22  # 1/6
    treated = pilot[pilot["group"] == "treated"]
    assert treated["channel"].notna().all() and treated["sent"].all()
    assert pilot.loc[pilot["group"] == "control", "channel"].isna().all()


def test_effects_are_heterogeneous_and_backfire_for_sensitive_customers(effects):
    sens = effects["sensitive"].to_numpy()
    assert 0.1 < sens.mean() < 0.2
    call = effects["effect_hotline_callback"].to_numpy()
    reach = effects["reachable_hotline_callback"].to_numpy()
    assert (call[sens & reach] < 0).all()  # the backfire
    assert (call[~sens & reach] > 0).all()
    for ch in CAMPAIGN_CHANNELS:  # nobody unreachable is moved by a channel
        assert (effects.loc[~effects[f"reachable_{ch}"], f"effect_{ch}"] == 0).all()
    by_seg = (
        effects[~effects["sensitive"]]
        .groupby("segment")[["effect_app_push", "effect_grid_manager"]]
        .mean()
    )
    # digital households answer the app more than a visit; elderly counter payers a visit
    digital = by_seg.loc["digital_young_household"]
    elderly = by_seg.loc["elderly_counter_payer"]
    assert digital["effect_app_push"] > elderly["effect_app_push"]
    assert elderly["effect_grid_manager"] > elderly["effect_app_push"]


def test_responses_follow_the_true_effect_on_average(effects):
    big = pd.concat([effects] * 40, ignore_index=True)
    big["customer_id"] = [f"X{i}" for i in range(len(big))]
    n = len(big)
    rng = np.random.default_rng(0)
    assignment = pd.DataFrame(
        {
            "campaign_id": "c",
            "customer_id": big["customer_id"],
            "group": np.where(rng.random(n) < 0.5, "treated", "control"),
            "channel": "grid_manager",
        }
    )
    resp = simulate_responses(big, assignment, seed=3, sent_at="2025-07-01")
    t = (resp["group"] == "treated").to_numpy()
    diff = resp["retained"][t].mean() - resp["retained"][~t].mean()
    assert abs(diff - big["effect_grid_manager"].mean()) < 0.015


def test_pilot_is_reproducible_and_uses_its_own_streams(effects):
    a = simulate_pilot(effects, seed=9, snapshot="2025-07-01", waves=1)
    b = simulate_pilot(effects, seed=9, snapshot="2025-07-01", waves=1)
    pd.testing.assert_frame_equal(a, b)
    reach = {ch: effects.set_index("customer_id")[f"reachable_{ch}"] for ch in CAMPAIGN_CHANNELS}
    treated = a[a["group"] == "treated"]
    for ch in CAMPAIGN_CHANNELS:  # a pilot assigns reachable channels only
        ids = treated.loc[treated["channel"] == ch, "customer_id"]
        assert reach[ch].reindex(ids).all()
