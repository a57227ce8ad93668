"""The subcommands: thin wrappers over :mod:`powerprofile.pipeline` and the library."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from pathlib import Path

import pandas as pd

from ..config import Config, dump_config
from ..exceptions import ConfigError
from ..pipeline import OutputPaths

__all__ = ["COMMANDS"]

log = logging.getLogger("powerprofile")


def _say(what: str, where) -> None:
    print(f"{what}: {where}", flush=True)


def _paths(cfg: Config) -> OutputPaths:
    return OutputPaths(Path(cfg.output_dir))


def _read_frame(path: Path, what: str, hint: str) -> pd.DataFrame:
    """A Parquet frame the job wrote (or the user passed); a damaged file is named."""
    import pyarrow as pa

    from ..exceptions import DataValidationError

    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist; {hint}")
    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException) as err:
        raise DataValidationError(
            f"{what} {str(path)!r} is not a readable Parquet file ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); "
            f"the file is damaged or truncated: {hint}"
        ) from None


def cmd_sample(cfg: Config, args) -> int:
    from ..datasets import write_sample, write_utility_data

    out = Path(args.output_dir or cfg.data.path)
    _check_data_folder(out)
    for name in ("customers", "partitions"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be a positive integer, got {value!r}.")
    try:
        if args.partitions is None and args.customers <= 20_000:
            # the committed sample's layout: 2 partitions, strong compression (small for git)
            write_sample(
                out,
                n_customers=args.customers,
                seed=cfg.seed,
                start=args.start,
                end=args.end,
                progress=cfg.progress,
            )
        else:
            write_utility_data(
                out,
                n_customers=args.customers,
                start=args.start,
                end=args.end,
                seed=cfg.seed,
                n_partitions=args.partitions,
                progress=cfg.progress,
            )
    except ValueError as exc:  # the generator checks its arguments before writing
        raise ConfigError(
            f"sample: {exc}; fix --customers, --start, --end or --partitions."
        ) from exc
    _say("sample data", out)
    return 0


def cmd_validate(cfg: Config, args) -> int:
    from ..pipeline import load_data, pseudonym_key, write_validation_outputs
    from ..schema import format_report

    key = pseudonym_key(cfg)
    tables = load_data(cfg)
    paths = _paths(cfg)
    # stderr is for the operator fixing the source (raw ids); files follow the PII policy
    for line in format_report(tables).splitlines():
        log.info("%s", line)
    written = write_validation_outputs(paths, tables, key, quarantine_pii=cfg.data.quarantine_pii)
    _say("validation report", written.pop("report"))
    for name, target in sorted(written.items()):
        table = name.removeprefix("quarantine/")
        _say(f"quarantined {len(tables.quarantine[table])} {table} rows", target)
    return 0


def cmd_features(cfg: Config, args) -> int:
    from ..pipeline import build_feature_frames, load_data, write_feature_outputs

    tables = load_data(cfg)
    train, score = build_feature_frames(
        cfg,
        tables,
        training=not args.no_training,
        scoring=not args.no_scoring,
        progress=cfg.progress,
    )
    paths = _paths(cfg)
    write_feature_outputs(paths, train, score, cfg.features.windows)
    if train is not None:
        _say("training frame", paths.training_frame)
    if score is not None:
        _say("scoring frame", paths.scoring_frame)
    _say("feature catalogue", paths.catalog)
    return 0


def _tracking_uri(cfg: Config):
    from ..pipeline import preflight

    return preflight(cfg, stages=("train", "tracking") if cfg.tracking.enabled else ("train",))


def cmd_train(cfg: Config, args) -> int:
    from ..pipeline import (
        build_feature_frames,
        load_data,
        train_models,
        write_feature_outputs,
        write_model_outputs,
    )
    from ..pipeline._run import _track

    uri = _tracking_uri(cfg)
    paths = _paths(cfg)
    tables = load_data(cfg)  # for the data fingerprint, and to build features when needed
    path = Path(args.features_path) if args.features_path else paths.training_frame
    if path.is_file():
        frame = pd.read_parquet(path)
    elif args.features_path:
        raise FileNotFoundError(
            f"training frame {str(path)!r} does not exist; run `powerprofile features` first."
        )
    else:
        frame, score = build_feature_frames(cfg, tables, progress=cfg.progress)
        write_feature_outputs(paths, frame, score, cfg.features.windows)
    trained = train_models(cfg, frame, progress=cfg.progress)
    X = frame.drop(columns=[c for c in frame.columns if c.startswith("label_")])
    for res in trained.values():
        res["X_importance"] = X.iloc[-min(len(X), 5000) :]
    paths.root.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, paths.config)
    write_model_outputs(paths, trained, cfg)
    for target in trained:
        _say(f"{target} model", paths.model(target))
    _say("metrics", paths.metrics)
    if uri is not None:
        for target, ref in _track(cfg, uri, tables, trained, paths).items():
            _say(f"{target} registered", ref)
    return 0


def _parse_models(cfg: Config, refs) -> dict:
    """``TARGET=REF`` pairs; a bare REF takes the target its name mentions, else the first target."""
    out = {}
    for ref in refs:
        target, sep, value = ref.partition("=")
        if not sep or "/" in target or ":" in target:
            value = ref
            target = next((t for t in ("churn", "complaint") if t in ref), cfg.models.targets[0])
        out[target] = value
    return out


def cmd_score(cfg: Config, args) -> int:
    from ..pipeline import pseudonym_key, score_frame
    from ..tracking import load_scoring_model, resolve_tracking_uri

    key = pseudonym_key(cfg)
    paths = _paths(cfg)
    refs = _parse_models(cfg, args.models) or {t: str(paths.model(t)) for t in cfg.models.targets}
    path = Path(args.features_path) if args.features_path else paths.scoring_frame
    frame = _read_frame(path, "scoring frame", "run `powerprofile features` or pass --features.")
    uri = None
    if any(r.startswith(("models:/", "runs:/")) for r in refs.values()):
        uri = resolve_tracking_uri(cfg.tracking.uri)
    out = None
    for target, ref in sorted(refs.items()):
        model = load_scoring_model(ref, tracking_uri=uri)
        scored = score_frame(model, frame, target=target, top_k=cfg.models.top_k_reasons, key=key)
        out = (
            scored
            if out is None
            else out.merge(scored, on=["customer_key", "snapshot_date"], how="outer")
        )
    target_file = Path(args.output) if args.output else paths.scores
    target_file.parent.mkdir(parents=True, exist_ok=True)
    out.to_parquet(target_file, index=False)
    _say("scores", target_file)
    return 0


def cmd_segment(cfg: Config, args) -> int:
    from ..export import write_frame
    from ..pipeline import preflight, pseudonym_key, segment_customers
    from ..privacy import pseudonymise
    from ..segmentation import CustomerSegmenter

    key = pseudonym_key(cfg)
    preflight(cfg, stages=("segment",))
    paths = _paths(cfg)
    # verified (metadata, checksum, signature) before anything is unpickled
    previous = CustomerSegmenter.load(args.previous) if args.previous else None
    path = Path(args.features_path) if args.features_path else paths.scoring_frame
    frame = _read_frame(path, "scoring frame", "run `powerprofile features` or pass --features.")
    seg, labels, profile = segment_customers(cfg, frame, previous=previous)
    seg.save(paths.segmenter)
    write_frame(profile, paths.segment_profile, "csv", index=True, decimals=None)
    ids = frame.index.get_level_values("customer_id")
    assign = pd.DataFrame({"customer_key": pseudonymise(ids, key).to_numpy(), "segment_id": labels})
    assign.sort_values("customer_key").to_parquet(
        paths.segmenter.parent / "assignments.parquet", index=False
    )
    _say("segmenter", paths.segmenter)
    _say("segment profile", paths.segment_profile)
    return 0


def _portraits_from_outputs(cfg: Config, paths: OutputPaths, tables, key) -> pd.DataFrame:
    from ..features import feature_catalog
    from ..pipeline import make_portraits
    from ..segmentation import CustomerSegmenter
    from ..tracking import load_local_model

    frame = _read_frame(
        paths.scoring_frame,
        "scoring frame",
        "run `powerprofile run` (or features, train, segment) first.",
    )
    models = {}
    for t in cfg.models.targets:
        if not paths.model(t).exists():
            raise FileNotFoundError(
                f"model {str(paths.model(t))!r} does not exist; run `powerprofile train` first."
            )
        models[t] = load_local_model(paths.model(t))
    seg = CustomerSegmenter.load(paths.segmenter) if paths.segmenter.exists() else None
    portraits, _hits = make_portraits(
        cfg,
        frame,
        models=models,
        segmenter=seg,
        tables=tables,
        catalog=feature_catalog(windows=tuple(cfg.features.windows)),
        key=key,
    )
    paths.portraits.parent.mkdir(parents=True, exist_ok=True)
    portraits.to_parquet(paths.portraits, index=False)
    _say("portraits", paths.portraits)
    return portraits


def _portrait_parts(paths) -> list[Path]:
    """The streamed route's portrait parts of an earlier run (none if it wrote one file)."""
    if paths.portraits.is_file():
        return []
    return sorted(paths.portraits.parent.glob("part-*.parquet"))


