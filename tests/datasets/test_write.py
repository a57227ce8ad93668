"""Chunked writer: same data as in memory, partition layout, ground truth round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerprofile._partition import partition_of
from powerprofile.datasets import load_ground_truth, make_utility_data, write_utility_data
from powerprofile.datasets._frames import coerce_contract
from powerprofile.schema import TABLE_ORDER

START, END = "2024-01-01", "2025-06-30"
N, SEED, CHUNK, P = 450, 2, 200, 3
PER_CUSTOMER = ("usage", "bills", "payments", "interactions", "events")
SORT = {
    "customers": ["customer_id"],
    "outages": ["outage_id"],
    "usage": ["customer_id", "date", "recorded_at"],
    "bills": ["customer_id", "bill_month", "recorded_at"],
    "payments": ["payment_id"],
    "interactions": ["interaction_id"],
    "events": ["customer_id", "date", "kind"],
}
TIME = {
    "usage": "date",
    "bills": "bill_month",
    "payments": "date",
    "interactions": "timestamp",
    "events": "date",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "data"
    write_utility_data(
        out, N, START, END, SEED, n_partitions=P, chunk_customers=CHUNK, progress=False
    )
    return out


@pytest.fixture(scope="module")
def in_memory():
    return make_utility_data(N, START, END, SEED, chunk_customers=CHUNK)


def _read(out, name):
    if name in PER_CUSTOMER:
        df = pd.concat(
            [pd.read_parquet(out / name / f"part-{p:05d}.parquet") for p in range(P)],
            ignore_index=True,
        )
    else:
        df = pd.read_parquet(out / f"{name}.parquet")
    return coerce_contract(df, name)


def test_layout_and_metadata(written):
    meta = json.loads((written / "dataset.json").read_text())
    assert meta["schema_version"] == "1.0"
    assert meta["data_start"] == START and meta["data_end"] == END
    assert meta["n_customers"] == N and meta["seed"] == SEED and meta["n_partitions"] == P
    assert (written / "customers.parquet").is_file() and (written / "outages.parquet").is_file()
    for name in PER_CUSTOMER:
        assert sorted(f.name for f in (written / name).iterdir()) == [
            f"part-{p:05d}.parquet" for p in range(P)
        ]
        rows = [
            pq.read_metadata(written / name / f"part-{p:05d}.parquet").num_rows for p in range(P)
        ]
        assert meta["part_rows"][name] == rows and meta["row_counts"][name] == sum(rows)
    assert (written / "truth" / "truth.json").is_file()


def test_chunked_write_equals_in_memory(written, in_memory):
    tables, _ = in_memory
    for name in TABLE_ORDER:
        a = tables[name].sort_values(SORT[name], ignore_index=True)
        b = _read(written, name).sort_values(SORT[name], ignore_index=True)
        pd.testing.assert_frame_equal(a, b, check_like=False, obj=name)


def test_each_part_holds_its_customers_sorted(written):
    for name in PER_CUSTOMER:
        for p in range(P):
            df = pq.read_table(written / name / f"part-{p:05d}.parquet").to_pandas()
            if df.empty:
                continue
            assert (partition_of(df["customer_id"], P) == p).all(), (name, p)
            key = df[["customer_id", TIME[name]]]
            ordered = key.sort_values(["customer_id", TIME[name]], kind="stable", ignore_index=True)
            pd.testing.assert_frame_equal(
                key.reset_index(drop=True), ordered, obj=f"{name} part {p}"
            )


def test_chunks_are_independent(in_memory):
    # the first chunk of a larger population is the same as a population of one chunk
    tables, _ = in_memory
    first, _ = make_utility_data(CHUNK, START, END, SEED, chunk_customers=CHUNK)
    ids = first.customers["customer_id"]
    pd.testing.assert_frame_equal(
        first.customers, tables.customers.iloc[:CHUNK].reset_index(drop=True)
    )
    u = tables.usage[tables.usage["customer_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(first.usage, u)


def test_ground_truth_round_trip(written, in_memory, tmp_path):
    _, truth = in_memory
    loaded = load_ground_truth(written / "truth")
    saved = load_ground_truth(truth.save(tmp_path / "truth"))
    for t in (loaded, saved):
        pd.testing.assert_frame_equal(t.segments, truth.segments)
        pd.testing.assert_frame_equal(t.drivers, truth.drivers)
        for snap in ("2024-03-01", "2025-02-14", "2025-07-01"):
            pd.testing.assert_series_equal(
                t.churn_probability(snap, 90), truth.churn_probability(snap, 90)
            )
            pd.testing.assert_series_equal(
                t.complaint_probability(snap, 30), truth.complaint_probability(snap, 30)
            )


@settings(max_examples=25, deadline=None)
@given(day=st.integers(0, 546), h1=st.integers(1, 200), h2=st.integers(1, 200))
def test_probability_grows_with_horizon(in_memory, day, h1, h2):
    _, truth = in_memory
    snap = pd.Timestamp(START) + pd.Timedelta(days=day)
    lo, hi = sorted((h1, h2))
    for f in (truth.churn_probability, truth.complaint_probability):
        a, b = f(snap, lo), f(snap, hi)
        assert a.index.equals(b.index)
        assert (a.to_numpy() <= b.to_numpy() + 1e-15).all()
        assert ((a >= 0) & (b <= 1)).all()
    assert np.isfinite(truth.churn_probability(snap, hi)).all()


def test_committed_sample_is_reproduced_byte_for_byte(tmp_path):
    """``powerprofile sample --customers 2000 --seed 0`` writes exactly data/sample."""
    from pathlib import Path

    from powerprofile.cli import main

    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    if not (sample / "dataset.json").exists():
        pytest.skip("data/sample is not there")
    out = tmp_path / "sample"
    assert main(["sample", "--customers", "2000", "--seed", "0", "--out", str(out), "-q"]) == 0
    want = sorted(p.relative_to(sample) for p in sample.rglob("*") if p.is_file())
    got = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert got == want
    for rel in want:
        assert (out / rel).read_bytes() == (sample / rel).read_bytes(), rel
    info = json.loads((sample / "dataset.json").read_text())
    for name in PER_CUSTOMER:  # what the reader checks the files against
        assert info["part_rows"][name] == [
            pq.read_metadata(sample / name / f"part-{p:05d}.parquet").num_rows for p in range(2)
        ]
        assert sum(info["part_rows"][name]) == info["row_counts"][name]
