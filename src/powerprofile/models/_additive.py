"""Exact TreeSHAP by table look-up for additive and pairwise boosters.

**One feature per tree** (the model is a sum of per-feature step functions, trained
with singleton ``interaction_constraints``): the exact path-dependent TreeSHAP value of
feature *f* is

    phi_f(x) = sum over the trees t on f of (leaf_t(x_f) - E_t),

where ``E_t`` is the tree's cover-weighted mean leaf value (the "expected value" that
``pred_contrib`` and ``shap.TreeExplainer`` use), and the base value is ``sum_t E_t``.

**Two features per tree** (a, b): path-dependent TreeSHAP is the Shapley value of the
game ``v(S)`` that follows ``x`` at the splits on features in ``S`` and averages the
children by cover elsewhere. With two players it has a closed form:

    phi_a = 1/2 (v_a(x_a) - E_t) + 1/2 (f_t(x_a, x_b) - v_b(x_b)),
    phi_b = f_t(x_a, x_b) - E_t - phi_a,

where ``v_a`` is the tree averaged over its splits on ``b`` (a function of ``x_a``
alone: the sum over the leaves reachable with ``x_a`` of the leaf value times the cover
fractions of the splits on ``b`` along its path). Summed over the trees on the pair,
both are tables over (interval of ``x_a``, interval of ``x_b``).

Each feature's split thresholds (over all its trees) cut its values into intervals,
plus one cell for missing values (and one for exact zeros when a split treats zero as
missing); a categorical feature has one cell per category plus missing. The tables are
evaluated once per cell by asking LightGBM for the leaves of small probe frames, so
missing values and categorical splits follow LightGBM's own rules, and scoring becomes
one ``searchsorted`` (numeric) or one code look-up (categorical) per feature and one
``take`` per table — the cost grows with rows x (features + pairs), not with trees x
leaves x depth².
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

__all__ = ["AdditiveLookup", "TreeLookup", "tree_summaries"]


def _walk(node, out, path):
    if "leaf_index" in node or "split_index" not in node:
        out["leaves"].append(
            (
                int(node.get("leaf_index", 0)),
                float(node["leaf_value"]),
                float(node.get("leaf_count", 1)),
                dict(path),
            )
        )
        return
    f = int(node["split_feature"])
    out["features"].add(f)
    if node.get("decision_type") == "<=":
        out["thresholds"].append(float(node["threshold"]))
    if node.get("missing_type") == "Zero":
        out["zero"] = True
    total = float(node.get("internal_count", 0))
    for side in ("left_child", "right_child"):
        child = node[side]
        count = float(child.get("internal_count", child.get("leaf_count", 0)))
        frac = count / total if total > 0 else 0.5
        _walk(child, out, {**path, f: path.get(f, 1.0) * frac})


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
        (array indexed by leaf index), ``expected`` (E_t), ``zero`` and ``cover``
        (per leaf, {feature: product of the cover fractions of its splits on that
        feature along the leaf's path}).
    """
    dump = booster.dump_model(num_iteration=num_iteration or -1)
    trees = []
    for info in dump["tree_info"]:
        out = {"features": set(), "thresholds": [], "leaves": [], "zero": False}
        _walk(info["tree_structure"], out, {})
        leaves = sorted(out["leaves"], key=lambda t: t[0])
        values = np.array([v for _, v, _, _ in leaves])
        counts = np.array([c for _, _, c, _ in leaves])
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
                cover=[c for _, _, _, c in leaves],
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


def _numeric_cells(x: np.ndarray, th: np.ndarray, zero: bool) -> np.ndarray:
    """Cell of each value: interval index, then missing (``len(th) + 1``), then zero."""
    x = np.asarray(x, float)
    tiny = np.abs(x) <= _K_ZERO  # as LightGBM's predictor: read as exactly 0
    if tiny.any():
        x = np.where(tiny, 0.0, x)
    idx = np.searchsorted(th, x, side="left")
    nan = np.isnan(x)
    if nan.any():
        idx[nan] = len(th) + 1
    if zero:
        idx[x == 0.0] = len(th) + 2
    return idx


class _Feature:
    """The cells of one feature: their probe values and how a column maps to them."""

    def __init__(self, dtype, thresholds, zero):
        self.cat = isinstance(dtype, pd.CategoricalDtype)
        self.dtype = dtype
        self.zero = bool(zero)
        if self.cat:
            self.th = None
            self.n_vals = len(dtype.categories)
            self.probe = [*range(self.n_vals), np.nan]
        else:
            self.th = np.unique(np.asarray(thresholds, float))
            self.n_vals = len(self.th) + 1
            self.probe = [*_representatives(self.th), np.nan] + ([0.0] if zero else [])
        self.n_cells = len(self.probe)

    def cells(self, col) -> np.ndarray:
        """Cell index of every value of a prepared column."""
        if self.cat:
            codes = np.asarray(col.cat.codes, dtype=np.int64)
            return np.where(codes < 0, self.n_vals, codes)
        return _numeric_cells(col.to_numpy(dtype=float, na_value=np.nan), self.th, self.zero)

    def probe_column(self, cells: np.ndarray):
        """A probe column holding one representative value of each given cell."""
        vals = [self.probe[int(c)] for c in cells]
        if self.cat:
            codes = np.array([-1 if c >= self.n_vals else int(c) for c in cells])
            return pd.Categorical.from_codes(codes, dtype=self.dtype)
        return np.asarray(vals, float)


