"""Helpers of the streamed route: part files merged in place, partials folded as they come."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.pipeline._stream import _fold, merge_sorted, write_row_groups


def _part(ids, snaps, rng) -> pd.DataFrame:
    """A feature part as the tasks write it: (customer_id, snapshot_date) index, mixed dtypes."""
    n = len(ids)
    idx = pd.MultiIndex.from_arrays(
        [pd.Index(ids, dtype="string"), pd.DatetimeIndex(snaps)],
        names=["customer_id", "snapshot_date"],
    )
    kwh = rng.normal(size=n).astype(np.float32)
    kwh[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "customer_type": pd.Categorical(
                rng.choice(["residential", "commercial"], n),
                categories=["residential", "commercial", "agricultural"],
            ),
            "kwh_30d": kwh,
            "short_history": rng.random(n) < 0.5,
            "label_churn": rng.integers(0, 2, n).astype(np.int8),
            "_weight": rng.uniform(1, 3, n),
        },
        index=idx,
    )


@pytest.fixture
def parts(tmp_path):
    """Three part files whose rows interleave when sorted (ids are hashed to parts)."""
    rng = np.random.default_rng(0)
    ids = np.array([f"C{i:06d}" for i in rng.permutation(60)])
    snaps = pd.to_datetime(["2025-01-01", "2025-02-01"])
    files, frames = [], []
    for p in range(3):
        mine = ids[p::3]
        # rows in the order the tasks write them: chunk by chunk, not sorted
        rows = [(c, s) for s in snaps for c in mine]
        frame = _part([r[0] for r in rows], [r[1] for r in rows], rng)
        f = tmp_path / f"part-{p:05d}.parquet"
        frame.to_parquet(f)
        files.append(str(f))
        frames.append(frame)
    return files, frames


def test_merge_sorted_equals_concat_then_sort_index(parts):
    files, frames = parts
    got = merge_sorted(files)
    # what the route did before: every part in memory, concatenated, then sorted
    expected = pd.concat([pd.read_parquet(f) for f in files]).sort_index()
    assert len(got) == sum(len(f) for f in frames)
    pd.testing.assert_frame_equal(got, expected)
    assert got.index.is_monotonic_increasing
    # one column per block: dropping the labels shares the feature columns
    assert np.shares_memory(
        got.drop(columns=["label_churn"])["kwh_30d"].to_numpy(), got["kwh_30d"].to_numpy()
    )


def test_merge_sorted_keeps_the_masked_rows(parts):
    files, frames = parts

    def mask(frame):  # every customer whose number is even, from the index alone
        return frame.index.get_level_values("customer_id").str[-1].isin(list("02468"))

    got = merge_sorted(files, mask)
    read = [pd.read_parquet(f) for f in files]
    expected = pd.concat([f[mask(f)] for f in read]).sort_index()
    assert 0 < len(got) < sum(len(f) for f in frames)
    pd.testing.assert_frame_equal(got, expected)


def test_merge_sorted_parts_with_other_dtypes_concatenate_as_pandas(parts, tmp_path):
    files, _ = parts
    odd = pd.read_parquet(files[1])
    odd["label_churn"] = odd["label_churn"].astype(np.int64)  # not int8 like the others
    files[1] = str(tmp_path / "odd.parquet")
    odd.to_parquet(files[1])
    got = merge_sorted(files)
    pd.testing.assert_frame_equal(got, pd.concat([pd.read_parquet(f) for f in files]).sort_index())
    assert got["label_churn"].dtype == np.int64


def test_fold_combines_every_result_holding_a_few_at_a_time():
    sizes = []

    def combine(items):
        sizes.append(len(items))
        return sum(items)

    assert _fold(iter(range(1, 21)), combine, every=4) == sum(range(1, 21))
    # the running total and at most `every` new results in each call
    assert max(sizes) <= 5 and len(sizes) == 5
    assert _fold(iter([7]), combine, every=4) == 7


def test_row_groups_read_back_as_to_parquet_writes(parts, tmp_path):
    files, _ = parts
    frame = merge_sorted(files)
    frame.attrs["leakage"] = {"rows": [1, 2]}
    whole, groups = tmp_path / "whole.parquet", tmp_path / "groups.parquet"
    frame.to_parquet(whole)
    write_row_groups(frame, groups, rows=7)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(groups).metadata.num_row_groups == -(-len(frame) // 7)
    back = pd.read_parquet(groups)
    pd.testing.assert_frame_equal(back, pd.read_parquet(whole))
    assert back.attrs == pd.read_parquet(whole).attrs == {"leakage": {"rows": [1, 2]}}
