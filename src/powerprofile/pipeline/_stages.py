"""Segments, portraits, export and report stages."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config, config_hash
from ._models import _label_columns
from ._paths import _resolve

__all__ = ["export_portraits", "make_portraits", "segment_customers", "write_run_report"]

log = logging.getLogger("powerprofile")


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
    from ..segmentation import CustomerSegmenter

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
    return seg, labels, _round_profile(profile)


def _round_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """The segment profile rounded for people reading ``segment_profile.csv``.

    Shares and rates to 4 decimals (0.3589 = 35.89 %), medians to 4 significant
    digits (9.727, 8427); nothing else changes.
    """
    out = profile.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        values = out[col].to_numpy(dtype=float)
        if str(col).startswith("median_"):
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.floor(np.log10(np.abs(values)))
            digits = np.where(np.isfinite(mag), 3 - mag, 0).clip(0, 12).astype(int)
            out[col] = [round(v, d) for v, d in zip(values, digits, strict=True)]  # a handful
        else:
            out[col] = np.round(values, 4)
    return out


def _rules_path(value):
    if value is None:
        return None
    p = _resolve(value)
    return p if p.is_file() else None


def make_portraits(
    cfg: Config, frame: pd.DataFrame, *, models: dict, segmenter, tables, catalog=None, key=None
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
    key : PseudonymKey or str or None, default=None
        Pseudonymisation key (default: :func:`pseudonym_key` of ``cfg``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame or None)
        Portraits and the risk-rule hit report.
    """
    from ..portraits import build_portraits
    from ._data import pseudonym_key

    key = pseudonym_key(cfg) if key is None else key
    X = frame.drop(columns=_label_columns(frame))
    for target, model in models.items():
        from ..tracking import check_model_features

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
        key=key,
        **kwargs,
    )
    hits = None
    risk_path = _rules_path(cfg.portraits.risk_rules)
    if risk_path is not None:
        try:
            from ..portraits import load_rules

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
    cfg: Config,
    portraits: pd.DataFrame,
    tables,
    out_dir,
    *,
    previous_dir=None,
    model_versions=None,
    key=None,
    columns=None,
):
    """Export campaigns per channel from the portraits (see ``docs/export.md``).

    Parameters
    ----------
    cfg : Config
    portraits : pandas.DataFrame or list of path-like
        The portraits, or their Parquet part files (exported part by part with
        :func:`~powerprofile.export.export_campaigns_streamed`).
    tables : Tables or None
        For the customers table (contactability, phones); None uses portrait columns.
    out_dir : path-like
        Export folder (replaced atomically).
    previous_dir : path-like or None, default=None
        Previous export to compare segments with (default ``out_dir``).
    model_versions : dict or None, default=None
    key : PseudonymKey or str or None, default=None
        Pseudonymisation key (default: :func:`pseudonym_key` of ``cfg``).
    columns : callable or None, default=None
        Columns read of each part file (a callable taking the part's path).

    Returns
    -------
    ExportResult
    """
    from functools import partial

    from ..export import export_campaigns, export_campaigns_streamed
    from ._data import pseudonym_key

    key = pseudonym_key(cfg) if key is None else key
    snap = None
    if isinstance(portraits, pd.DataFrame):
        if "snapshot_date" in portraits.columns and len(portraits):
            snap = pd.Timestamp(portraits["snapshot_date"].max())
        export = export_campaigns
    else:
        export = partial(export_campaigns_streamed, columns=columns)
    return export(
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
        phone_visible_digits=cfg.export.phone_visible_digits,
        key=key,
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
    export_manifest=None,
    uplift=None,
    scorecards=None,
):
    """Write the HTML report with ``powerprofile.report.write_report`` when it is installed.

    The header shows both the snapshot date and when the report was generated (now);
    ``export_manifest`` (the manifest, its file or the export folder) feeds the
    summary's export line and the campaign section.

    Returns
    -------
    pathlib.Path or None
        None when the report module is missing or the report is disabled.
    """
    if not cfg.report.enabled:
        return None
    try:
        from ..report import write_report
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
        "subtitle": f"Data · 数据: {cfg.data.path}",
        "snapshot_date": str(snapshot) if snapshot is not None else None,
        "export_manifest": export_manifest,
        "uplift": uplift,
        "scorecards": scorecards,
        **cfg.report.params,
    }
    return write_report(path, **kwargs)


