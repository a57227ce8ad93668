import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from powerprofile.models import PropensityModel
from powerprofile.models._structure import choose_structure, screen_pairs


def _flat(n, interaction, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(5)})
    X["plan"] = pd.Series(rng.choice(["a", "b", "c"], n), dtype="string")
    z = -1.0 + 0.8 * X["x0"] - 0.6 * X["x1"] + 0.5 * (X["plan"] == "b").to_numpy(dtype=float)
    if interaction:
        # the effect of x3 flips sign with x2: invisible to any sum of main effects
        z = z + 2.0 * X["x2"] * X["x3"]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def test_choose_structure_prefers_simpler_within_tolerance():
    # 0.5 * 1.002 = 0.501: additive within tolerance of the best wins
    assert choose_structure({"additive": 0.5009, "pairwise": 0.5, "free": 0.5005}) == "additive"
    assert choose_structure({"additive": 0.52, "pairwise": 0.5009, "free": 0.5}) == "pairwise"
    assert choose_structure({"additive": 0.52, "pairwise": 0.51, "free": 0.5}) == "free"


def test_screen_finds_the_planted_pair():
    X, y = _flat(4000, interaction=True)
    raw = np.full(len(y), np.log(y.mean() / (1 - y.mean())))
    pairs = screen_pairs(X.assign(plan=X["plan"].astype("category")), y, raw, max_pairs=2)
    assert pairs[0] == (2, 3)
    # a matching: no feature twice
    flat = [j for p in pairs for j in p]
    assert len(flat) == len(set(flat))


