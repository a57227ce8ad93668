"""Scoring uplift rankings: Qini curves and coefficients, against observed or true effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["qini_coefficient", "qini_curve", "saved_per_1000"]


def qini_curve(ranking, true_effect) -> np.ndarray:
    """Cumulative true effect of the customers taken in the order of ``ranking``.

    With the generator's true individual effects, this is the Qini curve without the
    noise of realised outcomes: point ``k`` is the expected number of extra outcomes
    from treating the ``k`` customers ranked highest.

    Parameters
    ----------
    ranking : array-like of float
        Higher first (a predicted effect).
    true_effect : array-like of float

    Returns
    -------
    numpy.ndarray
        Length ``n + 1``, starting at 0.
    """
    r = np.asarray(ranking, dtype=float)
    t = np.asarray(true_effect, dtype=float)
    order = np.argsort(-np.nan_to_num(r, nan=-np.inf), kind="stable")
    return np.r_[0.0, np.cumsum(t[order])]


def qini_coefficient(ranking, true_effect) -> float:
    """Area between the Qini curve of ``ranking`` and the random-targeting line.

    Parameters
    ----------
    ranking : array-like of float
    true_effect : array-like of float

    Returns
    -------
    float
        Normalised by the number of customers (the area of the curve over the fraction
        treated). The oracle's coefficient is ``qini_coefficient(true_effect, true_effect)``.
    """
    curve = qini_curve(ranking, true_effect)
    n = len(curve) - 1
    if n == 0:
        return 0.0
    line = np.linspace(0.0, curve[-1], n + 1)
    gap = curve - line
    return float(((gap[1:] + gap[:-1]) / 2).sum() / n)


def saved_per_1000(channel, true_effects: pd.DataFrame) -> float:
    """Expected extra retained customers per 1,000 contacts of a channel assignment.

    Parameters
    ----------
    channel : array-like of str
        The channel given to each customer (missing: not contacted).
    true_effects : pandas.DataFrame
        ``effect_<channel>`` columns, aligned with ``channel``.

    Returns
    -------
    float
    """
    ch = pd.Series(channel).astype("string").reset_index(drop=True)
    contacted = ch.notna().to_numpy(dtype=bool)
    if not contacted.any():
        return float("nan")
    total = 0.0
    for name in ch[contacted].unique():  # a few channels
        at = (ch == name).fillna(False).to_numpy(dtype=bool)
        total += float(true_effects[f"effect_{name}"].to_numpy()[at].sum())
    return 1000.0 * total / int(contacted.sum())
