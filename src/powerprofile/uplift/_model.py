"""The effect of each channel on each customer: X-, T- or DR-learner on LightGBM."""

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
    two classifiers when the arms are small or unequal. With ``learner="dr"`` the
    doubly robust learner regresses, for each channel, the pseudo-outcome
    ``mu_c - mu_0 + [T=c](y - mu_c)/e_c - [T=0](y - mu_0)/e_0`` (cross-fitted outcome
    models ``mu``, assignment probabilities ``e``) on ``X`` over every row. The
    campaigns must have been randomised given ``X`` (a control group drawn like the
    export's, or a pilot).

    Complaints as an input: when ``fit`` gets the ``complaint`` outcome of the same
    rows, a LightGBM classifier of the complaint of the treated rows (any channel) on
    ``X`` becomes one more input of the outcome and effect models,
    ``complaint_after_contact``: the customers a contact annoys are the ones it can push
    away, and a complaint is a far stronger trace of annoyance than a departure is of a
    lost point of retention. On the training rows the input is out-of-fold (a row never
    sees its own complaint); the classifier fitted on every treated row gives it at
    prediction. The model learns from the retention outcome alone whether and how the
    input matters.

    Honest tuning: with ``tune_rounds`` each booster's number of rounds is chosen by
    ``cv``-fold cross-validation with early stopping (folds keep a customer's rows
    together when ``fit`` gets ``groups``), ``n_estimators`` being the most.

    Parameters
    ----------
    learner : {"x", "t", "dr"}, default="x"
    control : str, default="control"
        Label of the control group in ``treatment``.
    n_estimators : int, default=100
        Boosting rounds (the most, when ``tune_rounds``).
    learning_rate : float, default=0.05
    num_leaves : int, default=4
        Small trees and large leaves (``min_child_samples``): an outcome is a coin flip
        whose bias a contact moves by a few points, so the learner must average a lot.
    min_child_samples : int, default=200
    reg_lambda : float, default=5.0
    tune_rounds : bool, default=True
        Choose each booster's rounds by cross-validation.
    cv : int, default=3
        Folds of the cross-validation and of the cross-fitting (DR-learner).
    early_stopping : int, default=20
        Rounds without improvement that stop the cross-validation.
    propensity : {"share", "estimate"}, default="share"
        The X-learner's weight and the DR-learner's assignment probability: each arm's
        share of the rows (a randomised campaign), or a cross-fitted LightGBM estimate
        (when the chance of a channel depends on ``X``, e.g. only reachable channels
        were drawn).
    pool_channels : bool, default=False
        X-learner: one effect regression per side over every channel, the channel a
        feature, instead of one per channel.
    outcome_model : {"arm", "pooled"}, default="arm"
        One outcome classifier per arm, or one over every arm with the arm a feature
        (out-of-fold predictions impute the X-learner's effects).
    reach : str or None, default="contactable_{channel}"
        The column of ``X`` (``{channel}`` filled in) saying whether a channel can
        reach a customer: where it is false the predicted effect is 0 (an
        intention-to-treat effect: a contact that cannot be delivered changes
        nothing). A column absent from ``X`` masks nothing.
    random_state : int, default=0

    Attributes
    ----------
    channels_ : list of str
        Channels seen treated, in sorted order.
    feature_names_in_ : numpy.ndarray of str
    boosters_ : dict of str to lightgbm.Booster
        ``"control"`` and each channel.
    complaint_model_ : lightgbm.Booster or float or None
        The classifier of ``complaint_after_contact`` (a constant when the treated rows
        all complained or none did), None when ``fit`` got no ``complaint``.
    base_rate_ : dict of str to float
        Outcome rate of each arm in the training data.
    n_rounds_ : dict of str to int
        Boosting rounds of each arm's outcome model.

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
        tune_rounds=True,
        cv=3,
        early_stopping=20,
        propensity="share",
        pool_channels=False,
        outcome_model="arm",
        reach="contactable_{channel}",
        random_state=0,
    ):
        self.learner = learner
        self.control = control
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.tune_rounds = tune_rounds
        self.cv = cv
        self.early_stopping = early_stopping
        self.propensity = propensity
        self.pool_channels = pool_channels
        self.outcome_model = outcome_model
        self.reach = reach
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

    def _inputs(self, X) -> pd.DataFrame:
        """The models' inputs for new rows: ``X`` encoded, plus the complaint input."""
        Xp = self._frame(X, fitting=False)
        model = getattr(self, "complaint_model_", None)
        if model is not None:
            Xp[COMPLAINT_INPUT] = _predict(model, Xp)
        return Xp

    def _complaint_input(self, Xp, t, complaint, fold) -> np.ndarray:
        """Fit ``complaint_model_`` on the treated rows; the training rows' out-of-fold input."""
        c = pd.Series(complaint).astype("boolean").to_numpy(dtype=float, na_value=np.nan)
        use = (t != self.control) & ~np.isnan(c)
        cy = c[use].astype(int)
        if not use.any() or cy.min() == cy.max():  # one class: a constant input
            self.complaint_model_ = float(cy.mean()) if use.any() else 0.0
            return np.full(len(t), self.complaint_model_)
        self.complaint_model_, rounds = self._train(Xp[use], cy, "binary", fold[use])
        oof = np.empty(len(t))
        for f in np.unique(fold):  # out-of-fold: a row's input never sees its own complaint
            tr = use & (fold != f)
            if len(np.unique(c[tr])) < 2:
                oof[fold == f] = float(c[tr].mean()) if tr.any() else 0.0
                continue
            ds = lgb.Dataset(Xp[tr], label=c[tr].astype(int), free_raw_data=True)
            b = lgb.train(self._params("binary"), ds, num_boost_round=rounds)
            oof[fold == f] = b.predict(Xp[fold == f])
        return oof

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
    def _folds(self, n: int, groups) -> np.ndarray:
        """Fold of each row (customers kept whole when ``groups`` names them)."""
        k = int(self.cv)
        if groups is None:
            rng = np.random.default_rng([int(self.random_state), 7])
            return rng.permutation(np.arange(n) % k)
        g = pd.Series(groups).astype("string").fillna("").to_numpy(dtype=object)
        salt = np.uint64(int(self.random_state) % 2**32)
        return ((pd.util.hash_array(g) ^ salt) % np.uint64(k)).astype(np.int64)

    def _train(self, Xp, label, objective: str, fold: np.ndarray | None) -> tuple:
        """A booster; its rounds chosen by cross-validation over ``fold`` when tuning."""
        params = self._params(objective)
        rounds = int(self.n_estimators)
        if self.tune_rounds and fold is not None and len(np.unique(fold)) > 1:
            splits = [
                (np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in np.unique(fold)
            ]
            ds = lgb.Dataset(Xp, label=label, free_raw_data=False)
            hist = lgb.cv(
                params,
                ds,
                num_boost_round=rounds,
                folds=splits,
                callbacks=[lgb.early_stopping(int(self.early_stopping), verbose=False)],
            )
            rounds = max(1, len(next(iter(hist.values()))))
        ds = lgb.Dataset(Xp, label=label, free_raw_data=True)
        return lgb.train(params, ds, num_boost_round=rounds), rounds

    def fit(self, X, treatment, y, *, groups=None, complaint=None):
        """Fit the outcome models, then (X- and DR-learners) the effect regressions.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer features (numbers, booleans, categories or text).
        treatment : array-like of str
            ``control`` or the channel each customer was assigned.
        y : array-like of bool
            The outcome (e.g. retained); missing outcomes are dropped.
        groups : array-like or None, default=None
            The customer of each row (a customer in several campaigns): cross-validation
            folds keep a customer's rows together.
        complaint : array-like of bool or None, default=None
            Whether each row complained after the contact: given, it makes the
            ``complaint_after_contact`` input (see the class docstring); missing
            values are left out of the complaint model.

        Returns
        -------
        self
        """
        if self.learner not in ("x", "t", "dr"):
            raise ValueError(f"learner must be 'x', 't' or 'dr', got {self.learner!r}.")
        Xp = self._frame(X, fitting=True)
        t = pd.Series(treatment, index=X.index).astype("string")
        yv = pd.Series(y, index=X.index).astype("boolean")
        keep = (yv.notna() & t.notna()).to_numpy(dtype=bool)
        Xp, t, yv = Xp[keep], t[keep].to_numpy(dtype=object), yv[keep].to_numpy(dtype=bool)
        Xp = Xp.reset_index(drop=True)
        fold = self._folds(len(t), None if groups is None else np.asarray(groups)[keep])
        self.complaint_model_ = None
        if complaint is not None:
            if len(complaint) != len(keep):
                raise ValueError(
                    f"complaint has {len(complaint)} values for {len(keep)} rows of X; give "
                    "one complaint outcome per row (missing where unknown)."
                )
            Xp[COMPLAINT_INPUT] = self._complaint_input(
                Xp, t, pd.Series(complaint).to_numpy(dtype=object)[keep], fold
            )
        arms = sorted(set(t) - {self.control})
        if self.control not in set(t):
            raise ValueError(
                f"treatment has no {self.control!r} rows; uplift needs a control group."
            )
        if not arms:
            raise ValueError("treatment has no treated rows; uplift needs treated customers.")
        self.boosters_, self.base_rate_, self.n_rounds_ = {}, {}, {}
        self.oof_ = None
        every = [self.control, *arms]
        for arm in every:
            self.base_rate_[arm] = float(yv[t == arm].mean())
        if self.outcome_model == "pooled":
            self._fit_pooled(Xp, t, yv, fold, every)
        else:
            for arm in every:
                at = t == arm
                yy = yv[at]
                if yy.all() or not yy.any():  # one class: a constant model
                    self.boosters_[arm] = float(yy.mean())
                    continue
                self.boosters_[arm], self.n_rounds_[arm] = self._train(
                    Xp[at], yy.astype(int), "binary", fold[at]
                )
        self.channels_ = arms
        self.effect_models_ = {}
        if self.learner == "x":
            self._fit_x(Xp, t, yv, fold, arms)
        elif self.learner == "dr":
            self._fit_dr(Xp, t, yv, fold, arms)
        return self

    def _fit_pooled(self, Xp, t, yv, fold, every) -> None:
        """One outcome model over every arm (the arm a feature), and its out-of-fold predictions.

        Every row teaches the baseline the arms share, so each arm's outcome model sees
        six times the rows of its own arm; the X-learner imputes with the out-of-fold
        predictions (a row's imputed effect never uses its own outcome).
        """
        Xa = _with_channel(Xp, t, every)
        booster, rounds = self._train(Xa, yv.astype(int), "binary", fold)
        self.n_rounds_ = {arm: rounds for arm in every}
        self.boosters_ = {arm: _Pooled(booster, arm, every) for arm in every}
        self.oof_ = {arm: np.empty(len(t)) for arm in every}
        for f in np.unique(fold):
            tr, te = fold != f, fold == f
            ds = lgb.Dataset(Xa[tr], label=yv[tr].astype(int), free_raw_data=True)
            b = lgb.train(self._params("binary"), ds, num_boost_round=rounds)
            for arm in every:
                self.oof_[arm][te] = b.predict(_with_channel(Xp[te], arm, every))

    def _imputed(self, arm: str, Xp, rows: np.ndarray) -> np.ndarray:
        """Outcome probability of ``arm`` on ``rows``: out-of-fold when there is one."""
        if self.oof_ is not None:
            return self.oof_[arm][rows]
        return self._proba(arm, Xp[rows])

    def _propensity(self, Xp, treated: np.ndarray, fold) -> np.ndarray:
        """P(treated | X) among the rows given: the share, or a cross-fitted estimate."""
        share = float(treated.mean())
        if self.propensity == "share":
            return np.full(len(treated), share)
        g = np.empty(len(treated))
        params = dict(self._params("binary"), num_leaves=4, min_data_in_leaf=500)
        for f in np.unique(fold):  # out-of-fold: a row's weight never sees its own draw
            tr = fold != f
            ds = lgb.Dataset(Xp[tr], label=treated[tr].astype(int), free_raw_data=True)
            b = lgb.train(params, ds, num_boost_round=50)
            g[fold == f] = b.predict(Xp[fold == f])
        return np.clip(g, 0.05, 0.95)

    def _fit_x(self, Xp, t, yv, fold, arms) -> None:
        control = t == self.control
        g, d1, d0 = {}, {}, {}
        for arm in arms:
            at = t == arm
            pair = at | control
            g[arm] = self._propensity(Xp[pair], at[pair], fold[pair])
            d1[arm] = yv[at] - self._imputed(self.control, Xp, at)
            d0[arm] = self._imputed(arm, Xp, control) - yv[control]
        if self.pool_channels:  # one regression per side, the channel a feature
            treated = np.isin(t, arms)
            X1 = _with_channel(Xp[treated], t[treated], arms)
            y1 = np.empty(int(treated.sum()))
            for arm in arms:
                y1[t[treated] == arm] = d1[arm]
            X0 = pd.concat(
                [_with_channel(Xp[control], np.full(int(control.sum()), a), arms) for a in arms],
                ignore_index=True,
            )
            y0 = np.concatenate([d0[a] for a in arms])
            f0 = np.tile(fold[control], len(arms))
            b1, _ = self._train(X1, y1, "regression", fold[treated])
            b0, _ = self._train(X0, y0, "regression", f0)
            fits = {a: (_Pooled(b1, a, arms), _Pooled(b0, a, arms)) for a in arms}
        else:
            fits = {}
            for arm in arms:
                at = t == arm
                b1, _ = self._train(Xp[at], d1[arm], "regression", fold[at])
                b0, _ = self._train(Xp[control], d0[arm], "regression", fold[control])
                fits[arm] = (b1, b0)
        for arm in arms:
            b1, b0 = fits[arm]
            if self.propensity == "share":
                self.effect_models_[arm] = (b1, b0, float(g[arm][0]))
            else:  # g(x) at prediction: a model of the rows' propensity
                pair = (t == arm) | control
                ds = lgb.Dataset(Xp[pair], label=g[arm], free_raw_data=True)
                params = dict(self._params("regression"), num_leaves=4, min_data_in_leaf=500)
                self.effect_models_[arm] = (b1, b0, lgb.train(params, ds, num_boost_round=50))

    def _fit_dr(self, Xp, t, yv, fold, arms) -> None:
        """Doubly robust pseudo-outcomes from cross-fitted outcome models, regressed on X."""
        n = len(t)
        mu = {}
        for arm in [self.control, *arms]:
            mu[arm] = np.empty(n)
            at = t == arm
            for f in np.unique(fold):
                tr = at & (fold != f)
                yy = yv[tr]
                if yy.all() or not yy.any():
                    mu[arm][fold == f] = float(yy.mean()) if len(yy) else 0.0
                    continue
                ds = lgb.Dataset(Xp[tr], label=yy.astype(int), free_raw_data=True)
                rounds = self.n_rounds_.get(arm, int(self.n_estimators))
                b = lgb.train(self._params("binary"), ds, num_boost_round=rounds)
                mu[arm][fold == f] = b.predict(Xp[fold == f])
        every = [self.control, *arms]
        if self.propensity == "share":
            e = {arm: np.full(n, float((t == arm).mean())) for arm in every}
        else:  # cross-fitted multinomial: channels a customer cannot be reached on are rarer
            code = pd.Categorical(t, categories=every).codes
            params = dict(
                self._params("multiclass"),
                num_class=len(every),
                num_leaves=4,
                min_data_in_leaf=500,
            )
            probs = np.empty((n, len(every)))
            for f in np.unique(fold):
                tr = fold != f
                ds = lgb.Dataset(Xp[tr], label=code[tr], free_raw_data=True)
                probs[fold == f] = lgb.train(params, ds, num_boost_round=50).predict(Xp[fold == f])
            e = {arm: np.clip(probs[:, i], 0.01, 1.0) for i, arm in enumerate(every)}
        for arm in arms:
            at, c0 = t == arm, t == self.control
            phi = (
                mu[arm]
                - mu[self.control]
                + at * (yv - mu[arm]) / e[arm]
                - c0 * (yv - mu[self.control]) / e[self.control]
            )
            b, _ = self._train(Xp, phi, "regression", fold)
            self.effect_models_[arm] = (b, b, 0.5)

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
        Xp = self._inputs(X)
        if self.effect_models_:
            out = {}
            for ch, (b1, b0, g) in self.effect_models_.items():
                w = _weight(g, Xp)
                out[f"effect_{ch}"] = w * b0.predict(Xp) + (1 - w) * b1.predict(Xp)
        else:
            base = self._proba(self.control, Xp)
            out = {f"effect_{ch}": self._proba(ch, Xp) - base for ch in self.channels_}
        if self.reach is not None:  # a contact that cannot be delivered changes nothing
            for ch in self.channels_:
                flag = self.reach.format(channel=ch)
                if flag in Xp.columns:
                    out[f"effect_{ch}"] = np.where(
                        Xp[flag].to_numpy() == 0, 0.0, out[f"effect_{ch}"]
                    )
        return pd.DataFrame(out, index=X.index)

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
        Xp = self._inputs(X)
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
        names = np.asarray(Xp.columns, dtype=str)
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
                w = _weight(g, Xp[at])[:, None]
                parts[at] = w * _contrib(b0, Xp[at]) + (1 - w) * _contrib(b1, Xp[at])
            else:
                parts[at] = self._contrib(ch, Xp[at]) - base[at]
        shown = (
            np.column_stack([_texts(Xp[c]) for c in Xp.columns])
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
            return np.zeros((len(Xp), Xp.shape[1]))
        return _contrib(b, Xp)


_CHANNEL = "__channel__"
COMPLAINT_INPUT = "complaint_after_contact"
"""The input made from the complaint outcome (see :class:`UpliftModel`)."""


def _predict(model, Xp: pd.DataFrame) -> np.ndarray:
    """A booster's predictions, or a constant's."""
    if isinstance(model, float):
        return np.full(len(Xp), model)
    return np.asarray(model.predict(Xp), dtype=float) if len(Xp) else np.zeros(0)


def _with_channel(Xp: pd.DataFrame, channel, channels) -> pd.DataFrame:
    """``Xp`` with the channel as a categorical feature (a pooled effect regression's input)."""
    values = np.broadcast_to(np.asarray(channel, dtype=object), (len(Xp),))
    out = Xp.reset_index(drop=True).copy()
    out[_CHANNEL] = pd.Categorical(values, categories=list(channels))
    return out


class _Pooled:
    """One channel's view of an effect regression pooled over channels."""

    def __init__(self, booster, channel, channels):
        self.booster, self.channel, self.channels = booster, channel, list(channels)

    def predict(self, Xp, pred_contrib=False):
        out = self.booster.predict(
            _with_channel(Xp, self.channel, self.channels), pred_contrib=pred_contrib
        )
        return np.delete(out, -2, axis=1) if pred_contrib else out  # the channel's own part


def _weight(g, Xp: pd.DataFrame) -> np.ndarray:
    """The X-learner's propensity: a constant share or a model of it."""
    if isinstance(g, float):
        return np.full(len(Xp), g)
    return np.clip(np.asarray(g.predict(Xp), dtype=float), 0.05, 0.95) if len(Xp) else np.zeros(0)


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
