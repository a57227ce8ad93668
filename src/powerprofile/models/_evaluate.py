"""Evaluation of propensity scores: metrics, lift, gains, calibration, baseline, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._metrics import binary_metrics, top_share_lift

__all__ = ["evaluate", "gains_table", "logistic_baseline", "logistic_baselines"]

_SHARES = (0.05, 0.10, 0.20)


def _as_str(frame):
    return pd.DataFrame(frame).astype("string").astype(object).fillna("(missing)")


def gains_table(y_true, y_score, n_bins: int = 10) -> pd.DataFrame:
    """Gains table by score decile (decile 1 = highest scores).

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Outcomes.
    y_score : array-like of float
        Scores.
    n_bins : int, default=10
        Number of equal-count bins.

    Returns
    -------
    pandas.DataFrame
        Columns ``decile, n, events, event_rate, mean_score, min_score, max_score,
        cumulative_share, cumulative_capture, lift, cumulative_lift``.
    """
    y = np.asarray(y_true, float)
    s = np.asarray(y_score, float)
    n = len(y)
    order = np.argsort(-s, kind="stable")
    decile = np.empty(n, np.int64)
    decile[order] = np.arange(n) * n_bins // max(n, 1)
    df = pd.DataFrame({"decile": decile + 1, "y": y, "s": s})
    g = df.groupby("decile").agg(
        n=("y", "size"),
        events=("y", "sum"),
        mean_score=("s", "mean"),
        min_score=("s", "min"),
        max_score=("s", "max"),
    )
    rate = y.mean() if n else np.nan
    g["event_rate"] = g["events"] / g["n"]
    g["cumulative_share"] = g["n"].cumsum() / n
    g["cumulative_capture"] = g["events"].cumsum() / max(y.sum(), 1e-12)
    g["lift"] = g["event_rate"] / rate if rate else np.nan
    g["cumulative_lift"] = g["cumulative_capture"] / g["cumulative_share"]
    g = g.reset_index()
    return g[
        [
            "decile",
            "n",
            "events",
            "event_rate",
            "mean_score",
            "min_score",
            "max_score",
            "cumulative_share",
            "cumulative_capture",
            "lift",
            "cumulative_lift",
        ]
    ]


BASELINE_MAX_ROWS = 100_000


def logistic_baseline(X_train, y_train, random_state: int = 0, max_rows=BASELINE_MAX_ROWS):
    """A logistic regression on the same features, for side-by-side comparison.

    Numeric columns: median imputation with missing indicators, then scaling;
    categorical/text/bool columns: one-hot encoding (unknowns ignored). A reference,
    not the model: above ``max_rows`` training rows it is fitted on a uniform random
    subset of that many (seeded by ``random_state``), which leaves a linear model's
    holdout AUC where it was and costs a fraction of the time.

    Parameters
    ----------
    X_train : pandas.DataFrame
        Training features.
    y_train : array-like of {0, 1}
        Training labels.
    random_state : int, default=0
        Seed (of the solver and of the row subset).
    max_rows : int or None, default=100000
        Most training rows used; None uses every row.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; ``predict_proba`` scores new rows.
    """
    from sklearn.pipeline import make_pipeline

    X_train, y_train = _baseline_rows(X_train, y_train, random_state, max_rows)
    pipe = make_pipeline(_baseline_preprocessor(X_train), _baseline_regression(random_state))
    return pipe.fit(X_train, y_train)


def logistic_baselines(
    X_train, labels: dict, X_test, random_state: int = 0, max_rows=BASELINE_MAX_ROWS
) -> dict:
    """Holdout probabilities of :func:`logistic_baseline` for several labels of the same rows.

    The preprocessing (imputation, scaling, one-hot encoding) depends on the features
    only, so it is fitted and applied once, and one logistic regression per label is
    fitted on the result: the same probabilities as one :func:`logistic_baseline` per
    label, for the cost of one preprocessing.

    Parameters
    ----------
    X_train : pandas.DataFrame
        Training features.
    labels : dict of str to array-like of {0, 1}
        Training labels (one per row of ``X_train``) by name.
    X_test : pandas.DataFrame
        Rows to score.
    random_state : int, default=0
        Seed (of the solver and of the row subset).
    max_rows : int or None, default=100000
        Most training rows used; None uses every row.

    Returns
    -------
    dict of str to numpy.ndarray
        Event probability of every row of ``X_test`` by label name.
    """
    X_train = pd.DataFrame(X_train)
    n = len(X_train)
    rows = _subset(n, random_state, max_rows)
    X_fit = X_train if rows is None else X_train.iloc[rows]
    pre = _baseline_preprocessor(X_fit)
    Z = pre.fit_transform(X_fit)
    Z_test = pre.transform(pd.DataFrame(X_test))
    out = {}
    for name, y in labels.items():
        y = np.asarray(y).astype(int)
        if len(y) != n:
            raise ValueError(f"labels[{name!r}] has {len(y)} values but X_train has {n} rows.")
        lr = _baseline_regression(random_state).fit(Z, y if rows is None else y[rows])
        out[name] = lr.predict_proba(Z_test)[:, 1]
    return out


def _subset(n: int, random_state: int, max_rows):
    if max_rows is not None and n > max_rows:
        return np.sort(np.random.default_rng(random_state).permutation(n)[:max_rows])
    return None


def _baseline_rows(X_train, y_train, random_state, max_rows):
    X_train = pd.DataFrame(X_train)
    y_train = np.asarray(y_train).astype(int)
    rows = _subset(len(X_train), random_state, max_rows)
    return (X_train, y_train) if rows is None else (X_train.iloc[rows], y_train[rows])


def _baseline_preprocessor(X_train):
    """Unfitted preprocessing of the baseline: impute, scale, one-hot encode."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    num = [
        c
        for c in X_train.columns
        if pd.api.types.is_numeric_dtype(X_train[c].dtype)
        and not pd.api.types.is_bool_dtype(X_train[c].dtype)
    ]
    cat = [c for c in X_train.columns if c not in num]
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                num,
            ),
            (
                "cat",
                make_pipeline(
                    FunctionTransformer(_as_str),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=20),
                ),
                cat,
            ),
        ]
    )


