"""``powerprofile run`` with ``engine: spark``: the streamed job, its partitions as Spark tasks."""

from __future__ import annotations

import functools
import logging

from ..exceptions import ConfigError
from ._kpis import spark_kpis
from ._session import spark_session
from ._validate import spark_mapper

__all__ = ["run_on_spark"]

log = logging.getLogger("powerprofile")


def run_on_spark(cfg, folder, final, *, key, bar, t0, tracking_uri):
    """Run the job's stages with the per-partition work as Spark tasks.

    The stages, their order and their outputs are those of the streamed route
    (:func:`powerprofile.pipeline.run_streamed`); the per-partition work runs as one
    Spark task per hash partition: validation (problems merged and reported on the
    driver), area statistics, features (each partition validated again as read) with
    the training sample, and the portraits (scores, reasons, segments, tags, keyed
    customer keys: the pseudonymisation key travels in the task, never in a log or a
    file). Training, segmentation, global score bands, the export (governance,
    manifest, atomic swap) and the report stay on the driver, on what the tasks return;
    the report's channel KPIs are a Spark aggregation of the partitions' counts
    (:func:`powerprofile.spark.spark_kpis`).

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
        mapper=spark_mapper(spark),
        route="spark",
        kpis=functools.partial(spark_kpis, spark),
    )
