"""Saving and loading propensity models (joblib plus a readable metadata file)."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import joblib
import lightgbm as lgb

__all__ = ["load_model", "save_model"]

_MODEL_FILE = "model.joblib"
_META_FILE = "metadata.json"


def save_model(model, path) -> Path:
    """Write ``model`` to the folder ``path``: ``model.joblib`` and ``metadata.json``.

    Files are written to temporary names and renamed, so an interrupted save leaves
    no partial file.

    Parameters
    ----------
    model : PropensityModel
        A fitted model.
    path : str or path-like
        Target folder (created if missing).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    model._check_fitted()
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, writer in (
        (_MODEL_FILE, lambda f: joblib.dump(model, f, compress=3)),
        (
            _META_FILE,
            lambda f: f.write(
                json.dumps(model.metadata_, indent=2, ensure_ascii=False, default=str).encode(
                    "utf-8"
                )
            ),
        ),
    ):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
            os.replace(tmp, folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return folder


def load_model(path):
    """Load a model saved with :meth:`PropensityModel.save`.

    Parameters
    ----------
    path : str or path-like
        The folder written by ``save`` (or its ``model.joblib`` file).

    Returns
    -------
    PropensityModel
        With ``metadata_`` and ``version_`` as saved. Scoring a frame that lacks,
        adds or retypes features raises
        :class:`~powerprofile.exceptions.FeatureMismatchError`.

    Raises
    ------
    FileNotFoundError
        If there is no saved model at ``path``.
    """
    p = Path(path)
    file = p / _MODEL_FILE if p.is_dir() else p
    if not file.exists():
        raise FileNotFoundError(
            f"No saved model at {str(path)!r} (expected {str(file)!r}); "
            "save one with PropensityModel.save(path)."
        )
    model = joblib.load(file)
    saved = model.metadata_.get("versions", {}).get("lightgbm")
    if saved and saved.split(".")[:2] != lgb.__version__.split(".")[:2]:
        warnings.warn(
            f"The model was saved with LightGBM {saved!r} and is loaded with "
            f"{lgb.__version__!r}; scores may differ. Retrain or pin LightGBM {saved}.",
            UserWarning,
            stacklevel=2,
        )
    return model