def campaign_keys(export_dir) -> set | None:
    """``customer_key`` of every customer in the campaign files of an export (or None)."""
    import json

    from ..export import read_frame

    export_dir = Path(export_dir)
    try:
        manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys: set = set()
    for f in manifest.get("files", []):
        if f.get("campaign") and "customer_key" in (f.get("columns") or []):
            frame = read_frame(export_dir / f["file"], dtype={"customer_key": "string"})
            keys.update(frame["customer_key"].dropna().astype(str))
    return keys


def _streamed_tallies(cfg: Config, tables):
    """A streamed job's tallies, summed part by part (None: from the tables in memory)."""
    from ..report import KpiAggregates

    if not isinstance(tables, KpiAggregates):
        return None
    from ._stream import stream_tallies

    return functools.partial(stream_tallies, cfg, tables["customers"])


def run_scorecards(cfg: Config, tables, out_dir, *, portraits=None, previous=None, export_dir=None):
    """The scorecard stage (see ``docs/operations.md``): compute and write the files.

    Parameters
    ----------
    cfg : Config
    tables : Tables
    out_dir : path-like
        Where the scorecard files go (``<out>/scorecards``).
    portraits : pandas.DataFrame or path-like or None, default=None
        Portraits for the risk cases (None: no cases).
    previous : path-like or None, default=None
        Folder holding the previous run's ``case_state.parquet`` (the case state).
    export_dir : path-like or None, default=None
        This run's export: the share of high-risk customers its campaigns reach.

    Returns
    -------
    (Scorecards, list of pathlib.Path, dict)
        The result, the files written and, on generated data with its truth, the
        recall and precision of the planted weak units per level.
    """
    from ..operations import build_scorecards, load_targets, planted_recall, write_scorecards
    from ..schema import read_org_units

    org = getattr(tables, "org_units", None)
    if org is None and cfg.data.path:
        org = read_org_units(cfg.data.path, tables.customers)
    if org is None:
        log.info("scorecards: data has no org_units; hierarchy derived from region and grid unit")
    targets = None
    tpath = _rules_path(cfg.operations.targets)
    if tpath is not None:
        targets = load_targets(tpath)
    if portraits is not None and not isinstance(portraits, pd.DataFrame):
        portraits = pd.read_parquet(portraits)
    severity = None
    risk_path = _rules_path(cfg.portraits.risk_rules)
    if portraits is not None and risk_path is not None:
        from ..portraits import load_rules

        severity = {r.name: r.severity for r in load_rules(risk_path)}
    state = Path(cfg.operations.state_dir) if cfg.operations.state_dir else None
    prev_file = state or (Path(previous) if previous else None)
    prev_file = prev_file / "case_state.parquet" if prev_file is not None else None
    prev = pd.read_parquet(prev_file) if prev_file is not None and prev_file.is_file() else None
    resolutions = None
    if cfg.operations.resolutions:
        from ..export import read_frame

        resolutions = read_frame(
            cfg.operations.resolutions, dtype={"case_id": "string", "customer_key": "string"}
        )
    snap = None
    if portraits is not None and "snapshot_date" in portraits.columns and len(portraits):
        snap = pd.Timestamp(portraits["snapshot_date"].max())
    result = build_scorecards(
        tables,
        org,
        portraits=portraits,
        risk_severity=severity,
        targets=targets,
        previous_cases=prev,
        resolutions=resolutions,
        snapshot=snap,
        months=cfg.operations.months,
        reached=None if export_dir is None else campaign_keys(export_dir),
        segments=_segments(cfg, tables["customers"], portraits),
        tallies=_streamed_tallies(cfg, tables),
    )
    for note in result.notes:
        log.info("scorecards: %s", note)
    files = write_scorecards(result, out_dir)
    if result.cases is not None:
        _save_state(result.cases, Path(out_dir), state)
    recall = {}
    truth_dir = Path(cfg.data.path) / "truth" / "org_units.parquet"
    if truth_dir.is_file() and not result.derived:
        from ..datasets import load_org_truth

        recall = planted_recall(result, load_org_truth(cfg.data.path))
    return result, files, recall