def _stored_portraits(paths) -> pd.DataFrame | None:
    """The portraits of an earlier run: ``portraits.parquet``, or the streamed route's parts."""
    if paths.portraits.is_file():
        return pd.read_parquet(paths.portraits)
    parts = _portrait_parts(paths)
    if not parts:
        return None
    return pd.concat([pd.read_parquet(f) for f in parts], ignore_index=True)


def cmd_export(cfg: Config, args) -> int:
    from ..pipeline import export_portraits, load_data, preflight, pseudonym_key

    key = pseudonym_key(cfg)
    paths = _paths(cfg)
    parts = [] if args.portraits else _portrait_parts(paths)
    # campaigns (and the rules, when the portraits are built here) checked before any work
    built_here = not args.portraits and not parts and not paths.portraits.is_file()
    preflight(cfg, stages=("export", "portraits") if built_here else ("export",))
    out_dir = Path(args.export_dir) if args.export_dir else paths.export
    if parts:  # a streamed run's portraits: exported part by part, the usage never read
        from ..pipeline import export_portrait_parts

        result = export_portrait_parts(cfg, parts, out_dir, key=key)
        return _said_export(result, out_dir)
    tables = load_data(cfg)
    if args.portraits:
        portraits = _read_frame(
            Path(args.portraits), "portraits", "pass an existing --portraits file."
        )
    elif not built_here:
        portraits = _stored_portraits(paths)
    else:
        portraits = _portraits_from_outputs(cfg, paths, tables, key)
    result = export_portraits(cfg, portraits, tables, out_dir, key=key)
    return _said_export(result, out_dir)


