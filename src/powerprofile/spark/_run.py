"""``powerprofile run`` with ``engine: spark``: the streamed job, its partitions as Spark tasks."""

from __future__ import annotations

import functools
import logging

from ..exceptions import ConfigError
from ._session import spark_session
from ._tasks import run_tasks

__all__ = ["run_on_spark"]

log = logging.getLogger("powerprofile")


def _spark_map(spark, fn, n: int) -> list:
    return run_tasks(spark, fn, n, desc=getattr(fn, "__name__", type(fn).__name__))


def run_on_spark(cfg, folder, final, *, key, bar, t0, tracking_uri):
    """Run the job's stages with the per-partition work as Spark tasks.

    The stages, their order and their outputs are those of the streamed route
    (:func:`powerprofile.pipeline.run_streamed`); the per-partition work (area
    statistics, features with each partition validated as it is read, the training
    sample) runs as one Spark task per hash partition. Training, segmentation and the
    export stay on the driver, on the samples collected from the tasks.

    Raises
    ------
    ConfigError
        The data folder is not partitioned (``dataset.json`` without ``n_partitions``),
        PySpark is missing or no Java runtime is found.
    """
    from ..pipeline import run_streamed
    from ..pipeline._paths import _resolve
    from ..schema import read_dataset_info

    data = _resolve(cfg.data.path)
    if not read_dataset_info(data).get("n_partitions"):
        raise ConfigError(
            f"engine 'spark' needs a partitioned data-set folder, and {str(data)!r} declares "
            "no n_partitions in its dataset.json; rewrite it with "
            "save_tables(..., n_partitions=P) (see docs/scale.md) or set engine: local"
        )
    spark = spark_session(cfg.spark.master, cfg.spark.conf)
    return run_streamed(
        cfg,
        folder,
        final,
        key=key,
        bar=bar,
        t0=t0,
        tracking_uri=tracking_uri,
        mapper=functools.partial(_spark_map, spark),
        route="spark",
    )
