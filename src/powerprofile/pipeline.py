"""The job behind the CLI: validate -> features -> train -> segment -> portraits -> export -> report.

Each stage is a plain function taking the typed :class:`~powerprofile.config.Config`
and returning pandas objects; :func:`run_pipeline` chains them. Everything a stage
writes goes under ``config.output_dir`` in a fixed layout (:class:`OutputPaths`).
Heavy libraries (LightGBM, MLflow, SHAP) are imported inside the stages.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import Config, config_hash, dump_config, to_mapping
from .exceptions import ConfigError

__all__ = [
    "OutputPaths",
    "RunSummary",
    "build_feature_frames",
    "export_portraits",
    "load_data",
    "make_portraits",
    "preflight",
    "run_pipeline",
    "score_frame",
    "segment_customers",
    "snapshot_plan",
    "thread_limits",
    "train_models",
    "write_run_report",
]

log = logging.getLogger("powerprofile")


@dataclass(frozen=True)
class OutputPaths:
    """Where a job writes (all under ``root``).

    Parameters
    ----------
    root : pathlib.Path
        ``config.output_dir``.
    """

    root: Path

    @property
    def config(self) -> Path:  # noqa: D102
        return self.root / "config.resolved.yaml"

    @property
    def summary(self) -> Path:  # noqa: D102
        return self.root / "run_summary.json"

    @property
    def validation(self) -> Path:  # noqa: D102
        return self.root / "validation" / "validation_report.csv"

    @property
    def training_frame(self) -> Path:  # noqa: D102
        return self.root / "features" / "training.parquet"

    @property
    def scoring_frame(self) -> Path:  # noqa: D102
        return self.root / "features" / "scoring.parquet"

    @property
    def catalog(self) -> Path:  # noqa: D102
        return self.root / "features" / "feature_catalog.csv"

    @property
    def leakage(self) -> Path:  # noqa: D102
        return self.root / "features" / "leakage_report.csv"

    def model(self, target: str) -> Path:
        """Folder of the model for ``target``."""
        return self.root / "models" / target

    @property
    def metrics(self) -> Path:  # noqa: D102
        return self.root / "models" / "metrics.csv"

    @property
    def plots(self) -> Path:  # noqa: D102
        return self.root / "models" / "plots"

    @property
    def segmenter(self) -> Path:  # noqa: D102
        return self.root / "segments" / "segmenter.joblib"

    @property
    def segment_profile(self) -> Path:  # noqa: D102
        return self.root / "segments" / "segment_profile.csv"

    @property
    def scores(self) -> Path:  # noqa: D102
        return self.root / "scores" / "scores.parquet"

    @property
    def portraits(self) -> Path:  # noqa: D102
        return self.root / "portraits" / "portraits.parquet"

    @property
    def risk_hits(self) -> Path:  # noqa: D102
        return self.root / "portraits" / "risk_hits.csv"

    @property
    def export(self) -> Path:  # noqa: D102
        return self.root / "export"

    @property
    def report(self) -> Path:  # noqa: D102
        return self.root / "report.html"


@dataclass
class RunSummary:
    """What :func:`run_pipeline` did and where it put it.

    Attributes
    ----------
    output_dir : pathlib.Path
    outputs : dict of str to str
        Named output files and folders.
    metrics : dict
        Per target: holdout metrics of the model and of its baseline.
    model_uris : dict of str to str
        Registry references (or local folders when tracking is off).
    export_files : pandas.DataFrame
        Exported files with row counts.
    seconds : float
        Wall time.
    stage_seconds : dict of str to float
        Wall time of each stage.
    notes : list of str
        Stages skipped and why.
    """

    output_dir: Path
    outputs: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    model_uris: dict = field(default_factory=dict)
    export_files: pd.DataFrame | None = None
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


# ------------------------------------------------------------------ preflight and data


def _resolve(path) -> Path:
    return Path(path).expanduser()


def preflight(cfg: Config, *, stages=("data", "tracking", "export")) -> str | None:
    """Check everything that can be checked before any work: files, rule files, tracking.

    Parameters
    ----------
    cfg : Config
        The job config.
    stages : iterable of str, default=("data", "tracking", "export")
        What the job will need.

    Returns
    -------
    str or None
        The tracking URI when tracking is needed and reachable.

    Raises
    ------
    ConfigError, FileNotFoundError, TrackingError
    """
    stages = set(stages)
    if "data" in stages and not _resolve(cfg.data.path).is_dir():
        raise FileNotFoundError(
            f"data folder {cfg.data.path!r} (config key 'data.path') does not exist; "
            "create it with `powerprofile sample` or point --data at your tables."
        )
    if "export" in stages:
        from .export import load_campaigns

        load_campaigns(cfg.export.campaigns)
        for key in ("opt_out_list", "do_not_contact_list"):
            value = getattr(cfg.export, key)
            if value is not None and not _resolve(value).is_file():
                raise ConfigError(
                    f"config key 'export.{key}' names {value!r}, which does not exist."
                )
    if "portraits" in stages:
        from .portraits import load_rules

        for key in ("tags", "risk_rules"):
            value = getattr(cfg.portraits, key)
            if value is not None and _resolve(value).is_file():
                load_rules(value)
            elif value is not None and value != getattr(type(cfg.portraits)(), key):
                raise ConfigError(
                    f"config key 'portraits.{key}' names {value!r}, which does not exist."
                )
    if "tracking" in stages and cfg.tracking.enabled:
        from .tracking import check_tracking_uri, resolve_tracking_uri

        uri = resolve_tracking_uri(cfg.tracking.uri)
        return check_tracking_uri(uri, timeout=cfg.tracking.timeout_seconds)
    return None


def load_data(cfg: Config):
    """Load and validate the tables named by ``cfg.data``.

    Parameters
    ----------
    cfg : Config

    Returns
    -------
    Tables
    """
    from .schema import load_tables

    log.info("loading %s (errors=%s)", cfg.data.path, cfg.data.errors)
    return load_tables(_resolve(cfg.data.path), errors=cfg.data.errors, data_end=cfg.data.data_end)


def _data_end(tables, cfg: Config) -> pd.Timestamp:
    if cfg.data.data_end:
        return pd.Timestamp(cfg.data.data_end)
    if getattr(tables, "data_end", None) is not None:
        return pd.Timestamp(tables.data_end)
    return pd.Timestamp(pd.to_datetime(tables.usage["date"]).max())


def snapshot_plan(cfg: Config, tables) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Training snapshots (month starts whose label horizon ends inside the data) and the scoring one.

    Parameters
    ----------
    cfg : Config
    tables : Tables

    Returns
    -------
    (list of pandas.Timestamp, pandas.Timestamp)
        ``n_training_snapshots`` month starts, ``snapshot_interval_months`` apart,
        the last being the latest ``T`` with ``T + horizon_days <= data_end + 1 day``;
        and the scoring snapshot (``features.scoring_snapshot`` or the day after the
        data's last day).
    """
    end = _data_end(tables, cfg).normalize()
    limit = end + pd.Timedelta(days=1) - pd.Timedelta(days=cfg.labels.horizon_days)
    last = limit.to_period("M").to_timestamp()
    step = cfg.features.snapshot_interval_months
    snaps = [
        last - pd.DateOffset(months=step * i) for i in range(cfg.features.n_training_snapshots)
    ]
    snaps = sorted(pd.Timestamp(s) for s in snaps)
    start = pd.Timestamp(pd.to_datetime(tables.usage["date"]).min()) if len(tables.usage) else None
    if start is not None and snaps[0] <= start:
        raise ConfigError(
            f"config key 'features.n_training_snapshots' = {cfg.features.n_training_snapshots!r} puts the "
            f"first snapshot at {snaps[0].date()} but usage starts {start.date()}; use fewer snapshots."
        )
    score = (
        pd.Timestamp(cfg.features.scoring_snapshot)
        if cfg.features.scoring_snapshot
        else end + pd.Timedelta(days=1)
    )
    return snaps, score


