"""Spark features equal the single-machine features; a defect gives the reader's error."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from powerprofile import features as local
from powerprofile.exceptions import DataValidationError
from powerprofile.features import leakage_report
from powerprofile.schema import load_tables
from powerprofile.spark import build_features, build_training_frame, run_tasks

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def assert_same_features(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every row and column: exact for integers, flags and categories, 1e-6 for floats."""
    assert got.index.equals(want.index)
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        assert got[c].dtype == want[c].dtype, c
        if pd.api.types.is_float_dtype(want[c]):
            np.testing.assert_allclose(
                got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-6, equal_nan=True
            )
        else:
            pd.testing.assert_series_equal(got[c], want[c], check_exact=True)


def test_features_equal_the_single_machine_features_on_the_sample(spark):
    snaps = ["2025-07-01", "2025-10-01"]
    got = build_features(spark, SAMPLE, snaps)
    want = local.build_features(SAMPLE, snaps)
    assert len(want) > 3000  # both snapshots, every active customer of both parts
    assert_same_features(got, want)
    pd.testing.assert_frame_equal(leakage_report(got), leakage_report(want))


def test_training_frame_with_labels_equals_the_single_machine_frame(spark):
    snaps = ["2025-03-01", "2025-06-01"]
    got = build_training_frame(spark, SAMPLE, snaps, horizon_days=90)
    want = local.build_training_frame(SAMPLE, snaps, horizon_days=90)
    assert {"label_churn", "label_complaint"} <= set(got.columns)
    assert want["label_churn"].sum() > 0
    assert_same_features(got, want)


def _plant_negative_kwh(folder, part=1, row=17):
    f = folder / "usage" / f"part-{part:05d}.parquet"
    table = pq.read_table(f)
    df = table.to_pandas()
    df.loc[row, "kwh"] = -5.0
    pq.write_table(
        type(table).from_pandas(df, schema=table.schema, preserve_index=False),
        f,
    )
    return df.loc[row, "customer_id"]


def test_defect_in_one_partition_raises_the_readers_error(spark, sample_copy):
    folder = sample_copy("defect")
    customer = _plant_negative_kwh(folder)
    with pytest.raises(DataValidationError) as single:
        local.build_features(folder, "2025-10-01")
    with pytest.raises(DataValidationError) as on_spark:
        build_features(spark, folder, "2025-10-01")
    # the same named error, not a Java stack trace: table, column, part file, customer
    assert str(on_spark.value) == str(single.value)
    text = str(on_spark.value)
    assert "usage" in text and "kwh" in text and "part-00001" in text and customer in text

    # quarantine: the bad row is set aside in the task and the rest equals one machine
    got = build_features(spark, folder, "2025-10-01", errors="quarantine")
    want = local.build_features(load_tables(folder, errors="quarantine"), "2025-10-01")
    assert_same_features(got, want)


def test_a_tasks_exception_is_raised_again_on_the_driver(spark):
    class Boom:  # defined here: Spark pickles it by value
        def __call__(self, p):
            if p == 1:
                raise DataValidationError(f"payments.amount has 1 negative value in part {p}")
            return p * 10

    with pytest.raises(
        DataValidationError, match=r"^payments.amount has 1 negative value in part 1$"
    ):
        run_tasks(spark, Boom(), 3)
    assert run_tasks(spark, lambda p: p * 10, 3) == [0, 10, 20]


def test_validation_in_tasks_reports_as_the_single_machine_reader(spark, sample_copy):
    from powerprofile.schema import validate_folder as validate_here
    from powerprofile.spark import validate_folder

    folder = sample_copy("validate")
    _plant_negative_kwh(folder, part=0, row=3)
    with pytest.raises(DataValidationError) as single:
        validate_here(folder)
    with pytest.raises(DataValidationError) as on_spark:
        validate_folder(spark, folder)
    assert str(on_spark.value) == str(single.value)
    assert "part-00000" in str(on_spark.value)

    seen = {"here": [], "spark": []}
    want = validate_here(folder, errors="quarantine", quarantine=seen["here"].append)
    got = validate_folder(spark, folder, errors="quarantine", quarantine=seen["spark"].append)
    pd.testing.assert_frame_equal(got, want)
    assert len(want) >= 1  # the planted row is reported
    assert [(q.table, q.file.name, len(q.quarantine)) for q in seen["spark"]] == [
        ("usage", "part-00000.parquet", 1)
    ]
    assert [(q.table, q.file.name, len(q.quarantine)) for q in seen["here"]] == [
        ("usage", "part-00000.parquet", 1)
    ]


