"""The job behind the CLI: validate -> features -> train -> segment -> portraits -> export -> report.

Each stage is a plain function taking the typed :class:`~powerprofile.config.Config`
and returning pandas objects; :func:`run_pipeline` chains them. Everything a stage
writes goes under ``config.output_dir`` in a fixed layout (:class:`OutputPaths`).
Heavy libraries (LightGBM, MLflow, SHAP) are imported inside the stages.
"""

from ._data import (
    build_feature_frames,
    load_data,
    plan_snapshots,
    preflight,
    pseudonym_key,
    snapshot_plan,
    write_feature_outputs,
    write_validation_outputs,
)
from ._models import score_frame, train_models, write_model_outputs
from ._paths import OutputPaths, RunSummary
from ._run import run_pipeline, thread_limits
from ._sample import (
    IMPORTANCE_CUSTOMERS,
    customer_uniform,
    importance_rows,
    segment_sample_fraction,
    segment_sample_mask,
    training_sample,
    training_sample_fraction,
    uniform_rows,
    use_streaming,
)
from ._stages import export_portraits, make_portraits, segment_customers, write_run_report
from ._stream import StreamPlan, stream_features, stream_portraits, validate_streamed
from ._streamrun import export_portrait_parts, run_streamed

__all__ = [
    "IMPORTANCE_CUSTOMERS",
    "OutputPaths",
    "RunSummary",
    "StreamPlan",
    "build_feature_frames",
    "customer_uniform",
    "importance_rows",
    "export_portrait_parts",
    "export_portraits",
    "load_data",
    "make_portraits",
    "plan_snapshots",
    "preflight",
    "pseudonym_key",
    "run_pipeline",
    "run_streamed",
    "score_frame",
    "segment_customers",
    "segment_sample_fraction",
    "segment_sample_mask",
    "snapshot_plan",
    "stream_features",
    "stream_portraits",
    "thread_limits",
    "train_models",
    "training_sample",
    "training_sample_fraction",
    "uniform_rows",
    "use_streaming",
    "validate_streamed",
    "write_feature_outputs",
    "write_model_outputs",
    "write_run_report",
    "write_validation_outputs",
]