# ------------------------------------------------------------------ features


def _feature_kwargs(cfg: Config, progress: bool) -> dict:
    return {
        "windows": tuple(cfg.features.windows),
        "min_history_days": cfg.features.min_history_days,
        "n_partitions": cfg.features.n_partitions,
        "n_jobs": cfg.features.n_jobs,
        "progress": progress,
    }


def build_feature_frames(cfg: Config, tables, *, training=True, scoring=True, progress=False):
    """The training frame (features + labels over the training snapshots) and the scoring frame.

    Parameters
    ----------
    cfg : Config
    tables : Tables
    training, scoring : bool, default=True
        Which frames to build.
    progress : bool, default=False
        Progress bars.

    Returns
    -------
    (pandas.DataFrame or None, pandas.DataFrame or None)
    """
    from .features import build_features, build_training_frame

    snaps, score_snap = snapshot_plan(cfg, tables)
    train = score = None
    if training:
        log.info(
            "training frame: %d snapshots %s .. %s, horizon %d days",
            len(snaps),
            snaps[0].date(),
            snaps[-1].date(),
            cfg.labels.horizon_days,
        )
        train = build_training_frame(
            tables,
            snaps,
            horizon_days=cfg.labels.horizon_days,
            churn_kinds=cfg.labels.churn_kinds,
            churn_usage_collapse=cfg.labels.churn_usage_collapse,
            **_feature_kwargs(cfg, progress),
        )
    if scoring:
        log.info("scoring frame at %s", score_snap.date())
        score = build_features(tables, score_snap, **_feature_kwargs(cfg, progress))
    return train, score