def _probe_frame(columns, template, given: dict, n: int) -> pd.DataFrame:
    data = {}
    for col in columns:
        if col in given:
            data[col] = given[col]
        elif isinstance(template[col].dtype, pd.CategoricalDtype):
            data[col] = pd.Categorical.from_codes(np.full(n, -1), dtype=template[col].dtype)
        else:
            data[col] = np.full(n, np.nan)
    return pd.DataFrame(data, columns=columns)


def _sub_booster(booster, tree_ids, num_iteration):
    """A booster holding only the trees ``tree_ids`` (in that order), for fast probes."""
    import lightgbm as lgb

    text = booster.model_to_string(num_iteration=num_iteration or -1)
    start, end = text.index("Tree=0\n"), text.index("end of trees")
    blocks = re.split(r"(?m)^Tree=\d+\n", text[start:end])[1:]
    head = re.sub(r"(?m)^tree_sizes=.*\n", "", text[:start])
    body = "".join(f"Tree={k}\n{blocks[t]}" for k, t in enumerate(tree_ids))
    return lgb.Booster(model_str=head + body + text[end:])


class TreeLookup:
    """Tables equal to exact TreeSHAP of a booster whose trees use at most two features.

    Parameters
    ----------
    booster : lightgbm.Booster
        Booster whose trees each split on at most two features (``max_features=1``
        requires one).
    frame_template : pandas.DataFrame
        A prepared frame (fitted column order and dtypes; may have zero rows), used to
        build the probe frames.
    num_iteration : int or None
        Number of trees used by the model.
    max_features : {1, 2}, default=2
        Most features a tree may split on.

    Attributes
    ----------
    base_value : float
        Sum of the trees' expected values.
    tables : list of tuple
        Per feature ``(kind, thresholds, values, nan_value, zero_value, used)`` of its
        one-feature trees.
    pairs : dict
        ``{(a, b): (share_a, total)}``: per pair of column positions, two tables over
        (cell of a, cell of b): a's contribution and a's plus b's.
    """

    def __init__(self, booster, frame_template: pd.DataFrame, num_iteration=None, max_features=2):
        trees = tree_summaries(booster, num_iteration)
        bad = [i for i, t in enumerate(trees) if len(t["features"]) > max_features]
        if bad:
            kind = "additive" if max_features == 1 else "pairwise"
            raise ValueError(
                f"The booster is not {kind}: tree {bad[0]} splits on "
                f"{len(trees[bad[0]]['features'])} features (at most {max_features} allowed). "
                "Fit with structure='additive' or 'pairwise', or explain with method='lightgbm'."
            )
        columns = list(frame_template.columns)
        p = len(columns)
        self.columns = columns
        self.base_value = float(sum(t["expected"] for t in trees))
        singles = {j: [] for j in range(p)}
        pair_trees: dict[tuple[int, int], list[int]] = {}
        involved = {j: [] for j in range(p)}
        for i, t in enumerate(trees):
            fs = sorted(t["features"])
            for j in fs:
                involved[j].append(i)
            if len(fs) == 1:
                singles[fs[0]].append(i)
            elif len(fs) == 2:
                pair_trees.setdefault((fs[0], fs[1]), []).append(i)
        self.features = [
            _Feature(
                frame_template[col].dtype,
                [x for i in involved[j] for x in trees[i]["thresholds"]],
                any(trees[i]["zero"] for i in involved[j]),
            )
            for j, col in enumerate(columns)
        ]
        # one-feature trees: every feature's cells at once (each tree reads its own feature)
        n_probe = max([f.n_cells for f in self.features] + [1])
        given = {}
        for j, col in enumerate(columns):
            f = self.features[j]
            cells = np.r_[np.arange(f.n_cells), np.full(n_probe - f.n_cells, f.n_vals)]
            given[col] = f.probe_column(cells)
        single_ids = [i for j in range(p) for i in singles[j]]
        leaves = np.zeros((n_probe, 0), np.int64)
        if single_ids:
            probe = _probe_frame(columns, frame_template, given, n_probe)
            leaves = self._leaves(_sub_booster(booster, single_ids, num_iteration), probe)
        pos = {t: k for k, t in enumerate(single_ids)}
        self.tables, self._g = [], []
        for j in range(p):
            f = self.features[j]
            g = np.zeros(n_probe)
            for i in singles[j]:
                g += trees[i]["leaf_value"][leaves[:, pos[i]]] - trees[i]["expected"]
            g = g[: f.n_cells].copy()
            self._g.append(g)
            nan_value = float(g[f.n_vals])
            zero_value = float(g[f.n_vals + 1]) if (f.zero and not f.cat) else None
            self.tables.append(
                (
                    "cat" if f.cat else "num",
                    f.th,
                    g[: f.n_vals].copy(),
                    nan_value,
                    zero_value,
                    bool(singles[j]),
                )
            )
        self.pairs = {}
        if pair_trees:
            pair_ids = [i for ab in sorted(pair_trees) for i in pair_trees[ab]]
            sub = _sub_booster(booster, pair_ids, num_iteration)
            pos = {t: k for k, t in enumerate(pair_ids)}
            for (a, b), tids in sorted(pair_trees.items()):
                self.pairs[(a, b)] = self._pair_tables(
                    sub, trees, tids, [pos[i] for i in tids], a, b, frame_template
                )

    @staticmethod
    def _leaves(booster, probe):
        leaves = booster.predict(probe, pred_leaf=True)
        return np.asarray(leaves).reshape(len(probe), -1)

    def _pair_tables(self, sub, trees, tids, cols_in_sub, a, b, template):
        fa, fb = self.features[a], self.features[b]
        # cells that behave alike in this pair's trees share one probe
        local = []
        for f in (fa, fb):
            if f.cat:
                local.append(np.arange(f.n_cells))
                continue
            th = np.unique([x for i in tids for x in trees[i]["thresholds"]])
            zero = any(trees[i]["zero"] for i in tids)
            local.append(_numeric_cells(np.asarray(f.probe, float), th, zero))
        ua, ia = np.unique(local[0], return_inverse=True)
        ub, ib = np.unique(local[1], return_inverse=True)
        # first global cell of each local cell, as its representative
        ra = np.array([np.flatnonzero(ia == k)[0] for k in range(len(ua))])
        rb = np.array([np.flatnonzero(ib == k)[0] for k in range(len(ub))])
        na, nb = len(ra), len(rb)
        ca, cb = np.repeat(ra, nb), np.tile(rb, na)
        cols = self.columns
        probe = _probe_frame(
            cols, template, {cols[a]: fa.probe_column(ca), cols[b]: fb.probe_column(cb)}, na * nb
        )
        # the probe is read by every tree of the sub-booster; only this pair's are used
        leaves = self._leaves(sub, probe)
        share = np.zeros((na, nb))
        total = np.zeros((na, nb))
        for i, k in zip(tids, cols_in_sub, strict=True):
            t = trees[i]
            lv = leaves[:, k].reshape(na, nb)
            fx = t["leaf_value"][lv]
            wa = np.array([c.get(a, 1.0) for c in t["cover"]])  # cover fractions on a
            wb = np.array([c.get(b, 1.0) for c in t["cover"]])
            n_leaves = len(t["leaf_value"])
            # leaves reachable from each cell of a (over all cells of b), and back
            reach_a = np.zeros((na, n_leaves), bool)
            reach_a[np.repeat(np.arange(na), nb), lv.ravel()] = True
            reach_b = np.zeros((nb, n_leaves), bool)
            reach_b[np.tile(np.arange(nb), na), lv.ravel()] = True
            va = reach_a @ (t["leaf_value"] * wb)
            vb = reach_b @ (t["leaf_value"] * wa)
            e = t["expected"]
            share += 0.5 * (va[:, None] - e) + 0.5 * (fx - vb[None, :])
            total += fx - e
        # expand to the features' own cells
        return share[np.ix_(ia, ib)], total[np.ix_(ia, ib)]

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
        n, p = len(X), len(self.columns)
        out = np.zeros((n, p))
        in_pair = {j for ab in self.pairs for j in ab}
        cells = {}

        def one(j):
            used = self.tables[j][5]
            if not used and j not in in_pair:
                return
            c = self.features[j].cells(X.iloc[:, j])
            if j in in_pair:
                cells[j] = c
            if used:
                out[:, j] = self._g[j][c]

        def pair(ab):
            a, b = ab
            share, total = self.pairs[ab]
            flat = cells[a] * share.shape[1] + cells[b]
            s = share.ravel().take(flat)
            return a, b, s, total.ravel().take(flat) - s

        if n_jobs and n_jobs > 1:
            with ThreadPoolExecutor(n_jobs) as pool:
                list(pool.map(one, range(p)))
                done = list(pool.map(pair, list(self.pairs)))
        else:
            for j in range(p):
                one(j)
            done = [pair(ab) for ab in self.pairs]
        for a, b, sa, sb in done:  # in order: the sums do not depend on threads
            out[:, a] += sa
            out[:, b] += sb
        return out


class AdditiveLookup(TreeLookup):
    """:class:`TreeLookup` of a booster whose trees each split on one feature.

    Parameters
    ----------
    booster : lightgbm.Booster
        Booster whose trees each split on at most one feature.
    frame_template : pandas.DataFrame
        A prepared frame (fitted column order and dtypes; may have zero rows).
    num_iteration : int or None
        Number of trees used by the model.
    """

    def __init__(self, booster, frame_template: pd.DataFrame, num_iteration=None):
        super().__init__(booster, frame_template, num_iteration, max_features=1)