def test_a_folder_rewritten_in_place_is_read_anew_by_reused_workers(spark, sample_copy):
    """Python workers outlive a job; their cached readers must not serve old rows."""
    folder = sample_copy("rewritten")
    before = build_features(spark, folder, "2025-10-01")
    f = folder / "customers.parquet"
    customers = pd.read_parquet(f)
    flip = customers["tou_flag"].to_numpy().copy()
    flip[:200] = ~flip[:200]
    customers["tou_flag"] = flip
    customers.to_parquet(f, index=False)
    after = build_features(spark, folder, "2025-10-01")
    want = local.build_features(folder, "2025-10-01")
    assert_same_features(after, want)
    assert not after["tou_flag"].equals(before["tou_flag"])


def test_the_tasks_take_the_drivers_duplicate_search(spark, sample_copy, monkeypatch, caplog):
    """The cross-part key search runs once (a task per table), not in every worker."""
    import logging

    from planted import claim_duplicate

    from powerprofile.schema import _reader

    monkeypatch.setattr(_reader, "_DUPLICATES", {})
    folder = sample_copy("claimed")
    with caplog.at_level(logging.INFO, logger="powerprofile"):
        build_features(spark, folder, "2025-10-01")
    assert "spark duplicate keys: 2 tasks" in caplog.text  # payments and interactions
    _reader._DUPLICATES.clear()
    claimed = claim_duplicate(folder)  # believed by the driver only: the files are clean
    with pytest.raises(DataValidationError, match="payments.payment_id: 1 row shares") as err:
        build_features(spark, folder, "2025-10-01")
    assert claimed in str(err.value)  # the tasks used the driver's result


def test_a_task_uses_the_cores_spark_gives_it(spark):
    """Arrow's CPU pool in a task is ``spark.task.cpus`` (1), not the machine's cores."""

    def widen(p):  # a task that changes the pool of the (reused) worker it runs in
        import os

        import pyarrow as pa

        pa.set_cpu_count(5)
        return os.getpid()

    def pool(p):
        import os

        import pyarrow as pa

        return os.getpid(), pa.cpu_count()

    widened = set(run_tasks(spark, widen, 2))
    seen = run_tasks(spark, pool, 2)
    assert [n for _, n in seen] == [1, 1]
    # the workers of the first job ran the second (so its pool of 5 was set back to 1)
    assert {pid for pid, _ in seen} & widened


def test_a_large_result_comes_back_whole_in_pieces(spark):
    """A result larger than one piece (4 MiB) is cut in the task and joined on the driver."""
    from powerprofile.spark._tasks import _PIECE

    def big(p):
        import numpy as np

        return np.random.default_rng(p).integers(0, 255, 2 * _PIECE + 17, dtype=np.uint8)

    import numpy as np

    from powerprofile.spark._tasks import task_frame

    rows = task_frame(spark, big, 3).select("task", "piece").toPandas()
    assert sorted(map(tuple, rows.to_numpy().tolist())) == [
        (t, i) for t in range(3) for i in range(3)
    ]
    got = run_tasks(spark, big, 3)
    for p, arr in enumerate(got):
        expected = np.random.default_rng(p).integers(0, 255, 2 * _PIECE + 17, dtype=np.uint8)
        np.testing.assert_array_equal(arr, expected)


def test_results_arriving_out_of_order_come_back_in_task_order():
    """Rows come in the order tasks finish, one chunk each; pieces join in piece order."""
    import pickle

    import pyarrow as pa

    from powerprofile.spark._tasks import _arrow_schema, _loads, _results

    want = {0: list(range(50)), 1: "only one piece", 2: ValueError("task 2 failed")}
    pieces = {}
    for task, obj in want.items():
        data = pickle.dumps(obj, protocol=5)
        size = 7 if task == 0 else len(data)  # task 0 in many small pieces
        pieces[task] = [data[i : i + size] for i in range(0, len(data), size)]
    assert len(pieces[0]) > 3
    # task 2 finished first, task 0's pieces interleaved with task 1's and reversed
    rows = [(2, 0)] + [(0, i) for i in reversed(range(len(pieces[0])))]
    rows.insert(3, (1, 0))
    schema = _arrow_schema()
    table = pa.Table.from_batches(
        [
            pa.RecordBatch.from_pydict(
                {
                    "task": [t],
                    "piece": [i],
                    "ok": [t != 2],
                    "payload": [pieces[t][i]],
                    "seconds": [0.5],
                    "spilled": [False],
                },
                schema=schema,
            )
            for t, i in rows
        ]
    )
    got = _results(table)
    assert [(ok, spilled) for ok, spilled, _ in got] == [(True, False)] * 2 + [(False, False)]
    assert _loads(got[0][2]) == want[0]
    assert _loads(got[1][2]) == want[1]
    err = _loads(got[2][2])
    assert isinstance(err, ValueError) and str(err) == "task 2 failed"