def write_feature_outputs(paths: OutputPaths, train, score) -> None:
    """Write the frames, the feature catalogue and the leakage report."""
    from .features import feature_catalog

    paths.training_frame.parent.mkdir(parents=True, exist_ok=True)
    if train is not None:
        leak = train.attrs.get("leakage_report")
        clean = train.copy()
        clean.attrs = {}
        clean.to_parquet(paths.training_frame)
        if isinstance(leak, pd.DataFrame):
            leak.to_csv(paths.leakage, index=False)
    if score is not None:
        clean = score.copy()
        clean.attrs = {}
        clean.to_parquet(paths.scoring_frame)
    feature_catalog().to_csv(paths.catalog, index=False, encoding="utf-8-sig")


# ------------------------------------------------------------------ models


def _label_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("label_")]


def train_models(cfg: Config, frame: pd.DataFrame, *, progress=False) -> dict:
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

    Returns
    -------
    dict of str to dict
        Per target: ``model``, ``evaluation`` (from ``powerprofile.evaluate``),
        ``metrics`` (model) and ``baseline_metrics``, ``X_example``.
    """
    import numpy as np

    from .models import PropensityModel, evaluate

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
    from tqdm.auto import tqdm

    for target in tqdm(cfg.models.targets, desc="train", disable=not progress, leave=False):
        col = f"label_{target}"
        if col not in frame.columns:
            raise ConfigError(
                f"models.targets names {target!r} but the training frame has no {col!r} column."
            )
        y = frame[col].astype(int)
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
        model.fit(X[train], y[train])
        p = model.predict_proba(X[test])[:, 1]
        ev = evaluate(
            y[test].to_numpy(),
            p,
            X_train=X[train],
            y_train=y[train],
            X_test=X[test],
            random_state=cfg.seed,
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
    from .tracking import save_local_model

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
        ev["gains"].to_csv(paths.plots / f"{target}_gains.csv", index=False)
        _shap_summary(res, paths.plots / f"{target}_shap_summary.png")
    pd.DataFrame(rows).to_csv(paths.metrics, index=False)
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
    imp.rename("mean_abs_shap").rename_axis("feature").sort_values(ascending=False).to_csv(
        path.with_name(path.name.replace("_shap_summary.png", "_shap_importance.csv"))
    )


def _global_importance(res: dict):
    """Mean absolute SHAP contribution per feature, from the explain module or LightGBM."""
    model = res["model"]
    X = res.get("X_importance")
    if X is None:
        return None
    try:
        from .explain import global_importance

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
    key : str or None, default=None
        Pseudonymisation key (default from the environment).

    Returns
    -------
    pandas.DataFrame
        ``customer_key, snapshot_date, <target>_score`` and reason columns.

    Raises
    ------
    FeatureMismatchError
        When the frame's columns differ from the model's features (named).
    """
    from .privacy import pseudonymise
    from .tracking import check_model_features

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
            from .explain import explain

            reasons = explain(model, X, top_k=top_k).reset_index(drop=True)
            reasons = reasons[[c for c in reasons.columns if str(c).startswith("reason")]]
            out = pd.concat([out, reasons.add_prefix(f"{target}_")], axis=1)
        except ImportError:
            log.warning("powerprofile.explain is not available; scores written without reasons")
    return out.sort_values("customer_key", kind="mergesort").reset_index(drop=True)


