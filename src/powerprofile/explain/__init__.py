"""Explanations of propensity scores: exact TreeSHAP contributions and reason codes.

``explain(model, X, top_k=3)`` gives each row its top reasons (feature, value,
contribution, direction, English and Chinese phrase from the feature catalogue);
``contributions`` gives the full TreeSHAP matrix; ``global_importance`` the mean
absolute contribution per feature.
"""

from ._contrib import BASE_VALUE, contributions, global_importance
from ._reasons import explain, reason_phrases, select_top_k

__all__ = [
    "BASE_VALUE",
    "contributions",
    "explain",
    "global_importance",
    "reason_phrases",
    "select_top_k",
]
