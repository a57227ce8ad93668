"""Propensity models: calibrated LightGBM with out-of-time validation, evaluation, persistence.

Segmentation lives in :mod:`powerprofile.segmentation`; explanations (reason codes) in
:mod:`powerprofile.explain`.
"""

from ._evaluate import evaluate, gains_table, logistic_baseline, logistic_baselines
from ._metrics import expected_calibration_error
from ._persistence import load_model
from ._propensity import PropensityModel

__all__ = [
    "PropensityModel",
    "evaluate",
    "expected_calibration_error",
    "gains_table",
    "load_model",
    "logistic_baseline",
    "logistic_baselines",
]
