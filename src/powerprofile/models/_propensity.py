"""Calibrated LightGBM propensity model with out-of-time validation."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import warnings
from datetime import UTC, datetime

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from powerprofile.exceptions import NotFittedError

from .._cores import available_cores
from ._additive import TreeLookup
from ._calibration import choose_calibrator
from ._frame import capture_schema, prepare_frame, to_frame
from ._metrics import binary_metrics
from ._params import size_defaults
from ._split import crossfit_folds, out_of_time_split, resolve_time_and_groups
from ._structure import (
    STRUCTURE_TOLERANCE,
    STRUCTURES,
    choose_structure,
    interaction_constraints,
    log_loss,
    screen_pairs,
    screen_rows,
)

log = logging.getLogger(__name__)

_SMALL = 50_000
"""Below this many rows, ``n_jobs=None`` trains on one thread."""

__all__ = ["PropensityModel"]

_ROUND_KEYS = ("n_estimators", "early_stopping_rounds")
"""Entries of the size rule that are not LightGBM training parameters."""


def _dataset_params(params: dict) -> dict:
    """The parameters of a training run that a shared binned Dataset is built with."""
    return {k: v for k, v in params.items() if k != "interaction_constraints"}


def _matrix(Xp: pd.DataFrame) -> np.ndarray:
    """A prepared frame as LightGBM reads it: float64, category codes, missing as NaN.

    Predicting on it gives the same scores as on the frame (the frame's categories are
    the fitted ones) without converting the frame again at every call.
    """
    out = np.empty(Xp.shape, dtype=np.float64)
    for j, (_, col) in enumerate(Xp.items()):
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _jsonable(v):
    if isinstance(v, (np.datetime64, pd.Timestamp)):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v if isinstance(v, (int, float, str, bool, type(None))) else str(v)


class PropensityModel(ClassifierMixin, BaseEstimator):
    """Calibrated propensity (binary event) model: LightGBM with out-of-time validation.

    The model takes any feature DataFrame: numeric and boolean columns are used as
    numbers; ``category``, ``string``/``str`` and ``object`` columns are LightGBM
    native categoricals whose categories are fixed at fit time (a value unseen in
    training scores as missing). Arrays are accepted too (columns ``x0``, ``x1``, …).

    **Validation.** Rows are split on the snapshot level: the latest snapshots holding
    about ``validation_size`` of the rows validate, the earlier ones train, and no
    snapshot is on both sides. The snapshot comes from the ``snapshot_date`` level of
    a (customer_id, snapshot_date) MultiIndex, or from ``time=`` in :meth:`fit`.
    With ``gap_days``, training snapshots whose label window reaches into the first
    validation snapshot are purged. Fallback: a single snapshot (or no time) with
    customers (``groups=``) splits customers instead, and logs a warning saying so.
    The validation rows are halved *by customer*: one half drives early stopping, the
    other half chooses and fits the calibration. Early stopping and calibration on the
    same rows would make the calibrator see scores already tuned on those rows
    (optimistic, too-confident maps); disjoint halves cost half the rows but keep both
    unbiased.

    **Flat tables.** With neither time nor customers (one row per customer, no
    snapshot), nothing tells which rows are "later", so no row order is assumed:
    ``n_folds`` stratified folds (seeded) cross-fit the model. The number of rounds
    is the one that minimises the mean out-of-fold metric, the calibration is fitted
    on the out-of-fold scores, and the deployed booster is refitted on every row with
    that number of rounds (``split_["strategy"] == "crossfit"``). With fewer events
    than folds, the model trains on every row for ``n_estimators`` rounds, without
    calibration, and logs a warning saying so.

    **Calibration.** With ``calibration="auto"``, sigmoid (Platt) and isotonic maps
    are cross-fitted over two customer halves of the calibration rows; the lower
    out-of-half log loss wins and is refitted on all calibration rows. Both maps are
    strictly increasing, so probabilities rank exactly as the raw score.

    **Refit policy.** With snapshots, the booster is *not* refitted on the validation
    snapshots: the deployed model is exactly the one that was early-stopped and
    calibrated, so its calibration holds. To use the newest data, retrain with the
    snapshot window moved forward (the validation snapshots then become training
    snapshots). Flat tables are refitted on every row (see above).

    **Class imbalance.** Events are rare (a few percent per horizon). The default
    trains on the natural rate with log loss (best for calibration) and early-stops on
    validation log loss; ``class_weight="balanced"`` reweights the classes in
    training and early-stops on PR AUC, and calibration maps the inflated scores back
    to probabilities. Fitting fails with a clear message when a side of the split has
    no event.

    **Structure.** ``structure="auto"`` (default) fits three candidates and keeps the
    simplest one whose validation log loss (early-stopping rows, or out of fold on
    flat tables) is within 0.2 % of the best (see :mod:`powerprofile.models._structure`):

    - ``"additive"``: every tree splits on one feature (LightGBM
      ``interaction_constraints``), the model is a sum of per-feature shape functions;
    - ``"pairwise"``: additive trees plus trees on one of up to ``max_pairs`` pairs of
      features, screened on the additive model's residuals (each feature in at most one
      pair, so that no tree can reach a third feature);
    - ``"free"``: unconstrained trees.

    Exact TreeSHAP of the first two reduces to table look-ups (one- and
    two-dimensional), so reason codes for a million customers take seconds; the third
    uses LightGBM's exact ``pred_contrib`` (see :mod:`powerprofile.explain`). The
    choice and every candidate's validation loss are in ``structure_``,
    ``structure_losses_`` and ``metadata_["structure"]``.

    **Tree parameters.** The tree parameters left at None follow one documented rule
    of the table's size (rows, and rows of the rarer class) and the structure,
    :func:`powerprofile.models._params.size_defaults`: small tables get shallower
    additive and pairwise trees and fewer rows per leaf, unconstrained trees get more
    leaves as the events grow; under 25,000 rows, additive and pairwise trees draw
    their split thresholds at random (LightGBM ``extra_trees``: smoother shape
    functions on few events). What was used is in ``metadata_["tree_params"]``;
    every parameter passed explicitly (or in ``lgbm_params``) overrides the rule.

    With snapshots and more than ``selection_rows`` training rows, the candidates are
    fitted on a seeded subsample of that many training rows (stratified on the label,
    weights unchanged) and scored on *every* early-stopping row; the chosen structure
    is then fitted again on every training row, its number of rounds re-picked by
    early stopping. The structure is a coarse choice that a subsample decides like the
    whole sample (same choice on both targets of the 100,000-customer benchmark), and
    the training costs about half as much. Flat tables (cross-fitting) always score
    the candidates on every row.

    Parameters
    ----------
    n_estimators : int or None, default=None
        Maximum boosting rounds (early stopping picks the number used); None: the
        size rule (1,000).
    learning_rate : float or None, default=None
        Shrinkage; None: the size rule (0.1; 0.15 for the randomised additive and
        pairwise trees of tables under 25,000 rows).
    num_leaves : int or None, default=None
        Leaves per tree; None: the size rule (additive and pairwise: one leaf per 700
        rows, between 3 and 7; free: one per 15 rows of the rarer class, between 7
        and 31).
    max_depth : int, default=-1
        Depth limit (-1: none).
    min_child_samples : int or None, default=None
        Minimum rows per leaf; None: the size rule (additive and pairwise: rows / 25,
        free: rows / 250, both between their floor and 100).
    subsample : float or None, default=None
        Row bagging fraction per round; None: the size rule (0.8).
    colsample_bytree : float or None, default=None
        Feature fraction per tree; None: the size rule (0.5, free 0.8).
    reg_lambda : float or None, default=None
        L2 regularisation of leaf values; None: the size rule (10, free
        ``min_child_samples / 10``).
    structure : {"auto", "additive", "pairwise", "free"}, default="auto"
        Tree structure, or the one chosen on validation (see above).
    max_pairs : int, default=10
        Most feature pairs a pairwise model may use.
    selection_rows : int or None, default=50_000
        With ``structure="auto"`` and snapshots, most training rows the candidate
        structures are fitted on before the chosen one is fitted on every row (None:
        every candidate on every row).
    additive : bool or None, default=None
        Deprecated alias: ``True`` is ``structure="additive"``, ``False`` is
        ``structure="free"``.
    class_weight : {None, "balanced"} or dict, default=None
        Class weighting in training.
    calibration : {"auto", "sigmoid", "isotonic", "none"}, default="auto"
        Calibration family, or the one chosen on validation.
    validation_size : float, default=0.25
        Target share of rows in the validation snapshots.
    n_folds : int, default=5
        Cross-fitting folds on flat tables (neither time nor customers).
    early_stopping_rounds : int or None, default=None
        Rounds without improvement before stopping (0: no early stopping); None: the
        size rule (25).
    horizon_days : int or None, default=None
        Label horizon, recorded in the metadata.
    gap_days : int or None, default=None
        Purge: drop training snapshots less than ``gap_days`` before the first
        validation snapshot, so that no training label window reaches into the
        validation period (set it to the horizon for a fully purged validation; it
        costs that many days of training snapshots).
    label : str or None, default=None
        Label definition, recorded in the metadata (e.g. ``"churn: any event kind
        within 90 days"``).
    time_level : str, default="snapshot_date"
        Index level holding the snapshot.
    lgbm_params : dict or None, default=None
        Extra LightGBM parameters (override the ones above).
    n_jobs : int or None, default=None
        Threads (None: one thread below 50,000 rows, where threads cost more than
        they save, else every core the process may run on, ``os.sched_getaffinity``).
    random_state : int, default=0
        Seed (bagging, halving); training is deterministic for a seed.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The trained booster.
    best_iteration_ : int
        Trees used.
    structure_ : str
        The structure fitted (``"additive"``, ``"pairwise"`` or ``"free"``).
    structure_losses_ : dict
        Validation log loss of each candidate structure fitted.
    selection_rows_ : int
        Training rows the candidate structures were fitted on.
    pairs_ : list of tuple
        Feature pairs a pairwise model may split on together (empty otherwise).
    lookup_ : TreeLookup or None
        Exact reason tables (additive and pairwise structures).
    calibrator_ : Calibrator
        Fitted raw-score-to-probability map; ``calibration_`` names its family.
    classes_ : numpy.ndarray
        The two class labels; the second is the event.
    n_features_in_ : int
        Number of features.
    feature_names_in_ : numpy.ndarray
        Feature names (when fitted on a DataFrame).
    split_ : dict
        Split strategy, snapshots and row counts.
    metadata_ : dict
        Everything saved with the model (features, dtypes and categories, snapshot
        range, horizon, label, metrics, versions).
    version_ : str
        Content hash of the fitted model, e.g. ``"pm-3f2a9c1d0b7e"``.

    Examples
    --------
    >>> model = PropensityModel(horizon_days=90, label="churn")  # doctest: +SKIP
    >>> model.fit(frame.drop(columns=labels), frame["label_churn"])  # doctest: +SKIP
    >>> model.predict_proba(scoring_frame)[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        n_estimators=None,
        learning_rate=None,
        num_leaves=None,
        max_depth=-1,
        min_child_samples=None,
        subsample=None,
        colsample_bytree=None,
        reg_lambda=None,
        structure="auto",
        max_pairs=10,
        selection_rows=50_000,
        additive=None,
        class_weight=None,
        calibration="auto",
        validation_size=0.25,
        n_folds=5,
        early_stopping_rounds=None,
        horizon_days=None,
        gap_days=None,
        label=None,
        time_level="snapshot_date",
        lgbm_params=None,
        n_jobs=None,
        random_state=0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.structure = structure
        self.max_pairs = max_pairs
        self.selection_rows = selection_rows
        self.additive = additive
        self.class_weight = class_weight
        self.calibration = calibration
        self.validation_size = validation_size
        self.n_folds = n_folds
        self.early_stopping_rounds = early_stopping_rounds
        self.horizon_days = horizon_days
        self.gap_days = gap_days
        self.label = label
        self.time_level = time_level
        self.lgbm_params = lgbm_params
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _validate_params(self):
        if self.calibration not in ("auto", "sigmoid", "isotonic", "none"):
            raise ValueError(
                f"calibration must be 'auto', 'sigmoid', 'isotonic' or 'none', got {self.calibration!r}."
            )
        if not 0 < float(self.validation_size) < 1:
            raise ValueError(f"validation_size must be in (0, 1), got {self.validation_size!r}.")
        if self.class_weight not in (None, "balanced") and not isinstance(self.class_weight, dict):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}."
            )
        if self.n_estimators is not None and int(self.n_estimators) < 1:
            raise ValueError(f"n_estimators must be >= 1, got {self.n_estimators!r}.")
        if self.selection_rows is not None and not int(self.selection_rows) >= 1000:
            raise ValueError(
                f"selection_rows must be None or >= 1000, got {self.selection_rows!r}; "
                "pass None to fit every candidate structure on every training row."
            )

    def _tree_params(self, structure):
        """The size rule's defaults for ``structure``, overridden by explicit parameters.

        The table size is the one recorded by :meth:`fit` (rows, rows of the rarer
        class); see :func:`powerprofile.models._params.size_defaults`.
        """
        n_rows, n_minority = getattr(self, "_table_size", (0, 0))
        params = size_defaults(structure, n_rows, n_minority)
        explicit = {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "n_estimators": self.n_estimators,
            "early_stopping_rounds": self.early_stopping_rounds,
        }
        params.update({k: v for k, v in explicit.items() if v is not None})
        # lgbm_params win over both (see _lgb_params): record what is used
        extra = self.lgbm_params or {}
        params.update({k: extra[k] for k in params if k in extra and k not in _ROUND_KEYS})
        return params

    def _rounds(self, structure):
        """Most boosting rounds and early-stopping patience of ``structure``."""
        p = self._tree_params(structure)
        return int(p["n_estimators"]), int(p["early_stopping_rounds"] or 0)

    def _lgb_params(self, n_features, structure="additive", pairs=(), n_rows=None):
        tree = self._tree_params(structure)
        params = dict(
            objective="binary",
            learning_rate=float(tree["learning_rate"]),
            num_leaves=int(tree["num_leaves"]),
            max_depth=int(self.max_depth),
            min_data_in_leaf=int(tree["min_data_in_leaf"]),
            bagging_fraction=float(tree["bagging_fraction"]),
            bagging_freq=1 if float(tree["bagging_fraction"]) < 1 else 0,
            feature_fraction=float(tree["feature_fraction"]),
            lambda_l2=float(tree["lambda_l2"]),
            extra_trees=bool(tree["extra_trees"]),
            seed=int(self.random_state),
            deterministic=True,
            force_col_wise=True,
            verbosity=-1,
            min_data_per_group=20,
            # candidates share one Dataset but not min_data_in_leaf (see size_defaults)
            feature_pre_filter=False,
            cat_smooth=10.0,
            metric="average_precision" if self.class_weight is not None else "binary_logloss",
        )
        if self.n_jobs is not None:
            params["num_threads"] = int(self.n_jobs) if self.n_jobs > 0 else 0
        elif n_rows is not None and n_rows < _SMALL:
            params["num_threads"] = 1  # threads cost more than they save on small data
        else:
            params["num_threads"] = available_cores()
        cons = interaction_constraints(structure, n_features, pairs)
        if cons is not None:
            params["interaction_constraints"] = cons
        params.update(self.lgbm_params or {})
        return params

    def fit(self, X, y, *, time=None, groups=None, sample_weight=None):
        """Fit the booster on the earlier snapshots, early-stop and calibrate on the latest.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features, ideally indexed by (customer_id, snapshot_date).
        y : array-like of shape (n_samples,)
            Binary outcome (any two labels; the larger one is the event).
        time : array-like of shape (n_samples,), default=None
            Snapshot of each row, when X has no snapshot index level.
        groups : array-like of shape (n_samples,), default=None
            Customer of each row, when X has no customer index level.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        self : PropensityModel
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                "PropensityModel requires y to be passed, but the target y is None. "
                "Pass the 0/1 label column."
            )
        was_frame = isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)
        X = to_frame(X)
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; use y.ravel().",
                sklearn.exceptions.DataConversionWarning,
                stacklevel=2,
            )
            y_arr = y_arr.ravel()
        if len(y_arr) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y_arr)}; pass one label per row.")
        if len(X) < 2:
            raise ValueError(
                f"Found array with {len(X)} sample(s) (shape={X.shape}) while a minimum of 2 is required."
            )
        if X.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        if pd.isna(y_arr).any():
            raise ValueError("Input y contains NaN; drop the unlabeled rows before fitting.")
        check_classification_targets(y_arr)
        if type_of_target(y_arr) != "binary" or len(np.unique(y_arr)) != 2:
            raise ValueError(
                "Only binary classification is supported by PropensityModel; y has "
                f"{len(np.unique(y_arr))} "
                f"classes ({np.unique(y_arr)[:5]!r}). Pass a 0/1 event label."
            )
        self.classes_ = np.unique(y_arr)
        yb = (y_arr == self.classes_[1]).astype(np.int8)
        sw = None if sample_weight is None else np.asarray(sample_weight, float)
        if sw is not None and sw.shape != (len(X),):
            raise ValueError(f"sample_weight has shape {sw.shape}, expected ({len(X)},).")
        if sw is not None and not sw.sum() > 0:
            raise ValueError(
                f"sample_weight sums to {float(sw.sum())!r} (all weights zero?); at least one "
                "row needs a positive weight."
            )
        for col in X.columns:
            c = X[col]
            if pd.api.types.is_numeric_dtype(c.dtype) and not pd.api.types.is_bool_dtype(c.dtype):
                if np.isinf(c.to_numpy(dtype=float, na_value=np.nan)).any():
                    raise ValueError(
                        f"Input X contains infinity in column {col!r}; replace it with NaN or a finite value."
                    )
        self.schema_ = capture_schema(X)
        self.n_features_in_ = X.shape[1]
        if was_frame:
            self.feature_names_in_ = np.asarray([s["name"] for s in self.schema_], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        Xp = prepare_frame(X, self.schema_, check_names=False)

        time_arr, groups_arr = resolve_time_and_groups(X, time, groups, self.time_level)
        structure = self._structure()
        self._requested_structure = structure
        n_events = int(yb.sum())
        self._table_size = (len(yb), min(n_events, len(yb) - n_events))
        n_times = 0 if time_arr is None else len(pd.unique(time_arr))
        w = np.ones(len(X)) if sw is None else sw.copy()
        if n_times < 2 and groups_arr is None:
            cal_rows, cal_raw = self._fit_crossfit(Xp, yb, w, sw, structure)
        else:
            cal_rows, cal_raw = self._fit_holdout(
                Xp, yb, w, sw, structure, time_arr, groups_arr, n_times
            )
        self.best_iteration_ = int(self.best_iteration_)
        self.lookup_ = (
            TreeLookup(
                self.booster_,
                Xp.iloc[:0],
                self.best_iteration_,
                max_features=1 if self.structure_ == "additive" else 2,
            )
            if self.structure_ in ("additive", "pairwise")
            else None
        )
        metrics = {}
        if cal_rows.any() and len(np.unique(yb[cal_rows])) == 2:
            p_valid = self.calibrator_.transform(cal_raw)
            metrics["validation"] = binary_metrics(yb[cal_rows], p_valid)
        self.metadata_ = self._build_metadata(X, yb, time_arr, metrics, self._cal_scores, y)
        self.version_ = self.metadata_["version"]
        return self

    # ------------------------------------------------------- fitting routes
    def _structure(self) -> str:
        """The requested structure, with the ``additive`` alias resolved."""
        structure = self.structure
        if structure not in ("auto", *STRUCTURES):
            raise ValueError(
                f"structure must be 'auto', 'additive', 'pairwise' or 'free', got {structure!r}."
            )
        if self.additive is not None:
            mapped = "additive" if self.additive else "free"
            if structure not in ("auto", mapped):
                raise ValueError(
                    f"additive={self.additive!r} contradicts structure={structure!r}; "
                    "pass structure= only (additive= is a deprecated alias)."
                )
            warnings.warn(
                f"additive={self.additive!r} is deprecated; use structure={mapped!r}.",
                FutureWarning,
                stacklevel=3,
            )
            structure = mapped
        return structure

    def _class_weights(self, yb, w, rows):
        if self.class_weight == "balanced":
            pos = yb[rows].sum()
            neg = rows.sum() - pos
            return w * np.where(yb == 1, neg / max(pos, 1), 1.0)
        if isinstance(self.class_weight, dict):
            return w * np.where(
                yb == 1,
                self.class_weight.get(self.classes_[1], 1.0),
                self.class_weight.get(self.classes_[0], 1.0),
            )
        return w

    def _candidates(self, structure) -> list[str]:
        return list(STRUCTURES) if structure == "auto" else [structure]

    def _record_choice(self, structure, losses, pairs, names):
        self.structure_ = choose_structure(losses) if structure == "auto" else next(iter(losses))
        self.structure_losses_ = {k: float(v) for k, v in losses.items()}
        self.pairs_ = (
            [(names[a], names[b]) for a, b in pairs] if self.structure_ == "pairwise" else []
        )
        return self.structure_

    def _screen(self, Xp, yb, raw, w, booster):
        gain = np.asarray(booster.feature_importance("gain"), float)
        top = [int(j) for j in np.argsort(-gain, kind="stable")[:24] if gain[j] > 0]
        return screen_pairs(
            Xp,
            yb,
            raw,
            w,
            candidates=sorted(top),
            max_pairs=int(self.max_pairs),
            seed=int(self.random_state),
        )

    def _fit_holdout(self, Xp, yb, w, sw, structure, time_arr, groups_arr, n_times):
        """Out-of-time (or by-customer) validation: train, early-stop, calibrate."""
        gap = None
        if self.gap_days and time_arr is not None:
            if np.issubdtype(np.asarray(time_arr).dtype, np.datetime64):
                gap = np.timedelta64(int(self.gap_days), "D")
            elif np.issubdtype(np.asarray(time_arr).dtype, np.number):
                gap = self.gap_days
        split = out_of_time_split(
            len(Xp),
            time_arr if n_times >= 2 else None,
            groups_arr,
            validation_size=float(self.validation_size),
            gap=gap,
            seed=int(self.random_state),
        )
        if split.strategy == "group":
            log.warning(
                "%s: %s; validating on %.0f %% of the customers (by hash of groups) instead "
                "of the latest snapshots.",
                type(self).__name__,
                "a single snapshot" if n_times == 1 else "no snapshot time",
                100 * float(self.validation_size),
            )
        if yb[split.train].min() == yb[split.train].max():
            raise ValueError(
                f"The training snapshots hold only class {_jsonable(self.classes_[yb[split.train][0]])!r} "
                f"({int(split.train.sum())} rows); out-of-time validation needs both classes in "
                "training. Add earlier snapshots or lower validation_size."
            )
        w = self._class_weights(yb, w, split.train)
        can_stop = split.stop.sum() >= 2 and len(np.unique(yb[split.stop])) == 2
        # one binned Dataset of the training rows (the candidates train on it or on a
        # subset of it, sharing its bins) and one of the early-stopping rows
        train_idx = np.flatnonzero(split.train)
        params0 = self._lgb_params(Xp.shape[1], "additive", [], len(Xp))
        tr_all = lgb.Dataset(
            Xp.iloc[train_idx],
            label=yb[train_idx],
            weight=w[train_idx],
            params=_dataset_params(params0),
            free_raw_data=True,
        ).construct()
        valid = None
        if can_stop:  # each fit early-stops on it when its patience (size rule) is > 0
            valid = lgb.Dataset(
                Xp[split.stop],
                label=yb[split.stop],
                weight=w[split.stop],
                reference=tr_all,
                params=_dataset_params(params0),
            ).construct()
        sel = self._selection_rows(structure, yb[train_idx])
        tr_sel = tr_all if sel is None else tr_all.subset(sel).construct()
        fits, losses, pairs = {}, {}, []
        for cand in self._candidates(structure):
            if cand == "pairwise":
                if "additive" not in fits:  # the screen needs the additive residuals
                    fits["additive"] = self._train(tr_sel, valid, "additive", [], Xp.shape)
                b_add, it_add = fits["additive"]
                # the screen's rows of the candidates' training rows, scored alone
                fit_rows = train_idx if sel is None else train_idx[sel]
                scr = fit_rows[screen_rows(len(fit_rows), seed=int(self.random_state))]
                raw_scr = b_add.predict(Xp.iloc[scr], raw_score=True, num_iteration=it_add)
                pairs = self._screen(Xp.iloc[scr], yb[scr], raw_scr, w[scr], b_add)
            if cand not in fits:
                fits[cand] = self._train(tr_sel, valid, cand, pairs, Xp.shape)
            b, it = fits[cand]
            stop_raw = b.predict(Xp[split.stop], raw_score=True, num_iteration=it)
            losses[cand] = log_loss(yb[split.stop], stop_raw, w[split.stop]) if can_stop else np.nan
        chosen = self._record_choice(structure, losses, pairs, list(Xp.columns))
        self.selection_rows_ = int(train_idx.size if sel is None else sel.size)
        if sel is None:
            self.booster_, self.best_iteration_ = fits[chosen]
        else:  # the chosen structure again, on every training row (rounds re-picked)
            self.booster_, self.best_iteration_ = self._train(
                tr_all, valid, chosen, pairs, Xp.shape
            )
        del tr_sel, tr_all, valid

        # calibration on the other half of the validation snapshots
        calib_rows = split.calib if split.calib.any() else split.stop
        raw_cal = self._raw(Xp[calib_rows])
        y_cal = yb[calib_rows]
        if groups_arr is not None:
            from powerprofile._partition import partition_of

            halves = partition_of(pd.Series(groups_arr[calib_rows]).astype("string"), 4) < 2
        else:
            halves = np.random.default_rng(self.random_state).permutation(len(y_cal)) % 2 == 0
        self._calibrate(raw_cal, y_cal, halves, None if sw is None else sw[calib_rows])
        self.split_ = {
            "strategy": split.strategy,
            "train_snapshots": [_jsonable(t) for t in (split.train_times or [])],
            "validation_snapshots": [_jsonable(t) for t in (split.valid_times or [])],
            "n_train": int(split.train.sum()),
            "n_early_stopping": int(split.stop.sum()),
            "n_calibration": int(calib_rows.sum()),
        }
        valid_rows = split.stop | split.calib
        return valid_rows, self._raw(Xp[valid_rows])

    def _selection_rows(self, structure, y_train):
        """Training positions the candidates are fitted on (None: every training row).

        With ``structure="auto"`` and more than ``selection_rows`` training rows, a
        seeded subsample of that many, stratified on the label (both classes keep
        their share), chooses the structure.
        """
        limit = self.selection_rows
        n = len(y_train)
        if structure != "auto" or limit is None or n <= int(limit):
            return None
        rng = np.random.default_rng([int(self.random_state), 11])
        keep = []
        for cls in (0, 1):
            rows = np.flatnonzero(y_train == cls)
            k = max(int(round(len(rows) * int(limit) / n)), min(len(rows), 1))
            keep.append(rng.choice(rows, min(k, len(rows)), replace=False))
        return np.sort(np.concatenate(keep))

    def _train(self, train_set, valid_set, structure, pairs, shape):
        params = self._lgb_params(shape[1], structure, pairs, shape[0])
        n_rounds, patience = self._rounds(structure)
        callbacks, valid_sets = [], []
        if valid_set is not None and patience:
            valid_sets = [valid_set]
            callbacks = [lgb.early_stopping(patience, verbose=False)]
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=n_rounds,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        it = (
            int(booster.best_iteration)
            if valid_sets and booster.best_iteration > 0
            else booster.num_trees()
        )
        return booster, it

    def _fit_crossfit(self, Xp, yb, w, sw, structure):
        """Flat table: K-fold cross-fitting picks the rounds and calibrates, then refit."""
        n = len(Xp)
        fold = crossfit_folds(yb, int(self.n_folds), int(self.random_state))
        k = int(fold.max()) + 1
        w = self._class_weights(yb, w, np.ones(n, bool))
        if k < 2:
            log.warning(
                "%s: too few rows of the rarer class (%d) for %d-fold cross-fitting; "
                "trained on all %d rows for n_estimators=%d rounds without early stopping, "
                "uncalibrated, structure %r.",
                type(self).__name__,
                int(np.bincount(yb, minlength=2).min()),
                int(self.n_folds),
                n,
                self._rounds("free" if structure == "free" else "additive")[0],
                "free" if structure == "free" else "additive",
            )
            chosen = "free" if structure == "free" else "additive"
            params = self._lgb_params(Xp.shape[1], chosen, [], n)
            self.booster_ = lgb.train(
                params,
                lgb.Dataset(Xp, label=yb, weight=w),
                num_boost_round=self._rounds(chosen)[0],
            )
            self.best_iteration_ = self.booster_.num_trees()
            self._record_choice(chosen, {chosen: np.nan}, [], list(Xp.columns))
            self.selection_rows_ = n
            from ._calibration import Calibrator

            self.calibrator_, self._cal_scores = Calibrator("none"), {}
            self.calibration_ = "none"
            self.split_ = {
                "strategy": "none",
                "n_folds": 1,
                "n_train": n,
                "n_early_stopping": 0,
                "n_calibration": 0,
            }
            return np.zeros(n, bool), np.zeros(0)
        folds = [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]
        full = lgb.Dataset(Xp, label=yb, weight=w, free_raw_data=False)
        mat = _matrix(Xp)  # the out-of-fold predictions read it, not the frame
        runs, losses, pairs = {}, {}, []
        for cand in self._candidates(structure):
            if cand == "pairwise":
                if "additive" not in runs:
                    runs["additive"] = self._cv(full, mat, folds, "additive", [])
                boosters, _, oof = runs["additive"]
                pairs = self._screen(Xp, yb, oof, w, boosters[0])
            if cand not in runs:
                runs[cand] = self._cv(full, mat, folds, cand, pairs)
            losses[cand] = log_loss(yb, runs[cand][2], w)
        chosen = self._record_choice(structure, losses, pairs, list(Xp.columns))
        self.selection_rows_ = n
        _, rounds, oof = runs[chosen]
        params = self._lgb_params(Xp.shape[1], chosen, pairs, len(Xp))
        self.booster_ = lgb.train(
            params, lgb.Dataset(Xp, label=yb, weight=w), num_boost_round=int(rounds)
        )
        self.best_iteration_ = self.booster_.num_trees()
        self._calibrate(oof, yb, fold % 2 == 0, sw)
        self.split_ = {
            "strategy": "crossfit",
            "n_folds": k,
            "n_train": n,
            "n_early_stopping": n,
            "n_calibration": n,
        }
        return np.ones(n, bool), oof

    def _cv(self, full, mat, folds, structure, pairs):
        """Fold boosters, rounds chosen on the mean out-of-fold metric, out-of-fold scores.

        ``mat`` is the prepared frame as a matrix (:func:`_matrix`).
        """
        params = self._lgb_params(mat.shape[1], structure, pairs, len(mat))
        n_rounds, patience = self._rounds(structure)
        callbacks = [lgb.early_stopping(patience, verbose=False)] if patience else []
        res = lgb.cv(
            params,
            full,
            num_boost_round=n_rounds,
            folds=folds,
            callbacks=callbacks,
            return_cvbooster=True,
            stratified=False,
            shuffle=False,
        )
        cvb = res["cvbooster"]
        rounds = int(cvb.best_iteration) if cvb.best_iteration > 0 else n_rounds
        oof = np.zeros(len(mat))
        for booster, (_, test) in zip(cvb.boosters, folds, strict=True):
            oof[test] = booster.predict(mat[test], raw_score=True, num_iteration=rounds)
        return cvb.boosters, rounds, oof

    def _calibrate(self, raw, y, halves, sw):
        if len(np.unique(y)) == 2:
            self.calibrator_, self._cal_scores = choose_calibrator(
                raw, y, halves, self.calibration, sample_weight=sw
            )
        else:
            warnings.warn(
                f"The calibration rows hold only one class ({len(y)} rows); "
                "probabilities are the uncalibrated logistic link. Use more validation snapshots.",
                UserWarning,
                stacklevel=4,
            )
            from ._calibration import Calibrator

            self.calibrator_, self._cal_scores = Calibrator("none"), {}
        self.calibration_ = self.calibrator_.method

    def _build_metadata(self, X, yb, time_arr, metrics, cal_scores, y):
        model_str = self.booster_.model_to_string(num_iteration=self.best_iteration_)
        h = hashlib.sha256(model_str.encode())
        h.update(json.dumps(self.calibrator_.__dict__, default=str, sort_keys=True).encode())
        version = f"pm-{h.hexdigest()[:12]}"
        snapshot_range = None
        if time_arr is not None and len(time_arr):
            snapshot_range = [_jsonable(np.min(time_arr)), _jsonable(np.max(time_arr))]
        params = {
            k: _jsonable(v) if not isinstance(v, dict) else v for k, v in self.get_params().items()
        }
        return {
            "model_class": "powerprofile.models.PropensityModel",
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "label": self.label if self.label is not None else getattr(y, "name", None),
            "horizon_days": self.horizon_days,
            "classes": [_jsonable(c) for c in self.classes_],
            "features": [dict(s) for s in self.schema_],
            "snapshot_range": snapshot_range,
            "n_rows": int(len(yb)),
            "positive_rate": float(yb.mean()),
            "split": self.split_,
            "best_iteration": self.best_iteration_,
            "tree_params": {
                "n_rows": self._table_size[0],
                "n_minority": self._table_size[1],
                **self._tree_params(self.structure_),
            },
            "additive": self.structure_ == "additive",
            "structure": {
                "requested": self._requested_structure,
                "chosen": self.structure_,
                "validation_log_loss": self.structure_losses_,
                "selection_rows": self.selection_rows_,
                "tolerance": STRUCTURE_TOLERANCE,
                "pairs": [list(p) for p in self.pairs_],
            },
            "calibration": {"method": self.calibration_, "cross_fitted_log_loss": cal_scores},
            "metrics": metrics,
            "params": params,
            "versions": _versions(),
        }

    # -------------------------------------------------------------- predict
    def _check_fitted(self):
        if not hasattr(self, "booster_"):
            raise NotFittedError(
                "This PropensityModel instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _prepare(self, X) -> pd.DataFrame:
        """Check ``X`` against the fitted features and cast it (see FeatureMismatchError)."""
        self._check_fitted()
        return prepare_frame(X, self.schema_, check_names=hasattr(self, "feature_names_in_"))

    def _raw(self, Xp: pd.DataFrame) -> np.ndarray:
        if len(Xp) == 0:
            return np.zeros(0)
        kw = {} if self.n_jobs is None else {"num_threads": int(max(self.n_jobs, 0))}
        return np.asarray(
            self.booster_.predict(Xp, raw_score=True, num_iteration=self.best_iteration_, **kw),
            float,
        )

    def decision_function(self, X) -> np.ndarray:
        """Raw score (log-odds of the uncalibrated booster) per row.

        Parameters
        ----------
        X : DataFrame or array-like
            Features with the fitted columns.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        return self._raw(self._prepare(X))

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities of both classes.

        Parameters
        ----------
        X : DataFrame or array-like
            Features with the fitted columns.

        Returns
        -------
        numpy.ndarray of shape (n_samples, 2)
            Column 1 is the calibrated event probability.
        """
        raw = self.decision_function(X)
        p = self.calibrator_.transform(raw)
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : DataFrame or array-like
            Features with the fitted columns.

        Returns
        -------
        numpy.ndarray of shape (n_samples, 2)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Class label with the larger calibrated probability.

        Parameters
        ----------
        X : DataFrame or array-like
            Features with the fitted columns.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the features the model consumes, in the fitted order.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the fitted names when given.

        Returns
        -------
        numpy.ndarray of str
        """
        self._check_fitted()
        names = np.asarray([s["name"] for s in self.schema_], dtype=object)
        if input_features is not None and list(input_features) != list(names):
            raise ValueError(
                f"input_features {list(input_features)!r} do not match the fitted features {list(names)!r}."
            )
        return names

    def save(self, path, *, key=None):
        """Save the model and its metadata (see :func:`powerprofile.models.load_model`).

        Parameters
        ----------
        path : str or path-like
            Folder to write (``model.pkl`` and ``metadata.json`` with its checksum and,
            when ``POWERPROFILE_ARTEFACT_KEY`` is set, signature).
        key : str or bytes or None, default=None
            Signing key; default ``POWERPROFILE_ARTEFACT_KEY``.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        from ._persistence import save_model

        return save_model(self, path, key=key)

    @classmethod
    def load(cls, path, *, key=None):
        """Load a model written by :meth:`save`, verified before it is unpickled.

        Same as :func:`powerprofile.models.load_model`.

        Parameters
        ----------
        path : str or path-like
            The folder written by ``save`` (or its ``model.pkl`` file).
        key : str or bytes or None, default=None
            Verification key; default ``POWERPROFILE_ARTEFACT_KEY``.

        Returns
        -------
        PropensityModel

        Raises
        ------
        ArtefactError
            ``path`` is not an intact propensity model written by powerprofile.
        """
        from ._persistence import load_model

        return load_model(path, key=key)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def _versions() -> dict:
    import joblib

    from powerprofile import __version__

    return {
        "powerprofile": __version__,
        "lightgbm": lgb.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "python": platform.python_version(),
    }
