"""The whole job: every stage in order, outputs swapped in at once."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from ..config import Config, config_hash, dump_config, to_mapping
from ._data import (
    build_feature_frames,
    load_data,
    preflight,
    pseudonym_key,
    snapshot_plan,
    write_feature_outputs,
    write_validation_outputs,
)
from ._models import _label_columns, train_models, write_model_outputs
from ._paths import OutputPaths, RunSummary, _mkparent, _resolve
from ._sample import (
    importance_rows,
    segment_sample_fraction,
    segment_sample_mask,
    training_sample,
    training_sample_fraction,
    uniform_rows,
    use_streaming,
)
from ._stages import (
    export_portraits,
    make_portraits,
    scorecard_stage,
    segment_customers,
    write_run_report,
)

__all__ = ["run_pipeline", "thread_limits"]

log = logging.getLogger("powerprofile")

STAGE_LOG = "stages.jsonl"
"""Stage log of a run in the output folder: one JSON record per stage (see ``_Stages``)."""


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
    ``cfg.output_dir`` must be missing, empty or written by powerprofile before
    (:func:`~powerprofile.export.output_folder`); it is checked and locked before any
    work, so a second run on the same folder fails at once. Everything is written into
    a hidden staging folder inside it and moved into place only when every stage
    succeeded, so a failed run leaves the previous outputs intact and no partial
    output; the run replaces its own earlier files and leaves every other file alone.
    Only the MLflow run (when tracking is on) is recorded as the stages go.

    Raises
    ------
    OutputDirError
        ``cfg.output_dir`` is unsafe or belongs to someone else;
        :class:`~powerprofile.exceptions.OutputDirBusyError` when another job uses it.
    """
    with thread_limits(cfg):
        return _run_pipeline(cfg, progress=progress, tracking_uri=tracking_uri)


def _run_pipeline(cfg: Config, *, progress, tracking_uri) -> RunSummary:
    from ..export import output_folder

    final = _resolve(cfg.output_dir)
    # owned, safe and not in use by another job: checked (and locked) before any work
    with output_folder(final) as folder:
        return _run_in(cfg, folder, final, progress=progress, tracking_uri=tracking_uri)


