"""The job on Apache Spark: the single-machine partition functions run as Spark tasks.

Needs the ``spark`` extra (``pip install 'powerprofile[spark]'``) and a Java 17+
runtime. The engine changes nothing in the results: every per-partition step calls
the same pure function as the single-machine engine, inside a Spark task (see
``docs/scale.md``).
"""

from ._features import build_features, build_training_frame
from ._kpis import spark_kpis
from ._run import run_on_spark
from ._score import score_frame, score_udf
from ._session import java_runtime, spark_session
from ._tables import stage_tables
from ._tasks import run_tasks, task_frame
from ._validate import spark_mapper, validate_folder

__all__ = [
    "build_features",
    "build_training_frame",
    "java_runtime",
    "run_on_spark",
    "run_tasks",
    "score_frame",
    "score_udf",
    "spark_kpis",
    "spark_mapper",
    "spark_session",
    "stage_tables",
    "task_frame",
    "validate_folder",
]