def _baseline_regression(random_state):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)


def _figures(curves: dict, y, cal_tables: dict):
    from matplotlib.figure import Figure  # no pyplot: nothing is shown or registered

    fig_g = Figure(figsize=(5, 4))
    ax = fig_g.subplots()
    for name, (share, capture) in curves.items():
        ax.plot(share, capture, label=name)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="random")
    ax.set_xlabel("share of customers targeted (by score)")
    ax.set_ylabel("share of events captured")
    ax.set_title("Cumulative gains")
    ax.legend(loc="lower right")
    fig_c = Figure(figsize=(5, 4))
    ax = fig_c.subplots()
    hi = 0.0
    for name, tab in cal_tables.items():
        ax.plot(tab["mean_score"], tab["event_rate"], marker="o", label=name)
        hi = max(hi, float(tab["mean_score"].max()), float(tab["event_rate"].max()))
    ax.plot([0, hi], [0, hi], ls="--", color="grey", label="perfect")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed event rate")
    ax.set_title("Calibration (equal-count bins)")
    ax.legend(loc="upper left")
    return {"gains": fig_g, "calibration": fig_c}


def _calibration_table(y, p, n_bins):
    order = np.argsort(p, kind="stable")
    b = np.empty(len(p), np.int64)
    b[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
    df = pd.DataFrame({"bin": b + 1, "p": p, "y": y})
    t = df.groupby("bin").agg(n=("y", "size"), mean_score=("p", "mean"), event_rate=("y", "mean"))
    return t.reset_index()


def evaluate(
    y_true,
    y_score,
    *,
    X_train=None,
    y_train=None,
    X_test=None,
    baseline_score=None,
    n_bins: int = 10,
    figures: bool = True,
    random_state: int = 0,
    sample_weight=None,
) -> dict:
    """Score calibrated propensities on a holdout, with a logistic baseline beside them.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Holdout outcomes.
    y_score : array-like of float
        Calibrated probabilities of the model on the holdout (e.g.
        ``model.predict_proba(X_test)[:, 1]``).
    X_train, y_train, X_test : DataFrame / array-like, default=None
        When all three are given, a logistic-regression baseline is fitted on
        ``(X_train, y_train)`` — the same training rows as the model, at most
        ``BASELINE_MAX_ROWS`` (100,000) of them, see :func:`logistic_baseline` — and
        scored on ``X_test`` (the rows of ``y_true``).
    baseline_score : array-like of float, default=None
        Precomputed baseline probabilities instead of fitting one.
    n_bins : int, default=10
        Deciles for the gains table, bins for ECE and the calibration table.
    figures : bool, default=True
        Return matplotlib figures (never shown).
    random_state : int, default=0
        Seed of the baseline.
    sample_weight : array-like of float or None, default=None
        Weights of the holdout rows (a weighted training sample's): ROC and PR AUC,
        Brier score, log loss, ECE and the positive rate are weighted, estimating
        their values on every row the sample was drawn from; lifts and tables are
        computed on the rows as given.

    Returns
    -------
    dict
        ``"metrics"``: DataFrame, one row per scorer (``model``, ``logistic_baseline``)
        with ``roc_auc, pr_auc, brier, log_loss, ece, ece_uniform, lift_5, capture_5,
        lift_10, capture_10, lift_20, capture_20``;
        ``"lift"``: long DataFrame (scorer, top_share, lift, capture);
        ``"gains"``: the model's gains table by decile (:func:`gains_table`);
        ``"gains_baseline"``: the baseline's (when present);
        ``"calibration"``: DataFrame (scorer, bin, n, mean_score, event_rate);
        ``"figures"``: {"gains": Figure, "calibration": Figure} when ``figures``.
    """
    y = np.asarray(y_true).astype(int)
    scores = {"model": np.asarray(y_score, float)}
    if len(scores["model"]) != len(y):
        raise ValueError(f"y_true has {len(y)} values but y_score has {len(scores['model'])}.")
    if baseline_score is not None:
        scores["logistic_baseline"] = np.asarray(baseline_score, float)
    elif X_train is not None and y_train is not None and X_test is not None:
        base = logistic_baseline(X_train, y_train, random_state)
        scores["logistic_baseline"] = base.predict_proba(X_test)[:, 1]
    rows, lifts, cals, curves, cal_tabs = [], [], [], {}, {}
    for name, s in scores.items():
        m = {"scorer": name, **binary_metrics(y, s, n_bins=n_bins, sample_weight=sample_weight)}
        for share in _SHARES:
            lift, capture = top_share_lift(y, s, share)
            pct = int(round(share * 100))
            m[f"lift_{pct}"], m[f"capture_{pct}"] = lift, capture
            lifts.append({"scorer": name, "top_share": share, "lift": lift, "capture": capture})
        rows.append(m)
        ct = _calibration_table(y, s, n_bins)
        cal_tabs[name] = ct
        cals.append(ct.assign(scorer=name))
        order = np.argsort(-s, kind="stable")
        cum = np.r_[0, np.cumsum(y[order])] / max(y.sum(), 1)
        share = np.arange(len(y) + 1) / max(len(y), 1)
        step = max(len(y) // 500, 1)
        curves[name] = (share[::step], cum[::step])
    out = {
        "metrics": pd.DataFrame(rows).set_index("scorer"),
        "lift": pd.DataFrame(lifts),
        "gains": gains_table(y, scores["model"], n_bins),
        "calibration": pd.concat(cals, ignore_index=True)[
            ["scorer", "bin", "n", "mean_score", "event_rate"]
        ],
    }
    if "logistic_baseline" in scores:
        out["gains_baseline"] = gains_table(y, scores["logistic_baseline"], n_bins)
    if figures:
        out["figures"] = _figures(curves, y, cal_tabs)
    return out
