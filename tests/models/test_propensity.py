import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from powerprofile.exceptions import NotFittedError
from powerprofile.models import PropensityModel, expected_calibration_error
from powerprofile.models._calibration import Calibrator
from powerprofile.models._split import out_of_time_split


def test_fit_predict_shapes_and_ranking(panel, fitted):
    X, y, p_true = panel
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    raw = fitted.decision_function(X)
    # calibration is strictly increasing: probabilities rank exactly as raw scores
    order = np.argsort(raw, kind="stable")
    assert (np.diff(proba[order, 1]) >= 0).all()
    assert roc_auc_score(y, proba[:, 1]) == pytest.approx(roc_auc_score(y, raw))
    assert set(fitted.predict(X)) <= {0, 1}
    # close to the oracle on this easy problem
    assert roc_auc_score(y, proba[:, 1]) > 0.97 * roc_auc_score(y, p_true)


def test_out_of_time_split_never_mixes_snapshots(fitted):
    split = fitted.split_
    assert split["strategy"] == "snapshot"
    train = pd.to_datetime(split["train_snapshots"])
    valid = pd.to_datetime(split["validation_snapshots"])
    assert len(train) and len(valid)
    assert not set(train) & set(valid)
    assert train.max() < valid.min()
    # gap_days=31 purges the snapshot whose label window reaches the validation
    assert (valid.min() - train.max()).days > 31
    assert fitted.metadata_["snapshot_range"] == ["2024-01-01T00:00:00", "2024-06-01T00:00:00"]


@settings(max_examples=40, deadline=None)
@given(
    n_snap=st.integers(2, 8),
    n_cust=st.integers(2, 30),
    size=st.floats(0.05, 0.9),
    seed=st.integers(0, 10_000),
)
def test_split_property(n_snap, n_cust, size, seed):
    rng = np.random.default_rng(seed)
    times = rng.choice(pd.date_range("2024-01-01", periods=n_snap, freq="MS").to_numpy(), 200)
    groups = rng.choice([f"C{i}" for i in range(n_cust)], 200)
    s = out_of_time_split(200, times, groups, validation_size=size)
    valid = s.stop | s.calib
    assert not (s.train & valid).any() and not (s.stop & s.calib).any()
    if len(np.unique(times)) >= 2:
        # whole snapshots on each side, training strictly earlier
        assert times[s.train].max() < times[valid].min()
        assert not set(times[s.train]) & set(times[valid])
    # early-stopping and calibration halves never share a customer
    assert not set(groups[s.stop]) & set(groups[s.calib])


def test_fallbacks_without_index(panel):
    X, y, _ = panel
    flat = X.reset_index(drop=True)
    times = X.index.get_level_values("snapshot_date")
    m = PropensityModel(n_jobs=1, n_estimators=50).fit(flat, y.to_numpy(), time=times)
    assert m.split_["strategy"] == "snapshot"
    m2 = PropensityModel(n_jobs=1, n_estimators=50, validation_size=0.2).fit(flat, y.to_numpy())
    # neither time nor customers: cross-fitted, then refitted on every row
    assert m2.split_["strategy"] == "crossfit"
    assert m2.split_["n_train"] == len(flat)


def test_categories_fixed_at_fit(fitted, panel):
    X, _, _ = panel
    spec = {s["name"]: s for s in fitted.schema_}
    assert spec["customer_type"]["kind"] == "categorical"
    assert spec["customer_type"]["categories"] == ["agricultural", "commercial", "residential"]
    # object dtype, unseen category and category dtype all score
    Z = X.head(5).copy()
    Z["customer_type"] = pd.Series(
        ["commercial", "martian", None, "residential", "commercial"], index=Z.index, dtype=object
    )
    p = fitted.predict_proba(Z)[:, 1]
    assert np.isfinite(p).all()
    Z2 = Z.assign(customer_type=Z["customer_type"].astype("category"))
    np.testing.assert_array_equal(p, fitted.predict_proba(Z2)[:, 1])


def test_columns_in_any_order(fitted, panel):
    X, _, _ = panel
    Z = X.head(50)
    np.testing.assert_array_equal(fitted.predict_proba(Z), fitted.predict_proba(Z[Z.columns[::-1]]))


