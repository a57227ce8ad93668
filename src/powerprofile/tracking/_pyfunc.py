"""An MLflow ``pyfunc`` wrapper around a saved powerprofile model.

The model itself is stored as an MLflow artifact in its own format: a verified
artefact folder (``model.pkl`` + ``metadata.json``, see :mod:`powerprofile.artefacts`)
written by ``PropensityModel.save`` or, for any other estimator with
``predict_proba``, by :func:`powerprofile.artefacts.save_artefact`. The wrapper only
knows how to load it and return calibrated scores for the library's own frames
(categoricals, strings, booleans, missing values) or the same rows parsed from REST
JSON: the model's feature check validates the input, not an MLflow schema. Loading through
:func:`load_local_model` verifies the artefact before unpickling and gives back the
original estimator, so scoring, reason codes and feature checks work exactly as for a
local folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..artefacts import METADATA_FILE, load_artefact, save_artefact
from ..exceptions import ArtefactError

__all__ = ["MODEL_INFO_FILE", "load_local_model", "save_local_model"]

MODEL_INFO_FILE = "powerprofile_model.json"
ESTIMATOR_KIND = "estimator"


def save_local_model(model, directory) -> Path:
    """Save ``model`` into ``directory`` with a small loader description.

    Parameters
    ----------
    model : estimator
        A fitted model; a ``PropensityModel`` is saved with its own ``save``, any
        other estimator as an artefact of kind ``"estimator"``. Both are signed when
        ``POWERPROFILE_ARTEFACT_KEY`` is set.
    directory : str or path-like
        Folder created if needed.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    from ..models import PropensityModel

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(model, PropensityModel):
        file, loader = "propensity_model", "powerprofile"
        model.save(directory / file)  # a folder: model.pkl + metadata.json
    else:
        file, loader = "estimator", "artefact"
        save_artefact(model, directory / file, kind=ESTIMATOR_KIND)
    info = {
        "loader": loader,
        "file": file,
        "class": f"{type(model).__module__}.{type(model).__name__}",
    }
    (directory / MODEL_INFO_FILE).write_text(
        json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return directory


def _inner(path: Path) -> Path:
    """The artefact folder named by a ``powerprofile_model.json`` in ``path``."""
    try:
        info = json.loads((path / MODEL_INFO_FILE).read_text(encoding="utf-8"))
        name = info["file"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtefactError(
            f"refusing to load {str(path)!r}: {MODEL_INFO_FILE!r} is unreadable "
            f"({type(exc).__name__}: {exc}); nothing was unpickled."
        ) from None
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        raise ArtefactError(
            f"refusing to load {str(path)!r}: {MODEL_INFO_FILE!r} names {name!r}, which is "
            "not a plain folder name; nothing was unpickled."
        )
    return path / name


def _kind(path: Path):
    """The kind an artefact's metadata claims (only to pick the loader; loading re-checks)."""
    folder = path if path.is_dir() else path.parent
    try:
        return json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))["artefact"]["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_local_model(path):
    """Load a model saved by :func:`save_local_model` or ``PropensityModel.save``.

    Every load is verified first (see :func:`powerprofile.artefacts.load_artefact`):
    a file that is not an intact artefact written by powerprofile is refused before
    anything is unpickled.

    Parameters
    ----------
    path : str or path-like
        The folder written by ``save_local_model``, a model folder written by
        ``PropensityModel.save``, or the pickle file inside one.

    Returns
    -------
    estimator

    Raises
    ------
    FileNotFoundError
        Nothing exists at ``path``.
    ArtefactError
        ``path`` is not an intact model artefact.
    """
    from ..models import load_model

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {str(path)!r}; give a folder written by save().")
    if path.is_dir() and (path / MODEL_INFO_FILE).is_file():
        path = _inner(path)
    if _kind(path) == ESTIMATOR_KIND:
        model = load_artefact(path, kind=ESTIMATOR_KIND)
        if not hasattr(model, "predict_proba"):
            raise ArtefactError(
                f"{str(path)!r} holds a {type(model).__name__!r}, which has no predict_proba; "
                "give the folder of a saved model."
            )
        return model
    return load_model(path)  # verifies the kind: any other artefact is refused


def _python_model_class():
    import warnings

    import mlflow.pyfunc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _define(mlflow.pyfunc.PythonModel)


def _define(base):
    class PowerProfilePyFunc(base):
        """Calibrated propensity scores from a saved powerprofile model."""

        # the model validates its input itself (see predict); no type-hint wrapper
        _skip_type_hint_validation = True

        def load_context(self, context):
            self.model = load_local_model(context.artifacts["model"])

        def predict(self, context, model_input, params=None):
            # no MLflow input schema: the model's own check names missing, extra or
            # retyped columns, and text or JSON values become the fitted categories
            frame = (
                model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            )
            scores = self.model.predict_proba(frame)[:, 1]
            return pd.DataFrame({"score": scores}, index=frame.index)

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
