"""The argument parser of the ``powerprofile`` command (imports nothing heavy)."""

from __future__ import annotations

import argparse

__all__ = ["EXIT_CODES", "build_parser"]

EXIT_CODES = {
    0: "success",
    1: "internal error (a bug: rerun with -v and report the traceback)",
    2: "bad configuration or command line (unknown key, wrong type, missing config file)",
    3: "bad input data (validation failed, table or file missing, features do not match a model)",
    4: "tracking failure (MLflow server unreachable, registry error)",
    5: "export failure (the previous export is left intact)",
    6: "file system error (permission denied, read-only or full disk, a file where a folder "
    "belongs; the message names the path)",
    7: "output folder refused: not created by powerprofile and not empty, or the working "
    "folder, home or root (nothing written)",
    8: "output folder busy: another powerprofile job is writing to it (retry later)",
    130: "interrupted",
}

_EPILOG = (
    "exit codes:\n"
    + "\n".join(f"  {k:<4} {v}" for k, v in EXIT_CODES.items())
    + (
        "\n\nsecrets come from the environment only: POWERPROFILE_PSEUDONYM_KEY (keyed hash of "
        "customer ids;\nrequired, >= 32 random bytes as 64 hex characters: `powerprofile keygen` "
        "prints one),\nPOWERPROFILE_ARTEFACT_KEY (optional, >= 32 bytes: signs saved models and "
        "segmenters; see docs/persistence.md),\nMLFLOW_TRACKING_URI / MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD / "
        "MLFLOW_TRACKING_TOKEN.\nSee docs/cli.md and docs/config.md."
    )
)


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("configuration (every subcommand)")
    g.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="YAML job config (default: configs/default.yaml when it exists, else built-in defaults)",
    )
    g.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set labels.horizon_days=60 (repeatable; value parsed as YAML)",
    )
    g.add_argument("--data", metavar="DIR", help="input data folder (config key data.path)")
    g.add_argument(
        "--out", dest="output_dir", metavar="DIR", help="output folder (config key output_dir)"
    )
    g.add_argument("--seed", type=int, help="random seed (config key seed)")
    o = p.add_argument_group("output")
    o.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars and no progress messages: warnings and errors only",
    )
    o.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log detail and every library's warnings (-vv: debug)",
    )
    return p


def _tracking() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("tracking")
    g.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="MLflow tracking URI (config key tracking.uri; default MLFLOW_TRACKING_URI, "
        "else sqlite:///mlflow.db in the working folder)",
    )
    g.add_argument(
        "--experiment", metavar="NAME", help="MLflow experiment (config key tracking.experiment)"
    )
    g.add_argument(
        "--no-tracking", action="store_true", help="do not log to MLflow (tracking.enabled=false)"
    )
    g.add_argument("--no-register", action="store_true", help="log models but do not register them")
    return p


def _data() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("input data")
    g.add_argument(
        "--errors",
        choices=("raise", "quarantine"),
        help="strict validation (exit 3 on any problem) or set bad rows aside and report "
        "them (config key data.errors)",
    )
    return p