def _run_in(cfg: Config, folder, final: Path, *, progress, tracking_uri) -> RunSummary:
    from ..export import write_frame
    from ..features import feature_catalog

    progress = cfg.progress if progress is None else progress
    key = pseudonym_key(cfg)  # refuse a missing or weak key before any work
    t0 = time.perf_counter()
    bar = _Stages(
        [
            "validate",
            "features",
            "train",
            "segment",
            "portraits",
            "tracking",
            "export",
            "scorecards",
            "report",
        ],
        progress,
    )
    stages = ("data", "train", "segment", "portraits", "export", "report")
    if cfg.tracking.enabled and tracking_uri is None:
        tracking_uri = preflight(cfg, stages=(*stages, "tracking"))
    else:
        preflight(cfg, stages=stages)
    if cfg.engine == "spark":
        from ..spark import run_on_spark

        return run_on_spark(cfg, folder, final, key=key, bar=bar, t0=t0, tracking_uri=tracking_uri)
    if use_streaming(cfg):
        from ._streamrun import run_streamed

        return run_streamed(cfg, folder, final, key=key, bar=bar, t0=t0, tracking_uri=tracking_uri)
    tables = load_data(cfg)
    bar.done("validate", "features")
    summary = RunSummary(output_dir=final, pseudonym_key=key.manifest())
    with folder.staging("run") as tmp:
        paths = OutputPaths(tmp)
        dump_config(cfg, _mkparent(paths.config))
        write_validation_outputs(paths, tables, key, quarantine_pii=cfg.data.quarantine_pii)

        train_frame, score = build_feature_frames(cfg, tables, progress=False)
        write_feature_outputs(paths, train_frame, score, cfg.features.windows)
        bar.done("features", "train")

        fraction = training_sample_fraction(cfg, len(tables.customers))
        sample, weights = training_sample(train_frame, fraction, cfg.seed)
        summary.training_sample = _sample_record(fraction, len(train_frame), sample)
        trained = train_models(cfg, sample, sample_weight=None if fraction >= 1 else weights)
        del sample
        X_score = score.drop(columns=_label_columns(score))
        for res in trained.values():
            res["X_importance"] = importance_rows(X_score, cfg.seed)
        write_model_outputs(paths, trained, cfg)
        summary.metrics = {
            t: {"model": r["metrics"], "baseline": r["baseline_metrics"]}
            for t, r in trained.items()
        }
        bar.done("train", "segment")

        segmenter = profile = None
        if cfg.segmentation.enabled:
            snaps = train_frame.index.get_level_values("snapshot_date")
            latest = train_frame[snaps == snaps.max()]
            g = segment_sample_fraction(cfg, len(tables.customers))
            fit_on = score if g >= 1 else score[segment_sample_mask(score, g, cfg.seed)]
            latest = latest if fraction >= 1 else latest[uniform_rows(latest, fraction, cfg.seed)]
            segmenter, _labels, profile = segment_customers(cfg, fit_on, labelled=latest)
            segmenter.save(paths.segmenter)
            write_frame(profile, paths.segment_profile, "csv", index=True, decimals=None)
        bar.done("segment", "portraits")

        models = {t: r["model"] for t, r in trained.items()}
        portraits, hits = make_portraits(
            cfg,
            score,
            models=models,
            segmenter=segmenter,
            tables=tables,
            catalog=feature_catalog(windows=tuple(cfg.features.windows)),
            key=key,
        )
        _mkparent(paths.portraits)
        portraits.to_parquet(paths.portraits, index=False)
        if hits is not None:
            write_frame(hits, paths.risk_hits, "csv", decimals=None)
        bar.done("portraits", "tracking")

        if cfg.tracking.enabled:
            from ..tracking import data_fingerprint

            summary.model_uris = _track(
                cfg,
                tracking_uri,
                trained,
                paths,
                fingerprint=data_fingerprint(tables),
                snapshot=snapshot_plan(cfg, tables)[1],
                sample=summary.training_sample,
            )
        else:
            summary.model_uris = {t: str(final / "models" / t) for t in models}
        bar.done("tracking", "export")

        # model versions in the manifest come from the portraits (content hashes), so a
        # re-export of the same portraits gives the same bytes; registry refs are in run_summary.json
        result = export_portraits(
            cfg, portraits, tables, paths.export, previous_dir=final / "export", key=key
        )
        summary.export_files = result.files
        bar.done("export", "report")

        _finish(
            cfg,
            paths,
            final,
            summary,
            bar,
            t0,
            tables=tables,
            trained=trained,
            profile=profile,
            segmenter=segmenter,
            portraits=portraits,
            hits=hits,
            manifest=result.manifest,
        )
    return summary


def _finish(
    cfg: Config,
    paths: OutputPaths,
    final: Path,
    summary: RunSummary,
    bar,
    t0: float,
    *,
    tables,
    trained,
    profile,
    segmenter,
    portraits,
    hits,
    manifest,
    outputs: dict | None = None,
) -> None:
    """The last stage of either route: the report, then the stage log and the run summary.

    ``outputs`` replaces entries of the named outputs (the streamed route's scoring and
    portrait folders).
    """
    snap = portraits["snapshot_date"].max() if "snapshot_date" in portraits.columns else None
    snap_text = None if snap is None else pd.Timestamp(snap).date().isoformat()
    from ..uplift import run_uplift_stage

    scoring = (outputs or {}).get("scoring_frame", paths.scoring_frame)
    loop = run_uplift_stage(
        cfg,
        paths.root,
        portraits=portraits,
        export_dir=paths.export,
        key=pseudonym_key(cfg),
        scoring=scoring if Path(scoring).exists() else None,
    )
    scorecards = None
    if cfg.operations.enabled:
        scorecards = scorecard_stage(cfg, paths, final, summary, tables, portraits)
        bar.done("scorecards", "report")
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
        export_manifest=manifest,
        uplift=loop,
        scorecards=scorecards,
    )
    if rep is None:
        summary.notes.append("report: not written (module missing or report.enabled false)")
    bar.done("report")
    bar.close()
    named = {
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
        "uplift": paths.root / "uplift",
        "scorecards": paths.root / "scorecards",
        **(outputs or {}),
    }
    summary.outputs = {
        k: str(final / Path(v).relative_to(paths.root))
        for k, v in named.items()
        if Path(v).exists()
    }
    summary.seconds = time.perf_counter() - t0
    summary.stage_seconds = dict(bar.times)
    bar.write(paths.summary.with_name(STAGE_LOG))
    summary.outputs["stage_log"] = str(final / STAGE_LOG)
    _write_summary(paths.summary, summary)


