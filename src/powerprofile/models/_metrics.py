"""Scalar metrics shared by fitting (validation summary) and :func:`evaluate`."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = ["binary_metrics", "expected_calibration_error", "top_share_lift"]


def expected_calibration_error(
    y_true, y_prob, n_bins: int = 10, strategy: str = "quantile", sample_weight=None
) -> float:
    """Expected calibration error: weighted mean |mean score - event rate| over bins.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Outcomes.
    y_prob : array-like of float
        Predicted probabilities.
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        Equal-count bins (stricter for rare events, where uniform bins put almost
        every row in the first bin) or equal-width bins over [0, 1].
    sample_weight : array-like of float or None, default=None
        Row weights (the inverse sampling rate of a training sample): quantile bins
        hold equal weight, and each bin counts by its weight, so the ECE of a weighted
        sample estimates that of the population it was drawn from.

    Returns
    -------
    float
    """
    y = np.asarray(y_true, float)
    p = np.asarray(y_prob, float)
    if sample_weight is not None:
        return _weighted_ece(y, p, np.asarray(sample_weight, float), n_bins, strategy)
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        bins = np.empty(len(p), np.int64)
        bins[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
    elif strategy == "uniform":
        bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}.")
    count = np.bincount(bins, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    nz = count > 0
    return float(np.sum(np.abs(sum_p[nz] - sum_y[nz])) / max(len(p), 1))


def _weighted_ece(y, p, w, n_bins: int, strategy: str) -> float:
    total = float(w.sum())
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        before = np.cumsum(w[order]) - w[order]  # weight ranked below each row
        bins = np.empty(len(p), np.int64)
        share = before * n_bins / max(total, 1e-300)
        bins[order] = np.minimum(share.astype(np.int64), n_bins - 1)
    elif strategy == "uniform":
        bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}.")
    sum_p = np.bincount(bins, weights=w * p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=w * y, minlength=n_bins)
    return float(np.sum(np.abs(sum_p - sum_y)) / total) if total > 0 else float("nan")


def top_share_lift(y_true, y_score, share: float) -> tuple[float, float]:
    """Lift and capture rate of the top ``share`` of rows by score.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Outcomes.
    y_score : array-like of float
        Scores (higher = more likely).
    share : float
        Fraction of rows targeted, e.g. 0.1.

    Returns
    -------
    lift : float
        Event rate in the top share divided by the overall event rate.
    capture : float
        Share of all events that fall in the top share.
    """
    y = np.asarray(y_true, float)
    s = np.asarray(y_score, float)
    k = max(int(np.ceil(share * len(y))), 1)
    top = np.argsort(-s, kind="stable")[:k]
    total = y.sum()
    if total == 0:
        return float("nan"), float("nan")
    capture = float(y[top].sum() / total)
    return capture / (k / len(y)), capture


def binary_metrics(y_true, y_prob, *, n_bins: int = 10, sample_weight=None) -> dict:
    """ROC AUC, PR AUC, Brier score, log loss and ECE (quantile and uniform bins).

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Outcomes.
    y_prob : array-like of float
        Calibrated probabilities.
    n_bins : int, default=10
        Bins for the ECE.
    sample_weight : array-like of float or None, default=None
        Row weights, e.g. the inverse sampling rate of rows kept from a training
        sample: every metric (but ``n``, the rows scored) is then the weighted
        estimate of the metric on every row the sample was drawn from.

    Returns
    -------
    dict of str to float
    """
    y = np.asarray(y_true, int)
    p = np.clip(np.asarray(y_prob, float), 0.0, 1.0)
    if sample_weight is None:
        w = None
        rate = float(y.mean()) if len(y) else float("nan")
    else:
        w = np.asarray(sample_weight, float)
        rate = float(np.average(y, weights=w)) if len(y) else float("nan")
    two = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "positive_rate": rate,
        "roc_auc": float(roc_auc_score(y, p, sample_weight=w)) if two else float("nan"),
        "pr_auc": float(average_precision_score(y, p, sample_weight=w)) if two else float("nan"),
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "log_loss": float(
            log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1], sample_weight=w)
        ),
        "ece": expected_calibration_error(y, p, n_bins, "quantile", w),
        "ece_uniform": expected_calibration_error(y, p, n_bins, "uniform", w),
    }
