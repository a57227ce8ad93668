"""Exact TreeSHAP contributions of a :class:`~powerprofile.models.PropensityModel`.

Three exact routes give the same numbers (tests check that they agree, for every
structure, to 1e-9):

- ``"lookup"``: additive and pairwise models (``structure="additive"`` or
  ``"pairwise"``: at most two features per tree) — per-feature step-function tables
  and per-pair two-dimensional tables, one ``searchsorted`` per feature and one
  ``take`` per table; by far the fastest (see ``benchmarks/bench_scoring.py``);
- ``"lightgbm"``: LightGBM's native ``pred_contrib`` (exact path-dependent TreeSHAP in
  C++, threaded over rows, in chunks of 100,000 rows), for any tree shape;
- ``"shap"``: ``shap.TreeExplainer(booster)``; for LightGBM boosters in the default
  path-dependent mode it calls the same ``pred_contrib`` internally.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BASE_VALUE", "contributions", "global_importance", "raw_contributions"]

_CHUNK = 100_000
"""Rows per ``pred_contrib`` call (LightGBM's own copy of the output stays bounded)."""

BASE_VALUE = "base_value"
"""Name of the base-value column in :func:`contributions` (renamed if a feature uses it)."""


def _threads(model, n_jobs):
    if n_jobs is not None:
        return int(n_jobs)
    if getattr(model, "n_jobs", None):
        return int(model.n_jobs)
    from .._cores import available_cores

    return available_cores()


def raw_contributions(model, Xp: pd.DataFrame, method: str = "auto", n_jobs=None):
    """Contributions of a prepared frame as an array, plus the base value.

    Parameters
    ----------
    model : PropensityModel
        Fitted model.
    Xp : pandas.DataFrame
        Frame already prepared with ``model._prepare`` (fitted columns and dtypes).
    method : {"auto", "lookup", "lightgbm", "shap"}, default="auto"
        Algorithm; ``"auto"`` is ``"lookup"`` for additive and pairwise models, else
        ``"lightgbm"``.
    n_jobs : int or None, default=None
        Threads (None: the model's ``n_jobs`` or all cores).

    Returns
    -------
    phi : numpy.ndarray of shape (n_samples, n_features)
    base_value : float
    """
    lookup = getattr(model, "lookup_", None)
    if method == "auto":
        method = "lookup" if lookup is not None else "lightgbm"
    threads = _threads(model, n_jobs)
    p = Xp.shape[1]
    if method == "lookup":
        if lookup is None:
            raise ValueError(
                "method='lookup' needs an additive model or a pairwise one (structure='additive' or 'pairwise'); "
                "use method='lightgbm' for unconstrained trees."
            )
        return lookup.contributions(Xp, n_jobs=threads), lookup.base_value
    if method == "lightgbm":
        if len(Xp) == 0:
            return np.zeros((0, p)), float("nan")
        phi = np.empty((len(Xp), p))
        base = float("nan")
        for start in range(0, len(Xp), _CHUNK):  # bounded memory; threads over rows
            out = model.booster_.predict(
                Xp.iloc[start : start + _CHUNK],
                pred_contrib=True,
                num_iteration=model.best_iteration_,
                num_threads=threads,
            )
            out = np.asarray(out, float)
            phi[start : start + len(out)] = out[:, :p]
            base = float(out[0, p])
        return phi, base
    if method == "shap":
        import shap

        explainer = shap.TreeExplainer(model.booster_)
        phi = explainer.shap_values(Xp, tree_limit=model.best_iteration_)
        phi = np.asarray(phi, float).reshape(len(Xp), p)
        base = float(np.ravel(explainer.expected_value)[0])
        return phi, base
    raise ValueError(f"method must be 'auto', 'lookup', 'lightgbm' or 'shap', got {method!r}.")


def contributions(model, X, *, method: str = "auto", n_jobs=None) -> pd.DataFrame:
    """Exact TreeSHAP contribution of every feature to every row's raw score.

    Each row's contributions plus its base value add up to the model's raw score
    (``model.decision_function(X)``, log-odds before calibration).

    Parameters
    ----------
    model : PropensityModel
        Fitted model.
    X : pandas.DataFrame
        Features with the fitted columns (checked, see ``FeatureMismatchError``).
    method : {"auto", "lookup", "lightgbm", "shap"}, default="auto"
        Algorithm (all exact; see the module docstring).
    n_jobs : int or None, default=None
        Threads.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``: one column per feature, then the base value column
        ``"base_value"``.
    """
    Xp = model._prepare(X)
    phi, base = raw_contributions(model, Xp, method, n_jobs)
    names = list(Xp.columns)
    out = pd.DataFrame(phi, index=Xp.index, columns=names)
    base_name = BASE_VALUE
    while base_name in names:
        base_name += "_"
    out[base_name] = base
    return out


def global_importance(model, X, *, method: str = "auto", n_jobs=None) -> pd.DataFrame:
    """Global importance: mean absolute TreeSHAP contribution per feature.

    Parameters
    ----------
    model : PropensityModel
        Fitted model.
    X : pandas.DataFrame
        Rows to average over (e.g. the scored population or a sample).
    method : {"auto", "lookup", "lightgbm", "shap"}, default="auto"
        Algorithm.
    n_jobs : int or None, default=None
        Threads.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature, mean_abs_contribution, mean_contribution, share``
        (share of the total mean absolute contribution), sorted by importance.
    """
    Xp = model._prepare(X)
    phi, _ = raw_contributions(model, Xp, method, n_jobs)
    mabs = np.abs(phi).mean(axis=0) if len(phi) else np.zeros(Xp.shape[1])
    out = pd.DataFrame(
        {
            "feature": list(Xp.columns),
            "mean_abs_contribution": mabs,
            "mean_contribution": phi.mean(axis=0) if len(phi) else mabs * 0,
            "share": mabs / mabs.sum() if mabs.sum() > 0 else mabs * 0,
        }
    )
    return out.sort_values(
        ["mean_abs_contribution", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
