"""The effect of each channel on each customer: a T-learner on LightGBM."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..exceptions import FeatureMismatchError, NotFittedError

__all__ = ["UpliftModel", "uplift_features"]


class UpliftModel(BaseEstimator):
    """Per-channel uplift (conditional average treatment effect) from randomised campaigns.

    First a T-learner: one LightGBM classifier of the outcome on the control customers
    and one on the customers treated with each channel, whose difference
    ``P(outcome | X, c) - P(outcome | X, control)`` is the effect of channel ``c``.
    With ``learner="x"`` (the default) the X-learner (Kunzel et al. 2019) goes on: each
    treated customer's imputed effect ``y - P(outcome | X, control)`` and each control
    customer's ``P(outcome | X, c) - y`` are regressed on ``X`` and the two regressions
    averaged, weighted by the share treated; it is less noisy than the difference of
    two classifiers when the arms are small or unequal. The campaigns must have been
    randomised given ``X`` (a control group drawn like the export's, or a pilot).

    Parameters
    ----------
    learner : {"x", "t"}, default="x"
    control : str, default="control"
        Label of the control group in ``treatment``.
    n_estimators : int, default=100
    learning_rate : float, default=0.05
    num_leaves : int, default=4
        Small trees and large leaves (``min_child_samples``): an outcome is a coin flip
        whose bias a contact moves by a few points, so the learner must average a lot.
    min_child_samples : int, default=200
    reg_lambda : float, default=5.0
    random_state : int, default=0

    Attributes
    ----------
    channels_ : list of str
        Channels seen treated, in sorted order.
    feature_names_in_ : numpy.ndarray of str
    boosters_ : dict of str to lightgbm.Booster
        ``"control"`` and each channel.
    base_rate_ : dict of str to float
        Outcome rate of each arm in the training data.

    Examples
    --------
    >>> model = UpliftModel().fit(X, treatment, retained)  # doctest: +SKIP
    >>> model.predict_effect(X_new)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        learner="x",
        control="control",
        n_estimators=100,
        learning_rate=0.05,
        num_leaves=4,
        min_child_samples=200,
        reg_lambda=5.0,
        random_state=0,
    ):
        self.learner = learner
        self.control = control
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.random_state = random_state

    # ------------------------------------------------------------------ data
    def _frame(self, X, fitting: bool) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        if fitting:
            cats = {}
            cols = []
            for c in X.columns:
                dt = X[c].dtype
                if pd.api.types.is_bool_dtype(dt) or pd.api.types.is_numeric_dtype(dt):
                    cols.append(c)
                elif isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dt):
                    cols.append(c)
                    cats[c] = sorted(X[c].dropna().astype(str).unique())
            self.feature_names_in_ = np.asarray(cols, dtype=object)
            self.categories_ = cats
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise FeatureMismatchError(
                f"X lacks the column(s) {missing[:5]!r} the UpliftModel was fitted on; give the "
                "same portrait columns as in fit."
            )
        out = {}
        for c in self.feature_names_in_:
            if c in self.categories_:
                out[c] = pd.Categorical(
                    X[c].astype("string").to_numpy(dtype=object, na_value=None),
                    categories=self.categories_[c],
                )
            else:
                out[c] = pd.to_numeric(X[c].astype("Float64")).to_numpy(
                    dtype=float, na_value=np.nan
                )
        return pd.DataFrame(out, index=X.index)

    def _params(self, objective: str = "binary") -> dict:
        return dict(
            objective=objective,
            learning_rate=float(self.learning_rate),
            num_leaves=int(self.num_leaves),
            min_data_in_leaf=int(self.min_child_samples),
            lambda_l2=float(self.reg_lambda),
            feature_fraction=0.8,
            bagging_fraction=0.8,
            bagging_freq=1,
            seed=int(self.random_state),
            deterministic=True,
            force_col_wise=True,
            num_threads=1,
            verbosity=-1,
            min_data_per_group=20,
            cat_smooth=10.0,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, X, treatment, y):
        """Fit one outcome model per arm.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer features (numbers, booleans, categories or text).
        treatment : array-like of str
            ``control`` or the channel each customer was assigned.
        y : array-like of bool
            The outcome (e.g. retained); missing outcomes are dropped.

        Returns
        -------
        self
        """
        Xp = self._frame(X, fitting=True)
        t = pd.Series(treatment, index=X.index).astype("string")
        yv = pd.Series(y, index=X.index).astype("boolean")
        keep = (yv.notna() & t.notna()).to_numpy(dtype=bool)
        Xp, t, yv = Xp[keep], t[keep].to_numpy(dtype=object), yv[keep].to_numpy(dtype=bool)
        arms = sorted(set(t) - {self.control})
        if self.control not in set(t):
            raise ValueError(
                f"treatment has no {self.control!r} rows; uplift needs a control group."
            )
        if not arms:
            raise ValueError("treatment has no treated rows; uplift needs treated customers.")
        self.boosters_, self.base_rate_ = {}, {}
        for arm in [self.control, *arms]:
            at = t == arm
            yy = yv[at]
            self.base_rate_[arm] = float(yy.mean())
            if yy.all() or not yy.any():  # one class: a constant model
                self.boosters_[arm] = float(yy.mean())
                continue
            ds = lgb.Dataset(Xp[at], label=yy.astype(int), free_raw_data=True)
            self.boosters_[arm] = lgb.train(
                self._params(), ds, num_boost_round=int(self.n_estimators)
            )
        self.channels_ = arms
        self.effect_models_ = {}
        if self.learner == "x":
            control = t == self.control
            mu0 = self._proba(self.control, Xp)
            for arm in arms:
                at = t == arm
                d1 = yv[at] - mu0[at]
                d0 = self._proba(arm, Xp[control]) - yv[control]
                share = at.sum() / (at.sum() + control.sum())
                fits = []
                for rows, d in ((at, d1), (control, d0)):
                    ds = lgb.Dataset(Xp[rows], label=d, free_raw_data=True)
                    fits.append(
                        lgb.train(
                            self._params("regression"), ds, num_boost_round=int(self.n_estimators)
                        )
                    )
                self.effect_models_[arm] = (fits[0], fits[1], float(share))
        elif self.learner != "t":
            raise ValueError(f"learner must be 'x' or 't', got {self.learner!r}.")
        return self

    def _check(self):
        if not hasattr(self, "boosters_"):
            raise NotFittedError(
                "This UpliftModel instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator."
            )

    def _proba(self, arm: str, Xp: pd.DataFrame) -> np.ndarray:
        b = self.boosters_[arm]
        if isinstance(b, float):
            return np.full(len(Xp), b)
        return np.asarray(b.predict(Xp), dtype=float)

    # ------------------------------------------------------------------ predict
    def predict_effect(self, X) -> pd.DataFrame:
        """Each customer's effect of each channel on the outcome's probability.

        Parameters
        ----------
        X : pandas.DataFrame

        Returns
        -------
        pandas.DataFrame
            Index of ``X``; one column ``effect_<channel>`` per channel.
        """
        self._check()
        Xp = self._frame(X, fitting=False)
        if self.effect_models_:
            out = {}
            for ch, (b1, b0, g) in self.effect_models_.items():
                out[f"effect_{ch}"] = g * b0.predict(Xp) + (1 - g) * b1.predict(Xp)
            return pd.DataFrame(out, index=X.index)
        base = self._proba(self.control, Xp)
        return pd.DataFrame(
            {f"effect_{ch}": self._proba(ch, Xp) - base for ch in self.channels_}, index=X.index
        )

    def predict(self, X) -> np.ndarray:
        """The channel with the largest predicted effect per customer (no constraint).

        Returns
        -------
        numpy.ndarray of str
        """
        eff = self.predict_effect(X)
        return np.asarray(self.channels_, dtype=object)[np.argmax(eff.to_numpy(), axis=1)]

    def explain(self, X, channel=None, *, top: int = 3) -> pd.DataFrame:
        """Why a channel helps (or hurts) a customer: the features moving its effect most.

        Each feature's part in the customer's effect, from LightGBM's exact tree SHAP
        values: for the X-learner, the weighted parts of the two effect regressions (in
        probability units); for the T-learner, the treated model's parts minus the
        control model's (in log-odds).

        Parameters
        ----------
        X : pandas.DataFrame
        channel : str or array-like of str or None, default=None
            The channel explained per customer (default: :meth:`predict`).
        top : int, default=3

        Returns
        -------
        pandas.DataFrame
            Index of ``X``: ``channel``, ``effect``, ``reasons`` (``feature=value (+0.12)``
            joined with ``; ``, largest absolute part first).
        """
        self._check()
        Xp = self._frame(X, fitting=False)
        n = len(Xp)
        if channel is None:
            chans = self.predict(X)
        elif isinstance(channel, str):
            chans = np.full(n, channel, dtype=object)
        else:
            chans = np.asarray(pd.Series(channel).astype(str), dtype=object)
        unknown = sorted(set(chans) - set(self.channels_))
        if unknown:
            raise ValueError(
                f"channel(s) {unknown!r} were not seen in fit; channels are {self.channels_!r}."
            )
        names = np.asarray(self.feature_names_in_, dtype=str)
        eff = self.predict_effect(X).to_numpy()
        col = pd.Series(range(len(self.channels_)), index=self.channels_)
        idx = col.reindex(chans).to_numpy(dtype=int)
        parts = np.zeros((n, len(names)))
        base = None if self.effect_models_ else self._contrib(self.control, Xp)
        for ch in self.channels_:  # a few channels, vectorised over rows
            at = chans == ch
            if not at.any():
                continue
            if self.effect_models_:
                b1, b0, g = self.effect_models_[ch]
                parts[at] = g * _contrib(b0, Xp[at]) + (1 - g) * _contrib(b1, Xp[at])
            else:
                parts[at] = self._contrib(ch, Xp[at]) - base[at]
        shown = (
            np.column_stack([_texts(Xp[c]) for c in self.feature_names_in_])
            if n
            else np.zeros((0, len(names)), dtype=object)
        )
        order = np.argsort(-np.abs(parts), axis=1, kind="stable")[:, : int(top)]
        rows = np.arange(n)
        texts = pd.Series("", index=range(n), dtype="string")
        for j in range(order.shape[1]):  # a few reasons, vectorised over rows
            f = order[:, j]
            phi = parts[rows, f]
            piece = (
                pd.Series(names[f], dtype="string")
                + "="
                + pd.Series(shown[rows, f], dtype="string")
                + pd.Series(np.char.mod(" (%+.3f)", phi), dtype="string")
            )
            keep = np.abs(phi) > 1e-9
            glue = texts.where(texts == "", texts + "; ")
            texts = texts.mask(keep, glue + piece)
        return pd.DataFrame(
            {
                "channel": pd.array(chans, dtype="string"),
                "effect": eff[rows, idx] if n else np.zeros(0),
                "reasons": texts.to_numpy(),
            },
            index=X.index,
        )

    def _contrib(self, arm: str, Xp: pd.DataFrame) -> np.ndarray:
        b = self.boosters_[arm]
        if isinstance(b, float):
            return np.zeros((len(Xp), len(self.feature_names_in_)))
        return _contrib(b, Xp)


