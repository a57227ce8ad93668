"""Logging training runs to MLflow and registering their models."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..exceptions import TrackingError
from ._pyfunc import save_local_model

__all__ = ["TrackingResult", "log_training_run", "signature_frame"]

log = logging.getLogger(__name__)


@dataclass
class TrackingResult:
    """What a tracked run produced.

    Attributes
    ----------
    tracking_uri : str
        Where it was logged.
    experiment_id, run_id : str
        MLflow identifiers.
    model_uris : dict of str to str
        Per target, ``models:/<name>/<version>`` (registered) or ``runs:/<run>/<target>``.
    model_versions : dict of str to str
        Per target, the registry version (or the run id when not registered).
    """

    tracking_uri: str
    experiment_id: str
    run_id: str
    model_uris: dict = field(default_factory=dict)
    model_versions: dict = field(default_factory=dict)


def signature_frame(X: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``X`` with types MLflow signatures understand.

    Categorical columns become text, booleans stay booleans, numbers become float64.

    Parameters
    ----------
    X : pandas.DataFrame
        Feature frame.

    Returns
    -------
    pandas.DataFrame
    """
    out = X.reset_index(drop=True).copy()
    for col in out.columns:
        dt = out[col].dtype
        if (
            isinstance(dt, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(dt)
            or pd.api.types.is_object_dtype(dt)
        ):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        elif pd.api.types.is_bool_dtype(dt):
            out[col] = out[col].astype(bool)
        elif pd.api.types.is_numeric_dtype(dt):
            out[col] = out[col].astype("float64")
    return out


def _flat_params(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in mapping.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(_flat_params(v, key))
        else:
            out[key] = (
                json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, list | dict) else v
            )
    return {k: ("" if v is None else str(v))[:6000] for k, v in out.items()}


def log_training_run(
    *,
    tracking_uri: str,
    experiment: str,
    config: dict,
    fingerprint: dict,
    models: dict,
    metrics: dict,
    artifacts=None,
    register: bool = True,
    model_name_prefix: str = "powerprofile",
    alias: str | None = None,
    run_name: str | None = None,
    tags: dict | None = None,
    pip_requirements=None,
) -> TrackingResult:
    """Log one training run: config, data fingerprint, metrics, artifacts and models.

    Parameters
    ----------
    tracking_uri : str
        MLflow tracking URI (checked beforehand with ``check_tracking_uri``).
    experiment : str
        Experiment name (created if missing).
    config : dict
        The resolved config (logged as ``config.yaml`` and flattened as params).
    fingerprint : dict
        From :func:`data_fingerprint` (logged as ``data_fingerprint.json``, counts and
        hash as params).
    models : dict of str to (estimator, pandas.DataFrame)
        Per target, the fitted model and an input example (a few rows of features).
    metrics : dict of str to dict of str to float
        Per target (or ``<target>_baseline``), metric name to value; logged as
        ``<target>.<metric>``.
    artifacts : dict of str to path-like or None, default=None
        Artifact sub-folder to a file or folder to log there.
    register : bool, default=True
        Register every model as ``<model_name_prefix>-<target>``.
    model_name_prefix : str, default="powerprofile"
        Registered model name prefix.
    alias : str or None, default=None
        Alias set on every new version (e.g. ``candidate``).
    run_name : str or None, default=None
        MLflow run name.
    tags : dict or None, default=None
        Extra run tags.
    pip_requirements : list of str or None, default=None
        Requirements recorded with the models (default: this package and its engine);
        given explicitly so MLflow does not spend time inferring them.

    Returns
    -------
    TrackingResult

    Raises
    ------
    TrackingError
        When MLflow cannot log or register.
    """
    import warnings

    warnings.filterwarnings(
        "ignore", category=UserWarning, module=r"mlflow\.pyfunc\.utils\.data_validation"
    )
    import warnings

    import mlflow
    from mlflow.models import infer_signature

    from ._pyfunc import PowerProfilePyFunc

    if pip_requirements is None:
        from importlib.metadata import PackageNotFoundError, version

        pip_requirements = []
        for pkg in ("powerprofile", "lightgbm", "scikit-learn", "pandas"):
            try:
                pip_requirements.append(f"{pkg}=={version(pkg)}")
            except PackageNotFoundError:
                pip_requirements.append(pkg)
    try:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        exp = mlflow.set_experiment(experiment)
        result = TrackingResult(
            tracking_uri=tracking_uri, experiment_id=exp.experiment_id, run_id=""
        )
        with mlflow.start_run(run_name=run_name, tags=tags or {}) as run:
            result.run_id = run.info.run_id
            mlflow.log_params(_flat_params({"config": config}))
            mlflow.log_params(
                {
                    "data.sha256": fingerprint.get("sha256", ""),
                    **{f"data.rows.{k}": v for k, v in fingerprint.get("rows", {}).items()},
                }
            )
            mlflow.log_dict(config, "config.yaml")
            mlflow.log_dict(fingerprint, "data_fingerprint.json")
            for target, values in sorted(metrics.items()):
                mlflow.log_metrics(
                    {
                        f"{target}.{k}": float(v)
                        for k, v in values.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    }
                )
            for sub, path in sorted((artifacts or {}).items()):
                p = Path(path)
                if p.is_dir():
                    mlflow.log_artifacts(str(p), artifact_path=sub)
                elif p.is_file():
                    mlflow.log_artifact(str(p), artifact_path=sub)
            for target, (model, example) in sorted(models.items()):
                ex = signature_frame(example.head(5))
                scores = model.predict_proba(example.head(5))[:, 1]
                signature = infer_signature(ex, pd.DataFrame({"score": scores}))
                name = f"{model_name_prefix}-{target}"
                with tempfile.TemporaryDirectory() as tmp:
                    local = save_local_model(model, Path(tmp) / "model")
                    with warnings.catch_warnings():
                        # MLflow asks for type hints on predict; the signature is logged instead
                        warnings.simplefilter("ignore", UserWarning)
                        info = mlflow.pyfunc.log_model(
                            name=target,
                            python_model=PowerProfilePyFunc(),
                            artifacts={"model": str(local)},
                            signature=signature,
                            input_example=ex,
                            pip_requirements=list(pip_requirements),
                            registered_model_name=name if register else None,
                        )
                if register:
                    version = str(info.registered_model_version)
                    result.model_uris[target] = f"models:/{name}/{version}"
                    result.model_versions[target] = version
                    if alias:
                        mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
                else:
                    result.model_uris[target] = info.model_uri
                    result.model_versions[target] = run.info.run_id
    except TrackingError:
        raise
    except Exception as exc:  # MlflowException, connection errors, ...
        raise TrackingError(
            f"MLflow tracking at {tracking_uri!r} failed: {type(exc).__name__}: {str(exc)[:500]}"
        ) from exc
    log.info("tracked run %s in experiment %r at %s", result.run_id, experiment, tracking_uri)
    return result
