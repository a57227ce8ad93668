"""Tree structures of a propensity model and the rule that chooses one.

Three structures, from the simplest to the most flexible:

- ``"additive"``: every tree splits on one feature (a sum of per-feature shape
  functions; exact reasons by one-dimensional table look-up);
- ``"pairwise"``: additive trees plus trees on one of a few screened pairs of features
  (exact reasons by two-dimensional look-up);
- ``"free"``: unconstrained trees (exact reasons by LightGBM's ``pred_contrib``).

Pairs are screened on the residuals of the additive model (a FAST-style score: the
second-order gain of a coarse two-dimensional grid over the gains of its two margins)
and kept as a *matching* — each feature in at most one pair — because LightGBM
enforces ``interaction_constraints`` per branch: with pairs (a, b) and (a, c) a tree
could split on a, then b in one branch and c in the other, and use three features.

With ``structure="auto"`` every candidate is fitted and scored by its validation log
loss; the simplest structure whose loss is within ``STRUCTURE_TOLERANCE`` (relative)
of the best is chosen. On large snapshot samples the candidates are fitted on a
subsample of the training rows and only the chosen one on every row
(``PropensityModel(selection_rows=...)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "STRUCTURES",
    "STRUCTURE_TOLERANCE",
    "choose_structure",
    "interaction_constraints",
    "log_loss",
    "screen_pairs",
    "screen_rows",
]

STRUCTURES = ("additive", "pairwise", "free")
"""The structures, simplest first."""

STRUCTURE_TOLERANCE = 0.002
"""A simpler structure wins when its validation log loss is at most 0.2 % above the best."""


def log_loss(y, raw, weight=None) -> float:
    """Weighted log loss of raw scores (log-odds) against 0/1 labels."""
    raw = np.asarray(raw, float)
    y = np.asarray(y, float)
    # log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, computed stably
    loss = np.logaddexp(0.0, np.where(y > 0, -raw, raw))
    return float(np.average(loss, weights=weight))


def choose_structure(losses: dict, tolerance: float = STRUCTURE_TOLERANCE) -> str:
    """The simplest structure whose loss is within ``tolerance`` (relative) of the best.

    Parameters
    ----------
    losses : dict
        ``{structure: validation log loss}`` for the candidates fitted.
    tolerance : float, default=STRUCTURE_TOLERANCE
        Relative tolerance on the log loss.

    Returns
    -------
    str
    """
    finite = {k: v for k, v in losses.items() if np.isfinite(v)}
    if not finite:
        return next(iter(losses))
    best = min(finite.values())
    for name in STRUCTURES:
        if name in finite and finite[name] <= best * (1.0 + tolerance):
            return name
    return min(finite, key=finite.get)  # pragma: no cover - every name is in STRUCTURES


def interaction_constraints(structure: str, n_features: int, pairs=()) -> list | None:
    """LightGBM ``interaction_constraints`` of a structure (None: unconstrained)."""
    if structure == "free":
        return None
    cons = [[j] for j in range(n_features)]
    if structure == "pairwise":
        cons += [[int(a), int(b)] for a, b in pairs]
    return cons


def _codes(col: pd.Series, n_bins: int) -> tuple[np.ndarray, int]:
    """Coarse bin of every value: quantile bins (numeric) or top levels (categorical)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = np.asarray(col.cat.codes, np.int64)
        counts = np.bincount(codes[codes >= 0], minlength=len(col.cat.categories))
        top = np.argsort(-counts, kind="stable")[: n_bins - 2]
        remap = np.full(len(col.cat.categories) + 1, n_bins - 2)  # others
        remap[top] = np.arange(len(top))
        remap[-1] = n_bins - 1  # missing
        return remap[codes], n_bins
    x = col.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(x)
    edges = np.unique(np.quantile(x[ok], np.linspace(0, 1, n_bins)[1:-1])) if ok.any() else []
    codes = np.searchsorted(edges, x, side="right")
    codes[~ok] = len(edges) + 1
    return codes, len(edges) + 2


SCREEN_ROWS = 20_000
"""Rows sampled for the pair screen."""


def screen_rows(n: int, max_rows: int = SCREEN_ROWS, seed: int = 0) -> np.ndarray:
    """Sorted positions of the rows the pair screen uses: all, or a seeded sample of ``max_rows``."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, max_rows, replace=False))


def screen_pairs(
    Xp: pd.DataFrame,
    y,
    raw,
    weight=None,
    *,
    candidates=None,
    max_pairs: int = 10,
    n_bins: int = 8,
    max_rows: int = SCREEN_ROWS,
    seed: int = 0,
) -> list[tuple[int, int]]:
    """Pairs of features whose interaction the residuals of ``raw`` show most.

    For every pair, the rows are cut into a coarse grid (``n_bins`` per feature) and
    the score is the second-order gain ``sum G^2 / (H + 1)`` over the grid cells minus
    the same gain over each margin (``G``: sum of the residuals ``y - p``, ``H``: of
    ``p (1 - p)``, ``p`` the additive model's probability). Pairs with a positive score
    are taken greedily, best first, skipping any that reuses a feature (a matching).

    Parameters
    ----------
    Xp : pandas.DataFrame
        Prepared features.
    y, raw : numpy.ndarray
        0/1 labels and raw scores (log-odds) of the additive model, ideally out of fold.
    weight : numpy.ndarray or None, default=None
        Row weights.
    candidates : list of int or None, default=None
        Column positions to pair (all when None).
    max_pairs : int, default=10
        Most pairs returned.
    n_bins : int, default=8
        Grid cells per feature.
    max_rows : int, default=20_000
        Rows sampled for the screen.
    seed : int, default=0
        Sampling seed.

    Returns
    -------
    list of tuple of int
        Column positions (a < b), strongest first.
    """
    rows = screen_rows(len(Xp), max_rows, seed)
    y = np.asarray(y, float)[rows]
    prob = 1.0 / (1.0 + np.exp(-np.asarray(raw, float)[rows]))
    w = np.ones(len(rows)) if weight is None else np.asarray(weight, float)[rows]
    g, h = w * (y - prob), w * prob * (1 - prob)
    cols = list(range(Xp.shape[1])) if candidates is None else list(candidates)
    binned = {j: _codes(Xp.iloc[rows, j], n_bins) for j in cols}

    def gain(codes, size):
        gs = np.bincount(codes, weights=g, minlength=size)
        hs = np.bincount(codes, weights=h, minlength=size)
        return float(np.sum(gs**2 / (hs + 1.0)))

    margin = {j: gain(c, k) for j, (c, k) in binned.items()}
    scores = []
    for i, a in enumerate(cols):
        ca, ka = binned[a]
        for b in cols[i + 1 :]:
            cb, kb = binned[b]
            s = gain(ca * kb + cb, ka * kb) - margin[a] - margin[b]
            if s > 0:
                scores.append((s, min(a, b), max(a, b)))
    scores.sort(key=lambda t: (-t[0], t[1], t[2]))
    used, out = set(), []
    for _, a, b in scores:
        if a in used or b in used:
            continue
        out.append((a, b))
        used |= {a, b}
        if len(out) >= max_pairs:
            break
    return out
