"""Saving and loading propensity models as verified artefacts (see :mod:`powerprofile.artefacts`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightgbm as lgb

from ..artefacts import load_artefact, save_artefact

__all__ = ["MODEL_FILE", "MODEL_KIND", "load_model", "save_model"]

MODEL_FILE = "model.pkl"
MODEL_KIND = "propensity_model"


def save_model(model, path, *, key=None) -> Path:
    """Write ``model`` to the folder ``path``: ``model.pkl`` and ``metadata.json``.

    ``metadata.json`` holds the model's ``metadata_`` (features, metrics, calibration,
    library versions) and the artefact block (kind, class, SHA-256 of ``model.pkl``,
    signature when ``POWERPROFILE_ARTEFACT_KEY`` is set) that :func:`load_model`
    checks before unpickling. Files are written to temporary names and renamed, so an
    interrupted save leaves no partial file that loads.

    Parameters
    ----------
    model : PropensityModel
        A fitted model.
    path : str or path-like
        Target folder (created if missing).
    key : str or bytes or None, default=None
        Signing key; default the environment variable ``POWERPROFILE_ARTEFACT_KEY``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    model._check_fitted()
    return save_artefact(
        model, path, kind=MODEL_KIND, file=MODEL_FILE, metadata=model.metadata_, key=key
    )


def load_model(path, *, key=None):
    """Load a model saved with :meth:`PropensityModel.save`, after verifying it.

    Parameters
    ----------
    path : str or path-like
        The folder written by ``save`` (or its ``model.pkl`` file).
    key : str or bytes or None, default=None
        Verification key; default ``POWERPROFILE_ARTEFACT_KEY``. When set, the model
        must be signed with it.

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
    ArtefactError
        If ``path`` is not an intact propensity model written by powerprofile
        (nothing is unpickled then), see :func:`powerprofile.artefacts.load_artefact`.
    """
    from ._propensity import PropensityModel

    if not Path(path).exists():
        raise FileNotFoundError(
            f"No saved model at {str(path)!r}; save one with PropensityModel.save(path)."
        )
    model = load_artefact(path, kind=MODEL_KIND, cls=PropensityModel, key=key)
    saved = model.metadata_.get("versions", {}).get("lightgbm")
    if saved and saved.split(".")[:2] != lgb.__version__.split(".")[:2]:
        warnings.warn(
            f"The model was saved with LightGBM {saved!r} and is loaded with "
            f"{lgb.__version__!r}; scores may differ. Retrain or pin LightGBM {saved}.",
            UserWarning,
            stacklevel=2,
        )
    return model