def _contrib(booster, Xp: pd.DataFrame) -> np.ndarray:
    if len(Xp) == 0:
        return np.zeros((0, Xp.shape[1]))
    return np.asarray(booster.predict(Xp, pred_contrib=True), dtype=float)[:, :-1]


def _texts(values: pd.Series) -> np.ndarray:
    """A column's values as short text (3 significant digits for numbers, NA for missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("string").fillna("NA").to_numpy(dtype=object)
    x = values.to_numpy(dtype=float)
    out = np.char.mod("%.3g", np.nan_to_num(x)).astype(object)
    out[np.isnan(x)] = "NA"
    return out


_SKIP_SUFFIXES = ("_version", "_en", "_zh", "_reasons", "_band")
_SKIP = {"customer_key", "snapshot_date", "grid_unit", "transformer_area", "tags", "risk_flags"}


def uplift_features(portraits: pd.DataFrame) -> pd.DataFrame:
    """The portrait columns an uplift model learns from.

    Scores, deciles, segment, customer type, region, preferred channel, tags, risk flags
    and contact facts; not keys, dates, texts, bands (the deciles carry them) or
    reasons.

    Parameters
    ----------
    portraits : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        Same index.
    """
    cols = [
        c
        for c in portraits.columns
        if c not in _SKIP
        and not str(c).endswith(_SKIP_SUFFIXES)
        and "_reason_" not in str(c)
        and c != "contactable_channels"
    ]
    return portraits[cols]