def segment_customers(cfg: Config, frame: pd.DataFrame, *, previous=None, labelled=None):
    """Fit the segmenter on the scoring frame.

    Parameters
    ----------
    cfg : Config
    frame : pandas.DataFrame
        Scoring features.
    previous : CustomerSegmenter or None, default=None
        A previous segmenter to keep segment ids stable.
    labelled : pandas.DataFrame or None, default=None
        Feature rows with ``label_*`` columns (e.g. the latest training snapshot) for
        the churn and complaint rates of the profile; default ``frame`` without rates.

    Returns
    -------
    (CustomerSegmenter, numpy.ndarray, pandas.DataFrame)
        The segmenter, labels and the segment profile.
    """
    from .segmentation import CustomerSegmenter

    X = frame.drop(columns=_label_columns(frame))
    params = {"random_state": cfg.seed, **cfg.segmentation.params}
    seg = CustomerSegmenter(**params).fit(X, previous=previous)
    labels = seg.predict(X)
    if labelled is not None and len(labelled):
        lab = _label_columns(labelled)
        profile = seg.profile(labelled.drop(columns=lab), labelled[lab])
    else:
        profile = seg.profile(X)
    log.info("segmentation: %d segments", seg.n_clusters_)
    return seg, labels, profile


def _rules_path(value):
    if value is None:
        return None
    p = _resolve(value)
    return p if p.is_file() else None


def make_portraits(
    cfg: Config, frame: pd.DataFrame, *, models: dict, segmenter, tables, catalog=None
):
    """Assemble the portraits (see ``docs/portrait.md``) with ``build_portraits``.

    Parameters
    ----------
    cfg : Config
    frame : pandas.DataFrame
        Scoring features.
    models : dict of str to estimator
        ``{"churn": model, "complaint": model}`` (either may be missing).
    segmenter : CustomerSegmenter or None
    tables : Tables
    catalog : pandas.DataFrame or None, default=None

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame or None)
        Portraits and the risk-rule hit report.
    """
    from .portraits import build_portraits

    X = frame.drop(columns=_label_columns(frame))
    for target, model in models.items():
        from .tracking import check_model_features

        check_model_features(model, X, what=f"{target} model")
    kwargs = {"top_k": cfg.models.top_k_reasons, **cfg.portraits.params}
    portraits = build_portraits(
        X,
        churn_model=models.get("churn"),
        complaint_model=models.get("complaint"),
        segmenter=segmenter,
        tags=_rules_path(cfg.portraits.tags),
        risk_rules=_rules_path(cfg.portraits.risk_rules),
        customers=tables.customers,
        catalog=catalog,
        **kwargs,
    )
    hits = None
    risk_path = _rules_path(cfg.portraits.risk_rules)
    if risk_path is not None:
        try:
            from .portraits import load_rules

            rules = load_rules(risk_path)
            if hasattr(rules, "hit_report"):
                region = tables.customers.set_index("customer_id")["region"]
                Xr = X.copy()
                Xr["region"] = region.reindex(X.index.get_level_values("customer_id")).to_numpy()
                hits = (
                    rules.hit_report(Xr, by="region")
                    if "by" in rules.hit_report.__code__.co_varnames
                    else rules.hit_report(Xr)
                )
        except Exception as exc:  # noqa: BLE001 - the hit report is a nice-to-have
            log.warning("risk-rule hit report skipped: %s", exc)
    return portraits, hits


