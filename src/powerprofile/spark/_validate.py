"""Validation of a data-set folder with one Spark task per part of each partitioned table."""

from __future__ import annotations

import functools

from ._tasks import new_token, run_tasks

__all__ = ["spark_mapper", "validate_folder"]


def _map(spark, token, fn, n: int) -> list:
    desc = getattr(fn, "__name__", type(fn).__name__)
    return run_tasks(spark, fn, n, desc=desc, token=token)


def spark_mapper(spark):
    """``mapper(fn, n)`` running ``fn(0) ... fn(n - 1)`` as Spark tasks on ``spark``.

    The form the library's partition-parallel steps take (``mapper=``): validation,
    the job's feature and portrait stages. The tasks of one mapper share each Python
    worker's cached folder readers.
    """
    return functools.partial(_map, spark, new_token())


def validate_folder(spark, path, errors="raise", data_end=None, quarantine=None):
    """:func:`powerprofile.schema.validate_folder`, each part checked in a Spark task.

    The customers table (every other table is checked against it) is read on the
    driver; each part of each partitioned table is read and checked by
    :func:`powerprofile.schema.check_part` inside a task, and the problems come back
    to the driver, where they are merged and reported exactly as on one machine:
    strict mode raises the same :class:`~powerprofile.exceptions.DataValidationError`,
    quarantine mode returns the same report and hands the same rows to ``quarantine``.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path, errors, data_end, quarantine
        As in :func:`powerprofile.schema.validate_folder`.

    Returns
    -------
    pandas.DataFrame
        The validation report.
    """
    from ..schema import validate_folder as validate

    return validate(
        path, errors=errors, data_end=data_end, quarantine=quarantine, mapper=spark_mapper(spark)
    )
