"""``CustomerSegmenter``: robust KMeans segments with automatic k, names and stable ids."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ..exceptions import ConfigError, FeatureMismatchError
from ..exceptions import NotFittedError as _PPNotFitted
from ._kmeans import (
    SEARCH_INIT,
    assign,
    category_words,
    fit_centers,
    inertia,
    match_to_reference,
    partial_sq_distances,
)
from ._naming import segment_names
from ._preprocess import RobustPreprocessor

__all__ = ["DEFAULT_SEGMENT_FEATURES", "CustomerSegmenter"]

DEFAULT_SEGMENT_FEATURES: tuple[str, ...] = (
    # usage level, shape and seasonality over the long window
    "kwh_mean_365d",
    "kwh_cv_365d",
    "kwh_summer_ratio",
    "kwh_winter_ratio",
    "kwh_weekend_ratio_365d",
    # service-contact channel mix
    "contacts_365d",
    "online_contact_share_365d",
    "contact_share_hotline_95598_365d",
    "contact_share_grid_manager_365d",
    # payment channel mix
    "online_payment_share_365d",
    "payment_share_counter_365d",
)
"""Long-window behaviour features used when ``features=None`` (those present in ``X``)."""

SEGMENTER_KIND = "segmenter"
SEGMENTER_FILE = "segmenter.pkl"

_LABEL_COLUMNS = {"churn_rate": "label_churn", "complaint_rate": "label_complaint"}


class CustomerSegmenter(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Customer segments: robust preprocessing, KMeans, automatic k, names, stable ids.

    Parameters
    ----------
    features : list of str or None, default=None
        Columns to cluster on. None uses the names of
        :data:`DEFAULT_SEGMENT_FEATURES` found in ``X`` (long-window usage level,
        seasonality, time-of-use shares, weekend ratio, contact and payment channel
        mix); when fewer than two are found, every numeric column is used.
    n_clusters : int or "auto", default="auto"
        Number of segments; ``"auto"`` picks it from ``k_range`` by stability under
        resampling and separation (see ``k_scores_``).
    k_range : tuple of (int, int), default=(3, 10)
        Inclusive range searched when ``n_clusters="auto"``.
    scaling : {"robust", "quantile"}, default="robust"
        ``"robust"`` log-transforms skewed non-negative columns, then centres on the
        median and divides by the IQR; ``"quantile"`` maps each column through its
        quantiles to a standard normal. Missing values take the column median.
    clip : float, default=5.0
        Scaled values are clipped to ``[-clip, clip]``.
    categorical : list of str or None, default=None
        Categorical columns one-hot encoded into the clustering space. None uses
        ``customer_type`` when ``X`` has it, so segments do not straddle the
        customer types the utility already manages separately (a segment made of
        one minority type is named after it, e.g. "commercial: ..." / "一般工商业·...");
        ``()`` uses numeric features only.
    categorical_weight : float, default=2.0
        Value of a one-hot column (in robust-scaled units: IQRs).
    missing : {"partial", "median"}, default="partial"
        How missing values (no contacts yet, no time-of-use readings, short
        history) are handled. ``"partial"``: k is chosen and the centroids seeded on
        customers with every feature observed; every customer is then assigned by
        the distance over the features it has, and its missing values take its
        centroid's values while the centroids are refined. ``"median"``: missing
        values take the column median (simple, but customers with many gaps can
        form a cluster of their own).
    sample_size : int, default=10000
        Rows sampled (without replacement) for choosing k, so the search costs the
        same at a million customers as at twenty thousand.
    n_resamples : int, default=5
        Subsamples (80 % of the sample each) per candidate k; the stability score is
        the median adjusted Rand index between their labelings of the sample.
    min_stability : float, default=0.8
        Candidate k whose median pairwise ARI across subsamples is below this are only
        chosen when none reaches it.
    min_separation : float, default=1.0
        Among the stable candidates, the largest k whose silhouette is at least this
        fraction of the best candidate's silhouette is chosen. The default picks the
        best separated stable k; e.g. 0.95 lets near-ties go to more detail.
    n_init : int, default=10
        KMeans restarts of the final fit. Above ``10 * sample_size`` rows the restarts
        run on a sample of that size and one full pass from the best start follows.
    reference : CustomerSegmenter or None, default=None
        A previously fitted segmenter; new segments are matched to its segments
        (Hungarian matching on co-assignment of the training customers) so that the
        same kind of customer keeps the same id. ``fit(X, previous=...)`` overrides it.
    min_jaccard : float, default=0.3
        A new segment keeps a reference id only when the overlap (Jaccard index of
        the two customer sets) reaches this; otherwise it gets a fresh id.
    name_threshold : float, default=0.4
        Minimum deviation (in IQR units) of a segment median for a feature to appear
        in the segment's name.
    catalog : pandas.DataFrame or None, default=None
        Feature catalogue used to name segments on features outside the built-in
        vocabulary.
    n_jobs : int or None, default=None
        Threads of the final KMeans fit (None: the library default). The search
        over k always runs single-threaded: many small fits gain nothing from
        threads.
    random_state : int, default=0
        Seed of sampling and KMeans.

    Attributes
    ----------
    features_ : list of str
        Columns actually used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Present when ``X`` had string column names.
    n_clusters_ : int
    segment_ids_ : ndarray of int
        Segment id of each KMeans cluster (row of ``cluster_centers_``).
    cluster_centers_ : ndarray of shape (n_clusters_, n_features)
        Centroids in the scaled space.
    labels_ : ndarray of int
        Segment id of each training row.
    names_ : dict of int to (str, str)
        English and Chinese name of each segment id.
    k_scores_ : pandas.DataFrame or None
        Per candidate k: ``stability`` (median pairwise ARI across subsamples),
        ``silhouette`` and ``chosen``; None when ``n_clusters`` is an int.
    matching_ : pandas.DataFrame or None
        When refitted against a reference: new id, reference id, overlap, Jaccard.
    version_ : str
        Short content hash identifying this fitted segmentation.

    Examples
    --------
    >>> seg = CustomerSegmenter(random_state=0).fit(features)  # doctest: +SKIP
    >>> seg.profile(features, labels)  # doctest: +SKIP
    >>> new = CustomerSegmenter().fit(next_quarter, previous=seg)  # doctest: +SKIP
    >>> transition_table(seg.predict(features), new.predict(next_quarter))  # doctest: +SKIP
    """

    def __init__(
        self,
        features=None,
        n_clusters="auto",
        k_range=(3, 10),
        scaling="robust",
        clip=5.0,
        categorical=None,
        categorical_weight=2.0,
        missing="partial",
        sample_size=10000,
        n_resamples=5,
        min_stability=0.8,
        min_separation=1.0,
        n_init=10,
        reference=None,
        min_jaccard=0.3,
        name_threshold=0.4,
        catalog=None,
        n_jobs=None,
        random_state=0,
    ):
        self.features = features
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.scaling = scaling
        self.clip = clip
        self.categorical = categorical
        self.categorical_weight = categorical_weight
        self.missing = missing
        self.sample_size = sample_size
        self.n_resamples = n_resamples
        self.min_stability = min_stability
        self.min_separation = min_separation
        self.n_init = n_init
        self.reference = reference
        self.min_jaccard = min_jaccard
        self.name_threshold = name_threshold
        self.catalog = catalog
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values take the column median
        return tags

    def __sklearn_clone__(self):
        """An unfitted copy with the same parameters that shares the fitted ``reference``.

        scikit-learn's ``clone`` re-creates every estimator parameter unfitted, which
        would turn a fitted reference into one that ``fit`` refuses. The reference is
        fitted state to match against, not a model to train, so the copy keeps the
        very same object; every other parameter is cloned as usual. This is what makes
        ``reference=`` usable inside ``Pipeline``, ``GridSearchCV`` and
        ``cross_validate``.
        """
        twin = super().__sklearn_clone__()
        return twin.set_params(reference=self.reference)

    # ------------------------------------------------------------------ helpers
    def _resolve_features(self, X) -> list:
        if isinstance(X, pd.DataFrame):
            cols = list(X.columns)
            if self.features is not None:
                feats = list(self.features)
                missing = [f for f in feats if f not in cols]
                if missing:
                    raise ConfigError(
                        f"CustomerSegmenter: feature(s) {missing!r} are not columns of X; "
                        "build them or change the 'features' parameter"
                    )
                bad = [f for f in feats if not _is_numeric(X[f])]
                if bad:
                    raise ConfigError(
                        f"CustomerSegmenter: feature(s) {bad!r} are not numeric; "
                        "segments are built on numeric behaviour features"
                    )
                return feats
            feats = [f for f in DEFAULT_SEGMENT_FEATURES if f in cols and _is_numeric(X[f])]
            if len(feats) >= 2:
                return feats
            return [c for c in cols if _is_numeric(X[c]) and not str(c).startswith("label_")]
        n = np.asarray(X).shape[1] if np.ndim(X) == 2 else 0
        if self.features is not None:
            return list(self.features)
        return list(range(n))

    def _matrix(self, X, features) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            if all(isinstance(f, (int, np.integer)) for f in features) and not all(
                f in X.columns for f in features
            ):
                arr = X.iloc[:, list(features)]
            else:
                arr = X[list(features)]
            return arr.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        arr = np.asarray(X, dtype="float64")
        return arr[:, list(features)] if features else arr

    def _validate_params(self):
        if not (
            self.n_clusters == "auto"
            or (isinstance(self.n_clusters, (int, np.integer)) and self.n_clusters >= 1)
        ):
            raise ConfigError(
                f"n_clusters must be 'auto' or a positive int, got {self.n_clusters!r}"
            )
        if self.missing not in ("partial", "median"):
            raise ConfigError(f"missing must be 'partial' or 'median', got {self.missing!r}")
        if self.scaling not in ("robust", "quantile"):
            raise ConfigError(f"scaling must be 'robust' or 'quantile', got {self.scaling!r}")
        lo, hi = self.k_range
        if not (2 <= lo <= hi):
            raise ConfigError(f"k_range must be (lo, hi) with 2 <= lo <= hi, got {self.k_range!r}")

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, previous=None):
        """Fit the segments.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Features, one row per customer (and snapshot).
        y : ignored
        previous : CustomerSegmenter or None, default=None
            A fitted segmenter whose ids the new segments should keep (overrides
            ``reference``).

        Returns
        -------
        self
        """
        self._validate_params()
        ref = previous if previous is not None else self.reference
        if ref is not None:
            check_is_fitted(ref, "segment_ids_")
        if not isinstance(X, pd.DataFrame):
            X = validate_data(
                self, X, dtype="float64", ensure_all_finite="allow-nan", ensure_min_samples=2
            )
        feats = self._resolve_features(X)
        M = self._matrix(X, feats)
        if M.shape[0] < 2 or M.shape[1] < 1:
            raise ValueError(
                f"CustomerSegmenter needs at least 2 samples and 1 feature, got shape {M.shape}"
            )
        if np.isinf(M).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            self.n_features_in_ = X.shape[1]
        self.features_ = feats
        self.categorical_ = self._resolve_categorical(X)
        self.categories_ = {
            c: sorted(str(v) for v in pd.unique(X[c].dropna().astype(str)))
            for c in self.categorical_
        }
        OH = self._onehot(X)
        # Canonical row order: every later step (sampling, KMeans init) sees the same
        # data whatever order the customers came in, so segments are order-invariant.
        keys = np.hstack([np.where(np.isnan(M), np.inf, M), OH])
        order = np.lexsort(keys.T[::-1])
        Ms = M[order]
        self.preprocessor_ = RobustPreprocessor(self.scaling, clip=self.clip).fit(Ms)
        self.fill_ = self.preprocessor_.transform(self.preprocessor_.impute_[None, :])[0]
        Zn = self.preprocessor_.transform(Ms, impute=False)
        p = Zn.shape[1]
        Zn = np.hstack([Zn, OH[order]])
        self.fill_ = np.concatenate([self.fill_, np.zeros(OH.shape[1])])
        obs = ~np.isnan(Zn)
        Z = np.where(obs, Zn, self.fill_)
        n_distinct = len(np.unique(Z, axis=0)) if len(Z) <= 50000 else len(Z)
        rng = np.random.default_rng(self.random_state)

        if self.n_clusters == "auto":
            hi = min(self.k_range[1], max(n_distinct - 1, 1))
            lo = min(self.k_range[0], hi)
            if hi < 2:
                k = 1
                self.k_scores_ = None
            else:
                # many small fits: one thread each is fastest, and never oversubscribes
                with threadpool_limits(limits=1):
                    self.k_scores_ = self._k_scores(Zn, obs, Z, range(lo, hi + 1), rng)
                k = int(self.k_scores_.loc[self.k_scores_["chosen"], "k"].iloc[0])
                ref_k = getattr(ref, "n_clusters_", None)
                stable = self.k_scores_.loc[self.k_scores_["stability"] >= self.min_stability, "k"]
                if ref_k is not None and ref_k != k and ref_k in set(stable):
                    # continuity: keep the previous number of segments while it is stable
                    self.k_scores_["chosen"] = self.k_scores_["k"] == ref_k
                    k = int(ref_k)
        else:
            k = int(max(1, min(self.n_clusters, n_distinct)))
            self.k_scores_ = None
        with threadpool_limits(limits=self.n_jobs):
            big = 10 * int(self.sample_size)
            if len(Z) > big:
                # restarts on a large sample find the best start; one pass on every row
                # then polishes it (n_init full passes over a million rows cost minutes)
                idx = np.sort(rng.choice(len(Z), size=big, replace=False))
                init = fit_centers(
                    Zn[idx], obs[idx], Z[idx], k, self.random_state, self.n_init, self.missing
                )
                centers = fit_centers(Zn, obs, Z, k, self.random_state, 1, self.missing, init=init)
            else:
                centers = fit_centers(Zn, obs, Z, k, self.random_state, self.n_init, self.missing)
            init = self._reference_centers(ref, feats, k)
            if init is not None:
                # start from the previous segments; keep that solution unless a fresh
                # fit is clearly better (inertia lower by more than 2 %)
                warm = fit_centers(Zn, obs, Z, k, self.random_state, 1, self.missing, init=init)
                if inertia(Zn, obs, warm, Z) <= 1.02 * inertia(Zn, obs, centers, Z):
                    centers = warm
        self.n_clusters_ = k
        self._n_features_out = k
        lab = assign(Zn, obs, centers, Z)
        raw_labels = np.empty(len(M), dtype=np.int64)
        raw_labels[order] = lab

        sizes = np.bincount(lab, minlength=k)
        if ref is not None:
            ids, self.matching_ = match_to_reference(
                raw_labels, ref.predict(X), k, self.min_jaccard
            )
        else:
            # canonical ids: largest segment first, ties broken by centroid coordinates
            rank = np.lexsort(tuple(centers.T[::-1]) + (-sizes,))
            ids = np.empty(k, dtype=np.int64)
            ids[rank] = np.arange(k)
            self.matching_ = None
        self.segment_ids_ = ids
        self.cluster_centers_ = centers
        self.labels_ = ids[raw_labels]
        # names from the deviation of each segment's median from the population's
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-NaN slices
            overall = np.nanmedian(Zn[:, :p], axis=0)
            dev = np.vstack([np.nanmedian(Zn[lab == c, :p], axis=0) - overall for c in range(k)])
        dev = np.nan_to_num(dev)
        names = [str(f) for f in feats]
        prefixes = self._type_prefixes(OH[order], lab, k)
        named = segment_names(
            dev, names, list(ids), threshold=self.name_threshold, catalog=self.catalog
        )
        for c in range(k):
            sid = int(ids[c])
            if prefixes[c] is not None:
                en, zh = named[sid]
                named[sid] = (f"{prefixes[c][0]}: {en}", f"{prefixes[c][1]}·{zh}")
        self.names_ = dict(sorted(named.items()))
        digest = hashlib.sha256(
            np.round(centers, 6).tobytes() + repr(list(ids)).encode()
        ).hexdigest()
        self.version_ = f"seg-k{k}-{digest[:10]}"
        return self

    def _reference_centers(self, ref, feats, k):
        """The reference's centroids in this model's scaled space (None if not comparable)."""
        if (
            ref is None
            or getattr(ref, "n_clusters_", None) != k
            or list(ref.features_) != list(feats)
            or getattr(ref, "categories_", {}) != self.categories_
        ):
            return None
        p = len(feats)
        raw = ref.preprocessor_.inverse_transform(ref.cluster_centers_[:, :p])
        return np.hstack([self.preprocessor_.transform(raw), ref.cluster_centers_[:, p:]])

    def _resolve_categorical(self, X) -> list:
        if not isinstance(X, pd.DataFrame):
            if self.categorical:
                raise ConfigError("categorical columns need X as a DataFrame; pass categorical=()")
            return []
        if self.categorical is None:
            return ["customer_type"] if "customer_type" in X.columns else []
        missing = [c for c in self.categorical if c not in X.columns]
        if missing:
            raise ConfigError(
                f"CustomerSegmenter: categorical column(s) {missing!r} are not columns of X; "
                "pass categorical=() to cluster on numeric features only"
            )
        return list(self.categorical)

    def _onehot(self, X) -> np.ndarray:
        """One-hot columns of the categorical features, scaled by ``categorical_weight``."""
        blocks = [np.zeros((len(X), 0))]
        for c in self.categorical_:
            cats = self.categories_[c]
            v = X[c].astype("string").to_numpy(dtype=object, na_value=None)
            blocks.append(
                np.stack([v == cat for cat in cats], axis=1).astype("float64")
                * float(self.categorical_weight)
                if cats
                else np.zeros((len(X), 0))
            )
        return np.hstack(blocks)

    def _type_prefixes(self, OH, lab, k):
        """Name prefix for segments made (>= 90 %) of one category that is not the most common."""
        out = [None] * k
        if not self.categorical_ or OH.shape[1] == 0:
            return out
        c0 = self.categorical_[0]
        cats = self.categories_[c0]
        block = OH[:, : len(cats)] > 0
        overall = block.sum(axis=0)
        if overall.sum() == 0:
            return out
        common = int(np.argmax(overall))
        for c in range(k):
            member = block[lab == c]
            if len(member) == 0:
                continue
            share = member.mean(axis=0)
            j = int(np.argmax(share))
            if share[j] >= 0.9 and j != common:
                out[c] = category_words(c0, cats[j])
        return out

    def _k_scores(self, Zn, obs, Z, ks, rng) -> pd.DataFrame:
        n = len(Z)
        m = min(n, int(self.sample_size))
        take = np.sort(rng.choice(n, size=m, replace=False)) if m < n else np.arange(n)
        Sn, So, S = Zn[take], obs[take], Z[take]
        sil_idx = np.sort(rng.choice(m, size=min(m, 4000), replace=False))
        sub = max(2, int(0.8 * m))
        rows = []
        for k in ks:
            seeds = rng.integers(0, 2**31 - 1, size=self.n_resamples + 1)
            labelings = []
            for b in range(self.n_resamples):
                idx = np.sort(rng.choice(m, size=sub, replace=False))
                C = fit_centers(
                    Sn[idx], So[idx], S[idx], k, int(seeds[b]), SEARCH_INIT, self.missing
                )
                labelings.append(assign(Sn, So, C, S))
            C = fit_centers(Sn, So, S, k, int(seeds[-1]), SEARCH_INIT, self.missing)
            lab = assign(Sn, So, C, S)
            aris = [
                adjusted_rand_score(labelings[i], labelings[j])
                for i in range(len(labelings))
                for j in range(i + 1, len(labelings))
            ]
            stab = float(np.median(aris)) if aris else 1.0
            filled = np.where(So, Sn, C[lab])[sil_idx]
            ls = lab[sil_idx]
            sil = float(silhouette_score(filled, ls)) if len(np.unique(ls)) > 1 else 0.0
            rows.append({"k": k, "stability": stab, "silhouette": sil})
        tab = pd.DataFrame(rows)
        ok = tab["stability"] >= self.min_stability
        pool = tab[ok] if ok.any() else tab
        # the most detailed k that is stable and not much worse separated than the best
        floor = self.min_separation * pool["silhouette"].max()
        best = pool.loc[pool["silhouette"] >= floor, "k"].max()
        tab["chosen"] = tab["k"] == best
        return tab

    # ------------------------------------------------------------------ use
    def _check_fitted(self):
        try:
            check_is_fitted(self, "segment_ids_")
        except Exception:
            raise _PPNotFitted(
                "This CustomerSegmenter instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator."
            ) from None

    def _scaled(self, X) -> np.ndarray:
        self._check_fitted()
        if isinstance(X, pd.DataFrame):
            missing = [
                f
                for f in self.features_
                if not isinstance(f, (int, np.integer)) and f not in X.columns
            ]
            if missing:
                raise FeatureMismatchError(
                    f"CustomerSegmenter was fitted on {self.features_!r}; X lacks {missing!r}. "
                    "Build the same features before predicting."
                )
        else:
            X = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan", reset=False)
        M = self._matrix(X, self.features_)
        Zn = self.preprocessor_.transform(M, impute=False)
        if self.categorical_:
            missing = [c for c in self.categorical_ if c not in getattr(X, "columns", [])]
            if missing:
                raise FeatureMismatchError(
                    f"CustomerSegmenter was fitted with categorical {self.categorical_!r}; X lacks {missing!r}."
                )
            Zn = np.hstack([Zn, self._onehot(X)])
        obs = ~np.isnan(Zn)
        return Zn, obs, np.where(obs, Zn, self.fill_)

    def predict(self, X):
        """Segment id of each row.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Must hold the fitted features.

        Returns
        -------
        ndarray of int
        """
        Zn, obs, Z = self._scaled(X)
        return self.segment_ids_[assign(Zn, obs, self.cluster_centers_, Z)]

    def fit_predict(self, X, y=None, previous=None):
        """Fit and return the segment id of each training row."""
        return self.fit(X, previous=previous).labels_

    def transform(self, X):
        """Distance of each row to each segment centroid (columns ordered by segment id).

        Parameters
        ----------
        X : pandas.DataFrame or array-like

        Returns
        -------
        ndarray of shape (n_samples, n_clusters_)
        """
        Zn, obs, Z = self._scaled(X)
        d = np.sqrt(partial_sq_distances(Zn, obs, self.cluster_centers_, Z, rescale=True))
        return d[:, np.argsort(self.segment_ids_)]

    def segment_names(self, language: str = "en") -> dict[int, str]:
        """Map segment id to its name in ``language`` (``"en"`` or ``"zh"``)."""
        self._check_fitted()
        i = {"en": 0, "zh": 1}[language]
        return {sid: names[i] for sid, names in self.names_.items()}

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, key=None):
        """Save the fitted segmenter: ``segmenter.pkl`` and ``metadata.json`` in ``path``.

        ``metadata.json`` holds the version, features, categories and segment names,
        the parameters, and the artefact block (kind, class, SHA-256 of the pickle,
        signature when ``POWERPROFILE_ARTEFACT_KEY`` is set) that :meth:`load` checks
        before unpickling.

        Parameters
        ----------
        path : str or path-like
            Target folder (created if missing).
        key : str or bytes or None, default=None
            Signing key; default the environment variable ``POWERPROFILE_ARTEFACT_KEY``.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        from ..artefacts import save_artefact

        self._check_fitted()
        params = {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in ("reference", "catalog")
        }
        metadata = {
            "version": self.version_,
            "n_clusters": int(self.n_clusters_),
            "features": [str(f) for f in self.features_],
            "categorical": {c: list(self.categories_[c]) for c in self.categorical_},
            "segments": [
                {"segment_id": int(sid), "name_en": en, "name_zh": zh}
                for sid, (en, zh) in self.names_.items()
            ],
            "params": params,
        }
        return save_artefact(
            self, path, kind=SEGMENTER_KIND, file=SEGMENTER_FILE, metadata=metadata, key=key
        )

    @classmethod
    def load(cls, path, *, key=None):
        """Load a segmenter written by :meth:`save`, verified before it is unpickled.

        Parameters
        ----------
        path : str or path-like
            The folder written by ``save`` (or its ``segmenter.pkl`` file).
        key : str or bytes or None, default=None
            Verification key; default ``POWERPROFILE_ARTEFACT_KEY``. When set, the
            segmenter must be signed with it.

        Returns
        -------
        CustomerSegmenter

        Raises
        ------
        FileNotFoundError
            Nothing exists at ``path``.
        ArtefactError
            ``path`` is not an intact segmenter written by powerprofile (missing or
            foreign metadata, another kind, checksum or signature mismatch); nothing
            is unpickled then.
        """
        from ..artefacts import load_artefact

        return load_artefact(path, kind=SEGMENTER_KIND, cls=cls, key=key)

    def profile(self, X, labels=None) -> pd.DataFrame:
        """Segment profile table.

        Parameters
        ----------
        X : pandas.DataFrame
            Features (the rows to profile, e.g. the training frame).
        labels : pandas.DataFrame or pandas.Series or None, default=None
            Outcome labels aligned with ``X``: columns ``label_churn`` /
            ``label_complaint`` (0/1). When None, those columns of ``X`` are used if
            present.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``segment_id``: ``name_en``, ``name_zh``, ``size``, ``share``,
            ``median_<feature>`` for each segment feature, and ``churn_rate`` /
            ``complaint_rate`` when labels are available. A final row ``-1``
            ("all customers") gives the population values.
        """
        seg = self.predict(X)
        M = self._matrix(X, self.features_)
        feats = [str(f) for f in self.features_]
        med = pd.DataFrame(M, columns=[f"median_{f}" for f in feats]).groupby(seg).median()
        size = pd.Series(seg).value_counts().sort_index()
        out = pd.DataFrame(index=pd.Index(sorted(self.names_), name="segment_id"))
        out["name_en"] = [self.names_[i][0] for i in out.index]
        out["name_zh"] = [self.names_[i][1] for i in out.index]
        out["size"] = size.reindex(out.index, fill_value=0).astype("int64")
        out["share"] = out["size"] / max(len(seg), 1)
        out = out.join(med)
        allrow = {"name_en": "all customers", "name_zh": "全部用户", "size": len(seg), "share": 1.0}
        allrow.update(
            {
                f"median_{f}": float(np.nanmedian(M[:, j])) if len(M) else np.nan
                for j, f in enumerate(feats)
            }
        )
        lab = _label_frame(X, labels)
        for col, lcol in _LABEL_COLUMNS.items():
            if lab is not None and lcol in lab.columns:
                v = pd.to_numeric(lab[lcol], errors="coerce").to_numpy(
                    dtype="float64", na_value=np.nan
                )
                out[col] = pd.Series(v).groupby(seg).mean().reindex(out.index)
                allrow[col] = float(np.nanmean(v)) if len(v) else np.nan
        out.loc[-1] = pd.Series(allrow)
        out["size"] = out["size"].astype("int64")
        return out


def _label_frame(X, labels):
    if labels is None:
        if isinstance(X, pd.DataFrame) and any(c in X.columns for c in _LABEL_COLUMNS.values()):
            return X
        return None
    if isinstance(labels, pd.Series):
        name = labels.name if labels.name in _LABEL_COLUMNS.values() else "label_churn"
        return pd.DataFrame({name: labels.to_numpy()})
    if isinstance(labels, pd.DataFrame):
        return labels.reset_index(drop=True) if len(labels) == len(X) else labels
    raise ConfigError(
        f"labels must be a DataFrame or Series of 0/1 labels, got {type(labels).__name__}"
    )


def _is_numeric(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
    ) and not isinstance(s.dtype, pd.CategoricalDtype)