def _said_export(result, out_dir: Path) -> int:
    for row in result.files.itertuples():
        log.info("  %-55s %6d rows", row.file, row.rows)
    _say("export", out_dir)
    _say("manifest", out_dir / "manifest.json")
    return 0


def cmd_outcomes(cfg: Config, args) -> int:
    from ..export import write_frame
    from ..pipeline import pseudonym_key
    from ..uplift import campaign_effects, ingest_outcomes

    key = pseudonym_key(cfg)
    responses = args.responses or cfg.uplift.responses
    if responses is None:
        raise ConfigError(
            "outcomes needs a responses file: pass --responses FILE (or set uplift.responses)."
        )
    exports = [Path(e) for e in (args.exports or [_paths(cfg).export])]
    outcomes = ingest_outcomes(responses, exports, key=key)
    u = cfg.uplift
    effects = campaign_effects(outcomes, alpha=u.alpha, min_cell=u.min_cell, costs=u.costs)
    out = Path(cfg.output_dir) / "uplift"
    out.mkdir(parents=True, exist_ok=True)
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    write_frame(effects, out / "campaign_effects.csv", "csv", decimals=None)
    log.info(
        "%d responses of %d campaign(s) ingested", len(outcomes), outcomes["campaign_id"].nunique()
    )
    _say("outcomes", out / "outcomes.parquet")
    _say("campaign effects", out / "campaign_effects.csv")
    return 0


def cmd_keygen(cfg: Config, args) -> int:
    from ..privacy import PSEUDONYM_KEY_ENV, generate_key

    print(generate_key(), flush=True)
    log.info("store it as a secret and set %s to it; keep it stable across runs", PSEUDONYM_KEY_ENV)
    return 0


