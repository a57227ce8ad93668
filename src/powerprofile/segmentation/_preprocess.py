"""Robust preprocessing of skewed usage and contact features for clustering."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["RobustPreprocessor"]


class RobustPreprocessor:
    """Impute, log-transform skewed columns, robust-scale and clip.

    Not a public estimator: :class:`~powerprofile.segmentation.CustomerSegmenter` owns
    one. Every statistic is an order statistic or a moment of the whole column, so the
    result does not depend on row order.

    Parameters
    ----------
    method : {"robust", "quantile"}
        ``"robust"``: ``log1p`` (sign-preserving) on columns whose skewness exceeds
        ``skew_threshold``, then ``(x - median) / IQR``; ``"quantile"``: rank-based
        mapping to a standard normal through the column's quantiles.
    skew_threshold : float
        Skewness above which a non-negative column is log-transformed.
    clip : float
        Scaled values are clipped to ``[-clip, clip]`` so outliers cannot own a cluster.
    """

    def __init__(self, method: str = "robust", skew_threshold: float = 1.0, clip: float = 5.0):
        self.method = method
        self.skew_threshold = skew_threshold
        self.clip = clip

    def fit(self, X: np.ndarray) -> RobustPreprocessor:
        """Learn the per-column statistics from ``X`` (float, NaN = missing)."""
        X = np.asarray(X, dtype="float64")
        med = np.nanmedian(X, axis=0) if len(X) else np.zeros(X.shape[1])
        med = np.where(np.isnan(med), 0.0, med)
        self.impute_ = med
        Xi = np.where(np.isnan(X), med, X)
        if self.method == "quantile":
            qs = np.linspace(0, 1, 201)
            self.quantiles_ = np.quantile(Xi, qs, axis=0)
            self.references_ = stats.norm.ppf(np.clip(qs, 1e-3, 1 - 1e-3))
            return self
        with np.errstate(all="ignore"):
            skew = np.nan_to_num(stats.skew(Xi, axis=0, bias=True), nan=0.0)
        self.log_ = (np.abs(skew) > self.skew_threshold) & (np.nanmin(Xi, axis=0) >= 0)
        Xl = self._log(Xi)
        q1, q2, q3 = np.quantile(Xl, [0.25, 0.5, 0.75], axis=0)
        iqr = q3 - q1
        std = Xl.std(axis=0)
        scale = np.where(iqr > 1e-12, iqr, np.where(std > 1e-12, std, 1.0))
        self.center_ = q2
        self.scale_ = scale
        return self

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Map scaled values (e.g. centroids) back to the original units."""
        Z = np.asarray(Z, dtype="float64")
        if self.method == "quantile":
            out = np.empty_like(Z)
            for j in range(Z.shape[1]):
                out[:, j] = np.interp(Z[:, j], self.references_, self.quantiles_[:, j])
            return out
        Xl = Z * self.scale_ + self.center_
        return np.where(self.log_, np.sign(Xl) * np.expm1(np.abs(Xl)), Xl)

    def _log(self, X: np.ndarray) -> np.ndarray:
        return np.where(self.log_, np.log1p(np.abs(X)) * np.sign(X), X)

    def transform(self, X: np.ndarray, impute: bool = True) -> np.ndarray:
        """Scaled copy of ``X``; with ``impute=False`` missing values stay NaN."""
        X = np.asarray(X, dtype="float64")
        Xi = np.where(np.isnan(X), self.impute_, X)
        if not impute:
            out = self.transform(Xi)
            out[np.isnan(X)] = np.nan
            return out
        if self.method == "quantile":
            out = np.empty_like(Xi)
            for j in range(Xi.shape[1]):  # loop over features (few), vectorised over rows
                q = self.quantiles_[:, j]
                # average of left and right interpolation copes with repeated quantiles (ties)
                lo = np.interp(Xi[:, j], q, self.references_)
                hi = -np.interp(-Xi[:, j], -q[::-1], -self.references_[::-1])
                out[:, j] = 0.5 * (lo + hi)
            return np.clip(out, -self.clip, self.clip)
        Z = (self._log(Xi) - self.center_) / self.scale_
        return np.clip(Z, -self.clip, self.clip)
