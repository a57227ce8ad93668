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
