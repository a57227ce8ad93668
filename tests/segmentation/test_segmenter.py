"""CustomerSegmenter: recovery, automatic k, names, profile, stable ids, estimator checks."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from powerprofile.exceptions import FeatureMismatchError, NotFittedError
from powerprofile.segmentation import CustomerSegmenter, same_segment_share, transition_table

from .conftest import make_population


@parametrize_with_checks(
    [
        CustomerSegmenter(n_clusters=3, n_init=2),
        CustomerSegmenter(k_range=(2, 3), n_resamples=2, n_init=2),
    ]
)
def test_sklearn_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def fitted(population):
    X, _ = population
    return CustomerSegmenter(n_init=3, random_state=0).fit(X)


def test_recovers_kinds_and_chooses_k(population, fitted):
    X, kind = population
    seg = fitted
    assert seg.n_clusters_ == 4
    assert adjusted_rand_score(kind, seg.labels_) > 0.95
    scores = seg.k_scores_
    assert list(scores["k"]) == list(range(3, 11))
    assert scores.loc[scores["chosen"], "k"].item() == 4
    # canonical ids: largest segment first
    sizes = pd.Series(seg.labels_).value_counts()
    assert list(sizes.index) == sorted(sizes.index)


def test_names_describe_what_sets_segments_apart(population, fitted):
    X, kind = population
    seg = fitted
    labels = seg.labels_
    # the segment holding most of kind 0 (digital households) and of kind 2 (offices)
    digital = pd.Series(labels[kind == 0]).mode()[0]
    office = pd.Series(labels[kind == 2]).mode()[0]
    counter = pd.Series(labels[kind == 1]).mode()[0]
    en, zh = seg.names_[digital]
    assert "digital-first" in en and "线上偏好" in zh
    en, zh = seg.names_[office]
    assert "high-usage" in en and "weekday-business" in en and "高用电" in zh
    en, zh = seg.names_[counter]
    assert "counter-payer" in en or "offline-contact" in en
    assert len({n[0] for n in seg.names_.values()}) == seg.n_clusters_  # unique names


def test_profile_table(population, fitted):
    X, kind = population
    rng = np.random.default_rng(3)
    # churn labels whose rate depends on the true kind: 10 %, 0 %, 50 %, 20 %
    p = np.array([0.1, 0.0, 0.5, 0.2])[kind]
    y = pd.DataFrame({"label_churn": (rng.random(len(X)) < p).astype(int)}, index=X.index)
    seg = fitted
    prof = seg.profile(X, y)
    assert prof.loc[-1, "size"] == len(X) and prof.loc[-1, "share"] == 1.0
    body = prof.drop(index=-1)
    assert body["size"].sum() == len(X)
    assert body["share"].sum() == pytest.approx(1.0)
    for k in range(4):
        sid = pd.Series(seg.labels_[kind == k]).mode()[0]
        expected_rate = y["label_churn"].to_numpy()[kind == k].mean()
        assert body.loc[sid, "churn_rate"] == pytest.approx(expected_rate, abs=0.01)
        expected_median = X["kwh_mean_365d"].to_numpy()[kind == k]
        assert body.loc[sid, "median_kwh_mean_365d"] == pytest.approx(
            np.median(expected_median), rel=0.05
        )
    assert "complaint_rate" not in prof.columns
    assert {"name_en", "name_zh", "median_online_contact_share_365d"} <= set(prof.columns)


def test_stable_ids_across_retrain():
    X1, kind1 = make_population(2500, seed=10, shares=[0.4, 0.3, 0.1, 0.2])
    # next run: same kinds, sizes reordered, so canonical ids alone would change
    X2, kind2 = make_population(2500, seed=11, shares=[0.1, 0.2, 0.4, 0.3])
    params = dict(n_clusters=4, n_init=3, random_state=0)
    old = CustomerSegmenter(**params).fit(X1)
    fresh = CustomerSegmenter(**params).fit(X2)
    new = CustomerSegmenter(**params).fit(X2, previous=old)
    id_of_kind_old = {k: pd.Series(old.labels_[kind1 == k]).mode()[0] for k in range(4)}
    id_of_kind_new = {k: pd.Series(new.labels_[kind2 == k]).mode()[0] for k in range(4)}
    id_of_kind_fresh = {k: pd.Series(fresh.labels_[kind2 == k]).mode()[0] for k in range(4)}
    assert id_of_kind_new == id_of_kind_old
    assert id_of_kind_fresh != id_of_kind_old  # the matching, not luck, kept the ids
    assert set(new.matching_["reference_id"]) == {0, 1, 2, 3}
    # the reference parameter does the same
    ref = CustomerSegmenter(**params, reference=old).fit(X2)
    np.testing.assert_array_equal(ref.labels_, new.labels_)


def test_new_kind_gets_a_new_id():
    X1, _ = make_population(2000, seed=20, shares=[0.5, 0.3, 0.0, 0.2])
    X2, kind2 = make_population(2000, seed=21, shares=[0.4, 0.3, 0.1, 0.2])
    old = CustomerSegmenter(n_clusters=3, n_init=3, random_state=0).fit(X1)
    new = CustomerSegmenter(n_clusters=4, n_init=3, random_state=0).fit(X2, previous=old)
    assert set(new.segment_ids_) == {0, 1, 2, 3}
    office_id = pd.Series(new.labels_[kind2 == 2]).mode()[0]
    assert office_id == 3  # fresh id: max previous id + 1


def test_same_population_next_quarter_keeps_ids():
    X1, kind = make_population(2500, seed=30)
    rng = np.random.default_rng(31)
    X2 = X1 * np.exp(rng.normal(0, 0.03, X1.shape))  # same customers, a little drift
    old = CustomerSegmenter(k_range=(3, 6), n_resamples=3, n_init=3, random_state=0).fit(X1)
    new = CustomerSegmenter(k_range=(3, 6), n_resamples=3, n_init=3, random_state=1).fit(
        X2, previous=old
    )
    before = pd.Series(old.predict(X1), index=X1.index)
    after = pd.Series(new.predict(X2), index=X2.index)
    assert same_segment_share(before, after) >= 0.95
    tab = transition_table(before, after)
    assert int(np.trace(tab.to_numpy())) == int((before == after).sum())


def test_transition_table_hand_computed():
    before = pd.Series([0, 0, 1, 2], index=pd.Index(["A", "B", "C", "E"], name="customer_id"))
    after = pd.Series([0, 1, 1, 1], index=pd.Index(["A", "B", "C", "D"], name="customer_id"))
    tab = transition_table(before, after)
    assert list(tab.index) == [0, 1, 2, "(new)"]
    assert list(tab.columns) == [0, 1, "(gone)"]
    expected = [[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert tab.to_numpy().tolist() == expected
    assert same_segment_share(before, after) == pytest.approx(2 / 3)
    share = transition_table(before, after, normalize=True)
    assert share.loc[0].tolist() == [0.5, 0.5, 0.0]


def test_errors(population):
    X, _ = population
    with pytest.raises(NotFittedError, match="not fitted yet"):
        CustomerSegmenter().predict(X)
    seg = CustomerSegmenter(n_clusters=3, n_init=1).fit(X)
    with pytest.raises(FeatureMismatchError, match=r"X lacks \['kwh_mean_365d'\]"):
        seg.predict(X.drop(columns="kwh_mean_365d"))
    with pytest.raises(ValueError, match=r"feature\(s\) \['nope'\] are not columns of X"):
        CustomerSegmenter(features=["nope"]).fit(X)


_PERM_X, _ = make_population(400, seed=5, noise=3.0)  # overlapping kinds: order could matter
_PERM_PARAMS = dict(k_range=(3, 5), n_resamples=2, n_init=3, n_jobs=1, random_state=0)


@pytest.fixture(scope="module")
def perm_base():
    return CustomerSegmenter(**_PERM_PARAMS).fit(_PERM_X)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_permutation_gives_same_segments(perm_base, seed):
    base = perm_base
    perm = np.random.default_rng(seed).permutation(len(_PERM_X))
    Xp = _PERM_X.iloc[perm]
    seg = CustomerSegmenter(**_PERM_PARAMS).fit(Xp)
    np.testing.assert_array_equal(seg.labels_, base.labels_[perm])
    assert seg.names_ == base.names_


def test_missing_values_do_not_form_their_own_segment():
    X, kind = make_population(2000, seed=40)
    rng = np.random.default_rng(41)
    # a third of the customers never contacted the utility: no online share
    X.loc[rng.random(len(X)) < 0.33, "online_contact_share_365d"] = np.nan
    partial = CustomerSegmenter(n_clusters=4, n_init=3, random_state=0).fit(X)
    assert adjusted_rand_score(kind, partial.labels_) > 0.95
    # a customer with every feature missing still gets a segment
    empty = X.iloc[:1].copy()
    empty.loc[:, :] = np.nan
    assert partial.predict(empty)[0] in partial.names_
