"""Run one pure function per hash partition as Spark tasks, results back on the driver.

Spark schedules partition numbers: ``spark.range(P, numPartitions=P)`` gives each of
its ``P`` slices exactly one number, and ``mapInArrow`` runs the function on it inside
a Python worker. The function reads its partition's rows itself (validated as read,
by :class:`powerprofile.schema.DataSource`), so no customer row crosses the JVM
bridge; what it returns (partials, feature frames, part-file paths, a problem list)
comes back pickled, in Arrow batches (``toArrow``). An exception raised in a task
travels back the same way and is raised again on the driver as itself: a task's
:class:`~powerprofile.exceptions.DataValidationError` reaches the caller with the
single-machine reader's wording, not wrapped in a Java stack trace.

On a ``local`` master (``local[N]``, ``local-cluster[...]``) the driver and its
executors share one machine, so results skip the JVM: each task writes its pickled
result to a folder the driver made for the job (``spark.local.dir``, else the system's
temporary folder; readable by this user only) and sends back the file's name; the
driver reads each file, deletes it, and removes the folder when the job ends, whether
it succeeded or not. At 1,000,000 customers the feature stage's 1.9 GB of frames
otherwise pass through the JVM (12–17 CPU-s there, and the driver's peak memory holds
them twice). A task that cannot write its file (a full disk) sends its result through
the JVM instead.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
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
    ("spilled", "boolean"),
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


def _spill_folder(spark) -> str | None:
    """A new folder for the tasks' result files, on a local master (None otherwise)."""
    from ._session import is_local

    sc = spark.sparkContext
    if not is_local(sc.master):
        return None
    local = sc.getConf().get("spark.local.dir", None)
    base = local.split(",")[0].strip() if local else None
    try:
        return tempfile.mkdtemp(prefix="powerprofile-results-", dir=base or None)
    except OSError as exc:
        log.warning("spark task results go through the JVM: no result folder (%s)", exc)
        return None


def _spill(folder: str, task: int, payload: bytes) -> str | None:
    """Write a task's pickled result into the driver's folder; its file name, or None.

    Each attempt writes a file of its own (a retried task never appends to or reads
    another attempt's file); None when it cannot be written (the result then goes
    through the JVM).
    """
    name = f"task-{int(task)}-{uuid.uuid4().hex}.pkl"
    path = os.path.join(folder, name)
    try:
        f = open(path, "xb")  # noqa: SIM115 - closed below; removed only if made here
    except OSError:
        return None
    try:
        with f:
            f.write(payload)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return None
    return name


def _runner(fn, token: str, spill: str | None = None):
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
                name = None if spill is None else _spill(spill, task, payload)
                if name is not None:
                    payload = name.encode()
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
                        "spilled": [name is not None] * len(starts),
                    },
                    schema=schema,
                )

    return run


def new_token() -> str:
    """A job's token: tasks with the same token share a worker's cached folder readers."""
    return uuid.uuid4().hex


def task_frame(spark, fn, n: int, token: str | None = None, *, spill: str | None = None):
    """The DataFrame whose rows are the ``n`` tasks' pickled results (see :func:`run_tasks`).

    With ``spill`` (a folder on the machine of the tasks), each result is written there
    and its row carries the file's name (``spilled`` true) instead of the result.
    """
    token = token or new_token()
    return spark.range(0, n, 1, numPartitions=n).mapInArrow(_runner(fn, token, spill), _SCHEMA)


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
    spill = _spill_folder(spark)
    try:
        sc.setJobDescription(f"powerprofile {desc}")
        try:
            # Arrow batches all the way: collect() would turn each (large) payload into
            # a JVM row and pickle it again for the driver, at several times the cost
            table = task_frame(spark, fn, n, token, spill=spill).toArrow()
        finally:
            sc.setJobDescription(None)
        results = _results(table)
        for ok, spilled, pieces in results:
            if not ok:
                raise _loads(pieces, spilled, spill)
        seconds = table.column("seconds").to_numpy()[table.column("piece").to_numpy() == 0]
        log.info(
            "spark %s: %d tasks in %.1f s (task time %.1f s, longest %.1f s)",
            desc,
            n,
            time.perf_counter() - t0,
            float(seconds.sum()),
            float(seconds.max()),
        )
        return [_loads(pieces, spilled, spill) for _, spilled, pieces in results]
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)


def _loads(pieces: list, spilled: bool = False, folder: str | None = None):
    """The object pickled in a task's result.

    That is ``pieces`` (joined when there are several), or with ``spilled`` the file in
    ``folder`` they name, read and then deleted.
    """
    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    if spilled:
        name = bytes(data).decode()
        if folder is None or os.path.basename(name) != name:
            raise RuntimeError(f"a task's result file {name!r} is not in the job's folder")
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise RuntimeError(
                f"the result file {name!r} of a Spark task is gone from the job's folder "
                f"{folder} before the driver read it (removed by a cleaner of temporary "
                "files?); run the job again, or set spark.local.dir to a folder nothing cleans"
            ) from None
        os.unlink(path)
    return pickle.loads(data)


def _results(table) -> list[tuple[bool, bool, list]]:
    """``(ok, spilled, pieces of the pickled result)`` of every task, in task order.

    The rows arrive in the order the tasks finished, one Arrow chunk per piece. They
    are put in order by their small ``task`` and ``piece`` columns and the payloads
    read chunk by chunk as buffers: sorting the table itself would copy every payload
    (about 9 s for 1.9 GB of results in 448 pieces, while the driver holds the job).
    """
    task = table.column("task").to_numpy()
    piece = table.column("piece").to_numpy()
    ok = table.column("ok").to_numpy(zero_copy_only=False)
    spilled = table.column("spilled").to_numpy(zero_copy_only=False)
    buffers = [
        chunk[i].as_buffer()
        for chunk in table.column("payload").iterchunks()
        for i in range(len(chunk))
    ]
    order = np.lexsort((piece, task))
    task = task[order]
    first = np.flatnonzero(np.r_[True, task[1:] != task[:-1]])  # each task's first row
    return [
        (bool(ok[order[lo]]), bool(spilled[order[lo]]), [buffers[r] for r in order[lo:hi].tolist()])
        for lo, hi in zip(first.tolist(), [*first[1:].tolist(), len(task)], strict=True)
    ]
