"""Size-adaptive LightGBM defaults of the propensity model's candidate structures.

One rule, stated once, owns every tree parameter default that depends on how much data
there is. It reads the training table's ``n`` rows, its ``m`` rows of the rarer class
(the events, usually) and the structure being fitted (``//``: integer division):

===================  =============================  ===================================
parameter            additive and pairwise          free (unconstrained)
===================  =============================  ===================================
``num_leaves``       ``n // 700`` in [3, 7]         ``m // 15`` in [7, 31]; 7 from
                                                    25,000 rows
``min_data_in_leaf`` ``n // 25`` in [20, 100]       ``n // 250`` in [10, 100]
``lambda_l2``        10                             ``min_data_in_leaf / 10``
``feature_fraction`` 0.5                            0.8; 0.5 from 25,000 rows
``extra_trees``      yes below 25,000 rows          no
``learning_rate``    0.15 with ``extra_trees``,     0.1
                     else 0.1
===================  =============================  ===================================

and, for every structure, ``bagging_fraction`` 0.8 (every
round), at most 1,000 rounds (``n_estimators``) and 25 rounds of early-stopping
patience. From 25,000 rows every value sits at its large-table end, the defaults the
model had before the rule (7 leaves of at least 100 rows, ``lambda_l2`` 10, feature
fraction 0.5): on the generator's out-of-time validation (66,000 training rows, 600
events) 31-leaf unconstrained trees won the validation log loss yet lost 4 % of the
oracle AUC on the later holdout, where 7-leaf trees reach it.

Why, as measured on the quality benchmark's public tables (``bench_model_quality.py
peers``): a one- or two-feature tree with 3 leaves on a table of 1,500 rows is a
smoother shape function than one with 7 (+0.004 AUC on ``attrition``; no change on the
tables of 6,000-7,000 rows, where 7 leaves stay better on the generator's table); the
unconstrained candidate needs room to express interactions — with 7 leaves of 100 rows
on 4,000 training rows it trailed a tuned LightGBM grid by 0.005 AUC and 0.011 Brier
on ``mlc_churn``, with 31 leaves of 16 rows it matches the grid; and a
smaller learning rate (0.03, as the small tables were tried with) bought no accuracy
outside the fold noise for 2-3 times the fitting time, so it stays 0.1 (0.15 for
randomised trees, below).

Below 25,000 rows the additive and pairwise trees are *extremely randomised*
(LightGBM ``extra_trees``: each split takes the best of one random threshold per
feature instead of the best of every bin boundary). A shape function fitted on a few
hundred events by exact threshold search puts its steps where the noise of those
events puts them; random thresholds spread the steps over the feature's range, so the
sum of the trees is a smoother curve (explainable boosting machines get there by
averaging bagged models, at many times the cost). Randomised trees gain less per
round: at a learning rate of 0.1 early stopping took about twice as many rounds
(``wa_churn``, 7,043 rows: 1.7 CPU-s per fit instead of 1.3), so they take steps of
0.15, which brings their rounds and fitting time back to those of exact trees at 0.1
with the same accuracy. Measured on the tables of ``bench_model_quality.py peers``
(same folds, against exact trees at 0.1): AUC +0.010 on ``attrition`` (1,470 rows:
0.842 to 0.851, Brier 0.092 to 0.089), +0.002 on ``wa_churn`` and on
``breast_cancer``, no change outside the noise on the generator's flat table (34
events), and none on ``mlc_churn``, whose unconstrained trees win the structure
choice (randomised unconstrained trees lost 0.005 Brier there, so they keep the exact
search). On the generator's out-of-time benchmark with 3,000 customers (19,299
training rows) the additive complaint model went from 0.774 to 0.825 AUC. Large tables
keep the exact search: their thresholds are estimated from thousands of events.

Every parameter passed explicitly to :class:`~powerprofile.models.PropensityModel`
(or in ``lgbm_params``) overrides the rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["size_defaults"]

_LARGE = 25_000
"""Rows from which an unconstrained tree takes its large-table shape and additive and
pairwise trees search their thresholds exactly."""


def size_defaults(structure: str, n_rows: int, n_minority: int) -> dict:
    """Default LightGBM parameters of a candidate structure for a table's size.

    Parameters
    ----------
    structure : {"additive", "pairwise", "free"}
        The candidate structure.
    n_rows : int
        Training rows.
    n_minority : int
        Training rows of the rarer class.

    Returns
    -------
    dict
        ``learning_rate``, ``num_leaves``, ``min_data_in_leaf``, ``feature_fraction``,
        ``bagging_fraction``, ``lambda_l2``, ``extra_trees`` (LightGBM names),
        ``n_estimators`` (the most boosting rounds) and ``early_stopping_rounds``.

    Examples
    --------
    >>> size_defaults("additive", 1_000_000, 30_000)["learning_rate"]
    0.1
    >>> size_defaults("free", 5_000, 700)["min_data_in_leaf"]
    20
    >>> size_defaults("pairwise", 1_500, 240)["extra_trees"]
    True
    >>> size_defaults("pairwise", 1_500, 240)["learning_rate"]
    0.15
    """
    n, m = max(int(n_rows), 1), max(int(n_minority), 1)
    if structure == "free" and n < _LARGE:
        leaf = max(n // 250, 10)
        leaves, l2, colsample = int(np.clip(m // 15, 7, 31)), leaf / 10.0, 0.8
    elif structure == "free":
        leaf, leaves, l2, colsample = 100, 7, 10.0, 0.5
    else:
        leaf = int(np.clip(n // 25, 20, 100))
        leaves, l2, colsample = int(np.clip(n // 700, 3, 7)), 10.0, 0.5
    randomised = structure != "free" and n < _LARGE
    return {
        "learning_rate": 0.15 if randomised else 0.1,
        "num_leaves": leaves,
        "min_data_in_leaf": leaf,
        "feature_fraction": colsample,
        "bagging_fraction": 0.8,
        "lambda_l2": l2,
        "extra_trees": randomised,
        "n_estimators": 1000,
        "early_stopping_rounds": 25,
    }
