"""Exact TreeSHAP by table look-up for additive (one feature per tree) boosters.

When every tree of a LightGBM booster splits on a single feature (the model is a sum
of per-feature step functions, trained with singleton ``interaction_constraints``),
the exact path-dependent TreeSHAP value of feature *f* is

    phi_f(x) = sum over the trees t on f of (leaf_t(x_f) - E_t),

where ``E_t`` is the tree's cover-weighted mean leaf value (the "expected value" that
``pred_contrib`` and ``shap.TreeExplainer`` use), and the base value is
``sum_t E_t``. Because each sum depends on ``x_f`` alone, it is a step function of
``x_f`` with jumps at the split thresholds: :class:`AdditiveLookup` evaluates it once
per interval (by asking LightGBM for the leaves of a small probe frame, so missing
values and categorical splits follow LightGBM's own rules) and scoring becomes one
``searchsorted`` (numeric) or one ``take`` (categorical) per feature — the cost grows
with rows x features x log(thresholds), not with trees x leaves x depth².
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

__all__ = ["AdditiveLookup", "tree_summaries"]


def _walk(node, out):
    if "leaf_index" in node or "split_index" not in node:
        out["leaves"].append(
            (
                int(node.get("leaf_index", 0)),
                float(node["leaf_value"]),
                float(node.get("leaf_count", 1)),
            )
        )
        return
    out["features"].add(int(node["split_feature"]))
    if node.get("decision_type") == "<=":
        out["thresholds"].append(float(node["threshold"]))
    if node.get("missing_type") == "Zero":
        out["zero"] = True
    _walk(node["left_child"], out)
    _walk(node["right_child"], out)


def tree_summaries(booster, num_iteration=None) -> list[dict]:
    """Summarise each tree: features used, numeric thresholds, leaves and E_t.

    Parameters
    ----------
    booster : lightgbm.Booster
        A binary booster.
    num_iteration : int or None, default=None
        Number of trees to use (all when None or <= 0).

    Returns
    -------
    list of dict
        Keys ``features`` (set of column positions), ``thresholds``, ``leaf_value``
        (array indexed by leaf index), ``expected`` (E_t) and ``zero``.
    """
    dump = booster.dump_model(num_iteration=num_iteration or -1)
    trees = []
    for info in dump["tree_info"]:
        out = {"features": set(), "thresholds": [], "leaves": [], "zero": False}
        _walk(info["tree_structure"], out)
        leaves = sorted(out["leaves"])
        values = np.array([v for _, v, _ in leaves])
        counts = np.array([c for _, _, c in leaves])
        expected = (
            float(np.sum(values * counts) / counts.sum())
            if counts.sum() > 0
            else float(values.mean())
        )
        trees.append(
            dict(
                features=out["features"],
                thresholds=out["thresholds"],
                leaf_value=values,
                expected=expected,
                zero=out["zero"],
            )
        )
    return trees


_K_ZERO = 1.0000000180025095e-35
"""LightGBM's ``kZeroThreshold``: its predictor reads ``|x| <= kZeroThreshold`` as 0."""


def _representatives(th: np.ndarray) -> list:
    """One value inside each interval (-inf, t0], (t0, t1], ..., (t_last, inf).

    Interior points (not the thresholds themselves): LightGBM's predictor turns any
    ``|x| <= kZeroThreshold`` into 0, so a threshold of ``-kZeroThreshold`` would not
    represent its own interval.
    """
    if len(th) == 0:
        return [0.0]
    reps = [th[0] - max(1.0, abs(th[0]))]
    for lo, hi in zip(th[:-1], th[1:], strict=True):
        mid = lo + (hi - lo) / 2
        reps.append(mid if lo < mid <= hi else hi)
    reps.append(th[-1] + max(1.0, abs(th[-1])))
    return [0.0 if abs(r) <= _K_ZERO else float(r) for r in reps]


