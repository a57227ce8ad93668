"""The uplift benchmark's scoring helpers: the Qini ratio and the ceiling's regression."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_uplift.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_uplift", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_qini_ratio_sums_channels_before_dividing(bench):
    # Effects 0.3, 0.1, 0, -0.2: the oracle's curve 0, .3, .4, .4, .2 against the line
    # 0, .05, .1, .15, .2 has gaps 0, .25, .3, .25, 0, area .8 / 4 = 0.2; the reversed
    # ranking's gaps are the opposite (-0.2).
    truth = pd.DataFrame({"effect_a": [0.3, 0.1, 0.0, -0.2], "effect_b": [0.3, 0.1, 0.0, -0.2]})
    pred = pd.DataFrame({"effect_a": [4.0, 3.0, 2.0, 1.0], "effect_b": [1.0, 2.0, 3.0, 4.0]})
    ratio, per = bench.qini_ratio(pred, truth, ["a", "b"])
    assert per == pytest.approx({"a": 1.0, "b": -1.0})
    assert ratio == pytest.approx((0.2 - 0.2) / (0.2 + 0.2), abs=1e-12)


def test_effect_regression_ranks_held_out_rows_from_its_inputs(bench):
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.uniform(0, 1, n)
    noise = rng.normal(size=n)
    effects = pd.DataFrame({"effect_a": 0.2 * x - 0.05, "effect_b": np.where(x > 0.7, -0.1, 0.05)})
    train, test = slice(0, 2000), slice(2000, n)
    held = effects.iloc[test].reset_index(drop=True)
    informative = pd.DataFrame({"x": x, "noise": noise})
    pred = bench.effect_regression(
        informative.iloc[train].reset_index(drop=True),
        effects.iloc[train].reset_index(drop=True),
        informative.iloc[test].reset_index(drop=True),
    )
    ratio, _ = bench.qini_ratio(pred, held, ["a", "b"])
    assert ratio > 0.97
    blind = pd.DataFrame({"noise": noise})  # the driver left out: nothing to rank by
    pred = bench.effect_regression(
        blind.iloc[train].reset_index(drop=True),
        effects.iloc[train].reset_index(drop=True),
        blind.iloc[test].reset_index(drop=True),
    )
    ratio, _ = bench.qini_ratio(pred, held, ["a", "b"])
    assert abs(ratio) < 0.3


def test_drivers_hold_the_generator_drivers_and_no_effect(bench):
    truth = pd.DataFrame(
        {
            "baseline_churn": [0.1, 0.4],
            "segment": ["small_shop", "elderly_counter_payer"],
            "sensitive": [False, True],
            "reachable_sms": [True, False],
            "reachable_grid_manager": [True, True],
            "effect_sms": [0.02, -0.05],
            "effect_grid_manager": [0.03, -0.05],
            "complaint_effect_sms": [0.0, 0.05],
        }
    )
    d = bench._drivers(truth)
    assert list(d["true_baseline_churn"]) == [0.1, 0.4]
    assert list(d["true_sensitive"]) == [0.0, 1.0]
    assert list(d["true_archetype"].astype(str)) == ["small_shop", "elderly_counter_payer"]
    assert list(d["contactable_sms"]) == [1.0, 0.0]
    assert not [c for c in d.columns if "effect" in c]
