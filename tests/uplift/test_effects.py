"""Campaign effects: Newcombe intervals, their coverage, and Benjamini-Hochberg."""

import numpy as np
import pandas as pd

from powerprofile.uplift import (
    benjamini_hochberg,
    campaign_effects,
    effect_table,
    newcombe_interval,
    wilson_interval,
)


def test_wilson_and_newcombe_match_published_values():
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80 -> 0.2000, 95 % CI 0.0524 to 0.3339
    d, lo, hi = newcombe_interval(56, 70, 48, 80)
    assert round(float(d), 4) == 0.2
    assert round(float(lo), 4) == 0.0524 and round(float(hi), 4) == 0.3339
    # Wilson interval of 0/10: 0 to 0.2775
    lo, hi = wilson_interval(0, 10)
    assert float(lo) == 0.0 and round(float(hi), 4) == 0.2775


def _campaign(rng, n, effect, base):
    """Randomised campaign: 80 % treated; control rate ``base`` per customer."""
    treated = rng.random(n) < 0.8
    p = base + np.where(treated, effect, 0.0)
    y = rng.random(n) < p
    return pd.DataFrame(
        {
            "campaign_id": "c@2026-01-01",
            "group": np.where(treated, "treated", "control"),
            "channel": "sms",
            "retained": pd.array(y, dtype="boolean"),
        }
    )


def test_uplift_is_unbiased_on_a_constant_effect_simulation():
    rng = np.random.default_rng(7)
    base = rng.uniform(0.55, 0.85, 40_000)  # heterogeneous baselines, constant effect
    out = effect_table(_campaign(rng, 40_000, 0.04, base), ["campaign_id"])
    row = out.iloc[0]
    assert row["ci_low"] <= 0.04 <= row["ci_high"]
    assert abs(row["uplift"] - 0.04) < 0.015
    assert row["contacts_per_outcome"] == 1 / row["uplift"]


def test_interval_coverage_over_300_simulated_campaigns():
    """The 95 % intervals cover the true effect in 93-97 % of campaigns."""
    rng = np.random.default_rng(11)
    m = 300
    n1 = rng.integers(200, 3000, m)
    n0 = rng.integers(40, 600, m)
    p0 = rng.uniform(0.05, 0.9, m)
    eff = rng.uniform(-0.04, 0.08, m)
    p1 = np.clip(p0 + eff, 0, 1)
    k1 = rng.binomial(n1, p1)
    k0 = rng.binomial(n0, p0)
    _, lo, hi = newcombe_interval(k1, n1, k0, n0)
    coverage = np.mean((lo <= p1 - p0) & (p1 - p0 <= hi))
    assert 0.93 <= coverage <= 0.97, coverage


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan])
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): 0.04, 0.06, 0.0533, 0.20 -> monotone 0.04, 0.0533, 0.0533, 0.2
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert np.isnan(q[4])


def test_campaign_effects_breakdowns_flag_small_cells():
    rng = np.random.default_rng(3)
    df = _campaign(rng, 2000, 0.05, 0.7)
    df["region"] = np.where(np.arange(2000) < 60, "tiny", "big")
    df["complaint"] = pd.array(rng.random(2000) < 0.05, dtype="boolean")
    out = campaign_effects(df, breakdowns=("channel", "region"), costs={"sms": 0.1})
    assert set(out["breakdown"]) == {"all", "channel", "region"}
    assert set(out["outcome"]) == {"retained", "complaint"}
    tiny = out[(out["level"] == "tiny") & (out["outcome"] == "retained")].iloc[0]
    assert bool(tiny["small_cell"])  # about 12 control customers
    assert (out["q_value"] >= out["p_value"]).all()
    sms = out[(out["breakdown"] == "channel") & (out["outcome"] == "retained")].iloc[0]
    if sms["ci_low"] > 0:
        assert sms["cost_per_outcome"] == 0.1 / sms["uplift"]
