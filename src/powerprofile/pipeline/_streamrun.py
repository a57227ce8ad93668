"""The whole job on the streamed route (``data.streaming``), stage by stage.

Same stages, outputs and staging as the in-memory route (:func:`run_pipeline`), with
memory following one partition: see :mod:`._stream`. The differences a reader sees:
``portraits/`` holds one ``part-XXXXX.parquet`` per partition instead of
``portraits.parquet``, ``features/training.parquet`` is the training sample (with a
``sample_weight`` column) and ``features/scoring/`` holds one part per partition.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import shutil
from pathlib import Path

import pandas as pd

from ..config import Config, dump_config
from ._paths import OutputPaths, RunSummary, _mkparent, _resolve

__all__ = ["export_portrait_parts", "run_streamed"]

log = logging.getLogger("powerprofile")


def folder_fingerprint(path: Path, declared: dict) -> dict:
    """What a streamed run records of its input: declared counts and a hash of the files.

    ``rows`` and ``data_end`` come from ``dataset.json`` (the reader checked them
    against what it read); ``sha256`` hashes every file's relative path and bytes.
    """
    total = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.startswith("truth/"):
            continue
        total.update(rel.encode("utf-8") + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                total.update(block)
    return {
        "rows": declared.get("row_counts", {}),
        "data_end": declared.get("data_end"),
        "sha256": total.hexdigest(),
    }


_EXPORT_ALWAYS = (
    "customer_key",
    "snapshot_date",
    "customer_type",
    "region",
    "grid_unit",
    "segment_id",
    "segment_name_en",
    "segment_name_zh",
)


def export_columns(cfg: Config, part: Path) -> list[str]:
    """The portrait columns the export and the report read (not the reason and tag texts).

    Every campaign's selection, score and extra columns, the bands, deciles, scores,
    contactability, segment and model-version columns; the long text columns (reasons,
    tag and risk-rule labels) stay in the part files.
    """
    import pyarrow.parquet as pq

    from ..export import load_campaigns

    names = pq.ParquetFile(part).schema_arrow.names
    # the tag and risk-flag codes with their labels: the data dictionary names them
    want = set(_EXPORT_ALWAYS) | {
        f"{c}{s}" for c in ("tags", "risk_flags") for s in ("", "_en", "_zh")
    }
    for camp in load_campaigns(cfg.export.campaigns).campaigns:
        want |= {camp.score, *camp.ranking, *camp.columns, *camp.selection.columns}
    keep = (
        "_score",
        "_band",
        "_decile",
        "_version",
        "risk_level",
    )
    # a list's reasons are rebuilt from the per-reason direction and text columns
    # (risk-raising reasons only), so those of the reason columns a campaign writes travel
    reasons = tuple(f"{c.split('_reasons_')[0]}_reason_" for c in want if "_reasons_" in str(c))
    return [
        c
        for c in names
        if c in want
        or (reasons and c.startswith(reasons) and c.endswith(("_direction", "_en", "_zh")))
        or c.endswith(keep)
        or (c.startswith(("contactable_", "tag_", "risk_")) and not c.endswith(("_en", "_zh")))
    ]


def export_portrait_parts(
    cfg: Config, files, out_dir: Path, *, key, previous_dir=None, customers=None
):
    """Export the campaigns from partitioned portraits (``portraits/part-*.parquet``).

    Each part is read once, for the columns the campaigns and the data dictionary use
    (:func:`export_columns`); only the customers table is read from the data set
    (contact details and opt-outs), never the usage. The same files and bytes as
    exporting the concatenated portraits.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..exceptions import DataValidationError
    from ._stages import export_portraits
    from ._stream import _PartTables, read_customers

    files = [Path(f) for f in files]
    for f in files:  # footers only: a damaged part is named before any work
        try:
            pq.ParquetFile(f).close()
        except (OSError, pa.ArrowException) as err:
            raise DataValidationError(
                f"portrait part {str(f)!r} is not a readable Parquet file ({err}); "
                "run `powerprofile run` again to write the portraits."
            ) from None
    if customers is None:
        customers = read_customers(cfg)
    return export_portraits(
        cfg,
        files,
        _PartTables(customers),
        out_dir,
        previous_dir=previous_dir,
        key=key,
        columns=functools.partial(export_columns, cfg),
    )


