"""Training, evaluation, model outputs and scoring."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..config import Config, dump_config
from ..exceptions import ConfigError
from ._paths import OutputPaths

__all__ = ["score_frame", "train_models", "write_model_outputs"]

log = logging.getLogger("powerprofile")


# ------------------------------------------------------------------ models


def _label_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("label_")]


def train_models(cfg: Config, frame: pd.DataFrame, *, progress=False, sample_weight=None) -> dict:
    """Fit one calibrated propensity model per target, evaluated on the latest snapshots.

    The newest ``models.holdout_snapshots`` snapshots are the out-of-time holdout;
    training uses the earlier snapshots whose label horizon ends before the holdout
    (no label overlaps it). The logistic-regression baseline is fitted on the same rows.

    Parameters
    ----------
    cfg : Config
    frame : pandas.DataFrame
        Training frame indexed by (customer_id, snapshot_date) with ``label_<target>``.
    progress : bool, default=False
        Progress bar over targets.
    sample_weight : numpy.ndarray or None, default=None
        Row weights of a training sample (:func:`training_sample`): used by the fit
        and its calibration; the holdout metrics weigh the sampled rows by it, so they
        estimate the metrics on every holdout row.

    Returns
    -------
    dict of str to dict
        Per target: ``model``, ``evaluation`` (from ``powerprofile.evaluate``),
        ``metrics`` (model) and ``baseline_metrics``, ``X_example``.
    """
    import numpy as np

    from ..models import PropensityModel, evaluate

    labels = _label_columns(frame)
    X = frame.drop(columns=labels)
    snaps = pd.DatetimeIndex(frame.index.get_level_values("snapshot_date"))
    uniq = np.sort(snaps.unique())
    n_hold = cfg.models.holdout_snapshots
    if len(uniq) <= n_hold:
        raise ConfigError(
            f"config key 'models.holdout_snapshots' = {n_hold!r} leaves no training snapshot "
            f"(the frame has {len(uniq)}); raise features.n_training_snapshots."
        )
    first_test = pd.Timestamp(uniq[-n_hold])
    test = snaps >= first_test
    train = (snaps + pd.Timedelta(days=cfg.labels.horizon_days)) <= first_test
    if not train.any():
        raise ConfigError(
            "no training snapshot ends its label horizon before the holdout; raise "
            "features.n_training_snapshots or lower labels.horizon_days."
        )
    out = {}
    from .._progress import progress_bar
    from ..models import logistic_baselines

    for target in cfg.models.targets:
        col = f"label_{target}"
        if col not in frame.columns:
            raise ConfigError(
                f"models.targets names {target!r} but the training frame has no {col!r} column."
            )
    # one preprocessing of the shared features for every target's baseline
    baselines = logistic_baselines(
        X[train],
        {t: frame[f"label_{t}"][train].astype(int) for t in cfg.models.targets},
        X[test],
        cfg.seed,
    )
    for target in progress_bar(cfg.models.targets, progress=progress, desc="train", leave=False):
        y = frame[f"label_{target}"].astype(int)
        params = {"random_state": cfg.seed, **cfg.models.params}
        if cfg.n_threads is not None:
            params.setdefault("n_jobs", cfg.n_threads)
        model = PropensityModel(
            horizon_days=cfg.labels.horizon_days, label=_label_text(cfg, target), **params
        )
        log.info(
            "training %s on %d rows (%d positives), holdout %d rows",
            target,
            int(train.sum()),
            int(y[train].sum()),
            int(test.sum()),
        )
        model.fit(
            X[train],
            y[train],
            sample_weight=None if sample_weight is None else sample_weight[train],
        )
        p = model.predict_proba(X[test])[:, 1]
        ev = evaluate(
            y[test].to_numpy(),
            p,
            baseline_score=baselines[target],
            random_state=cfg.seed,
            # sampled holdout rows count by their weights: metrics of every holdout row
            sample_weight=None if sample_weight is None else sample_weight[test],
        )
        m = ev["metrics"]
        out[target] = {
            "model": model,
            "evaluation": ev,
            "metrics": {k: float(v) for k, v in m.loc["model"].items()},
            "baseline_metrics": (
                {k: float(v) for k, v in m.loc["logistic_baseline"].items()}
                if "logistic_baseline" in m.index
                else {}
            ),
            "X_example": X[test].head(5),
            "y_test": y[test].to_numpy(),
            "p_test": p,
        }
        log.info(
            "%s: holdout ROC AUC %.3f (baseline %.3f)",
            target,
            out[target]["metrics"].get("roc_auc", float("nan")),
            out[target]["baseline_metrics"].get("roc_auc", float("nan")),
        )
    return out


def _label_text(cfg: Config, target: str) -> str:
    if target == "churn":
        kinds = cfg.labels.churn_kinds or "any event kind"
        extra = " or usage collapse" if cfg.labels.churn_usage_collapse else ""
        return f"churn: {kinds}{extra} within {cfg.labels.horizon_days} days"
    return f"complaint: at least one complaint within {cfg.labels.horizon_days} days"


def write_model_outputs(paths: OutputPaths, trained: dict, cfg: Config | None = None) -> dict:
    """Save models (with the resolved config beside each), metrics, plots and SHAP summaries."""
    from ..export import write_frame
    from ..tracking import save_local_model

    paths.plots.mkdir(parents=True, exist_ok=True)
    rows = []
    for target, res in sorted(trained.items()):
        save_local_model(res["model"], paths.model(target))
        if cfg is not None:
            dump_config(cfg, paths.model(target) / "config.resolved.yaml")
        rows.append({"target": target, "scorer": "model", **res["metrics"]})
        if res["baseline_metrics"]:
            rows.append(
                {"target": target, "scorer": "logistic_baseline", **res["baseline_metrics"]}
            )
        ev = res["evaluation"]
        for name, fig in (ev.get("figures") or {}).items():
            fig.savefig(paths.plots / f"{target}_{name}.png", dpi=80, bbox_inches="tight")
        write_frame(ev["gains"], paths.plots / f"{target}_gains.csv", "csv", decimals=None)
        _shap_summary(res, paths.plots / f"{target}_shap_summary.png")
    write_frame(pd.DataFrame(rows), paths.metrics, "csv", decimals=None)
    import matplotlib.pyplot as plt

    plt.close("all")
    return {"plots": paths.plots, "metrics": paths.metrics}


def _shap_summary(res: dict, path: Path) -> None:
    """Bar chart of mean |SHAP| per feature on the holdout example rows' model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imp = _global_importance(res)
    if imp is None or imp.empty:
        return
    top = imp.sort_values(ascending=True).tail(15)
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(top) + 1))
    ax.barh(top.index.astype(str), top.to_numpy())
    ax.set_xlabel("mean |SHAP value| (log-odds)")
    ax.set_title("SHAP summary")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    res["shap_importance"] = imp
    from ..export import write_frame

    write_frame(
        imp.rename("mean_abs_shap").rename_axis("feature").sort_values(ascending=False),
        path.with_name(path.name.replace("_shap_summary.png", "_shap_importance.csv")),
        "csv",
        index=True,
        decimals=None,
    )


