"""Quality bars against the generator's latent segments (CI-sized population).

3,000 customers (seed 3), features at 2025-07-01 and the next quarter, 2025-10-01.
The same figures at 20,000 customers come from ``benchmarks/bench_segments.py``.
"""

import warnings

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from powerprofile.datasets import make_utility_data
from powerprofile.features import build_features
from powerprofile.segmentation import CustomerSegmenter, same_segment_share, transition_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quarters():
    tables, truth = make_utility_data(3000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = build_features(tables, "2025-07-01")
        f2 = build_features(tables, "2025-10-01")
    latent = truth.segments.set_index("customer_id")["segment"]
    return f1, f2, latent


def test_segments_recover_latent_archetypes_and_keep_ids(quarters):
    f1, f2, latent = quarters
    # the generator has 7 archetypes; searching k in 5..9 keeps the test short
    seg1 = CustomerSegmenter(k_range=(5, 9), random_state=0).fit(f1)
    truth = latent.reindex(f1.index.get_level_values("customer_id")).to_numpy()
    assert adjusted_rand_score(truth, seg1.labels_) >= 0.8
    seg2 = CustomerSegmenter(k_range=(5, 9), random_state=0).fit(f2, previous=seg1)
    before = pd.Series(seg1.predict(f1), index=f1.index.get_level_values("customer_id"))
    after = pd.Series(seg2.predict(f2), index=f2.index.get_level_values("customer_id"))
    assert same_segment_share(before, after) >= 0.95
    tab = transition_table(before, after)
    common = before.index.intersection(after.index)
    assert int(tab.drop(index="(new)", columns="(gone)", errors="ignore").to_numpy().sum()) == len(
        common
    )
    # every segment has a bilingual name
    assert all(en and zh for en, zh in seg2.names_.values())
