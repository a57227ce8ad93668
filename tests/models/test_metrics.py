"""Holdout metrics of a weighted sample estimate the metrics of every row."""

import numpy as np
import pytest

from powerprofile.models._metrics import binary_metrics, expected_calibration_error


def _population(n=400_000, seed=0):
    """Rare events, slightly miscalibrated scores: the ground truth of every row."""
    rng = np.random.default_rng(seed)
    true_p = rng.beta(0.6, 12.0, n)
    y = (rng.random(n) < true_p).astype(int)
    p = np.clip(true_p * 1.15 + rng.normal(0, 0.01, n), 0, 1)
    return y, p


def _sample(y, fraction, seed=1):
    """Every positive, ``fraction`` of the negatives, weights 1 / fraction."""
    rng = np.random.default_rng(seed)
    keep = (y == 1) | (rng.random(len(y)) < fraction)
    w = np.where(y[keep] == 1, 1.0, 1.0 / fraction)
    return keep, w


def test_weighted_metrics_of_a_sample_approximate_every_row():
    y, p = _population()
    truth = binary_metrics(y, p)
    keep, w = _sample(y, 0.05)
    weighted = binary_metrics(y[keep], p[keep], sample_weight=w)
    plain = binary_metrics(y[keep], p[keep])
    for m in ("brier", "log_loss", "positive_rate"):
        assert weighted[m] == pytest.approx(truth[m], rel=0.03), m
        # the rows alone are far off: every positive kept, 1 in 20 negatives
        assert abs(plain[m] - truth[m]) > 5 * abs(weighted[m] - truth[m]), m
    for m in ("ece", "ece_uniform"):
        assert weighted[m] == pytest.approx(truth[m], abs=0.002), m
        assert abs(plain[m] - truth[m]) > 0.01, m
    assert weighted["roc_auc"] == pytest.approx(truth["roc_auc"], abs=0.005)
    assert weighted["pr_auc"] == pytest.approx(truth["pr_auc"], abs=0.01)
    assert weighted["n"] == int(keep.sum())


def test_unit_weights_change_nothing():
    y, p = _population(n=5_001, seed=3)
    ones = np.ones(len(y))
    for strategy in ("quantile", "uniform"):
        assert expected_calibration_error(y, p, 10, strategy, ones) == pytest.approx(
            expected_calibration_error(y, p, 10, strategy), rel=1e-12
        )
    a, b = binary_metrics(y, p), binary_metrics(y, p, sample_weight=ones)
    assert a.keys() == b.keys()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-12), k


def test_weighted_ece_by_hand():
    # two rows of weight 3 scored 0.2 (one event), two of weight 1 scored 0.8 (both events)
    y = np.array([0, 1, 1, 1])
    p = np.array([0.2, 0.2, 0.8, 0.8])
    w = np.array([3.0, 3.0, 1.0, 1.0])
    # uniform bins: bin 2 holds weight 6 (mean score 0.2, event rate 0.5), bin 8 weight 2
    expected = (6 * abs(0.2 - 0.5) + 2 * abs(0.8 - 1.0)) / 8
    assert expected_calibration_error(y, p, 10, "uniform", w) == pytest.approx(expected)
    # two quantile bins of equal weight: rows in score order weigh 3, 3, 1, 1, so the
    # weight ranked below each is 0, 3, 6, 7 of 8 -> bins 0, 0, 1, 1 (the same two groups)
    assert expected_calibration_error(y, p, 2, "quantile", w) == pytest.approx(expected)
