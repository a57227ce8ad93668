"""A fitted ``reference`` survives scikit-learn's ``clone``, ``Pipeline`` and ``GridSearchCV``."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from powerprofile.segmentation import CustomerSegmenter

from .conftest import make_population

PARAMS = dict(n_clusters=4, n_init=2, random_state=0)


@pytest.fixture(scope="module")
def quarters():
    # the same four kinds in other proportions: plain refits number them differently
    X1, kind1 = make_population(1200, seed=10, shares=[0.4, 0.3, 0.1, 0.2])
    X2, kind2 = make_population(1200, seed=11, shares=[0.1, 0.2, 0.4, 0.3])
    old = CustomerSegmenter(**PARAMS).fit(X1)
    return old, kind1, X2, kind2


def _id_of_kind(labels, kind):
    return {k: int(pd.Series(labels[kind == k]).mode()[0]) for k in range(4)}


def test_clone_keeps_the_fitted_reference(quarters):
    old, kind1, X2, kind2 = quarters
    est = CustomerSegmenter(**PARAMS, reference=old)
    twin = clone(est)
    assert twin.reference is old  # shared, not re-created unfitted
    assert twin is not est and not hasattr(twin, "labels_")
    twin.fit(X2)
    # the ids are the reference's ids for the same kinds of customer
    assert _id_of_kind(twin.labels_, kind2) == _id_of_kind(old.labels_, kind1)
    assert set(twin.matching_["reference_id"]) == {0, 1, 2, 3}
    # a clone of a fitted segmenter is unfitted, as for any estimator
    fitted_twin = clone(twin)
    assert not hasattr(fitted_twin, "labels_")
    assert fitted_twin.reference is old


def test_clone_of_an_unfitted_reference_still_refuses_to_fit(quarters):
    _, _, X2, _ = quarters
    with pytest.raises(NotFittedError):
        clone(CustomerSegmenter(**PARAMS, reference=CustomerSegmenter())).fit(X2)


def test_reference_and_previous_inside_a_pipeline(quarters):
    old, kind1, X2, kind2 = quarters
    expected = _id_of_kind(old.labels_, kind1)
    pipe = Pipeline(
        [("log", FunctionTransformer(lambda X: X)), ("seg", CustomerSegmenter(**PARAMS))]
    )
    # reference= through set_params on a cloned pipeline
    by_param = clone(pipe.set_params(seg__reference=old)).fit(X2)
    assert _id_of_kind(by_param.named_steps["seg"].labels_, kind2) == expected
    # previous= routed as a fit parameter
    pipe.set_params(seg__reference=None)
    by_fit = clone(pipe).fit(X2, seg__previous=old)
    np.testing.assert_array_equal(
        by_fit.named_steps["seg"].labels_, by_param.named_steps["seg"].labels_
    )


def test_reference_inside_grid_search(quarters):
    old, kind1, X2, kind2 = quarters
    seen = []

    def matched_share(est, X, y=None):
        # every candidate is a clone fitted on a training fold: it must have been matched
        assert est.matching_ is not None
        seen.append(set(est.matching_["reference_id"]))
        return float(np.mean(est.matching_["jaccard"]))

    search = GridSearchCV(
        CustomerSegmenter(**PARAMS, reference=old),
        {"min_jaccard": [0.2, 0.3]},
        scoring=matched_share,
        cv=2,
    ).fit(X2)
    assert len(seen) == 2 * 2
    assert all(s == {0, 1, 2, 3} for s in seen)
    best = search.best_estimator_
    assert best.reference is old
    assert _id_of_kind(best.labels_, kind2) == _id_of_kind(old.labels_, kind1)