def export_portraits(
    cfg: Config, portraits: pd.DataFrame, tables, out_dir, *, previous_dir=None, model_versions=None
):
    """Export campaigns per channel from the portraits (see ``docs/export.md``).

    Parameters
    ----------
    cfg : Config
    portraits : pandas.DataFrame
    tables : Tables or None
        For the customers table (contactability, phones); None uses portrait columns.
    out_dir : path-like
        Export folder (replaced atomically).
    previous_dir : path-like or None, default=None
        Previous export to compare segments with (default ``out_dir``).
    model_versions : dict or None, default=None

    Returns
    -------
    ExportResult
    """
    from .export import export_campaigns

    snap = None
    if "snapshot_date" in portraits.columns and len(portraits):
        snap = pd.Timestamp(portraits["snapshot_date"].max())
    return export_campaigns(
        portraits,
        out_dir,
        campaigns=cfg.export.campaigns,
        customers=None if tables is None else tables.customers,
        format=cfg.export.format,
        frequency_cap=cfg.export.frequency_cap,
        incremental=cfg.export.incremental,
        opt_out_list=cfg.export.opt_out_list,
        do_not_contact_list=cfg.export.do_not_contact_list,
        allow_raw_phone=cfg.export.allow_raw_phone,
        raw_phone_channels=cfg.export.raw_phone_channels,
        snapshot_date=snap,
        model_versions=model_versions,
        config_hash=config_hash(
            {
                "export": cfg.export,
                "campaigns": Path(cfg.export.campaigns).read_text(encoding="utf-8"),
            }
        ),
        previous_dir=previous_dir,
    )


def write_run_report(
    cfg: Config,
    path,
    *,
    tables,
    trained=None,
    profile=None,
    segmenter=None,
    portraits=None,
    risk_hits=None,
    snapshot=None,
    evaluations=None,
    shap_importance=None,
):
    """Write the HTML report with ``powerprofile.report.write_report`` when it is installed.

    Returns
    -------
    pathlib.Path or None
        None when the report module is missing or the report is disabled.
    """
    if not cfg.report.enabled:
        return None
    try:
        from .report import write_report
    except ImportError:
        log.warning("powerprofile.report is not available; no report written")
        return None
    evaluations = {t: r["evaluation"] for t, r in (trained or {}).items()} or evaluations
    shap = {
        t: r["shap_importance"]
        for t, r in (trained or {}).items()
        if r.get("shap_importance") is not None
    }
    shap = shap or shap_importance
    kwargs = {
        "tables": tables,
        "segment_profile": profile,
        "segment_names": getattr(segmenter, "names_", None),
        "evaluations": evaluations or None,
        "shap_importance": shap or None,
        "scores": portraits,
        "risk_hits": risk_hits,
        "subtitle": f"data {cfg.data.path}; snapshot {snapshot}",
        "generated_at": str(snapshot) if snapshot is not None else None,
        **cfg.report.params,
    }
    return write_report(path, **kwargs)


# ------------------------------------------------------------------ the whole job


