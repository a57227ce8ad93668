"""Command-line interface ``powerprofile`` (see ``docs/cli.md``).

A thin layer over :mod:`powerprofile.pipeline`: parse arguments, load the typed
config with the command-line overrides, run one step, map errors to exit codes.
Only the standard library is imported before the arguments are parsed, so
``powerprofile --help`` is fast.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ._parser import EXIT_CODES, build_parser

__all__ = ["EXIT_CODES", "build_parser", "main"]

_DEFAULT_CONFIG = Path("configs/default.yaml")


def _overrides(args) -> list[tuple[str, object]]:
    from ..config import parse_override

    out = [parse_override(text) for text in args.overrides]
    simple = {
        "data": "data.path",
        "output_dir": "output_dir",
        "seed": "seed",
        "tracking_uri": "tracking.uri",
        "experiment": "tracking.experiment",
        "errors": "data.errors",
        "snapshot": "features.scoring_snapshot",
        "format": "export.format",
        "campaigns": "export.campaigns",
        "alias": "tracking.alias",
    }
    for attr, key in simple.items():
        value = getattr(args, attr, None)
        if value is not None and not (args.command == "sample" and attr == "output_dir"):
            out.append((key, value))
    if getattr(args, "no_tracking", False):
        out.append(("tracking.enabled", False))
    if getattr(args, "no_register", False):
        out.append(("tracking.register", False))
    if getattr(args, "insecure_development_key", False):
        out.append(("privacy.insecure_development_key", True))
    if args.quiet:
        out.append(("progress", False))
    return out


def _setup_logging(args) -> None:
    level = (
        logging.WARNING if args.quiet else (logging.DEBUG if args.verbose >= 2 else logging.INFO)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("powerprofile: %(levelname)s: %(message)s"))
    root = logging.getLogger("powerprofile")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # MLflow configures its loggers when first imported; the variable reaches it then.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO" if args.verbose >= 1 else "ERROR")
    logging.getLogger("mlflow").setLevel(logging.INFO if args.verbose >= 1 else logging.ERROR)
    if args.quiet:
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
        os.environ.setdefault("TQDM_DISABLE", "1")


def _error(code: int, message: str) -> int:
    print(f"powerprofile: error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv=None) -> int:
    """Run the ``powerprofile`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code, see ``EXIT_CODES`` (0 success, 1 internal error, 2 bad config or
        usage, 3 bad input data, 4 tracking failure, 5 export failure, 7 output folder
        refused, 8 output folder busy).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 2
    _setup_logging(args)
    import warnings

    from ..exceptions import (
        ArtefactError,
        ConfigError,
        DataValidationError,
        ExportError,
        FeatureMismatchError,
        OutputDirBusyError,
        OutputDirError,
        TrackingError,
    )

    log = logging.getLogger("powerprofile")
    try:
        from ..config import load_config
        from ._commands import COMMANDS

        config_path = args.config
        if config_path is None and _DEFAULT_CONFIG.is_file():
            config_path = _DEFAULT_CONFIG
        cfg = load_config(config_path, _overrides(args))
        log.debug("config %s resolved", config_path)
        from ..pipeline import thread_limits

        with warnings.catch_warnings(), thread_limits(cfg):
            if args.verbose < 2:
                warnings.simplefilter("ignore")
            return COMMANDS[args.command](cfg, args)
    except OutputDirBusyError as exc:
        return _error(8, str(exc))
    except OutputDirError as exc:
        return _error(7, str(exc))
    except ConfigError as exc:
        return _error(2, str(exc))
    except (DataValidationError, FeatureMismatchError, ArtefactError, FileNotFoundError) as exc:
        return _error(3, str(exc))
    except TrackingError as exc:
        return _error(4, str(exc))
    except ExportError as exc:
        return _error(5, str(exc))
    except KeyboardInterrupt:
        return _error(130, "interrupted")
    except Exception as exc:  # noqa: BLE001 - the last line of defence maps to exit 1
        log.debug("internal error", exc_info=True)
        return _error(
            1, f"internal error: {type(exc).__name__}: {exc} (rerun with -vv for the traceback)"
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
