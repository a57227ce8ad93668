"""scikit-learn's estimator checks, with the expected failures named and explained."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from powerprofile.models import PropensityModel

# tiny check data sets leave a calibration half with one class: the model warns
pytestmark = pytest.mark.filterwarnings("ignore:The calibration rows hold only one class")

# min_child_samples=5: the checks fit data sets of 10-300 rows, on which the default
# (100 rows per leaf) cannot split at all.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "LightGBM counts rows, not weights, for min_data_in_leaf and bagging, and the "
        "out-of-time split/early stopping see different rows when points are repeated, "
        "so weight 2 is not the same as a duplicated row."
    ),
    "check_class_weight_classifiers": (
        "class_weight reweights training only: the calibration, fitted on out-of-fold "
        "scores with the rows' true labels, maps the inflated scores back to the "
        "population's probabilities, so even extreme weights do not make predict() "
        "favour the heavy class."
    ),
}


def _expected(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [PropensityModel(n_estimators=30, min_child_samples=5, n_jobs=1)],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