def thread_limits(cfg: Config):
    """Context manager capping BLAS/OpenMP threads at ``cfg.n_threads`` (no-op when None)."""
    import contextlib

    if cfg.n_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=cfg.n_threads)


def run_pipeline(
    cfg: Config, *, progress: bool | None = None, tracking_uri: str | None = None
) -> RunSummary:
    """Run every stage; outputs appear under ``cfg.output_dir`` all at once at the end.

    Parameters
    ----------
    cfg : Config
    progress : bool or None, default=None
        Progress bars (default ``cfg.progress``).
    tracking_uri : str or None, default=None
        Already-checked tracking URI (default: checked here).

    Returns
    -------
    RunSummary

    Notes
    -----
    Everything is written into a hidden sibling folder that replaces
    ``cfg.output_dir`` only when every stage succeeded, so a failed run leaves the
    previous outputs intact and no partial output. Only the MLflow run (when
    tracking is on) is recorded as the stages go.
    """
    with thread_limits(cfg):
        return _run_pipeline(cfg, progress=progress, tracking_uri=tracking_uri)


def _run_pipeline(cfg: Config, *, progress, tracking_uri) -> RunSummary:
    from .export._atomic import atomic_directory
    from .features import feature_catalog

    progress = cfg.progress if progress is None else progress
    t0 = time.perf_counter()
    bar = _Stages(
        ["validate", "features", "train", "segment", "portraits", "tracking", "export", "report"],
        progress,
    )
    if cfg.tracking.enabled and tracking_uri is None:
        tracking_uri = preflight(cfg, stages=("data", "tracking", "export", "portraits"))
    else:
        preflight(cfg, stages=("data", "export", "portraits"))
    tables = load_data(cfg)
    bar.done("validate", "features")
    final = _resolve(cfg.output_dir)
    summary = RunSummary(output_dir=final)
    with atomic_directory(final) as tmp:
        paths = OutputPaths(tmp)
        dump_config(cfg, _mkparent(paths.config))
        _mkparent(paths.validation)
        (tables.report if isinstance(tables.report, pd.DataFrame) else pd.DataFrame()).to_csv(
            paths.validation, index=False
        )

        train_frame, score = build_feature_frames(cfg, tables, progress=False)
        write_feature_outputs(paths, train_frame, score)
        bar.done("features", "train")

        trained = train_models(cfg, train_frame)
        X_score = score.drop(columns=_label_columns(score))
        for res in trained.values():
            res["X_importance"] = X_score
        write_model_outputs(paths, trained, cfg)
        summary.metrics = {
            t: {"model": r["metrics"], "baseline": r["baseline_metrics"]}
            for t, r in trained.items()
        }
        bar.done("train", "segment")

        segmenter = profile = None
        if cfg.segmentation.enabled:
            import joblib

            snaps = train_frame.index.get_level_values("snapshot_date")
            latest = train_frame[snaps == snaps.max()]
            segmenter, _labels, profile = segment_customers(cfg, score, labelled=latest)
            _mkparent(paths.segmenter)
            joblib.dump(segmenter, paths.segmenter)
            profile.to_csv(paths.segment_profile, encoding="utf-8-sig")
        bar.done("segment", "portraits")

        models = {t: r["model"] for t, r in trained.items()}
        portraits, hits = make_portraits(
            cfg, score, models=models, segmenter=segmenter, tables=tables, catalog=feature_catalog()
        )
        _mkparent(paths.portraits)
        portraits.to_parquet(paths.portraits, index=False)
        if hits is not None:
            hits.to_csv(paths.risk_hits, index=False, encoding="utf-8-sig")
        bar.done("portraits", "tracking")

        if cfg.tracking.enabled:
            summary.model_uris = _track(cfg, tracking_uri, tables, trained, paths)
        else:
            summary.model_uris = {t: str(final / "models" / t) for t in models}
        bar.done("tracking", "export")

        # model versions in the manifest come from the portraits (content hashes), so a
        # re-export of the same portraits gives the same bytes; registry refs are in run_summary.json
        result = export_portraits(
            cfg, portraits, tables, paths.export, previous_dir=final / "export"
        )
        summary.export_files = result.files
        bar.done("export", "report")

        snap = portraits["snapshot_date"].max() if "snapshot_date" in portraits.columns else None
        snap_text = None if snap is None else pd.Timestamp(snap).date().isoformat()
        rep = write_run_report(
            cfg,
            paths.report,
            tables=tables,
            trained=trained,
            profile=profile,
            segmenter=segmenter,
            portraits=portraits,
            risk_hits=hits,
            snapshot=snap_text,
        )
        if rep is None:
            summary.notes.append("report: not written (module missing or report.enabled false)")
        bar.done("report")
        bar.close()
        outputs = {
            "config": paths.config,
            "validation": paths.validation,
            "training_frame": paths.training_frame,
            "scoring_frame": paths.scoring_frame,
            "feature_catalog": paths.catalog,
            "leakage_report": paths.leakage,
            "metrics": paths.metrics,
            "plots": paths.plots,
            "segment_profile": paths.segment_profile,
            "portraits": paths.portraits,
            "export": paths.export,
            "report": paths.report,
        }
        summary.outputs = {
            k: str(final / Path(v).relative_to(tmp)) for k, v in outputs.items() if Path(v).exists()
        }
        summary.seconds = time.perf_counter() - t0
        summary.stage_seconds = dict(bar.times)
        _write_summary(paths.summary, summary)
    return summary


