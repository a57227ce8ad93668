"""MLflow tracking and the model registry.

By default runs go to an embedded SQLite store in the working folder
(``sqlite:///mlflow.db``); ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` select a
tracking server, whose credentials come only from MLflow's environment variables.
MLflow is imported only when a run is logged or a registry model is loaded.
"""

from ._fingerprint import data_fingerprint
from ._pyfunc import MODEL_INFO_FILE, load_local_model, save_local_model
from ._resolve import check_model_features, load_scoring_model, model_feature_names
from ._runs import TrackingResult, default_run_name, log_training_run, signature_frame
from ._uri import DEFAULT_TRACKING_URI, check_tracking_uri, resolve_tracking_uri
from ._wheel import build_wheel, model_requirements

__all__ = [
    "DEFAULT_TRACKING_URI",
    "MODEL_INFO_FILE",
    "TrackingResult",
    "build_wheel",
    "check_model_features",
    "check_tracking_uri",
    "data_fingerprint",
    "default_run_name",
    "load_local_model",
    "load_scoring_model",
    "log_training_run",
    "model_feature_names",
    "model_requirements",
    "resolve_tracking_uri",
    "save_local_model",
    "signature_frame",
]