def _privacy() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("pseudonymisation key (POWERPROFILE_PSEUDONYM_KEY)")
    g.add_argument(
        "--insecure-development-key",
        action="store_true",
        help="DEVELOPMENT ONLY: accept a weak pseudonymisation key, with a warning recorded "
        "in the manifest (config key privacy.insecure_development_key)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    """Build the ``powerprofile`` parser with all subcommands.

    Returns
    -------
    argparse.ArgumentParser
    """
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="powerprofile",
        description=(
            "User portraits (用户画像) for electricity utilities: validate raw tables, build "
            "point-in-time features, train calibrated churn and complaint models tracked in "
            "MLflow, segment customers, assemble portraits and export governed campaign lists "
            "to the service channels. Logs go to stderr, results to files; stdout lists where "
            "they went."
        ),
        epilog=_EPILOG,
        formatter_class=fmt,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"powerprofile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common, tracking, privacy, data = _common(), _tracking(), _privacy(), _data()

    p = sub.add_parser(
        "sample",
        parents=[common],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="write a synthetic utility data set with ground truth",
        description="Generate a synthetic data set (tables plus truth/) into the folder "
        "given by --out (for this command the data folder; default: "
        "the config's data.path).",
    )
    p.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    p.add_argument("--start", default="2024-01-01", help="first day (default 2024-01-01)")
    p.add_argument("--end", default="2025-12-31", help="last day, inclusive (default 2025-12-31)")
    p.add_argument(
        "--partitions", type=int, default=None, help="hash partitions of per-customer tables"
    )

    p = sub.add_parser(
        "scorecard",
        parents=[common, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="unit scorecards, fair weak-link detection and risk cases",
        description="Compute indicators per unit and month at every level of org_units, "
        "scorecards against configs/targets.yaml and peers, mix-adjusted weak links with "
        "their drill-down and, when <out>/portraits/portraits.parquet exists, risk cases "
        "carried from the previous run; write <out>/scorecards/. On generated data the "
        "recall and precision of the planted weak units are printed.",
    )

    p = sub.add_parser(
        "validate",
        parents=[common, privacy, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="validate the input tables against the data contract",
        description="Load and validate data.path; write the problem report to "
        "<out>/validation/validation_report.csv.",
    )

    p = sub.add_parser(
        "features",
        parents=[common, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="build the training and scoring feature frames",
        description="Build features at monthly training snapshots (with labels) and at "
        "the scoring snapshot; write <out>/features/.",
    )
    p.add_argument(
        "--snapshot", help="scoring snapshot date (config key features.scoring_snapshot)"
    )
    p.add_argument("--no-training", action="store_true", help="only the scoring frame")
    p.add_argument("--no-scoring", action="store_true", help="only the training frame")

    p = sub.add_parser(
        "train",
        parents=[common, tracking, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="train the churn and complaint models, log and register them in MLflow",
        description="Train calibrated propensity models on <out>/features/training.parquet "
        "(built from the data when missing), evaluate them out of time against "
        "a logistic baseline, save them under <out>/models/ and track the run.",
    )
    p.add_argument(
        "--features", dest="features_path", metavar="FILE", help="training frame (Parquet)"
    )
    p.add_argument(
        "--alias", help="alias set on the new registry versions (config key tracking.alias)"
    )

    p = sub.add_parser(
        "score",
        parents=[common, tracking, privacy],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="score customers with a registered or local model",
        description="Score the scoring frame with a model given as models:/NAME/VERSION, "
        "models:/NAME@ALIAS, runs:/RUN/PATH or a local folder. A model whose "
        "features differ from the frame is refused (exit 3), naming the difference.",
    )
    p.add_argument(
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="[TARGET=]REF",
        help="model reference, e.g. churn=models:/powerprofile-churn@candidate (repeatable; "
        "default: <out>/models/<target> for every target)",
    )
    p.add_argument(
        "--features", dest="features_path", metavar="FILE", help="scoring frame (Parquet)"
    )
    p.add_argument(
        "--output", metavar="FILE", help="scores file (default <out>/scores/scores.parquet)"
    )

    p = sub.add_parser(
        "segment",
        parents=[common, privacy],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="segment customers and write the segment profile",
        description="Fit the customer segmenter on the scoring frame; write "
        "<out>/segments/ (segmenter, profile, pseudonymised assignments).",
    )
    p.add_argument(
        "--features", dest="features_path", metavar="FILE", help="scoring frame (Parquet)"
    )
    p.add_argument(
        "--previous",
        metavar="DIR",
        help="previous segmenter folder (<out>/segments/segmenter) to keep ids stable; "
        "refused (exit 3) unless it is an intact artefact written by powerprofile",
    )

    p = sub.add_parser(
        "export",
        parents=[common, privacy, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="export campaign lists per channel (atomic, with manifest)",
        description="Select, rank and write campaign files per channel from the portraits "
        "(built from <out>/models, segments and features when missing), under "
        "the PII policy, into <out>/export/ with manifest.json.",
    )
    p.add_argument("--portraits", metavar="FILE", help="portraits (Parquet)")
    p.add_argument(
        "--format",
        choices=("csv", "parquet", "jsonl"),
        help="file format (config key export.format)",
    )
    p.add_argument(
        "--campaigns", metavar="FILE", help="campaigns file (config key export.campaigns)"
    )
    p.add_argument("--export-dir", metavar="DIR", help="export folder (default <out>/export)")

    p = sub.add_parser(
        "outcomes",
        parents=[common, privacy],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="ingest campaign responses and measure the campaigns' effects",
        description="Validate a responses file (the data contract's 'responses' table), join "
        "it to the export(s) it answers (unknown campaign ids or customers outside the "
        "export are errors) and write <out>/uplift/outcomes.parquet and "
        "campaign_effects.csv (treated vs control rates, uplift with Newcombe intervals, "
        "Benjamini-Hochberg q-values).",
    )
    p.add_argument(
        "--responses",
        metavar="FILE",
        help="responses file, CSV or Parquet (config key uplift.responses)",
    )
    p.add_argument(
        "--export",
        dest="exports",
        metavar="DIR",
        action="append",
        help="export folder answered, repeatable (default <out>/export)",
    )

    p = sub.add_parser(
        "keygen",
        parents=[common],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="print a new random pseudonymisation key",
        description="Print a new random key for POWERPROFILE_PSEUDONYM_KEY (32 bytes from the "
        "operating system's secure random source, as 64 hex characters) on stdout. Store it "
        "as a secret and keep it stable: the same key gives the same customer_key in every run.",
    )

    p = sub.add_parser(
        "report",
        parents=[common, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="write the self-contained HTML report",
        description="Write <out>/report.html from the data and whatever earlier "
        "steps left in <out>.",
    )
    p.add_argument("--output", metavar="FILE", help="report file (default <out>/report.html)")

    p = sub.add_parser(
        "run",
        parents=[common, tracking, privacy, data],
        formatter_class=fmt,
        epilog=_EPILOG,
        help="the whole pipeline: validate, features, train, segment, portraits, export, report",
        description="Run every step; all outputs replace <out> at once when the run "
        "succeeds (a failed run leaves the previous outputs intact).",
    )
    p.add_argument(
        "--format",
        choices=("csv", "parquet", "jsonl"),
        help="export file format (config key export.format)",
    )
    p.add_argument(
        "--campaigns", metavar="FILE", help="campaigns file (config key export.campaigns)"
    )
    p.add_argument(
        "--engine",
        choices=("local", "spark"),
        help="where the per-partition stages run: this machine, or Apache Spark tasks "
        "(config key engine; master and properties under spark.master and spark.conf)",
    )
    return parser