def _segments(cfg: Config, customers: pd.DataFrame, portraits) -> pd.Series | None:
    """The portraits' segment of each customer (aligned with ``customers``), or None.

    Portraits name customers by ``customer_key``; the customers' ids are pseudonymised
    with the run's key to find them.
    """
    if portraits is None or "segment_id" not in portraits.columns:
        return None
    from ..privacy import pseudonymise
    from ._data import pseudonym_key

    keys = pseudonymise(customers["customer_id"].to_numpy(), pseudonym_key(cfg))
    seg = portraits.set_index(portraits["customer_key"].astype("string"))["segment_id"]
    seg = seg[~seg.index.duplicated()]
    return pd.Series(
        seg.reindex(pd.Index(keys, dtype="string")).to_numpy(), index=customers.index
    ).astype("string")


def _save_state(cases: pd.DataFrame, out_dir: Path, state_dir: Path | None) -> None:
    """The case state for the next run: ``case_state.parquet`` beside the scorecards, and in
    ``operations.state_dir`` when set (an owned folder, written through staging).
    """
    cases.to_parquet(out_dir / ".case_state.parquet.tmp", index=False)
    (out_dir / ".case_state.parquet.tmp").replace(out_dir / "case_state.parquet")
    if state_dir is None:
        return
    from ..export import output_folder

    with output_folder(state_dir, what="case state folder") as folder:
        with folder.staging("operations") as tmp:
            cases.to_parquet(Path(tmp) / "case_state.parquet", index=False)


def scorecard_stage(cfg: Config, paths, final: Path, summary, tables, portraits):
    """The scorecard stage of ``run``: files under ``scorecards/``, metrics, case state.

    The previous run's case state is read from ``operations.state_dir`` or the
    published ``<output_dir>/scorecards/``; the new one is written with this run's
    outputs (and to ``operations.state_dir`` when set). A failure is logged and the
    run goes on without scorecards (they are derived outputs).

    Returns
    -------
    Scorecards or None
    """
    try:
        result, _files, recall = run_scorecards(
            cfg,
            tables,
            paths.root / "scorecards",
            portraits=portraits,
            previous=final / "scorecards",
            export_dir=paths.export,
        )
    except Exception as exc:  # noqa: BLE001 - the rest of the run is still useful
        log.warning("scorecards skipped: %s", exc)
        summary.notes.append(f"scorecards: not written ({type(exc).__name__}: {exc})")
        return None
    result.evaluation = recall
    metrics = result.metrics()
    for level, r in recall.items():
        metrics[f"operations.planted.{level}.recall"] = r["recall"]
        metrics[f"operations.planted.{level}.precision"] = r["precision"]
    summary.notes.extend(f"scorecards: {n}" for n in result.notes)
    if cfg.tracking.enabled:
        _log_operations_metrics(metrics)
    return result


def _log_operations_metrics(metrics: dict) -> None:
    """Add the scorecard metrics to the run just tracked (this process's last run)."""
    try:
        import mlflow

        run = mlflow.last_active_run()
        if run is None:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, 0) for k, v in sorted(metrics.items())]
        mlflow.MlflowClient().log_batch(run.info.run_id, metrics=batch)
    except Exception as exc:  # noqa: BLE001 - tracking of derived metrics is best effort
        log.warning("scorecard metrics not logged to MLflow: %s", exc)
