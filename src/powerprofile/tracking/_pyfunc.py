"""An MLflow ``pyfunc`` wrapper around a saved powerprofile model.

The model itself is stored as an MLflow artifact in its own format (a joblib file
written by ``PropensityModel.save`` or any estimator with ``predict_proba``); the
wrapper only knows how to load it and return calibrated scores. Loading through
:func:`load_local_model` gives back the original estimator, so scoring, reason codes
and feature checks work exactly as for a local file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["MODEL_INFO_FILE", "load_local_model", "save_local_model"]

MODEL_INFO_FILE = "powerprofile_model.json"


def save_local_model(model, directory) -> Path:
    """Save ``model`` into ``directory`` with a small loader description.

    Parameters
    ----------
    model : estimator
        A fitted model; when it has ``save(path)`` (``PropensityModel``) that is used,
        otherwise joblib.
    directory : str or path-like
        Folder created if needed.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import joblib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "save") and type(model).__module__.startswith("powerprofile."):
        file, loader = "propensity_model", "powerprofile"
        model.save(directory / file)  # a folder: model.joblib + metadata.json
    else:
        file, loader = "model.joblib", "joblib"
        joblib.dump(model, directory / file)
    info = {
        "loader": loader,
        "file": file,
        "class": f"{type(model).__module__}.{type(model).__name__}",
    }
    (directory / MODEL_INFO_FILE).write_text(
        json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return directory


def load_local_model(path):
    """Load a model saved by :func:`save_local_model` (or a bare model file).

    Parameters
    ----------
    path : str or path-like
        The folder (or a ``.joblib`` file).

    Returns
    -------
    estimator
    """
    import joblib

    path = Path(path)
    if path.is_dir():
        info_file = path / MODEL_INFO_FILE
        if info_file.is_file():
            info = json.loads(info_file.read_text(encoding="utf-8"))
            target = path / info["file"]
            if info["loader"] == "powerprofile":
                from ..models import load_model

                return load_model(target)
            return joblib.load(target)
        if (path / "metadata.json").is_file():
            from ..models import load_model

            return load_model(path)
        candidates = sorted(path.glob("*.joblib"))
        if not candidates:
            raise FileNotFoundError(f"no model found in folder {str(path)!r}")
        path = candidates[0]
    try:
        from ..models import load_model

        return load_model(path)
    except Exception:  # noqa: BLE001 - fall back to a plain joblib file
        return joblib.load(path)


def _python_model_class():
    import warnings

    import mlflow.pyfunc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _define(mlflow.pyfunc.PythonModel)


def _define(base):
    class PowerProfilePyFunc(base):
        """Calibrated propensity scores from a saved powerprofile model."""

        # the logged signature documents the input; no type-hint validation wrapper
        _skip_type_hint_validation = True

        def load_context(self, context):
            self.model = load_local_model(context.artifacts["model"])

        def predict(self, context, model_input, params=None):
            scores = self.model.predict_proba(model_input)[:, 1]
            return pd.DataFrame({"score": scores}, index=getattr(model_input, "index", None))

    PowerProfilePyFunc.__module__ = __name__
    PowerProfilePyFunc.__qualname__ = "PowerProfilePyFunc"
    return PowerProfilePyFunc


def __getattr__(name):
    # The class needs mlflow; build it on first use so importing this module stays cheap.
    if name == "PowerProfilePyFunc":
        cls = _python_model_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