def test_on_a_local_master_results_come_back_through_files_removed_after(
    spark, tmp_path, monkeypatch
):
    """Each task writes its result to the job's folder; the driver reads and removes it."""
    import tempfile

    from powerprofile.spark import _tasks

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the job's folder goes
    read = []

    def loads(pieces, spilled=False, folder=None):
        read.append((spilled, sorted(p.name for p in Path(folder).iterdir())))
        return real(pieces, spilled, folder)

    real = _tasks._loads
    monkeypatch.setattr(_tasks, "_loads", loads)
    big = 2 * _tasks._PIECE + 5  # would come back in three pieces through the JVM
    got = run_tasks(spark, lambda p: bytes([p]) * big, 3)
    assert got == [bytes([p]) * big for p in range(3)]
    # every result was a file of the job's folder, read (and deleted) in task order
    assert [s for s, _ in read] == [True, True, True]
    assert [len(names) for _, names in read] == [3, 2, 1]
    assert all(names[0].startswith(f"task-{i}-") for i, (_, names) in enumerate(read))
    assert list(tmp_path.iterdir()) == []  # the folder is gone

    class Boom:
        def __call__(self, p):
            if p == 2:
                raise ValueError("part 2 is unreadable")
            return p

    with pytest.raises(ValueError, match="part 2 is unreadable"):
        run_tasks(spark, Boom(), 3)
    assert list(tmp_path.iterdir()) == []  # removed when a task failed too


def test_a_task_that_cannot_write_its_file_sends_its_result_through_the_jvm(spark, tmp_path):
    from powerprofile.spark import task_frame
    from powerprofile.spark._tasks import _loads, _results

    missing = tmp_path / "gone"  # the folder a task cannot write in
    rows = _results(task_frame(spark, lambda p: [p] * 3, 2, spill=str(missing)).toArrow())
    assert [(ok, spilled) for ok, spilled, _ in rows] == [(True, False)] * 2
    assert [_loads(pieces) for _, _, pieces in rows] == [[0, 0, 0], [1, 1, 1]]
    written = _results(task_frame(spark, lambda p: p + 1, 2, spill=str(tmp_path)).toArrow())
    assert [spilled for _, spilled, _ in written] == [True, True]
    assert len(list(tmp_path.glob("task-*.pkl"))) == 2
    assert [_loads(p, s, str(tmp_path)) for _, s, p in written] == [1, 2]
    assert list(tmp_path.glob("task-*.pkl")) == []
    with pytest.raises(RuntimeError, match=r"result file 'task-0-.*' of a Spark task is gone"):
        _loads(written[0][2], True, str(tmp_path))  # already read and deleted
    with pytest.raises(RuntimeError, match="not in the job's folder"):
        _loads([b"../task-0.pkl"], True, str(tmp_path))


def test_only_a_local_master_gets_a_result_folder(tmp_path, monkeypatch):
    import shutil
    import tempfile
    from types import SimpleNamespace

    from powerprofile.spark._tasks import _spill_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def session(master, local_dir=None):
        conf = {"spark.local.dir": local_dir} if local_dir else {}
        ctx = SimpleNamespace(master=master, getConf=lambda: SimpleNamespace(get=conf.get))
        return SimpleNamespace(sparkContext=ctx)

    for master in (
        "yarn",
        "k8s://https://10.0.0.1:6443",
        "spark://h:7077",
    ):
        assert _spill_folder(session(master)) is None, master
    for master in ("local", "local[2]", "local[*]", "local[4, 3]", "local-cluster[2,1,1024]"):
        folder = Path(_spill_folder(session(master)))
        assert folder.parent == tmp_path and folder.is_dir(), master
        assert folder.stat().st_mode & 0o077 == 0  # this user's only
        shutil.rmtree(folder)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    folder = Path(_spill_folder(session("local[2]", f"{scratch}, /elsewhere")))
    assert folder.parent == scratch  # spark.local.dir's first folder


def test_a_result_file_never_replaces_or_removes_a_file_it_did_not_make(tmp_path, monkeypatch):
    import uuid
    from types import SimpleNamespace

    from powerprofile.spark import _tasks

    monkeypatch.setattr(uuid, "uuid4", lambda: SimpleNamespace(hex="same"))
    theirs = tmp_path / "task-3-same.pkl"
    theirs.write_bytes(b"someone else's")
    assert _tasks._spill(str(tmp_path), 3, b"result") is None  # sent through the JVM
    assert theirs.read_bytes() == b"someone else's"
    assert _tasks._spill(str(tmp_path), 4, b"result") == "task-4-same.pkl"
    assert (tmp_path / "task-4-same.pkl").read_bytes() == b"result"