def test_auto_picks_interactions_when_planted():
    X, y = _flat(4000, interaction=True)
    m = PropensityModel(n_jobs=1, learning_rate=0.1).fit(X, y)
    assert m.structure_ in ("pairwise", "free")
    losses = m.metadata_["structure"]["validation_log_loss"]
    assert set(losses) == {"additive", "pairwise", "free"}
    assert losses["additive"] > 1.01 * min(losses.values())
    assert m.metadata_["structure"]["chosen"] == m.structure_
    p = PropensityModel(n_jobs=1, learning_rate=0.1, structure="pairwise").fit(X, y)
    assert ("x2", "x3") in p.pairs_
    # every tree uses at most two features, and two only when they are a chosen pair
    pairs = {frozenset(pr) for pr in p.pairs_}
    for info in p.booster_.dump_model()["tree_info"]:
        used, stack = set(), [info["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                used.add(p.feature_names_in_[node["split_feature"]])
                stack += [node["left_child"], node["right_child"]]
        assert len(used) <= 1 or frozenset(used) in pairs


def test_auto_picks_additive_on_additive_truth():
    X, y = _flat(4000, interaction=False)
    m = PropensityModel(n_jobs=1, learning_rate=0.1).fit(X, y)
    assert m.structure_ == "additive"
    assert m.lookup_ is not None and m.pairs_ == []


def test_flat_table_refit_uses_every_row_and_is_deterministic():
    X, y = _flat(3000, interaction=False, seed=3)
    X = X.sample(frac=1.0, random_state=1)  # row order carries nothing
    kw = dict(n_jobs=1, learning_rate=0.1, structure="additive", subsample=1.0)
    a = PropensityModel(**kw).fit(X, y[X.index])
    b = PropensityModel(**kw).fit(X, y[X.index])
    assert a.split_["strategy"] == "crossfit" and a.split_["n_folds"] == 5
    # without bagging, a tree's root holds every training row of the booster
    roots = [t["tree_structure"]["internal_count"] for t in a.booster_.dump_model()["tree_info"]]
    assert set(roots) == {len(X)}
    assert a.split_["n_train"] == a.split_["n_calibration"] == len(X)
    assert a.version_ == b.version_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = PropensityModel(**kw, random_state=1)
    assert c.fit(X, y[X.index]).version_ != a.version_


def test_single_snapshot_fallback_warns(caplog):
    X, y = _flat(2000, interaction=False)
    groups = [f"C{i}" for i in range(len(X))]
    with caplog.at_level(logging.WARNING, logger="powerprofile.models._propensity"):
        m = PropensityModel(n_jobs=1, structure="additive").fit(X, y, groups=groups)
    assert m.split_["strategy"] == "group"
    assert "no snapshot time; validating on 25 % of the customers" in caplog.text


def test_too_few_events_for_folds_warns(caplog):
    X, y = _flat(300, interaction=False)
    y = np.zeros(len(X), int)
    y[:1] = 1
    with caplog.at_level(logging.WARNING, logger="powerprofile.models._propensity"):
        m = PropensityModel(n_jobs=1, n_estimators=20, min_child_samples=5).fit(X, y)
    assert m.split_["strategy"] == "none" and m.calibration_ == "none"
    assert "too few rows of the rarer class (1) for 5-fold cross-fitting" in caplog.text


def test_additive_alias_and_bad_structure():
    X, y = _flat(1500, interaction=False)
    with pytest.warns(FutureWarning, match="use structure='free'"):
        m = PropensityModel(n_jobs=1, additive=False, n_estimators=30).fit(X, y)
    assert m.structure_ == "free" and m.lookup_ is None
    with pytest.raises(ValueError, match="additive=True contradicts structure='free'"):
        PropensityModel(additive=True, structure="free").fit(X, y)
    with pytest.raises(ValueError, match="structure must be 'auto', .* got 'linear'"):
        PropensityModel(structure="linear").fit(X, y)


def test_structure_loss_is_logged_by_lightgbm_contract():
    """The log loss used to choose equals LightGBM's binary_logloss of the same scores."""
    from powerprofile.models._structure import log_loss

    rng = np.random.default_rng(0)
    raw = rng.normal(size=200)
    y = (rng.random(200) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-raw))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert log_loss(y, raw) == pytest.approx(expected, rel=1e-12)
    assert lgb.__version__  # LightGBM present (the screen and the fits use it)


def _snapshots(n_per, n_snaps, interaction, seed=0):
    X, y = _flat(n_per * n_snaps, interaction, seed)
    time = np.repeat(pd.date_range("2024-01-01", periods=n_snaps, freq="MS"), n_per)
    return X, y, time


def test_structure_chosen_on_a_subsample_then_fitted_on_every_training_row():
    X, y, time = _snapshots(1500, 4, interaction=True)
    kw = dict(n_jobs=1, subsample=1.0, selection_rows=1000)
    m = PropensityModel(**kw).fit(X, y, time=time)
    n_train = m.split_["n_train"]
    assert n_train == 4500  # three earliest snapshots train, the latest validates
    meta = m.metadata_["structure"]
    # every candidate was scored, on a stratified subsample of about 1000 training rows
    assert set(meta["validation_log_loss"]) == {"additive", "pairwise", "free"}
    assert all(np.isfinite(v) for v in meta["validation_log_loss"].values())
    assert abs(meta["selection_rows"] - 1000) <= 1 and m.selection_rows_ == meta["selection_rows"]
    assert meta["chosen"] in ("pairwise", "free")  # the planted x2 * x3 interaction
    # the deployed booster was refitted on every training row (no bagging: root = all rows)
    roots = {t["tree_structure"]["internal_count"] for t in m.booster_.dump_model()["tree_info"]}
    assert roots == {n_train}
    # deterministic for a seed, different for another
    again = PropensityModel(**kw).fit(X, y, time=time)
    assert again.version_ == m.version_
    assert again.structure_losses_ == m.structure_losses_
    np.testing.assert_array_equal(again.predict_proba(X), m.predict_proba(X))
    other = PropensityModel(**kw, random_state=1).fit(X, y, time=time)
    assert other.structure_losses_ != m.structure_losses_


def test_no_subsample_below_selection_rows_or_with_an_explicit_structure():
    X, y, time = _snapshots(1000, 4, interaction=False)
    m = PropensityModel(n_jobs=1, subsample=1.0).fit(X, y, time=time)  # 3000 < 50_000
    assert m.metadata_["structure"]["selection_rows"] == m.split_["n_train"] == 3000
    assert m.structure_ == "additive"
    e = PropensityModel(n_jobs=1, subsample=1.0, structure="free", selection_rows=1000)
    e.fit(X, y, time=time)
    assert e.selection_rows_ == 3000 and set(e.structure_losses_) == {"free"}
    with pytest.raises(ValueError, match="selection_rows must be None or >= 1000, got 10"):
        PropensityModel(selection_rows=10).fit(X, y, time=time)
