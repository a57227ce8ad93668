"""Next-best-channel selection under capacities, opt-outs and the frequency cap."""

import numpy as np
import pandas as pd

from powerprofile.export import eligibility
from powerprofile.uplift import next_best_channel, score_targeting

CH = ["sms", "app_push", "wechat", "hotline_callback", "grid_manager"]


def _effects(rows):
    return pd.DataFrame(rows, columns=[f"effect_{c}" for c in CH])


def test_best_channel_by_hand_with_capacity_spill_over():
    eff = _effects(
        [
            [0.05, 0.00, 0.00, 0.20, 0.10],  # wants a call (0.20)
            [0.02, 0.00, 0.00, 0.15, 0.12],  # wants a call (0.15), call is full -> visit
            [0.01, 0.00, 0.00, 0.10, 0.00],  # wants a call, full; next best sms 0.01
            [-0.05, -0.01, -0.02, -0.10, -0.03],  # contact backfires: not contacted
        ]
    )
    out = next_best_channel(eff, capacity={"hotline_callback": 1})
    assert out["channel"].tolist()[:3] == ["hotline_callback", "grid_manager", "sms"]
    assert pd.isna(out["channel"].iloc[3])
    assert out["rank"].tolist()[:3] == [1, 2, 3]
    np.testing.assert_allclose(out["expected_effect"].iloc[:3], [0.20, 0.12, 0.01])


def test_policy_respects_capacities_opt_outs_and_frequency_cap():
    rng = np.random.default_rng(0)
    n = 500
    eff = _effects(rng.normal(0.02, 0.05, (n, len(CH))))
    contactable = pd.DataFrame({f"contactable_{c}": rng.random(n) < 0.7 for c in CH})
    contactable["contactable_grid_manager"] = True
    opted = rng.random(n) < 0.2
    dnc = rng.random(n) < 0.05
    elig = eligibility(contactable, opted, dnc)
    used = rng.integers(0, 3, n)
    cap = {"sms": 30, "hotline_callback": 10, "grid_manager": 25}
    out = next_best_channel(eff, eligible=elig, capacity=cap, used=used, frequency_cap=2)
    got = out["channel"]
    counts = got.value_counts()
    for ch, c in cap.items():
        assert counts.get(ch, 0) <= c
    contacted = got.notna().to_numpy()
    assert not (contacted & dnc).any()  # do-not-contact blocks every channel
    marketing = got.isin(["sms", "app_push", "wechat"]).to_numpy(dtype=bool)
    assert not (marketing & opted).any()  # the opt-out blocks the marketing channels
    assert not (contacted & (used >= 2)).any()  # frequency cap
    for ch in CH:  # only eligible channels, only helpful contacts
        at = (got == ch).fillna(False).to_numpy(dtype=bool)
        assert elig[ch][at].all()
        assert (eff[f"effect_{ch}"].to_numpy()[at] > 0).all()
    # capacity was used: every channel that filled up is at capacity
    assert counts.get("sms", 0) == 30


def test_budget_takes_the_largest_effects_first():
    eff = _effects([[0.01, 0, 0, 0, 0], [0.30, 0, 0, 0, 0], [0.20, 0, 0, 0, 0]])
    out = next_best_channel(eff, budget=2)
    assert out["channel"].notna().tolist() == [False, True, True]


def test_score_targeting_follows_the_export_rule():
    score = np.array([0.9, 0.8, 0.7, 0.1])
    elig = {c: np.array([True, True, True, True]) for c in CH}
    elig["sms"] = np.array([False, True, True, True])
    out = score_targeting(
        score, eligible=elig, channels=["sms", "grid_manager"], capacity={"sms": 1}, budget=3
    )
    assert out["channel"].tolist()[:3] == ["grid_manager", "sms", "grid_manager"]
    assert pd.isna(out["channel"].iloc[3])
