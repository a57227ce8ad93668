import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from powerprofile.models import (
    evaluate,
    expected_calibration_error,
    gains_table,
    logistic_baseline,
    logistic_baselines,
)


def test_lift_capture_gains_by_hand():
    # 20 rows, scores 20..1 (row 0 highest); events at rows 0, 1, 5, 12
    y = np.zeros(20, int)
    y[[0, 1, 5, 12]] = 1
    s = np.arange(20, 0, -1) / 21
    out = evaluate(y, s, figures=False)
    m = out["metrics"].loc["model"]
    # top 5 % = 1 row (1 event of 4): capture 0.25, lift 0.25 / 0.05 = 5
    assert m["capture_5"] == pytest.approx(0.25) and m["lift_5"] == pytest.approx(5.0)
    # top 10 % = 2 rows, 2 events: capture 0.5, lift 5
    assert m["capture_10"] == pytest.approx(0.5) and m["lift_10"] == pytest.approx(5.0)
    # top 20 % = 4 rows, 2 events: capture 0.5, lift 2.5
    assert m["capture_20"] == pytest.approx(0.5) and m["lift_20"] == pytest.approx(2.5)
    # ROC AUC by hand: pairs (pos, neg) ranked right / 4 * 16
    # positions from top 0, 1, 5, 12 -> negatives below each: 16, 16, 13, 7 = 52 of 64
    assert m["roc_auc"] == pytest.approx(52 / 64)
    g = gains_table(y, s)
    assert list(g["events"]) == [2, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    assert g["cumulative_capture"].iloc[2] == pytest.approx(0.75)
    assert g["lift"].iloc[0] == pytest.approx((2 / 2) / 0.2)


def test_ece_by_hand():
    # two equal-count bins: scores {0.1, 0.1} with 0 events and {0.6, 0.6} with 2
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.6, 0.6])
    # bin 1 |0.1 - 0| * 2/4 + bin 2 |0.6 - 1| * 2/4 = 0.05 + 0.2
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.25)
    assert expected_calibration_error(y, p, n_bins=2, strategy="uniform") == pytest.approx(0.25)


def test_baseline_and_figures(fitted, panel):
    X, y, _ = panel
    last = X.index.get_level_values(1) == X.index.get_level_values(1).max()
    out = evaluate(
        y[last],
        fitted.predict_proba(X[last])[:, 1],
        X_train=X[~last],
        y_train=y[~last],
        X_test=X[last],
    )
    assert list(out["metrics"].index) == ["model", "logistic_baseline"]
    for col in ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_10", "capture_20"):
        assert out["metrics"][col].notna().all()
    assert set(out["figures"]) == {"gains", "calibration"}
    assert all(isinstance(f, Figure) for f in out["figures"].values())
    assert len(out["gains"]) == 10 and out["gains"]["n"].sum() == last.sum()
    # the baseline learns the linear part of the truth (num_0, num_1, customer type)
    assert 0.7 < out["metrics"].loc["logistic_baseline", "roc_auc"] < 1.0


def test_logistic_baseline_fits_on_at_most_max_rows():
    X = pd.DataFrame({"x": np.arange(200, dtype=float), "k": pd.array(["a", "b"] * 100)})
    y = np.arange(200) % 2
    capped = logistic_baseline(X, y, max_rows=20)
    assert capped[0].named_transformers_["num"][-1].n_samples_seen_ == 20
    whole = logistic_baseline(X, y, max_rows=None)
    assert whole[0].named_transformers_["num"][-1].n_samples_seen_ == 200
    above = logistic_baseline(X, y, max_rows=500)  # fewer rows than the cap: all of them
    assert above[0].named_transformers_["num"][-1].n_samples_seen_ == 200


def test_logistic_baselines_share_preprocessing_and_match_one_baseline_per_label():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "m": np.where(rng.random(300) < 0.2, np.nan, rng.normal(size=300)),
            "k": pd.array(rng.choice(["a", "b", "c"], 300), dtype="string"),
        }
    )
    labels = {"first": (X["x"] > 0).astype(int), "second": (rng.random(300) < 0.3).astype(int)}
    got = logistic_baselines(
        X.iloc[:200], {k: v[:200] for k, v in labels.items()}, X.iloc[200:], 3, max_rows=150
    )
    assert set(got) == {"first", "second"}
    for name, y in labels.items():
        one = logistic_baseline(X.iloc[:200], y[:200], 3, max_rows=150)
        np.testing.assert_allclose(got[name], one.predict_proba(X.iloc[200:])[:, 1], rtol=1e-12)
    with pytest.raises(ValueError, match="labels\\['bad'\\] has 3 values but X_train has 200 rows"):
        logistic_baselines(X.iloc[:200], {"bad": [0, 1, 0]}, X.iloc[200:])