def cmd_report(cfg: Config, args) -> int:
    from ..export import read_frame
    from ..pipeline import load_data, preflight, write_run_report

    preflight(cfg, stages=("report",))
    paths = _paths(cfg)
    tables = load_data(cfg)
    profile = read_frame(paths.segment_profile) if paths.segment_profile.is_file() else None
    portraits = _stored_portraits(paths)
    hits = read_frame(paths.risk_hits) if paths.risk_hits.is_file() else None
    snap = None
    if portraits is not None and "snapshot_date" in portraits.columns and len(portraits):
        snap = pd.Timestamp(portraits["snapshot_date"].max()).date().isoformat()
    evaluations, shap = {}, {}
    if paths.metrics.is_file():
        metrics = read_frame(paths.metrics)
        for t, g in metrics.groupby("target"):
            evaluations[t] = {"metrics": g.drop(columns="target").set_index("scorer")}
    for t in cfg.models.targets:
        f = paths.plots / f"{t}_shap_importance.csv"
        if f.is_file():
            imp = read_frame(f)
            shap[t] = imp.set_index(imp.columns[0]).iloc[:, 0]
    target = Path(args.output) if args.output else paths.report
    if not cfg.report.enabled:
        raise ConfigError(
            "config key 'report.enabled' is false; set it to true to write the report."
        )
    written = write_run_report(
        cfg,
        target,
        tables=tables,
        profile=profile,
        portraits=portraits,
        risk_hits=hits,
        snapshot=snap,
        evaluations=evaluations or None,
        shap_importance=shap or None,
        export_manifest=paths.export,
    )
    if written is None:
        log.error("the report module is not installed")
        return 1
    _say("report", written)
    return 0


def cmd_run(cfg: Config, args) -> int:
    from ..pipeline import run_pipeline

    summary = run_pipeline(cfg, progress=cfg.progress)
    for name, where in sorted(summary.outputs.items()):
        _say(name, where)
    for target, ref in sorted(summary.model_uris.items()):
        _say(f"{target} model", ref)
    for target, m in sorted(summary.metrics.items()):
        log.info(
            "%s: ROC AUC %.3f (logistic baseline %.3f), PR AUC %.3f, ECE %.3f",
            target,
            m["model"].get("roc_auc", float("nan")),
            m["baseline"].get("roc_auc", float("nan")),
            m["model"].get("pr_auc", float("nan")),
            m["model"].get("ece", float("nan")),
        )
    if summary.export_files is not None:
        for row in summary.export_files.itertuples():
            _say(
                f"  exported {row.rows:>6} rows", Path(summary.outputs.get("export", "")) / row.file
            )
    for note in summary.notes:
        log.warning("%s", note)
    _say("finished in seconds", f"{summary.seconds:.1f}")
    return 0


# ------------------------------------------------------------------ output folders


# what the generator writes: dataset.json, truth/, and each table as one Parquet file or
# a folder of Parquet parts (truth/ also holds JSON and NumPy blocks)
_GENERATED_SUFFIXES = (".parquet", ".json", ".npz")


def _foreign_data_entries(folder: Path) -> list[str]:
    """Entries of ``folder`` that the synthetic data generator did not write (or could not have)."""
    import json

    from ..datasets import GENERATOR
    from ..schema import FEEDBACK_TABLES, REFERENCE_TABLES, TABLE_ORDER

    try:
        info = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or info.get("generator") != GENERATOR:
        return ["dataset.json (missing, or not written by the generator)"]
    names = (*TABLE_ORDER, *REFERENCE_TABLES)
    top = {"dataset.json", "truth", *names, *(f"{t}.parquet" for t in names)}
    top |= {f"{t}.parquet" for t in FEEDBACK_TABLES}
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        for name in [*dirnames, *filenames]:
            p = here / name
            rel = p.relative_to(folder).as_posix()
            if here == folder and name not in top:
                out.append(rel)
            elif p.is_symlink():
                out.append(f"{rel} (a symbolic link)")
            elif name in filenames and not name.endswith(_GENERATED_SUFFIXES):
                out.append(rel)
    return sorted(out)


