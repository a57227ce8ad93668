"""Loading a model for scoring from the registry or a local path, and checking it fits the frame."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..exceptions import FeatureMismatchError, TrackingError
from ._pyfunc import load_local_model

__all__ = ["check_model_features", "load_scoring_model", "model_feature_names"]

_REF = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/]+)|@(?P<alias>[^/]+))$")


def load_scoring_model(ref, *, tracking_uri: str | None = None):
    """Load a model from ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``runs:/…`` or a path.

    Parameters
    ----------
    ref : str or path-like
        Registry reference, run reference, or a local model folder/file.
    tracking_uri : str or None, default=None
        Tracking/registry URI for references (default: ``resolve_tracking_uri()``).

    Returns
    -------
    estimator
        The model with ``predict_proba`` (for our models a ``PropensityModel``).

    Raises
    ------
    TrackingError
        The reference cannot be resolved.
    FileNotFoundError
        A local path does not exist.
    """
    text = str(ref)
    if text.startswith(("models:/", "runs:/")):
        import mlflow

        from ._uri import check_tracking_uri, resolve_tracking_uri

        uri = resolve_tracking_uri(tracking_uri)
        check_tracking_uri(uri)
        if text.startswith("models:/") and not _REF.match(text):
            raise TrackingError(
                f"model reference {text!r} is malformed; use models:/NAME/VERSION or models:/NAME@ALIAS."
            )
        try:
            mlflow.set_tracking_uri(uri)
            mlflow.set_registry_uri(uri)
            pyfunc = mlflow.pyfunc.load_model(text)
            return pyfunc.unwrap_python_model().model
        except Exception as exc:
            raise TrackingError(
                f"cannot load model {text!r} from {uri!r}: {type(exc).__name__}: {str(exc)[:300]}"
            ) from exc
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(
            f"model {text!r} does not exist; give a model folder, file or models:/ reference."
        )
    return load_local_model(path)


def model_feature_names(model) -> list[str] | None:
    """Feature names a fitted model expects (None when it does not say)."""
    meta = getattr(model, "metadata_", None)
    if isinstance(meta, dict) and meta.get("features"):
        feats = meta["features"]
        return [f["name"] if isinstance(f, dict) else str(f) for f in feats]
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def check_model_features(model, frame: pd.DataFrame, *, what: str = "model") -> None:
    """Refuse a frame whose columns differ from the model's features.

    Parameters
    ----------
    model : estimator
        Fitted model.
    frame : pandas.DataFrame
        Frame to score.
    what : str, default="model"
        Name of the model for the message.

    Raises
    ------
    FeatureMismatchError
        Naming the missing and the unexpected columns.
    """
    expected = model_feature_names(model)
    if expected is None:
        return
    have = list(frame.columns)
    missing = [c for c in expected if c not in set(have)]
    extra = [c for c in have if c not in set(expected)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} column(s) {missing[:10]!r}")
        if extra:
            parts.append(f"{len(extra)} unexpected column(s) {extra[:10]!r}")
        raise FeatureMismatchError(
            f"{what} does not match the frame: {'; '.join(parts)}. Build the scoring frame with "
            "the same feature config (windows, builders) as the training run, or pick the model "
            "trained on these features."
        )
