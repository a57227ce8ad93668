"""Monotone calibration of raw scores (log-odds) into probabilities.

Both calibrators are *strictly* increasing in the raw score, so calibrating never
creates ties and never changes the ranking (AUC, lift and the gains table are those of
the raw score):

- ``sigmoid``: Platt scaling, ``p = 1 / (1 + exp(-(a * raw + b)))`` fitted by logistic
  regression;
- ``isotonic``: centred isotonic regression (the isotonic fit interpolated linearly
  between the centres of its blocks, instead of a step function), blended with weight
  1e-6 with the sigmoid of the raw score to break the remaining ties at both ends.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

__all__ = ["ISOTONIC_MIN_RARER", "Calibrator", "choose_calibrator"]

_EPS = 1e-6

ISOTONIC_MIN_RARER = 100
"""``calibration="auto"`` tries isotonic only when each half holds this many rows of
the rarer class: with fewer, its steps follow the noise of a few dozen events and the
two-parameter sigmoid calibrates better (and the cross-fitted comparison itself is
too noisy to trust)."""


def _logloss(y, p, w=None):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.average(y * np.log(p) + (1 - y) * np.log1p(-p), weights=w))


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class Calibrator:
    """A fitted monotone map from raw score to probability.

    Parameters
    ----------
    method : {"sigmoid", "isotonic", "none"}
        Calibration family; ``"none"`` is the logistic link of the raw score.
    """

    def __init__(self, method: str):
        self.method = method

    def fit(self, raw, y, sample_weight=None):
        """Fit on raw scores ``raw`` and 0/1 labels ``y``; return self."""
        raw = np.asarray(raw, float)
        y = np.asarray(y, float)
        if self.method == "sigmoid":
            lr = LogisticRegression(C=1e6, solver="lbfgs")
            lr.fit(raw.reshape(-1, 1), y, sample_weight=sample_weight)
            self.a_, self.b_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
            if not self.a_ > 0:  # degenerate validation data: keep the ranking
                self.a_, self.b_ = 1.0, float(np.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9)))
        elif self.method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(raw, y, sample_weight=sample_weight)
            # centres of the isotonic blocks -> strictly increasing interpolation
            xs, ys = iso.X_thresholds_, iso.y_thresholds_
            w = np.ones_like(raw) if sample_weight is None else np.asarray(sample_weight, float)
            order = np.argsort(raw, kind="stable")
            fitted = iso.predict(raw[order])
            _, start = np.unique(fitted, return_index=True)
            bounds = np.r_[np.sort(start), len(order)]
            cx, cy = [], []
            for s, e in zip(bounds[:-1], bounds[1:], strict=True):
                ww = w[order[s:e]]
                cx.append(float(np.average(raw[order[s:e]], weights=ww)))
                cy.append(float(fitted[s]))
            cx, cy = np.asarray(cx), np.asarray(cy)
            keep = np.r_[True, np.diff(cx) > 0]
            self.x_, self.y_ = (cx[keep], cy[keep]) if keep.sum() >= 2 else (xs, ys)
        elif self.method != "none":
            raise ValueError(f"Unknown calibration method {self.method!r}.")
        return self

    def transform(self, raw) -> np.ndarray:
        """Return calibrated probabilities for raw scores."""
        raw = np.asarray(raw, float)
        if self.method == "sigmoid":
            return _sigmoid(self.a_ * raw + self.b_)
        base = _sigmoid(raw)
        if self.method == "none":
            return base
        p = np.interp(raw, self.x_, self.y_)
        return (1 - _EPS) * p + _EPS * base


def choose_calibrator(raw, y, groups_half, method="auto", sample_weight=None):
    """Choose and fit the calibrator on validation scores.

    With ``method="auto"`` both families are cross-fitted over the two halves given by
    ``groups_half`` (fit on one half, log loss on the other, and back); the family with
    the lower mean out-of-half log loss wins and is refitted on all rows. Isotonic is
    tried only when each half holds at least ``ISOTONIC_MIN_RARER`` (100) rows of the
    rarer class; below that, sigmoid.

    Parameters
    ----------
    raw, y : numpy.ndarray
        Raw scores and 0/1 labels of the calibration rows.
    groups_half : numpy.ndarray of bool
        Which half each row belongs to (by customer).
    method : {"auto", "sigmoid", "isotonic", "none"}, default="auto"
        Fixed family, or ``"auto"``.
    sample_weight : numpy.ndarray or None, default=None
        Row weights (e.g. ``1 / f`` for rows kept with probability ``f``) used by the
        fits and the log losses, so a subsampled fit still calibrates to the population.

    Returns
    -------
    calibrator : Calibrator
    scores : dict
        Out-of-half log loss of each family tried.
    """
    y = np.asarray(y, float)
    w = None if sample_weight is None else np.asarray(sample_weight, float)
    if method != "auto":
        return Calibrator(method).fit(raw, y, sample_weight=w), {}
    scores = {}
    a = np.asarray(groups_half, bool)
    halves_ok = all(len(np.unique(y[m])) == 2 for m in (a, ~a))
    if not halves_ok:
        return Calibrator("sigmoid").fit(raw, y, sample_weight=w), {}
    rarer = min(min(int(y[m].sum()), int((1 - y[m]).sum())) for m in (a, ~a))
    families = ("sigmoid", "isotonic") if rarer >= ISOTONIC_MIN_RARER else ("sigmoid",)
    for name in families:
        losses = []
        for fit_mask in (a, ~a):
            wf = None if w is None else w[fit_mask]
            wo = None if w is None else w[~fit_mask]
            cal = Calibrator(name).fit(raw[fit_mask], y[fit_mask], sample_weight=wf)
            losses.append(_logloss(y[~fit_mask], cal.transform(raw[~fit_mask]), wo))
        scores[name] = float(np.mean(losses))
    best = min(scores, key=scores.get)
    return Calibrator(best).fit(raw, y, sample_weight=w), scores
