"""The job behind the CLI: validate -> features -> train -> segment -> portraits -> export -> report.

Each stage is a plain function taking the typed :class:`~powerprofile.config.Config`
and returning pandas objects; :func:`run_pipeline` chains them. Everything a stage
writes goes under ``config.output_dir`` in a fixed layout (:class:`OutputPaths`).
Heavy libraries (LightGBM, MLflow, SHAP) are imported inside the stages.
"""

from ._data import (
    build_feature_frames,
    load_data,
    preflight,
    pseudonym_key,
    snapshot_plan,
    write_feature_outputs,
    write_validation_outputs,
)
from ._models import score_frame, train_models, write_model_outputs
from ._paths import OutputPaths, RunSummary
from ._run import run_pipeline, thread_limits
from ._stages import export_portraits, make_portraits, segment_customers, write_run_report

__all__ = [
    "OutputPaths",
    "RunSummary",
    "build_feature_frames",
    "export_portraits",
    "load_data",
    "make_portraits",
    "preflight",
    "pseudonym_key",
    "run_pipeline",
    "score_frame",
    "segment_customers",
    "snapshot_plan",
    "thread_limits",
    "train_models",
    "write_feature_outputs",
    "write_model_outputs",
    "write_run_report",
    "write_validation_outputs",
]
