"""Explanations of propensity scores: exact TreeSHAP contributions and reason codes.

``explain(model, X, top_k=3)`` gives each row its top reasons (feature, value or
category level, contribution, direction, English and Chinese phrase from the feature
catalogue); ``contributions`` gives the full TreeSHAP matrix; ``global_importance`` the mean
absolute contribution per feature.
"""

import sys as _sys
import types as _types

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


class _CallableModule(_types.ModuleType):
    """``powerprofile.explain`` is both this subpackage and the :func:`explain` function.

    Importing the subpackage sets the attribute ``powerprofile.explain`` to the module,
    which would hide the top-level function of the same name; calling the module
    calls the function, so ``powerprofile.explain(model, X)`` works either way.
    """

    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
