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
from ._wheel import build_wheel, model_requirements

__all__ = ["TrackingResult", "default_run_name", "log_training_run", "signature_frame"]

DIGEST_CHARS = 32
"""Characters of the data fingerprint used as the MLflow dataset digest (MLflow keeps 36)."""

FINGERPRINT_TAG = "powerprofile.data_fingerprint"
"""Run tag holding the full SHA-256 fingerprint of the input data."""

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
    """A copy of ``X`` as JSON carries it to a model served over REST.

    Categorical and text columns become Python strings (``None`` when missing),
    booleans stay booleans, numbers become ``float64`` (``NaN`` when missing), and the
    index is dropped. The registered model accepts this frame, the library's own
    frames and the same rows sent as ``dataframe_split`` or ``dataframe_records`` JSON
    alike; it is the input example logged with every model.

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


def default_run_name(targets, data_source=None, snapshot=None, job: str = "train") -> str:
    """``"<job> <targets> · <data folder> · <snapshot date>"``, parts left out when unknown.

    Examples
    --------
    >>> default_run_name(["complaint", "churn"], "data/sample", "2026-01-01")
    'train churn+complaint · sample · 2026-01-01'
    """
    parts = [f"{job} {'+'.join(sorted(map(str, targets)))}".strip()]
    if data_source:
        parts.append(_data_name(data_source))
    if snapshot is not None:
        parts.append(pd.Timestamp(snapshot).date().isoformat())
    return " · ".join(parts)


def _data_name(data_source) -> str:
    text = str(data_source).rstrip("/\\")
    return text.replace("\\", "/").rsplit("/", 1)[-1] or text


def _log_dataset(mlflow, data_source, fingerprint: dict) -> None:
    """Log the input data as the run's training dataset, its fingerprint as the digest."""
    import warnings

    from mlflow.data.meta_dataset import MetaDataset

    text = str(data_source)
    local = Path(text)
    try:
        from mlflow.data.dataset_source_registry import resolve_dataset_source

        with warnings.catch_warnings():
            # a local folder matches MLflow's local artifact source twice: same class
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(str(local.resolve()) if local.exists() else text)
    except Exception:  # a URI MLflow has no source type for: keep it as text
        from mlflow.data.code_dataset_source import CodeDatasetSource

        source = CodeDatasetSource(tags={"path": text})
    digest = str(fingerprint.get("sha256") or "")[:DIGEST_CHARS] or None
    dataset = MetaDataset(source=source, name=_data_name(data_source), digest=digest)
    mlflow.log_input(dataset, context="training")


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
    data_source=None,
    snapshot=None,
) -> TrackingResult:
    """Log one training run: config, input data, metrics, artifacts and servable models.

    Every model is logged as an MLflow ``pyfunc`` that rebuilds its environment from
    the registry's files alone: the library as a wheel in the model's ``code/`` folder,
    a ``requirements.txt`` naming that wheel by its relative path and pinning every
    dependency as installed now. It scores the library's own frames (categoricals,
    strings, booleans, missing values) and the same rows as REST JSON; the model's own
    feature check (``FeatureMismatchError``) validates the input, so no MLflow input
    signature is logged (MLflow's would refuse categorical columns). The output
    signature (one ``score`` column) and an input example are logged.

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
        hash as params, the hash as the ``powerprofile.data_fingerprint`` tag and as
        the digest of the run's input dataset).
    models : dict of str to (estimator, pandas.DataFrame)
        Per target, the fitted model and an input example (a few rows of features).
    metrics : dict of str to dict of str to float
        Per target (or ``<target>_baseline``), metric name to value; logged as
        ``<target>.<metric>``. A target's own metrics are also attached to its logged
        model, and only those: the complaint model lists no ``churn.*``.
    artifacts : dict of str to path-like or None, default=None
        Artifact sub-folder to a file or folder to log there.
    register : bool, default=True
        Register every model as ``<model_name_prefix>-<target>``.
    model_name_prefix : str, default="powerprofile"
        Registered model name prefix.
    alias : str or None, default=None
        Alias set on every new version (e.g. ``candidate``).
    run_name : str or None, default=None
        MLflow run name; default :func:`default_run_name` of the targets,
        ``data_source`` and ``snapshot``, e.g. ``train churn+complaint · sample ·
        2026-01-01``.
    tags : dict or None, default=None
        Extra run tags.
    pip_requirements : list of str or None, default=None
        Requirements recorded with the models (default: the bundled wheel and exact
        pins of powerprofile's dependencies, see ``model_requirements``).
    data_source : str or path-like or None, default=None
        Where the input data was read (a data-set folder); logged as the run's
        training dataset (``mlflow.log_input``) with the fingerprint as its digest.
    snapshot : date or None, default=None
        The scoring snapshot, for the default run name.

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
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from ._pyfunc import PowerProfilePyFunc

    if run_name is None:
        run_name = default_run_name(models, data_source, snapshot)
    run_tags = {"powerprofile.job": "train", **(tags or {})}
    if fingerprint.get("sha256"):
        run_tags[FINGERPRINT_TAG] = str(fingerprint["sha256"])
    signature = ModelSignature(inputs=None, outputs=Schema([ColSpec("double", "score")]))
    try:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        exp = mlflow.set_experiment(experiment)
        result = TrackingResult(
            tracking_uri=tracking_uri, experiment_id=exp.experiment_id, run_id=""
        )
        with (
            mlflow.start_run(run_name=run_name, tags=run_tags) as run,
            tempfile.TemporaryDirectory() as tmp,
        ):
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
            if data_source is not None:
                _log_dataset(mlflow, data_source, fingerprint)
            for sub, path in sorted((artifacts or {}).items()):
                p = Path(path)
                if p.is_dir():
                    mlflow.log_artifacts(str(p), artifact_path=sub)
                elif p.is_file():
                    mlflow.log_artifact(str(p), artifact_path=sub)
            wheel = build_wheel(Path(tmp) / "wheel")
            reqs = model_requirements() if pip_requirements is None else list(pip_requirements)
            model_ids = {}
            for target, (model, example) in sorted(models.items()):
                name = f"{model_name_prefix}-{target}"
                local = save_local_model(model, Path(tmp) / "models" / target)
                with warnings.catch_warnings():
                    # MLflow asks for type hints on predict: the model checks its own input
                    warnings.simplefilter("ignore", UserWarning)
                    info = mlflow.pyfunc.log_model(
                        name=target,
                        python_model=PowerProfilePyFunc(),
                        artifacts={"model": str(local)},
                        code_paths=[str(wheel)],
                        signature=signature,
                        input_example=signature_frame(example.head(5)),
                        pip_requirements=reqs,
                        metadata={
                            "powerprofile": {"target": target, "features": _feature_specs(model)}
                        },
                        registered_model_name=name if register else None,
                    )
                model_ids[target] = info.model_id
                if register:
                    version = str(info.registered_model_version)
                    result.model_uris[target] = f"models:/{name}/{version}"
                    result.model_versions[target] = version
                    if alias:
                        mlflow.MlflowClient().set_registered_model_alias(name, alias, version)
                else:
                    result.model_uris[target] = info.model_uri
                    result.model_versions[target] = run.info.run_id
            # metrics only once every model is logged (MLflow copies the run's metrics to
            # each model logged after them), through the client (the fluent API attaches
            # metrics without a model to the run's models): each target's metrics and its
            # baseline's to its model, anything else to the run only
            structure_params, metrics = _structure_records(models, metrics)
            if structure_params:
                mlflow.log_params(structure_params)
            _log_metrics(run.info.run_id, metrics, model_ids)
    except TrackingError:
        raise
    except Exception as exc:  # MlflowException, connection errors, ...
        raise TrackingError(
            f"MLflow tracking at {tracking_uri!r} failed: {type(exc).__name__}: {str(exc)[:500]}"
        ) from exc
    log.info("tracked run %s in experiment %r at %s", result.run_id, experiment, tracking_uri)
    return result


def _structure_records(models: dict, metrics: dict) -> tuple[dict, dict]:
    """Each model's chosen structure (params) and its candidates' losses (metrics).

    Returns ``({"<target>.structure": ..., "<target>.structure_pairs": ...,
    "<target>.structure_selection_rows": ...}, metrics)``
    where ``metrics[target]`` gains ``validation_log_loss.<candidate>`` per candidate.
    """
    params, out = {}, dict(metrics)
    for target, (model, _) in sorted(models.items()):
        info = (getattr(model, "metadata_", None) or {}).get("structure")
        if not info:
            continue
        params[f"{target}.structure"] = info["chosen"]
        params[f"{target}.structure_pairs"] = ";".join("*".join(p) for p in info["pairs"])
        if "selection_rows" in info:
            params[f"{target}.structure_selection_rows"] = info["selection_rows"]
        out[target] = {
            **out.get(target, {}),
            **{
                f"validation_log_loss.{k}": v
                for k, v in info["validation_log_loss"].items()
                if v == v  # NaN when a candidate could not be validated
            },
        }
    return params, out


def _log_metrics(run_id: str, metrics: dict, model_ids: dict) -> None:
    import time

    import mlflow
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    batch = [
        Metric(
            key=f"{group}.{k}",
            value=float(v),
            timestamp=now,
            step=0,
            model_id=model_ids.get(group, model_ids.get(group.removesuffix("_baseline"))),
        )
        for group, values in sorted(metrics.items())
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    for start in range(0, len(batch), 1000):  # MLflow's batch limit
        mlflow.MlflowClient().log_batch(run_id, metrics=batch[start : start + 1000])


def _feature_specs(model) -> list[dict]:
    """The model's input features (name, kind, categories) for the MLmodel metadata."""
    feats = (getattr(model, "metadata_", None) or {}).get("features")
    if feats:
        return [
            {k: f.get(k) for k in ("name", "kind", "dtype", "categories") if f.get(k) is not None}
            if isinstance(f, dict)
            else {"name": str(f)}
            for f in feats
        ]
    names = getattr(model, "feature_names_in_", None)
    return [] if names is None else [{"name": str(n)} for n in names]
