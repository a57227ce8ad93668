"""The partitions' frames as one sorted frame: equal to pandas' concat then sort_index."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.features._concat import concat_sorted, sorted_layout


def _parts(seed: int, n_customers: int, n_parts: int, same_categories: bool, attrs: bool):
    """Feature parts as the tasks return them: hashed customers, rows not sorted."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:06d}" for i in rng.permutation(n_customers)])
    snaps = pd.to_datetime(["2025-01-01", "2025-02-01"])
    frames = []
    for p in range(n_parts):
        mine = ids[p::n_parts]
        rows = [(c, s) for s in snaps for c in mine if rng.random() < 0.8]
        n = len(rows)
        idx = pd.MultiIndex.from_arrays(
            [
                pd.Index([r[0] for r in rows], dtype="string"),
                pd.DatetimeIndex([r[1] for r in rows]),
            ],
            names=["customer_id", "snapshot_date"],
        )
        kwh = rng.normal(size=n).astype(np.float32)
        kwh[rng.random(n) < 0.2] = np.nan
        levels = ["residential", "commercial"] if same_categories else [f"t{p}", "commercial"]
        region = pd.array(rng.choice(["east", "west"], n), dtype="string")
        region[rng.random(n) < 0.1] = pd.NA
        frame = pd.DataFrame(
            {
                "customer_type": pd.Categorical(rng.choice(levels, n), categories=levels),
                "kwh_30d": kwh,
                "short_history": rng.random(n) < 0.5,
                "label_churn": rng.integers(0, 2, n).astype(np.int8),
                "region": region,
                "_weight": rng.uniform(1, 3, n),
                # a second column of kwh_30d's dtype, apart from it: one dtype's
                # columns are moved together
                "kwh_90d": rng.normal(size=n).astype(np.float32),
            },
            index=idx,
        )
        frame.attrs = {"leakage": "none"} if attrs or p == 0 else {"leakage": f"part {p}"}
        frames.append(frame)
    return [f for f in frames if len(f)] or frames[:1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    n_customers=st.integers(1, 60),
    n_parts=st.integers(1, 6),
    same_categories=st.booleans(),
    attrs=st.booleans(),
)
def test_concat_sorted_equals_concat_then_sort_index(
    seed, n_customers, n_parts, same_categories, attrs
):
    frames = _parts(seed, n_customers, n_parts, same_categories, attrs)
    got = concat_sorted(frames)
    if len(frames) == 1:
        assert got is frames[0]
        return
    expected = pd.concat(frames).sort_index()
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs
    assert got.index.is_monotonic_increasing


def test_sorted_layout_moves_each_row_to_its_sorted_place():
    a = pd.MultiIndex.from_arrays([["b", "d"], [2, 1]], names=["k", "s"])
    b = pd.MultiIndex.from_arrays([["c", "a", "b"], [1, 1, 1]], names=["k", "s"])
    index, order, dest = sorted_layout([a, b])
    # concatenation: (b,2) (d,1) (c,1) (a,1) (b,1); sorted: (a,1) (b,1) (b,2) (c,1) (d,1)
    assert list(index) == [("a", 1), ("b", 1), ("b", 2), ("c", 1), ("d", 1)]
    assert order.tolist() == [3, 4, 0, 2, 1]
    assert dest.tolist() == [2, 4, 3, 0, 1]


def test_repeated_keys_and_differing_dtypes_fall_back_to_pandas():
    idx = pd.MultiIndex.from_arrays([["a", "b"], [1, 1]], names=["k", "s"])
    one = pd.DataFrame({"x": [2.0, 1.0], "y": [1, 2]}, index=idx)
    again = pd.DataFrame({"x": [3.0, 4.0], "y": [5, 6]}, index=idx[::-1])  # same keys
    got = concat_sorted([one, again])
    pd.testing.assert_frame_equal(got, pd.concat([one, again]).sort_index())
    as_float = again.astype({"y": "float64"})
    got = concat_sorted([one, as_float])
    pd.testing.assert_frame_equal(got, pd.concat([one, as_float]).sort_index())
