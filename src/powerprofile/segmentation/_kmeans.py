"""KMeans with missing values (partial distances) and matching of clusters to a reference."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

__all__ = [
    "KPOD_ITER",
    "SEARCH_INIT",
    "SEED_COMPLETE",
    "assign",
    "category_words",
    "fit_centers",
    "inertia",
    "match_to_reference",
    "partial_sq_distances",
]

SEED_COMPLETE = True
"""Seed the centroids on rows with every feature observed (when there are enough)."""
KPOD_ITER = 3
"""Rounds of assign / impute-from-centroid / refit for rows with missing values."""
SEARCH_INIT = 5
"""KMeans restarts per fit during the search over k."""


def category_words(column: str, value: str) -> tuple[str, str]:
    if column == "customer_type":
        from ..schema._contract import CUSTOMER_TYPE_ZH

        return value.replace("_", " "), CUSTOMER_TYPE_ZH.get(value, value)
    return f"{column} {value}", f"{column}{value}"


def inertia(Zn, obs, C, Z) -> float:
    return float(partial_sq_distances(Zn, obs, C, Z, rescale=True).min(axis=1).sum())


def fit_centers(Zn, obs, Z, k, seed, n_init, missing, init=None) -> np.ndarray:
    """KMeans centroids; with ``missing="partial"``, robust to missing values.

    Centroids are seeded on the rows with every feature observed (when there are
    enough), every row is assigned by the distance over its observed features, its
    missing values take its centroid's values, and KMeans refines the centroids.
    """
    partial = missing == "partial" and not obs.all()
    complete = obs.all(axis=1)
    use_complete = partial and SEED_COMPLETE and complete.sum() >= max(5 * k, 0.2 * len(Z))
    Zk = Z[complete] if use_complete else Z
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning for duplicate points
        if init is None:
            km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(Zk)
        else:
            km = KMeans(n_clusters=k, init=init, n_init=1, random_state=seed).fit(Zk)
        if partial:
            for _ in range(KPOD_ITER):
                lab = assign(Zn, obs, km.cluster_centers_, Z)
                Zi = np.where(obs, Zn, km.cluster_centers_[lab])
                km = KMeans(
                    n_clusters=k, init=km.cluster_centers_, n_init=1, random_state=seed
                ).fit(Zi)
    return km.cluster_centers_


def partial_sq_distances(Zn, obs, C, Zfill, rescale=False):
    """Squared distances to the centroids over each row's observed features.

    Rows with no observed feature use ``Zfill`` (median-imputed values). With
    ``rescale`` the sum is scaled by ``n_features / n_observed`` (partial distance).
    """
    none = ~obs.any(axis=1)
    W = obs.astype("float64")
    X0 = np.where(obs, Zn, 0.0)
    if none.any():
        W[none] = 1.0
        X0[none] = Zfill[none]
    D = (X0**2).sum(axis=1)[:, None] - 2.0 * X0 @ C.T + W @ (C**2).T
    D = np.maximum(D, 0.0)
    if rescale:
        D *= (Zn.shape[1] / W.sum(axis=1))[:, None]
    return D


def assign(Zn, obs, C, Zfill) -> np.ndarray:
    """Nearest centroid over the observed features (the median fills empty rows)."""
    if obs.all():
        X = Zn
        D = (X**2).sum(axis=1)[:, None] - 2.0 * X @ C.T + (C**2).sum(axis=1)[None, :]
        return np.argmin(D, axis=1)
    return np.argmin(partial_sq_distances(Zn, obs, C, Zfill), axis=1)


def match_to_reference(new_labels: np.ndarray, old_ids: np.ndarray, k: int, min_jaccard: float):
    """Give each new cluster the id of the reference segment it shares most customers with."""
    old_u, old_inv = np.unique(old_ids, return_inverse=True)
    C = np.zeros((k, len(old_u)), dtype=np.int64)
    np.add.at(C, (new_labels, old_inv), 1)
    rows, cols = linear_sum_assignment(-C)
    new_sizes = C.sum(axis=1)
    old_sizes = C.sum(axis=0)
    ids = np.full(k, -1, dtype=np.int64)
    recs = []
    for r, c in zip(rows, cols, strict=True):
        inter = C[r, c]
        jac = inter / max(new_sizes[r] + old_sizes[c] - inter, 1)
        if jac >= min_jaccard:
            ids[r] = old_u[c]
        recs.append((r, int(old_u[c]), int(inter), float(jac)))
    next_id = int(old_u.max()) + 1 if len(old_u) else 0
    for r in np.flatnonzero(ids < 0):
        ids[r] = next_id
        next_id += 1
    match = pd.DataFrame(recs, columns=["cluster", "reference_id", "overlap", "jaccard"])
    match.insert(0, "segment_id", ids[match["cluster"].to_numpy()])
    match = match.drop(columns="cluster")
    match.loc[match["jaccard"] < min_jaccard, "reference_id"] = -1
    return ids, match.sort_values("segment_id").reset_index(drop=True)
