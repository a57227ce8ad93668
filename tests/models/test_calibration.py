"""Calibration on a subsample of the negatives, weighted back to the population."""

import numpy as np
import pytest

from powerprofile.models._calibration import choose_calibrator


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "auto"])
def test_weighted_calibration_holds_on_the_population(method):
    rng = np.random.default_rng(0)
    n = 80_000
    raw = rng.normal(-3.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-raw))).astype(float)
    halves = rng.random(n) < 0.5
    f = 0.1  # every positive kept, a tenth of the negatives, each weighing 10
    keep = (y == 1) | (rng.random(n) < f)
    w = np.where(y[keep] == 1, 1.0, 1 / f)
    cal, _ = choose_calibrator(raw[keep], y[keep], halves[keep], method, sample_weight=w)
    p = cal.transform(raw)
    assert p.mean() == pytest.approx(y.mean(), rel=0.05)
    # by decile of the score too
    edges = np.quantile(raw, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, raw, side="right") - 1, 0, 9)
    for b in range(10):
        m = bins == b
        assert p[m].mean() == pytest.approx(y[m].mean(), abs=0.01 + 0.15 * y[m].mean())
    # without the weights the subsample's rate (several times the population's) is learnt
    unweighted, _ = choose_calibrator(raw[keep], y[keep], halves[keep], method)
    assert unweighted.transform(raw).mean() > 3 * y.mean()


def _calibration_rows(n_events, n, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=n)
    y = np.zeros(n)
    y[rng.choice(n, n_events, replace=False)] = 1.0
    return raw, y, np.arange(n) % 2 == 0


def test_auto_calibration_tries_isotonic_only_with_enough_events():
    # 120 events: about 60 per half, under the 100 needed per half -> sigmoid only
    raw, y, halves = _calibration_rows(120, 2_000)
    cal, scores = choose_calibrator(raw, y, halves, "auto")
    assert cal.method == "sigmoid" and list(scores) == ["sigmoid"]
    # 600 events: about 300 per half -> both families are compared
    raw, y, halves = _calibration_rows(600, 2_000)
    _, scores = choose_calibrator(raw, y, halves, "auto")
    assert sorted(scores) == ["isotonic", "sigmoid"]