class _Stages:
    """Progress bar over the stages, a log line with each stage's wall time, a stage log.

    Each finished stage also becomes one record of the stage log written by
    :meth:`write` (``stages.jsonl``): ``stage``, ``start`` and ``end`` (Unix time,
    seconds) and ``seconds`` (wall time), so that samples taken outside the process
    (memory, CPU) can be attributed to stages.
    """

    def __init__(self, names, progress: bool):
        from .._progress import progress_bar

        self.bar = progress_bar(
            progress=progress, total=len(names), desc="powerprofile run", unit="stage"
        )
        self.t = time.perf_counter()
        self.start = time.time()
        self.times: dict[str, float] = {}
        self.events: list[dict] = []

    def done(self, name: str, next_name: str | None = None) -> None:
        now, end = time.perf_counter(), time.time()
        self.times[name] = round(now - self.t, 1)
        self.events.append(
            {
                "stage": name,
                "start": round(self.start, 3),
                "end": round(end, 3),
                "seconds": round(now - self.t, 3),
            }
        )
        log.info("%s done in %.1f s", name, now - self.t)
        self.t, self.start = now, end
        self.bar.update(1)
        if next_name:
            self.bar.set_description(next_name)

    def write(self, path: Path) -> None:
        """Write the stage log as JSON Lines, one finished stage per line, in order."""
        path.write_text("".join(json.dumps(e) + "\n" for e in self.events), encoding="utf-8")

    def close(self) -> None:
        self.bar.close()


def _sample_record(fraction: float, n_rows: int, sample) -> dict:
    """What the run summary and the MLflow run record of the training sample."""
    pos = {
        c[len("label_") :]: int((sample[c] > 0).sum())
        for c in sample.columns
        if c.startswith("label_")
    }
    return {
        "negative_fraction": float(fraction),
        "weight_of_negatives": float(1.0 / fraction),
        "rows_built": int(n_rows),
        "rows_kept": int(len(sample)),
        "positives_kept": pos,
    }


def _track(
    cfg: Config, uri: str, trained: dict, paths: OutputPaths, *, fingerprint, snapshot, sample
) -> dict:
    from ..tracking import log_training_run

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
        fingerprint=fingerprint,
        models={t: (r["model"], r["X_example"]) for t, r in trained.items()},
        metrics=metrics,
        artifacts={k: v for k, v in artifacts.items() if Path(v).exists()},
        register=cfg.tracking.register,
        model_name_prefix=cfg.tracking.model_name_prefix,
        alias=cfg.tracking.alias,
        data_source=cfg.data.path,
        snapshot=snapshot,
        tags={
            "powerprofile.config_hash": config_hash(cfg),
            "powerprofile.data": str(cfg.data.path),
            "powerprofile.training_sample.negative_fraction": str(sample["negative_fraction"]),
            "powerprofile.training_sample.rows_kept": str(sample["rows_kept"]),
            "powerprofile.training_sample.rows_built": str(sample["rows_built"]),
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
        "pseudonym_key": summary.pseudonym_key,
        "stage_seconds": summary.stage_seconds,
        "training_sample": summary.training_sample,
        "route": summary.route,
        "seconds": round(summary.seconds, 1),
    }
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