def _check_data_folder(out: Path) -> None:
    """``sample`` replaces a data folder: only a new, empty or generated one."""
    from ..exceptions import OutputDirError
    from ..export import check_output_path

    target = check_output_path(out, what="data folder", require_owned=False)
    if not target.is_dir() or not any(target.iterdir()):
        return
    foreign = _foreign_data_entries(target)
    if foreign:
        shown = ", ".join(repr(f) for f in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputDirError(
            f"data folder {str(out)!r} is not empty and is not a data set written by "
            f"`powerprofile sample` ({len(foreign)} foreign entries: {shown}); `sample` "
            "replaces the whole folder, so it refuses and nothing was deleted. Choose a new "
            "folder, e.g. --out data/sample2."
        )


def _inside(path: Path, root: Path) -> bool:
    return Path(path).expanduser().resolve().is_relative_to(Path(root).expanduser().resolve())


def _written_folders(name: str, cfg: Config, args) -> list[tuple[Path, str]]:
    """The folders a subcommand writes into: ``output_dir`` and the export folder."""
    out = Path(cfg.output_dir)
    if name in ("validate", "features", "train", "segment", "run", "outcomes"):
        return [(out, "output folder")]
    if name in ("score", "report"):  # --output names a file of the user's choice
        return [] if getattr(args, "output", None) else [(out, "output folder")]
    if name == "export":
        export_dir = Path(args.export_dir) if args.export_dir else OutputPaths(out).export
        rebuild = not args.portraits and not OutputPaths(out).portraits.is_file()
        held = [(out, "output folder")] if rebuild or _inside(export_dir, out) else []
        return [*held, (export_dir, "export folder")]
    return []


def _in_output_folders(name: str, cmd):
    """Run ``cmd`` holding the folders it writes: owned, locked, checked before any work.

    ``run`` and the export publish through staging folders; the other steps write
    their fixed files in place and the files they wrote are recorded as the job's.
    """

    @functools.wraps(cmd)
    def wrapped(cfg: Config, args) -> int:
        from ..export import check_output_path, output_folder

        folders = _written_folders(name, cfg, args)
        for path, what in folders:  # every refusal before any work
            check_output_path(path, what=what)
        with contextlib.ExitStack() as stack:
            for path, what in folders:
                folder = stack.enter_context(output_folder(path, what=what))
                if name != "run" and what == "output folder":
                    stack.enter_context(folder.recording(name))
            return cmd(cfg, args)

    return wrapped


def cmd_scorecard(cfg: Config, args) -> int:
    from ..pipeline import load_data, use_streaming
    from ..pipeline._stages import run_scorecards
    from ..pipeline._stream import streamed_scorecard_inputs

    out = Path(cfg.output_dir)
    if use_streaming(cfg):  # the parts one at a time, as on the job's streamed route
        tables, portraits = streamed_scorecard_inputs(cfg, out)
    else:
        tables = load_data(cfg)
        portraits = out / "portraits" / "portraits.parquet"
        portraits = portraits if portraits.is_file() else None
    result, files, recall = run_scorecards(
        cfg,
        tables,
        out / "scorecards",
        portraits=portraits,
        previous=out / "scorecards",
    )
    _say(f"scorecards ({len(files)} files)", out / "scorecards")
    for level, r in recall.items():
        extra = r.get("explained_by_a_weak_grid_unit")
        print(
            f"planted weak links, {level}: recall {r['recall']:.2f}, precision "
            f"{r['precision']:.2f} ({r['flagged']} flagged, {r['planted']} planted"
            + (f", {extra} explained by a weak grid unit)" if extra is not None else ")")
        )
    return 0


COMMANDS = {
    "sample": cmd_sample,
    "scorecard": cmd_scorecard,
    "validate": cmd_validate,
    "features": cmd_features,
    "train": cmd_train,
    "score": cmd_score,
    "segment": cmd_segment,
    "export": cmd_export,
    "keygen": cmd_keygen,
    "outcomes": cmd_outcomes,
    "report": cmd_report,
    "run": cmd_run,
}
COMMANDS.update({k: _in_output_folders(k, v) for k, v in COMMANDS.items() if k != "sample"})
