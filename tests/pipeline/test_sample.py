"""The training and segmentation samples: reproducible, unbiased, partition independent."""

import numpy as np
import pandas as pd
import pytest

from powerprofile import partition_of
from powerprofile.pipeline._sample import (
    customer_uniform,
    segment_sample_mask,
    training_sample,
    uniform_rows,
)


def _frame(n_customers=4000, n_snaps=3, rate=0.05, seed=1):
    rng = np.random.default_rng(seed)
    ids = [f"C{i:07d}" for i in range(n_customers)]
    snaps = pd.date_range("2025-01-01", periods=n_snaps, freq="MS")
    idx = pd.MultiIndex.from_product(
        [pd.Index(ids, dtype="string"), snaps], names=["customer_id", "snapshot_date"]
    )
    n = len(idx)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n).astype(np.float32),
            "label_churn": (rng.random(n) < rate).astype(np.int8),
            "label_complaint": (rng.random(n) < rate / 2).astype(np.int8),
        },
        index=idx,
    )


def test_every_positive_kept_and_weights_sum_to_the_population():
    frame = _frame()
    f = 0.2
    kept, w = training_sample(frame, f, seed=7)
    pos = (frame["label_churn"] > 0) | (frame["label_complaint"] > 0)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    # every positive row of either target is kept, with weight 1
    assert set(frame.index[pos]) <= set(kept.index)
    kept_pos = (kept["label_churn"] > 0) | (kept["label_complaint"] > 0)
    assert int(kept_pos.sum()) == n_pos
    assert np.all(w[kept_pos.to_numpy()] == 1.0)
    # negatives weigh 1 / f, and about f of them are kept
    assert np.all(w[~kept_pos.to_numpy()] == 5.0)
    n_kept_neg = int((~kept_pos).sum())
    sd = np.sqrt(n_neg * f * (1 - f))
    assert abs(n_kept_neg - f * n_neg) < 4 * sd
    # the weights add up to the population: n_pos + n_kept_neg / f ~ n_pos + n_neg
    assert abs(w.sum() - len(frame)) < 4 * sd / f
    # hand check of the identity on this draw
    assert w.sum() == pytest.approx(n_pos + n_kept_neg * 5.0)


def test_sample_is_reproducible_and_independent_of_order_and_partitioning():
    frame = _frame(n_customers=1500)
    kept, _ = training_sample(frame, 0.3, seed=3)
    shuffled = frame.sample(frac=1.0, random_state=0)
    kept2, _ = training_sample(shuffled, 0.3, seed=3)
    assert set(kept.index) == set(kept2.index)
    ids = frame.index.get_level_values("customer_id")
    parts = partition_of(ids, 4)
    pieces = [training_sample(frame[parts == p], 0.3, seed=3)[0] for p in range(4)]
    assert set(pd.concat(pieces).index) == set(kept.index)
    # another seed draws other rows
    other, _ = training_sample(frame, 0.3, seed=4)
    assert set(other.index) != set(kept.index)


def test_fraction_one_keeps_every_row_with_unit_weights():
    frame = _frame(n_customers=200)
    kept, w = training_sample(frame, 1.0, seed=0)
    assert kept is frame and np.all(w == 1.0)


def test_uniform_rows_are_the_drawn_negatives_and_uniform():
    frame = _frame(n_customers=3000)
    kept, _ = training_sample(frame, 0.25, seed=5)
    u = uniform_rows(frame, 0.25, seed=5)
    assert set(frame.index[u]) <= set(kept.index)
    # positives enter the uniform rows at the same rate as negatives
    pos = frame["label_churn"].to_numpy() > 0
    assert abs(u[pos].mean() - 0.25) < 0.06 and abs(u[~pos].mean() - 0.25) < 0.02


def test_customer_draw_is_uniform_and_segment_sample_by_customer():
    u = customer_uniform([f"C{i}" for i in range(20000)], seed=0)
    assert 0 <= u.min() and u.max() < 1
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert counts.min() > 1800 and counts.max() < 2200
    frame = _frame(n_customers=1000)
    m = segment_sample_mask(frame, 0.5, seed=0)
    by_customer = pd.Series(m, index=frame.index.get_level_values("customer_id")).groupby(level=0)
    assert (by_customer.nunique() == 1).all()  # all of a customer's rows or none