class _Stages:
    """Progress bar over the stages plus a log line with each stage's wall time."""

    def __init__(self, names, progress: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=len(names), desc="powerprofile run", disable=not progress, unit="stage"
        )
        self.t = time.perf_counter()
        self.times: dict[str, float] = {}

    def done(self, name: str, next_name: str | None = None) -> None:
        now = time.perf_counter()
        self.times[name] = round(now - self.t, 1)
        log.info("%s done in %.1f s", name, now - self.t)
        self.t = now
        self.bar.update(1)
        if next_name:
            self.bar.set_description(next_name)

    def close(self) -> None:
        self.bar.close()


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _track(cfg: Config, uri: str, tables, trained: dict, paths: OutputPaths) -> dict:
    from .tracking import data_fingerprint, log_training_run

    metrics = {}
    for t, r in trained.items():
        metrics[t] = r["metrics"]
        if r["baseline_metrics"]:
            metrics[f"{t}_baseline"] = r["baseline_metrics"]
    artifacts = {
        "features": paths.catalog,
        "leakage": paths.leakage,
        "plots": paths.plots,
        "segments": paths.segment_profile,
        "metrics": paths.metrics,
    }
    res = log_training_run(
        tracking_uri=uri,
        experiment=cfg.tracking.experiment,
        config=to_mapping(cfg),
        fingerprint=data_fingerprint(tables),
        models={t: (r["model"], r["X_example"]) for t, r in trained.items()},
        metrics=metrics,
        artifacts={k: v for k, v in artifacts.items() if Path(v).exists()},
        register=cfg.tracking.register,
        model_name_prefix=cfg.tracking.model_name_prefix,
        alias=cfg.tracking.alias,
        run_name=f"run-seed{cfg.seed}",
        tags={
            "powerprofile.config_hash": config_hash(cfg),
            "powerprofile.data": str(cfg.data.path),
        },
    )
    return res.model_uris


def _write_summary(path: Path, summary: RunSummary) -> None:
    data = {
        "output_dir": str(summary.output_dir),
        "outputs": summary.outputs,
        "metrics": summary.metrics,
        "model_uris": summary.model_uris,
        "export_files": []
        if summary.export_files is None
        else summary.export_files.to_dict(orient="records"),
        "notes": summary.notes,
        "stage_seconds": summary.stage_seconds,
        "seconds": round(summary.seconds, 1),
    }
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
