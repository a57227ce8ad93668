"""Run one pure function per hash partition as Spark tasks, results back on the driver.

Spark schedules partition numbers: ``spark.range(P, numPartitions=P)`` gives each of
its ``P`` slices exactly one number, and ``mapInArrow`` runs the function on it inside
a Python worker. The function reads its partition's rows itself (validated as read,
by :class:`powerprofile.schema.DataSource`), so no customer row crosses the JVM
bridge; what it returns (partials, feature frames, part-file paths, a problem list)
comes back pickled, in Arrow batches (``toArrow``). An exception raised in a task travels back the same way and is raised again
on the driver as itself: a task's :class:`~powerprofile.exceptions.DataValidationError`
reaches the caller with the single-machine reader's wording, not wrapped in a Java
stack trace.
"""

from __future__ import annotations

import logging
import pickle
import time
import uuid

import numpy as np

__all__ = ["run_tasks", "task_frame"]

log = logging.getLogger("powerprofile")

_COLUMNS = (
    ("task", "long"),
    ("piece", "int"),
    ("ok", "boolean"),
    ("payload", "binary"),
    ("seconds", "double"),
)
"""The columns of the tasks' result rows, with their Spark types."""

_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)

_PIECE = 4 << 20
"""Most bytes of a task's pickled result per row: larger results come back in pieces."""


class _TaskFailed(Exception):
    """Stands for a task's exception that cannot be pickled (its text is kept)."""


_SEEN = {"token": None}


def _fresh_sources(token: str) -> None:
    """Forget the folder readers a reused Python worker cached for an earlier job.

    A worker outlives the job that started it (``spark.python.worker.reuse``), and
    the per-process reader caches are keyed by path: a folder rewritten in place
    between two jobs of one session must be read anew.
    """
    if _SEEN["token"] == token:
        return
    from ..pipeline._stream import _source as stream_source
    from ._features import _source as feature_source

    stream_source.cache_clear()
    feature_source.cache_clear()
    _SEEN["token"] = token


def _task_threads() -> int:
    """Hold Arrow's CPU pool to the cores Spark gives each task (``spark.task.cpus``).

    Spark runs as many tasks at once as an executor has cores, each granted
    ``spark.task.cpus`` of them (default 1); Arrow's Parquet decoding would otherwise
    start a thread per core of the machine in every task, so the tasks of one executor
    would take each other's cores (and a ``local[1]`` session would use two).
    """
    import pyarrow as pa
    from pyspark import TaskContext

    ctx = TaskContext.get()
    n = max(int(ctx.cpus()), 1) if ctx is not None else 1
    if pa.cpu_count() != n:
        pa.set_cpu_count(n)
    return n


def _arrow_schema():
    """:data:`_COLUMNS` as the Arrow schema of the batches a task yields."""
    import pyarrow as pa

    types = {
        "long": pa.int64(),
        "int": pa.int32(),
        "boolean": pa.bool_(),
        "binary": pa.binary(),
        "double": pa.float64(),
    }
    return pa.schema([(name, types[kind]) for name, kind in _COLUMNS])


def _runner(fn, token: str):
    def run(batches):
        import pyarrow as pa

        _fresh_sources(token)
        _task_threads()
        schema = _arrow_schema()
        for batch in batches:
            for task in batch.column(0).to_pylist():
                t = time.perf_counter()
                try:
                    payload, ok = pickle.dumps(fn(task), protocol=5), True
                except Exception as exc:  # raised again on the driver
                    try:
                        payload = pickle.dumps(exc, protocol=5)
                        pickle.loads(payload)
                    except Exception:
                        payload = pickle.dumps(_TaskFailed(f"{type(exc).__name__}: {exc}"))
                    ok = False
                # pieces of at most _PIECE bytes: a task's frame (tens of MB) as one
                # value would be one huge object in the JVM at every step to the driver
                view = memoryview(payload)
                starts = range(0, max(len(view), 1), _PIECE)
                yield pa.RecordBatch.from_pydict(
                    {
                        "task": [task] * len(starts),
                        "piece": list(range(len(starts))),
                        "ok": [ok] * len(starts),
                        "payload": [view[i : i + _PIECE] for i in starts],
                        "seconds": [time.perf_counter() - t] * len(starts),
                    },
                    schema=schema,
                )

    return run


def new_token() -> str:
    """A job's token: tasks with the same token share a worker's cached folder readers."""
    return uuid.uuid4().hex


def task_frame(spark, fn, n: int, token: str | None = None):
    """The DataFrame whose rows are the ``n`` tasks' pickled results (see :func:`run_tasks`)."""
    token = token or new_token()
    return spark.range(0, n, 1, numPartitions=n).mapInArrow(_runner(fn, token), _SCHEMA)


def run_tasks(spark, fn, n: int, *, desc: str = "tasks", token: str | None = None) -> list:
    """``[fn(0), fn(1), ..., fn(n - 1)]`` computed as ``n`` Spark tasks.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    fn : callable
        Picklable function of the task number (a partition number); it runs in a
        Spark Python worker, so it must read what it needs itself.
    n : int
        Number of tasks.
    desc : str, default="tasks"
        Named in the log line and the Spark job description.
    token : str, optional
        Groups the Spark jobs of one computation (:func:`new_token`): a Python worker
        keeps its cached folder readers while the token stays the same and drops
        them for a new one (default: a new token, nothing reused).

    Returns
    -------
    list
        The results in task order.

    Raises
    ------
    Exception
        The first failed task's own exception (by task number).
    """
    if n <= 0:
        return []
    t0 = time.perf_counter()
    sc = spark.sparkContext
    sc.setJobDescription(f"powerprofile {desc}")
    try:
        # Arrow batches all the way: collect() would turn each (large) payload into a
        # JVM row and pickle it again for the driver, at several times the cost
        table = task_frame(spark, fn, n, token).toArrow()
    finally:
        sc.setJobDescription(None)
    table = table.sort_by([("task", "ascending"), ("piece", "ascending")])
    tasks = table.column("task").to_numpy()
    first = np.flatnonzero(np.r_[True, tasks[1:] != tasks[:-1]])  # each task's first row
    bounds = list(zip(first.tolist(), [*first[1:].tolist(), len(tasks)], strict=True))
    payloads = table.column("payload")

    def payload(lo, hi):
        if hi - lo == 1:
            return payloads[lo].as_buffer()
        return b"".join(payloads[i].as_buffer() for i in range(lo, hi))

    ok = table.column("ok").to_pylist()
    for lo, hi in bounds:
        if not ok[lo]:
            raise pickle.loads(payload(lo, hi))
    seconds = [table.column("seconds")[lo].as_py() for lo, _ in bounds]
    log.info(
        "spark %s: %d tasks in %.1f s (task time %.1f s, longest %.1f s)",
        desc,
        n,
        time.perf_counter() - t0,
        sum(seconds),
        max(seconds),
    )
    return [pickle.loads(payload(lo, hi)) for lo, hi in bounds]
