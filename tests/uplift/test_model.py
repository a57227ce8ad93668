"""UpliftModel: fit / predict the effect per channel / explain, on a known simulation."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import FeatureMismatchError, NotFittedError
from powerprofile.uplift import UpliftModel, qini_coefficient


def _simulate(n=9000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.random(n) < 0.5,
            "noise": rng.normal(size=n),
            "kind": pd.Categorical(rng.choice(["x", "y"], n)),
        }
    )
    a = X["a"].to_numpy()
    true = pd.DataFrame(
        {
            "effect_sms": np.where(a, 0.30, -0.20),  # backfires where a is false
            "effect_call": np.full(n, 0.10),
        }
    )
    t = rng.choice(["control", "sms", "call"], n)
    p = 0.4 + np.where(t == "sms", true["effect_sms"], 0) + np.where(t == "call", 0.10, 0)
    y = rng.random(n) < p
    return X, t, y, true


@pytest.mark.parametrize("learner", ["x", "t", "dr"])
def test_recovers_heterogeneous_and_backfiring_effects(learner):
    X, t, y, true = _simulate()
    model = UpliftModel(learner=learner).fit(X, t, y)
    assert model.channels_ == ["call", "sms"]
    eff = model.predict_effect(X)
    a = X["a"].to_numpy()
    assert abs(eff["effect_sms"][a].mean() - 0.30) < 0.05
    assert abs(eff["effect_sms"][~a].mean() + 0.20) < 0.05
    assert abs(eff["effect_call"].mean() - 0.10) < 0.05
    best = model.predict(X)
    assert (best[a] == "sms").mean() > 0.9 and (best[~a] == "call").mean() > 0.9
    oracle = qini_coefficient(true["effect_sms"], true["effect_sms"])
    assert qini_coefficient(eff["effect_sms"], true["effect_sms"]) >= 0.8 * oracle


def test_explain_names_the_feature_that_moves_the_effect():
    X, t, y, _ = _simulate()
    model = UpliftModel().fit(X, t, y)
    why = model.explain(X.head(50), channel="sms")
    assert (why["channel"] == "sms").all()
    first = why["reasons"].str.split("; ").str[0]
    assert first.str.startswith("a=").mean() > 0.9
    np.testing.assert_allclose(why["effect"], model.predict_effect(X.head(50))["effect_sms"])


def test_not_fitted_and_mismatched_features_are_named_errors():
    X, t, y, _ = _simulate(n=600)
    with pytest.raises(NotFittedError):
        UpliftModel().predict_effect(X)
    model = UpliftModel(n_estimators=5).fit(X, t, y)
    with pytest.raises(FeatureMismatchError, match="'noise'"):
        model.predict_effect(X.drop(columns="noise"))
    with pytest.raises(ValueError, match="control"):
        UpliftModel().fit(X, np.where(t == "control", "sms", t), y)


def test_the_same_seed_gives_the_same_effects_and_rounds_follow_the_signal():
    X, t, y, _ = _simulate(n=6000, seed=3)
    groups = np.arange(len(t)) // 2  # two rows a customer, kept in one fold
    fits = [UpliftModel(random_state=4).fit(X, t, y, groups=groups) for _ in range(2)]
    pd.testing.assert_frame_equal(fits[0].predict_effect(X), fits[1].predict_effect(X))
    assert fits[0].n_rounds_ == fits[1].n_rounds_
    # an outcome that is a coin flip: cross-validation stops the boosting early
    noise = np.random.default_rng(8).random(len(t)) < 0.5
    flat = UpliftModel(n_estimators=300).fit(X, t, noise)
    assert max(flat.n_rounds_.values()) < 300
    fixed = UpliftModel(n_estimators=300, tune_rounds=False).fit(X, t, noise)
    assert set(fixed.n_rounds_.values()) == {300}


def test_a_channel_that_cannot_reach_a_customer_has_no_effect_on_them():
    X, t, y, _ = _simulate(n=4000, seed=5)
    reach = np.random.default_rng(6).random(len(t)) < 0.7
    X = X.assign(contactable_sms=reach)
    t = np.where(~reach & (t == "sms"), "control", t)  # nobody unreachable was sent one
    eff = UpliftModel(n_estimators=30).fit(X, t, y).predict_effect(X)
    assert (eff["effect_sms"][~reach] == 0).all()
    assert (eff["effect_sms"][reach] != 0).mean() > 0.9
    kept = UpliftModel(n_estimators=30, reach=None).fit(X, t, y).predict_effect(X)
    assert (kept["effect_sms"][~reach] != 0).mean() > 0.9


def _annoyed(n=6000, seed=3):
    """One channel that helps (+0.06) except a group it annoys: they leave (-0.10) and complain.

    The annoyed group (about 8 %) is ``(z0 + z1 + z2 + z3) / 2 > 1`` among twelve
    look-alike columns, a boundary the noisy retention outcome alone draws poorly; a
    complaint after the call (50 % against 3 %) draws it well.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"z{j}": rng.normal(size=n) for j in range(12)})
    annoyed = X[["z0", "z1", "z2", "z3"]].sum(axis=1).to_numpy() / 2 > 1.0
    effect = np.where(annoyed, -0.10, 0.06)
    t = np.where(rng.random(n) < 0.5, "control", "call")
    called = t == "call"
    y = rng.random(n) < 0.6 + np.where(called, effect, 0.0)
    complaint = rng.random(n) < np.where(called & annoyed, 0.5, 0.03)
    return X, t, y, complaint, annoyed, effect


def test_complaints_after_contact_find_the_customers_a_contact_pushes_away():
    X, t, y, complaint, annoyed, effect = _annoyed()
    Xn, _, _, _, annoyed_n, effect_n = _annoyed(seed=4)  # new customers
    plain = UpliftModel().fit(X, t, y)
    model = UpliftModel().fit(X, t, y, complaint=complaint)
    assert plain.complaint_model_ is None
    # the input separates the annoyed customers on new rows
    from powerprofile.uplift._model import COMPLAINT_INPUT

    score = model._inputs(Xn)[COMPLAINT_INPUT].to_numpy()
    assert score[annoyed_n].mean() > 0.3 > 0.1 > score[~annoyed_n].mean()
    # and ranks their effect better than retention alone (true effects of the new rows)
    q_plain = qini_coefficient(plain.predict_effect(Xn)["effect_call"], effect_n)
    q_model = qini_coefficient(model.predict_effect(Xn)["effect_call"], effect_n)
    oracle = qini_coefficient(effect_n, effect_n)
    assert q_model / oracle > q_plain / oracle + 0.1
    assert q_model / oracle > 0.7
    # the reasons can name it
    reasons = model.explain(Xn.iloc[:50], "call")["reasons"]
    assert reasons.str.contains(COMPLAINT_INPUT).any()


def test_complaint_input_needs_one_value_a_row_and_survives_no_complaints():
    X, t, y, complaint, _, _ = _annoyed(n=2000)
    with pytest.raises(ValueError, match="complaint has 10 values for 2000 rows"):
        UpliftModel().fit(X, t, y, complaint=complaint[:10])
    model = UpliftModel(tune_rounds=False, n_estimators=10).fit(
        X, t, y, complaint=np.zeros(len(X), bool)
    )
    assert model.complaint_model_ == 0.0
    assert model.predict_effect(X.iloc[:5]).shape == (5, 1)
