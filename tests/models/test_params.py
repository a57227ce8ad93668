"""The size-adaptive tree parameters: the documented rule, its use by the model."""

import json

import numpy as np
import pandas as pd
import pytest

from powerprofile.models import PropensityModel
from powerprofile.models._params import size_defaults

# the rule of docs/models.md, evaluated by hand for a 500-row table with 50 events and a
# 500,000-row table with 25,000 events
# glass-box trees under 25,000 rows: random thresholds, steps of 0.15; else exact, 0.1
RANDOMISED = dict(extra_trees=True, learning_rate=0.15)
EXACT = dict(extra_trees=False, learning_rate=0.1)
SMALL = {
    # glass-box: 500 // 700 = 0 -> 3 leaves; 500 // 25 = 20 rows per leaf; L2 10
    "additive": dict(
        num_leaves=3, min_data_in_leaf=20, lambda_l2=10.0, feature_fraction=0.5, **RANDOMISED
    ),
    "pairwise": dict(
        num_leaves=3, min_data_in_leaf=20, lambda_l2=10.0, feature_fraction=0.5, **RANDOMISED
    ),
    # free: 50 // 15 = 3 -> 7 leaves; 500 // 250 = 2 -> 10 rows per leaf; L2 10 / 10
    "free": dict(num_leaves=7, min_data_in_leaf=10, lambda_l2=1.0, feature_fraction=0.8, **EXACT),
}
LARGE = {
    "additive": dict(
        num_leaves=7, min_data_in_leaf=100, lambda_l2=10.0, feature_fraction=0.5, **EXACT
    ),
    "pairwise": dict(
        num_leaves=7, min_data_in_leaf=100, lambda_l2=10.0, feature_fraction=0.5, **EXACT
    ),
    # free from 25,000 rows: the large-table shape, whatever the events
    "free": dict(num_leaves=7, min_data_in_leaf=100, lambda_l2=10.0, feature_fraction=0.5, **EXACT),
}
COMMON = dict(bagging_fraction=0.8, n_estimators=1000, early_stopping_rounds=25)


@pytest.mark.parametrize("structure", ["additive", "pairwise", "free"])
@pytest.mark.parametrize(
    ("n_rows", "n_minority", "expected"), [(500, 50, SMALL), (500_000, 25_000, LARGE)]
)
def test_size_rule_for_a_small_and_a_large_table(structure, n_rows, n_minority, expected):
    assert size_defaults(structure, n_rows, n_minority) == {**expected[structure], **COMMON}


def test_size_rule_between_the_ends():
    # 2,800 rows: 2800 // 700 = 4 glass-box leaves, 2800 // 25 = 112 -> 100 rows per leaf
    mid = size_defaults("pairwise", 2_800, 400)
    assert (mid["num_leaves"], mid["min_data_in_leaf"]) == (4, 100)
    # 5,000 rows, 300 events: 300 // 15 = 20 free leaves, 5000 // 250 = 20 rows, L2 2
    free = size_defaults("free", 5_000, 300)
    assert (free["num_leaves"], free["min_data_in_leaf"], free["lambda_l2"]) == (20, 20, 2.0)


@pytest.mark.parametrize(
    ("structure", "n_rows", "expected"),
    [
        ("additive", 24_999, RANDOMISED),
        ("pairwise", 24_999, RANDOMISED),
        ("additive", 25_000, EXACT),
        ("pairwise", 25_000, EXACT),
        ("free", 1_470, EXACT),
        ("free", 24_999, EXACT),
    ],
)
def test_glass_box_trees_are_randomised_below_25000_rows(structure, n_rows, expected):
    used = size_defaults(structure, n_rows, n_rows // 6)
    assert {k: used[k] for k in expected} == expected


def _flat(n, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    z = -1.5 + 1.2 * X["x0"] - 0.8 * X["x1"] + 0.6 * np.sin(2 * X["x2"])
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def _max_leaves(model):
    trees = model.booster_.dump_model(num_iteration=model.best_iteration_)["tree_info"]
    return max(t["num_leaves"] for t in trees)


def test_model_fits_a_500_row_table_with_the_rule():
    X, y = _flat(500)
    model = PropensityModel(structure="additive", n_jobs=1).fit(X, y)
    used = model.metadata_["tree_params"]
    assert used["n_rows"] == 500 and used["n_minority"] == int(min(y.sum(), 500 - y.sum()))
    assert (used["num_leaves"], used["min_data_in_leaf"]) == (3, 20)
    assert model.booster_.params["num_leaves"] == 3
    assert model.booster_.params["min_data_in_leaf"] == 20
    assert _max_leaves(model) <= 3  # the old fixed default grew trees of up to 7 leaves
    assert (used["extra_trees"], used["learning_rate"]) == (True, 0.15)
    assert model.booster_.params["extra_trees"] is True
    assert model.booster_.params["learning_rate"] == 0.15


def test_lgbm_params_are_recorded_as_the_tree_params_used():
    X, y = _flat(500)
    model = PropensityModel(
        structure="additive", lgbm_params={"extra_trees": False, "num_leaves": 2}, n_jobs=1
    ).fit(X, y)
    assert model.booster_.params["extra_trees"] is False
    used = model.metadata_["tree_params"]
    assert (used["extra_trees"], used["num_leaves"]) == (False, 2)
    assert used["learning_rate"] == 0.15  # the rule's, not overridden


def test_explicit_parameters_override_the_rule():
    X, y = _flat(500)
    model = PropensityModel(
        structure="free", num_leaves=5, min_child_samples=30, reg_lambda=3.0, n_jobs=1
    ).fit(X, y)
    used = model.metadata_["tree_params"]
    assert (used["num_leaves"], used["min_data_in_leaf"], used["lambda_l2"]) == (5, 30, 3.0)
    assert model.booster_.params["num_leaves"] == 5
    assert _max_leaves(model) <= 5
    # lgbm_params win over both
    model = PropensityModel(structure="free", lgbm_params={"num_leaves": 4}, n_jobs=1).fit(X, y)
    assert model.booster_.params["num_leaves"] == 4


def test_auto_structure_is_deterministic_for_a_seed():
    X, y = _flat(800, seed=3)
    a = PropensityModel(n_jobs=1, random_state=5).fit(X, y)
    b = PropensityModel(n_jobs=1, random_state=5).fit(X, y)
    assert a.structure_ == b.structure_
    assert json.dumps(a.metadata_["tree_params"]) == json.dumps(b.metadata_["tree_params"])
    assert a.version_ == b.version_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
