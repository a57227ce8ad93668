"""Exact reasons for every model structure: equal to LightGBM's pred_contrib."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from powerprofile.explain import contributions, explain, select_top_k
from powerprofile.models import PropensityModel
from powerprofile.models._additive import TreeLookup


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    X["plan"] = pd.Series(rng.choice(["flat", "tou", "tiered", "green"], n), dtype="string")
    X["zeros"] = np.where(rng.random(n) < 0.4, 0.0, rng.exponential(size=n))
    X.loc[rng.random(n) < 0.15, "x0"] = np.nan
    X.loc[rng.random(n) < 0.1, "plan"] = pd.NA
    tou = (X["plan"] == "tou").fillna(False).to_numpy(dtype=float)
    z = -1 + 1.5 * X["x0"].fillna(0.5) * X["x1"] + 1.2 * tou * X["x2"] + 0.5 * X["zeros"]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def models():
    X, y = _data()
    kw = dict(n_jobs=1, learning_rate=0.1, min_child_samples=20)
    return X, {
        s: PropensityModel(structure=s, **kw).fit(X, y) for s in ("additive", "pairwise", "free")
    }


@pytest.mark.parametrize("structure", ["additive", "pairwise", "free"])
def test_reasons_equal_pred_contrib(models, structure):
    X, fitted = models
    m = fitted[structure]
    assert m.structure_ == structure
    Xs = pd.concat([X.iloc[:500], X.iloc[:50].assign(plan="unseen", x0=np.nan, zeros=0.0)])
    expected = m.booster_.predict(
        m._prepare(Xs), pred_contrib=True, num_iteration=m.best_iteration_
    )
    got = contributions(m, Xs).to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    e = explain(m, Xs, top_k=3, catalog=False, language="none")
    top = select_top_k(expected[:, :-1], 3)
    names = np.asarray(list(X.columns))
    assert (e["reason_1_feature"].astype(str).to_numpy() == names[top[:, 0]]).all()
    np.testing.assert_allclose(e["raw_score"], m.decision_function(Xs), atol=1e-9)


def test_pairwise_model_uses_its_pairs(models):
    _, fitted = models
    m = fitted["pairwise"]
    assert m.lookup_ is not None and m.lookup_.pairs  # two-feature tables in use
    assert {("x0", "x1"), ("x2", "plan")} & set(m.pairs_)


def test_lookup_exact_on_categorical_pair_with_missing_and_zero_splits():
    """A booster trained directly with pair constraints, categorical pair included."""
    X, y = _data(4000, seed=1)
    Xc = X.assign(plan=X["plan"].astype("category"))
    cons = [[j] for j in range(X.shape[1])] + [[0, 1], [2, 4], [3, 5]]
    params = dict(
        objective="binary",
        num_leaves=9,
        interaction_constraints=cons,
        verbosity=-1,
        min_data_per_group=10,
        cat_smooth=5,
        num_threads=1,
        zero_as_missing=True,
    )
    booster = lgb.train(params, lgb.Dataset(Xc, y), 150)
    lookup = TreeLookup(booster, Xc.iloc[:0])
    assert len(lookup.pairs) >= 2
    got = lookup.contributions(Xc, n_jobs=2)
    expected = booster.predict(Xc, pred_contrib=True)
    np.testing.assert_allclose(got, expected[:, :-1], rtol=0, atol=1e-9)
    assert lookup.base_value == pytest.approx(expected[0, -1], abs=1e-12)
    with pytest.raises(ValueError, match="is not additive: tree .* splits on 2 features"):
        TreeLookup(booster, Xc.iloc[:0], max_features=1)
