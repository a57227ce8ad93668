"""Scalar metrics shared by fitting (validation summary) and :func:`evaluate`."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = ["binary_metrics", "expected_calibration_error", "top_share_lift"]


def expected_calibration_error(
    y_true, y_prob, n_bins: int = 10, strategy: str = "quantile"
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

    Returns
    -------
    float
    """
    y = np.asarray(y_true, float)
    p = np.asarray(y_prob, float)
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


def binary_metrics(y_true, y_prob, *, n_bins: int = 10) -> dict:
    """ROC AUC, PR AUC, Brier score, log loss and ECE (quantile and uniform bins).

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Outcomes.
    y_prob : array-like of float
        Calibrated probabilities.
    n_bins : int, default=10
        Bins for the ECE.

    Returns
    -------
    dict of str to float
    """
    y = np.asarray(y_true, int)
    p = np.clip(np.asarray(y_prob, float), 0.0, 1.0)
    two = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "ece": expected_calibration_error(y, p, n_bins, "quantile"),
        "ece_uniform": expected_calibration_error(y, p, n_bins, "uniform"),
    }