def run_streamed(
    cfg: Config,
    folder,
    final: Path,
    *,
    key,
    bar,
    t0,
    tracking_uri,
    mapper=None,
    route="streamed",
    kpis=None,
) -> RunSummary:
    """Run every stage partition by partition (see :mod:`powerprofile.pipeline._stream`).

    ``mapper(fn, n)`` runs the per-partition work (validation, features, portraits)
    elsewhere: the Spark engine passes :func:`powerprofile.spark.spark_mapper` of its
    session. ``kpis`` stands for :func:`~powerprofile.pipeline._stream.stream_kpis`
    (same arguments and result; the Spark engine's aggregation). ``route`` is recorded
    in the run summary.
    """
    from ..export import write_frame
    from ..features import feature_catalog
    from ..schema import read_dataset_info, redact_report
    from ._data import plan_snapshots
    from ._models import train_models, write_model_outputs
    from ._run import _finish, _sample_record, _track
    from ._sample import (
        importance_rows,
        segment_sample_fraction,
        training_sample_fraction,
        uniform_rows,
    )
    from ._stages import segment_customers
    from ._stream import (
        _release_memory,
        _source,
        read_customers,
        read_report_scores,
        read_segment_sample,
        read_training_sample,
        stream_features,
        stream_kpis,
        stream_portraits,
        validate_streamed,
    )

    data = _resolve(cfg.data.path)
    info = read_dataset_info(data)
    summary = RunSummary(output_dir=final, pseudonym_key=key.manifest(), route=route)
    with folder.staging("run") as tmp:
        paths = OutputPaths(tmp)
        work = tmp / ".parts"  # per-partition intermediates, removed before publishing
        dump_config(cfg, _mkparent(paths.config))
        report = validate_streamed(cfg, tmp, key, mapper=mapper)
        paths.validation.parent.mkdir(parents=True, exist_ok=True)
        write_frame(redact_report(report, key), paths.validation, "csv", decimals=None)
        del report
        _release_memory()  # a usage part's validation peak, not kept through the job
        bar.done("validate", "features")

        src = _source(str(data), cfg.data.errors, cfg.data.data_end)
        n_customers = src.n_customers
        start = pd.Timestamp(info["data_start"]) if info.get("data_start") else None
        end = cfg.data.data_end or src.data_end
        del src  # cached by _source: the feature stage drops it when workers build
        snaps, score_snap = plan_snapshots(cfg, end, start)
        fraction = training_sample_fraction(cfg, n_customers)
        g = segment_sample_fraction(cfg, n_customers)
        built = stream_features(
            cfg,
            work,
            snapshots=snaps,
            scoring_snapshot=score_snap,
            fraction=fraction,
            seg_fraction=g,
            mapper=mapper,
        )
        parts = built["parts"]
        _source.cache_clear()  # the parent's reader state (duplicate-key sets) goes
        _release_memory()
        train, weights = read_training_sample(parts)
        from ..features._leakage import ATTRS_KEY, report_to_attrs

        train.attrs[ATTRS_KEY] = report_to_attrs(built["leakage"])
        summary.training_sample = _sample_record(fraction, sum(r["rows"] for r in parts), train)
        _write_features(paths, train, weights, parts, cfg, built["leakage"])
        bar.done("features", "train")

        trained = train_models(cfg, train, sample_weight=None if fraction >= 1 else weights)
        fit_on = read_segment_sample(parts, g, cfg.seed)
        for res in trained.values():
            res["X_importance"] = importance_rows(
                fit_on.drop(columns=[c for c in fit_on.columns if c.startswith("label_")]),
                cfg.seed,
            )
        write_model_outputs(paths, trained, cfg)
        summary.metrics = {
            t: {"model": r["metrics"], "baseline": r["baseline_metrics"]}
            for t, r in trained.items()
        }
        bar.done("train", "segment")

        segmenter = profile = None
        if cfg.segmentation.enabled:
            t_snaps = train.index.get_level_values("snapshot_date")
            latest = train[t_snaps == t_snaps.max()]
            latest = latest[uniform_rows(latest, fraction, cfg.seed)]
            segmenter, _labels, profile = segment_customers(cfg, fit_on, labelled=latest)
            segmenter.save(paths.segmenter)
            write_frame(profile, paths.segment_profile, "csv", index=True, decimals=None)
        del train, weights, fit_on
        for res in trained.values():
            res.pop("X_importance", None)
        _release_memory()  # the training frame's pages, before the portraits
        bar.done("segment", "portraits")

        customers = read_customers(cfg)
        models = {t: r["model"] for t, r in trained.items()}
        portraits_dir = paths.portraits.parent
        files, hits = stream_portraits(
            cfg,
            parts,
            portraits_dir,
            models=models,
            segmenter=segmenter,
            catalog=feature_catalog(windows=tuple(cfg.features.windows)),
            key=key,
            customers=customers,
            mapper=mapper,
        )
        if hits is not None:
            write_frame(hits, paths.risk_hits, "csv", decimals=None)
        bar.done("portraits", "tracking")

        if cfg.tracking.enabled:
            summary.model_uris = _track(
                cfg,
                tracking_uri,
                trained,
                paths,
                fingerprint=folder_fingerprint(data, info),
                snapshot=score_snap,
                sample=summary.training_sample,
            )
        else:
            summary.model_uris = {t: str(final / "models" / t) for t in models}
        bar.done("tracking", "export")

        result = export_portrait_parts(
            cfg, files, paths.export, key=key, previous_dir=final / "export", customers=customers
        )
        summary.export_files = result.files
        bar.done("export", "report")

        kpi_tables = (kpis or stream_kpis)(cfg, customers, data_start=start, data_end=end)
        report_scores = read_report_scores(
            files, uplift=cfg.uplift.enabled, scorecards=cfg.operations.enabled
        )
        shutil.rmtree(work, ignore_errors=True)
        _finish(
            cfg,
            paths,
            final,
            summary,
            bar,
            t0,
            tables=kpi_tables,
            trained=trained,
            profile=profile,
            segmenter=segmenter,
            portraits=report_scores,
            hits=hits,
            manifest=result.manifest,
            outputs={
                "scoring_frame": paths.scoring_frame.with_suffix(""),
                "portraits": portraits_dir,
            },
        )
    return summary


def _write_features(paths: OutputPaths, train, weights, parts, cfg: Config, leakage) -> None:
    """The training sample (with its weights), the scoring parts, catalogue, leakage report."""
    from ..export import write_frame
    from ..features import feature_catalog
    from ._stream import write_row_groups

    paths.training_frame.parent.mkdir(parents=True, exist_ok=True)
    # a column added by concatenation: the frame holds one block per column, and
    # inserting into it would warn of fragmentation (neither copies the features)
    out = pd.concat([train, pd.DataFrame({"sample_weight": weights}, index=train.index)], axis=1)
    out.attrs = train.attrs
    write_row_groups(out, paths.training_frame)
    del out
    write_frame(leakage, paths.leakage, "csv", decimals=None)
    scoring = paths.scoring_frame.with_suffix("")
    scoring.mkdir(parents=True, exist_ok=True)
    for r in parts:  # moved, not copied: later stages read them from there
        if "score" in r:
            r["score"] = str(Path(r["score"]).replace(scoring / Path(r["score"]).name))
    write_frame(
        feature_catalog(windows=tuple(cfg.features.windows)), paths.catalog, "csv", decimals=None
    )
