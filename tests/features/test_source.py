"""Streaming from a partitioned data-set folder gives the same features as in memory."""

import pandas as pd
import pytest
from feature_tables import random_tables

from powerprofile.features import build_training_frame, leakage_report, partition_features
from powerprofile.schema import save_tables

SNAPS = ["2025-02-01", "2025-05-01"]


@pytest.fixture(scope="module")
def tables():
    return random_tables(11, n_customers=12)


@pytest.fixture(scope="module")
def folder(tables, tmp_path_factory):
    return save_tables(tables, tmp_path_factory.mktemp("ds") / "set", n_partitions=3)


def test_folder_equals_memory(tables, folder):
    mem = build_training_frame(tables, SNAPS, 60)
    disk = build_training_frame(folder, SNAPS, 60)  # its own 3 parts, straight from Parquet
    pd.testing.assert_frame_equal(mem, disk, check_exact=False, rtol=1e-6)
    other = build_training_frame(folder, SNAPS, 60, n_partitions=2)  # re-partitioned on read
    pd.testing.assert_frame_equal(mem, other, check_exact=False, rtol=1e-6)
    pd.testing.assert_frame_equal(leakage_report(mem), leakage_report(disk))
    pd.testing.assert_frame_equal(leakage_report(mem), leakage_report(folder, SNAPS))


def test_two_workers_give_the_same_frame(folder):
    one = build_training_frame(folder, SNAPS, 60)
    two = build_training_frame(folder, SNAPS, 60, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_partition_function_alone_on_the_whole_population(tables):
    whole = partition_features(tables.__dict__, SNAPS[-1])
    built = build_training_frame(tables, SNAPS[-1:], 60)
    pd.testing.assert_frame_equal(
        whole, built.drop(columns=["label_churn", "label_complaint"]), check_exact=False, rtol=1e-6
    )


def test_streamed_chunks_cover_each_customer_once(tables, folder, monkeypatch):
    from powerprofile.schema import _source

    monkeypatch.setattr(_source, "CHUNK_CUSTOMERS", 2)
    monkeypatch.setattr(_source, "BATCH_ROWS", 97)
    src = _source.DataSource(folder)
    for p in range(3):
        chunks = list(src.chunks(p, 3))
        ids = [i for c in chunks for i in c["customers"]["customer_id"]]
        whole = src.partition(p, 3)
        assert len(chunks) > 1 and sorted(ids) == sorted(whole["customers"]["customer_id"])
        assert sum(len(c.get("usage", [])) for c in chunks) == len(whole["usage"])
        assert sum(len(c["interactions"]) for c in chunks) == len(whole["interactions"])
    streamed = build_training_frame(folder, SNAPS, 60)
    pd.testing.assert_frame_equal(
        build_training_frame(tables, SNAPS, 60), streamed, check_exact=False, rtol=1e-6
    )


def test_unclustered_part_is_a_named_error(tables, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from powerprofile.exceptions import DataValidationError
    from powerprofile.schema import _source

    d = save_tables(tables, tmp_path / "set", n_partitions=1)
    part = d / "usage" / "part-00000.parquet"
    pq.write_table(
        pq.read_table(part).take(
            list(range(0, pq.read_metadata(part).num_rows, 2))
            + list(range(1, pq.read_metadata(part).num_rows, 2))
        ),
        part,
    )
    monkeypatch.setattr(_source, "CHUNK_CUSTOMERS", 2)
    monkeypatch.setattr(_source, "BATCH_ROWS", 97)
    with pytest.raises(DataValidationError, match="not clustered by customer"):
        build_training_frame(d, SNAPS, 60)


def test_worker_processes_take_the_duplicate_search_of_the_parent(tmp_path, monkeypatch):
    """``n_jobs=2`` searches the cross-part keys once, in the parent, and hands them over."""
    import shutil
    from pathlib import Path

    from planted import claim_duplicate

    from powerprofile.exceptions import DataValidationError
    from powerprofile.features import build_features
    from powerprofile.schema import _reader

    monkeypatch.setattr(_reader, "_DUPLICATES", {})
    folder = tmp_path / "data"
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    shutil.copytree(sample, folder, ignore=shutil.ignore_patterns("truth"))
    claimed = claim_duplicate(folder)  # believed by this process only: the files are clean
    with pytest.raises(DataValidationError, match="payments.payment_id: 1 row shares") as err:
        build_features(folder, "2025-10-01", n_jobs=2)
    assert claimed in str(err.value)  # the workers used this process's result