def test_deterministic(panel):
    X, y, _ = panel
    a = PropensityModel(n_estimators=60, n_jobs=1).fit(X, y)
    b = PropensityModel(n_estimators=60, n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.version_ == b.version_


def test_calibration_sanity_against_truth(panel_maker):
    # a larger independent draw: calibrated scores match the true probabilities
    # train on six monthly snapshots, check on a seventh (same population law)
    X, y, p_true = panel_maker(n_customers=2000, n_snapshots=7, seed=1, rate=0.05)
    last = X.index.get_level_values("snapshot_date") == X.index.get_level_values(1).max()
    X, y, Xh, ph = X[~last], y[~last], X[last], p_true[last]
    for cw in (None, "balanced"):
        m = PropensityModel(n_estimators=300, class_weight=cw, n_jobs=1).fit(X, y)
        p = m.predict_proba(Xh)[:, 1]
        # mean predicted probability matches the observed rate (balanced weighting
        # inflates raw scores; calibration must undo it)
        assert abs(p.mean() - ph.mean()) < 0.015, (cw, p.mean(), ph.mean())
        # binned calibration against the truth (not the noisy draw): ECE of 10 bins
        assert expected_calibration_error(ph.to_numpy(), p) < 0.02
        # and the calibrated scores track the true probabilities
        assert np.mean(np.abs(p - ph.to_numpy())) < 0.045
        assert m.calibration_ in ("sigmoid", "isotonic")


def test_calibrators_strictly_increasing():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * raw))).astype(int)
    grid = np.linspace(-6, 6, 501)
    for method in ("sigmoid", "isotonic", "none"):
        out = Calibrator(method).fit(raw, y).transform(grid)
        assert (np.diff(out) > 0).all(), method
        assert ((out > 0) & (out < 1)).all()
    # sigmoid recovers the slope 2 of the true link
    cal = Calibrator("sigmoid").fit(raw, y)
    assert cal.a_ == pytest.approx(2.0, rel=0.2)


def test_pipeline(panel):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y, _ = panel
    pre = ColumnTransformer(
        [
            (
                "log",
                FunctionTransformer(np.arcsinh, feature_names_out="one-to-one"),
                ["num_0", "num_1"],
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    pipe = make_pipeline(pre, PropensityModel(n_jobs=1, n_estimators=50))
    pipe.fit(X, y, propensitymodel__time=X.index.get_level_values("snapshot_date"))
    p = pipe.predict_proba(X)[:, 1]
    assert p.shape == (len(X),)
    model = pipe[-1]
    assert model.split_["strategy"] == "snapshot"
    assert list(model.get_feature_names_out()) == list(pre.get_feature_names_out())


def test_errors(panel):
    X, y, _ = panel
    with pytest.raises(NotFittedError, match="not fitted"):
        PropensityModel().predict_proba(X)
    with pytest.raises(ValueError, match="Only binary classification"):
        PropensityModel().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="calibration must be"):
        PropensityModel(calibration="platt").fit(X, y)
    # the earliest snapshots hold no event
    y0 = y.copy()
    y0[X.index.get_level_values("snapshot_date") < "2024-05-01"] = 0
    with pytest.raises(ValueError, match="training snapshots hold only class 0"):
        PropensityModel().fit(X, y0)
    with pytest.raises(ValueError, match="infinity in column 'num_3'"):
        PropensityModel().fit(X.assign(num_3=np.inf), y)


def test_threads_default_to_the_cores_the_process_may_use():
    import os

    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert PropensityModel()._lgb_params(3)["num_threads"] == expected
    assert PropensityModel(n_jobs=1)._lgb_params(3)["num_threads"] == 1


def test_out_of_fold_matrix_scores_like_the_frame():
    # the matrix the cross-fitted folds are scored on: category codes (missing and
    # unseen as NaN) and numbers as float64, so a booster scores it as the frame
    import lightgbm as lgb

    from powerprofile.models._frame import capture_schema, prepare_frame
    from powerprofile.models._propensity import _matrix

    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "plan": pd.Series(rng.choice(["a", "b", "c"], n), dtype="string"),
            "usage": rng.normal(size=n),
            "flag": rng.random(n) < 0.3,
            "count": rng.integers(0, 5, n),
        }
    )
    X.loc[::7, "usage"] = np.nan
    X.loc[::11, "plan"] = pd.NA
    y = ((X["plan"] == "b").fillna(False) ^ (X["usage"].fillna(0) > 0.5)).astype(int)
    Xp = prepare_frame(X, capture_schema(X), check_names=False)
    mat = _matrix(Xp)
    assert mat.dtype == np.float64
    codes = {"a": 0.0, "b": 1.0, "c": 2.0}
    expected_plan = X["plan"].map(codes).to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(mat[:, 0], expected_plan)
    np.testing.assert_array_equal(mat[:, 1], X["usage"].to_numpy())
    np.testing.assert_array_equal(mat[:, 2], X["flag"].to_numpy(dtype=float))
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_data_per_group": 5, "num_leaves": 7},
        lgb.Dataset(Xp, label=y),
        num_boost_round=20,
    )
    np.testing.assert_array_equal(
        booster.predict(mat, raw_score=True), booster.predict(Xp, raw_score=True)
    )
