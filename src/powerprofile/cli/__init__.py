"""Command-line interface ``powerprofile`` (see ``docs/cli.md``).

A thin layer over :mod:`powerprofile.pipeline`: parse arguments, load the typed
config with the command-line overrides, run one step, map errors to exit codes.
Only the standard library is imported before the arguments are parsed, so
``powerprofile --help`` is fast.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sys
import warnings
from pathlib import Path

from ._parser import EXIT_CODES, build_parser

__all__ = ["EXIT_CODES", "build_parser", "main"]

_DEFAULT_CONFIG = Path("configs/default.yaml")


_FLAG_KEYS = {
    "data": ("--data", "data.path"),
    "output_dir": ("--out", "output_dir"),
    "seed": ("--seed", "seed"),
    "tracking_uri": ("--tracking-uri", "tracking.uri"),
    "experiment": ("--experiment", "tracking.experiment"),
    "errors": ("--errors", "data.errors"),
    "snapshot": ("--snapshot", "features.scoring_snapshot"),
    "format": ("--format", "export.format"),
    "campaigns": ("--campaigns", "export.campaigns"),
    "alias": ("--alias", "tracking.alias"),
    "engine": ("--engine", "engine"),
}
"""Option attribute -> (the flag, the config key it sets)."""

_SWITCH_KEYS = {
    "no_tracking": ("--no-tracking", "tracking.enabled", False),
    "no_register": ("--no-register", "tracking.register", False),
    "insecure_development_key": (
        "--insecure-development-key",
        "privacy.insecure_development_key",
        True,
    ),
    "quiet": ("--quiet", "progress", False),
}
"""Switch attribute -> (the flag, the config key it sets, the value)."""


def _overrides(args) -> list[tuple[str, object, str]]:
    """``(key, value, flag)`` for every ``--set`` and shortcut flag, in that order.

    The flag names the override in configuration errors (``--set seed=x``,
    ``--out DIR``) instead of the config file.
    """
    from ..config import parse_override

    out = [(*parse_override(text), f"--set {text}") for text in args.overrides]
    for attr, (flag, key) in _FLAG_KEYS.items():
        value = getattr(args, attr, None)
        if value is not None and not (args.command == "sample" and attr == "output_dir"):
            out.append((key, value, f"{flag} {value}"))
    for attr, (flag, key, value) in _SWITCH_KEYS.items():
        if getattr(args, attr, False):
            out.append((key, value, flag))
    return out


_QUARANTINE_HINT = re.compile(r"pass errors=(['\"])quarantine\1")


def _operator_wording(message: str, args) -> str:
    """A library message in the command line's terms: flags and config keys, not arguments."""
    flag = "--errors quarantine" if hasattr(args, "errors") else "--set data.errors=quarantine"
    return _QUARANTINE_HINT.sub(
        f"pass {flag} (or set the config key data.errors: quarantine)", message
    )


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
        os.environ.setdefault("TQDM_DISABLE", "1")
    if args.quiet or not _stderr_is_terminal():
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


@contextlib.contextmanager
def _operator_warnings(verbose: int):
    """Show warnings on stderr through the ``powerprofile`` logger, each message once.

    By default only ``UserWarning`` raised in powerprofile's own modules (a missing
    key, a skipped purge, quarantined rows...) reach the operator; with ``-v`` every
    warning does, third-party deprecation notices included. ``--quiet`` keeps warnings.
    """
    log = logging.getLogger("powerprofile")
    seen: set = set()

    def show(message, category, filename, lineno, file=None, line=None):
        key = (category, str(message))
        if key in seen:
            return
        seen.add(key)
        if str(filename).startswith(_PACKAGE_DIR) and issubclass(category, UserWarning):
            log.warning("%s", message)
        else:
            log.warning("%s: %s (%s:%s)", category.__name__, message, filename, lineno)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if verbose >= 1:
            warnings.simplefilter("always")
        else:
            warnings.filterwarnings("always", category=UserWarning, module=r"powerprofile(\.|$)")
        warnings.showwarning = show
        yield


_MAX_MESSAGE = 2000
"""Longest error message printed whole; a longer one (a huge value echoed back) keeps its
start and its end (where the fix is said), with the middle left out."""


def _error(code: int, message: str) -> int:
    if len(message) > _MAX_MESSAGE:
        cut = len(message) - _MAX_MESSAGE
        head, tail = message[: _MAX_MESSAGE - 500], message[-500:]
        message = f"{head} ... ({cut:,} characters left out) ... {tail}"
    print(f"powerprofile: error: {message}", file=sys.stderr, flush=True)
    return code


_FS_HINTS = {
    errno.EACCES: "permission denied; fix the permissions or choose another path (--out, --data)",
    errno.EPERM: "operation not permitted; fix the permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose a writable output folder (--out)",
    errno.ENOSPC: "no space left on the device; free some space or choose another output folder",
    errno.EDQUOT: "the disk quota is exceeded; free some space or choose another output folder",
    errno.EISDIR: "it is a folder where a file was expected; give a file path",
    errno.ENOTDIR: "a part of it is a file, not a folder; fix the path or move that file",
    errno.EEXIST: "it already exists and is in the way; remove it or choose another path",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) or use fewer partitions",
}


def _filesystem_error(exc: OSError, where: str | None = None) -> tuple[int, str]:
    """Exit code and message for an ``OSError``: 6 for the file system, 1 otherwise.

    ``where`` (the output folder) is named when the error itself names no path, as
    pyarrow's "No space left on device" does.
    """
    if isinstance(exc, ConnectionError | TimeoutError):  # the network, not the file system
        return 1, f"internal error: {type(exc).__name__}: {exc} (rerun with -vv for the traceback)"
    if exc.filename is None:  # e.g. pandas: "Cannot save file into a non-existent directory"
        hint = _FS_HINTS.get(exc.errno, "check the path and the disk")
        under = f" while writing under {where!r}" if where else ""
        return 6, f"file system error ({exc}){under}; {hint}."
    path = str(exc.filename)
    if exc.filename2 is not None:
        path = f"{path} -> {exc.filename2}"
    hint = _FS_HINTS.get(exc.errno) or f"{exc.strerror or exc}; check the path and the disk"
    return 6, f"cannot use {path!r}: {hint}."


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
        usage, 3 bad input data, 4 tracking failure, 5 export failure, 6 file system
        error, 7 output folder refused, 8 output folder busy).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 2
    _setup_logging(args)
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
    where = None  # the output folder, named by file system errors that name no path
    try:
        with _operator_warnings(args.verbose):
            from ..config import load_config
            from ._commands import COMMANDS

            config_path = args.config
            if config_path is None and _DEFAULT_CONFIG.is_file():
                config_path = _DEFAULT_CONFIG
            cfg = load_config(config_path, _overrides(args))
            where = str(
                (args.output_dir or cfg.data.path) if args.command == "sample" else cfg.output_dir
            )
            log.debug("config %s resolved", config_path)
            from ..pipeline import thread_limits

            with thread_limits(cfg):
                return COMMANDS[args.command](cfg, args)
    except OutputDirBusyError as exc:  # an OSError: before the file-system mapping
        return _error(8, str(exc))
    except OutputDirError as exc:
        return _error(7, str(exc))
    except ConfigError as exc:
        return _error(2, str(exc))
    except (DataValidationError, FeatureMismatchError, ArtefactError, FileNotFoundError) as exc:
        return _error(3, _operator_wording(str(exc), args))
    except OSError as exc:  # the file system: permissions, full disk, a file for a folder
        return _error(*_filesystem_error(exc, where))
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
