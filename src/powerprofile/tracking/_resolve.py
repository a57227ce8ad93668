"""Loading a model for scoring from the registry or a local path, and checking it fits the frame."""

from __future__ import annotations

import re
import tempfile
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
    ArtefactError
        The model (local or downloaded from the registry) is not an intact artefact
        written by powerprofile; nothing is unpickled then. A registered model is
        loaded from its verified artefact, never from MLflow's ``python_model.pkl``.
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
        with tempfile.TemporaryDirectory(prefix="powerprofile-model-") as tmp:
            try:
                mlflow.set_tracking_uri(uri)
                mlflow.set_registry_uri(uri)
                local = Path(mlflow.artifacts.download_artifacts(artifact_uri=text, dst_path=tmp))
                inner = _pyfunc_artifact(local)
            except Exception as exc:
                raise TrackingError(
                    f"cannot load model {text!r} from {uri!r}: {type(exc).__name__}: "
                    f"{str(exc)[:300]}"
                ) from exc
            # the wrapper's own pickle (python_model.pkl) is never loaded: only the
            # verified powerprofile artefact inside it
            return load_local_model(inner)
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(
            f"model {text!r} does not exist; give a model folder, file or models:/ reference."
        )
    return load_local_model(path)


def _pyfunc_artifact(local: Path) -> Path:
    """The ``model`` artifact folder of a downloaded powerprofile pyfunc model."""
    import yaml

    spec = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))
    rel = spec["flavors"]["python_function"]["artifacts"]["model"]["path"]
    inner = (local / rel).resolve()
    if not inner.is_relative_to(local.resolve()):
        raise ValueError(f"artifact path {rel!r} points outside the model folder")
    return inner


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