class AdditiveLookup:
    """Per-feature step functions equal to exact TreeSHAP of an additive booster.

    Parameters
    ----------
    booster : lightgbm.Booster
        Booster whose trees each split on at most one feature.
    frame_template : pandas.DataFrame
        A prepared frame (fitted column order and dtypes; may have zero rows), used to
        build the probe frame.
    num_iteration : int or None
        Number of trees used by the model.

    Attributes
    ----------
    base_value : float
        Sum of the trees' expected values.
    tables : list of tuple
        Per feature ``(kind, thresholds, values, nan_value, zero_value)``.
    """

    def __init__(self, booster, frame_template: pd.DataFrame, num_iteration=None):
        trees = tree_summaries(booster, num_iteration)
        bad = [i for i, t in enumerate(trees) if len(t["features"]) > 1]
        if bad:
            raise ValueError(
                f"The booster is not additive: tree {bad[0]} splits on "
                f"{len(trees[bad[0]]['features'])} features. Fit with additive=True."
            )
        columns = list(frame_template.columns)
        p = len(columns)
        self.base_value = float(sum(t["expected"] for t in trees))
        by_feature = {j: [] for j in range(p)}
        for i, t in enumerate(trees):
            for j in t["features"]:
                by_feature[j].append(i)
        # probe values per feature: one per interval, then NaN (then 0 if needed)
        probes, specs = [], []
        for j, col in enumerate(columns):
            dtype = frame_template[col].dtype
            tids = by_feature[j]
            zero = any(trees[i]["zero"] for i in tids)
            if isinstance(dtype, pd.CategoricalDtype):
                k = len(dtype.categories)
                vals = list(range(k))
                specs.append(("cat", None, k, zero))
            else:
                th = np.unique(np.array([x for i in tids for x in trees[i]["thresholds"]], float))
                vals = _representatives(th)
                specs.append(("num", th, len(vals), zero))
            vals = [*vals, np.nan] + ([0.0] if zero else [])
            probes.append(vals)
        n_probe = max(len(v) for v in probes)
        data = {}
        for j, col in enumerate(columns):
            dtype = frame_template[col].dtype
            vals = probes[j] + [np.nan] * (n_probe - len(probes[j]))
            if isinstance(dtype, pd.CategoricalDtype):
                codes = np.array(
                    [-1 if (isinstance(v, float) and np.isnan(v)) else int(v) for v in vals]
                )
                codes[codes >= len(dtype.categories)] = -1
                data[col] = pd.Categorical.from_codes(codes, dtype=dtype)
            else:
                data[col] = np.asarray(vals, float)
        probe = pd.DataFrame(data, columns=columns)
        # each probe row sets every feature at once: trees read only their own feature
        leaves = booster.predict(probe, pred_leaf=True, num_iteration=num_iteration)
        leaves = np.asarray(leaves).reshape(n_probe, -1)
        self.tables = []
        for j in range(p):
            tids = by_feature[j]
            g = np.zeros(n_probe)
            for i in tids:
                g += trees[i]["leaf_value"][leaves[:, i]] - trees[i]["expected"]
            kind, th, n_vals, zero = specs[j]
            nan_value = float(g[n_vals])
            zero_value = float(g[n_vals + 1]) if zero else None
            self.tables.append((kind, th, g[:n_vals].copy(), nan_value, zero_value, bool(tids)))
        self.columns = columns

    def contributions(self, X: pd.DataFrame, n_jobs: int = 1) -> np.ndarray:
        """Exact TreeSHAP values of the prepared frame ``X``, shape (n, p).

        Parameters
        ----------
        X : pandas.DataFrame
            Prepared frame (fitted columns and dtypes).
        n_jobs : int, default=1
            Threads over features (numpy releases the GIL).

        Returns
        -------
        numpy.ndarray of float64
        """
        n = len(X)
        out = np.zeros((n, len(self.columns)))

        def one(j):
            kind, th, g, nan_value, zero_value, used = self.tables[j]
            if not used:
                return
            col = X.iloc[:, j]
            if kind == "cat":
                codes = np.asarray(col.cat.codes, dtype=np.int64)
                table = np.r_[g, nan_value]  # code -1 -> last entry
                out[:, j] = table[codes]
                return
            x = col.to_numpy(dtype=float, na_value=np.nan)
            tiny = np.abs(x) <= _K_ZERO  # as LightGBM's predictor: read as exactly 0
            if tiny.any():
                x = np.where(tiny, 0.0, x)
            res = g[np.searchsorted(th, x, side="left")]
            nan = np.isnan(x)
            if nan.any():
                res[nan] = nan_value
            if zero_value is not None:
                res[np.abs(x) <= 1e-35] = zero_value
            out[:, j] = res

        if n_jobs and n_jobs > 1:
            with ThreadPoolExecutor(n_jobs) as pool:
                list(pool.map(one, range(len(self.columns))))
        else:
            for j in range(len(self.columns)):
                one(j)
        return out