def _global_importance(res: dict):
    """Mean absolute SHAP contribution per feature, from the explain module or LightGBM."""
    model = res["model"]
    X = res.get("X_importance")
    if X is None:
        return None
    try:
        from ..explain import global_importance

        imp = global_importance(model, X)
        if isinstance(imp, pd.DataFrame):
            imp = imp.set_index(imp.columns[0])[imp.columns[1]]
        return imp
    except (ImportError, AttributeError, TypeError):
        pass
    import numpy as np

    Xp = model._prepare(X)
    contrib = model.booster_.predict(Xp, pred_contrib=True, num_iteration=model.best_iteration_)
    return pd.Series(np.abs(contrib[:, :-1]).mean(axis=0), index=list(Xp.columns))


# ------------------------------------------------------------------ scoring, segments, portraits


def score_frame(
    model, frame: pd.DataFrame, *, target: str = "model", top_k: int = 3, key=None
) -> pd.DataFrame:
    """Calibrated scores and reason codes for a feature frame, with pseudonymised keys.

    Parameters
    ----------
    model : estimator
        Fitted model with ``predict_proba``.
    frame : pandas.DataFrame
        Features indexed by (customer_id, snapshot_date).
    target : str, default="model"
        Name used for the score column ``<target>_score``.
    top_k : int, default=3
        Reason codes per customer (0: none).
    key : PseudonymKey or str or None, default=None
        Pseudonymisation key (default ``POWERPROFILE_PSEUDONYM_KEY``; a missing or
        weak key raises ``PseudonymKeyError``).

    Returns
    -------
    pandas.DataFrame
        ``customer_key, snapshot_date, <target>_score`` and reason columns.

    Raises
    ------
    FeatureMismatchError
        When the frame's columns differ from the model's features (named).
    """
    from ..privacy import pseudonymise
    from ..tracking import check_model_features

    X = frame.drop(columns=_label_columns(frame))
    check_model_features(model, X, what=f"{target} model")
    scores = model.predict_proba(X)[:, 1]
    idx = X.index.to_frame(index=False)
    out = pd.DataFrame(
        {
            "customer_key": pseudonymise(idx["customer_id"], key).to_numpy(),
            "snapshot_date": idx["snapshot_date"].to_numpy() if "snapshot_date" in idx else pd.NaT,
            f"{target}_score": scores,
        }
    )
    if top_k:
        try:
            from ..explain import explain

            reasons = explain(model, X, top_k=top_k).reset_index(drop=True)
            reasons = reasons[[c for c in reasons.columns if str(c).startswith("reason")]]
            out = pd.concat([out, reasons.add_prefix(f"{target}_")], axis=1)
        except ImportError:
            log.warning("powerprofile.explain is not available; scores written without reasons")
    return out.sort_values("customer_key", kind="mergesort").reset_index(drop=True)
