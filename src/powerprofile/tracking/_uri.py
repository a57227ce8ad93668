"""Where runs are tracked, and failing fast when that place cannot be reached."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from ..exceptions import TrackingError

__all__ = ["DEFAULT_TRACKING_URI", "check_tracking_uri", "resolve_tracking_uri"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""Embedded SQLite store in the working folder."""


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Return the tracking URI to use.

    Parameters
    ----------
    uri : str or None, default=None
        Explicit URI (``--tracking-uri`` or the config); wins when given.

    Returns
    -------
    str
        ``uri``, else ``MLFLOW_TRACKING_URI``, else an embedded SQLite store
        ``sqlite:///<working folder>/mlflow.db``.
    """
    if uri:
        return uri
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return "sqlite:///" + str(Path.cwd() / "mlflow.db")


def _fast_fail_env(timeout: float) -> None:
    # MLflow retries HTTP calls with exponential back-off for minutes by default.
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = os.environ.get(
        "POWERPROFILE_MLFLOW_MAX_RETRIES", "0"
    )
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(int(round(timeout)), 1) * 6)


def check_tracking_uri(uri: str, *, timeout: float = 5.0) -> str:
    """Check that the tracking store is usable before any work starts.

    Parameters
    ----------
    uri : str
        Tracking URI.
    timeout : float, default=5.0
        Seconds to wait for a tracking server's health endpoint.

    Returns
    -------
    str
        ``uri`` unchanged.

    Raises
    ------
    TrackingError
        The server does not answer, answers with an error, or a local store's folder
        is not writable. The message names the URI and how to fix it.
    """
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else "file"
    fix = (
        "start the server, fix --tracking-uri / MLFLOW_TRACKING_URI / tracking.uri, "
        "or turn tracking off with --no-tracking"
    )
    if scheme in ("http", "https"):
        _fast_fail_env(timeout)
        url = uri.rstrip("/") + "/health"
        req = urllib.request.Request(url, method="GET")
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status in (401, 403):
                raise TrackingError(
                    f"tracking server {uri!r} refused the credentials (HTTP {status}); set "
                    "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN."
                ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(
                f"tracking server {uri!r} is unreachable ({reason}); {fix}."
            ) from None
        if status >= 400 and status != 404:
            raise TrackingError(
                f"tracking server {uri!r} answered HTTP {status} on /health; {fix}."
            )
    elif scheme == "sqlite":
        path = uri.split(":///", 1)[-1] if ":///" in uri else ""
        folder = Path(path).parent if path and path != ":memory:" else Path.cwd()
        if path and not os.access(folder if folder.exists() else Path.cwd(), os.W_OK):
            raise TrackingError(
                f"tracking store {uri!r}: folder {str(folder)!r} is not writable; {fix}."
            )
    elif scheme == "file":
        folder = Path(uri[len("file://") :] if uri.startswith("file://") else uri)
        probe = folder if folder.exists() else folder.parent
        if probe.exists() and not os.access(probe, os.W_OK):
            raise TrackingError(f"tracking store {uri!r} is not writable; {fix}.")
    return uri
