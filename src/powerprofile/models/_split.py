"""Out-of-time splitting for propensity models.

Rows are split on the *snapshot* level: whole snapshots go either to training or to
validation, the latest snapshots validate, and no snapshot is ever shared. The
validation snapshots are then divided by customer into an early-stopping half and a
calibration half (see :class:`~powerprofile.models.PropensityModel`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from powerprofile._partition import partition_of

__all__ = ["Split", "crossfit_folds", "out_of_time_split", "resolve_time_and_groups"]


@dataclass(frozen=True)
class Split:
    """Row masks of an out-of-time split.

    Attributes
    ----------
    train, stop, calib : numpy.ndarray of bool
        Training rows, early-stopping rows and calibration rows (disjoint).
    strategy : str
        ``"snapshot"`` (split on time), ``"group"`` (one snapshot only: split on
        customers) or ``"order"`` (no time information: the last rows validate).
    train_times, valid_times : list
        The snapshots (or None) on each side.
    """

    train: np.ndarray
    stop: np.ndarray
    calib: np.ndarray
    strategy: str
    train_times: list | None
    valid_times: list | None


def resolve_time_and_groups(X: pd.DataFrame, time=None, groups=None, time_level="snapshot_date"):
    """Find the per-row snapshot and customer of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        Features; a (customer_id, snapshot_date) MultiIndex is used when present.
    time, groups : array-like or None
        Explicit per-row snapshot and customer, overriding the index.
    time_level : str, default="snapshot_date"
        Index level that holds the snapshot.

    Returns
    -------
    time : numpy.ndarray or None
    groups : numpy.ndarray or None
    """
    n = len(X)
    idx = X.index
    if time is None and isinstance(idx, pd.MultiIndex):
        names = list(idx.names)
        if time_level in names:
            time = idx.get_level_values(time_level)
        else:
            for level in range(idx.nlevels):
                if pd.api.types.is_datetime64_any_dtype(idx.levels[level].dtype):
                    time = idx.get_level_values(level)
                    break
    if groups is None and isinstance(idx, pd.MultiIndex):
        others = [n_ for n_ in idx.names if n_ != time_level]
        name = "customer_id" if "customer_id" in idx.names else (others[0] if others else None)
        if name is not None and name != time_level:
            groups = idx.get_level_values(name)
    if time is not None:
        time = np.asarray(time)
        if len(time) != n:
            raise ValueError(f"time has {len(time)} values but X has {n} rows; pass one per row.")
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(
                f"groups has {len(groups)} values but X has {n} rows; pass one per row."
            )
    return time, groups


def _halves(mask: np.ndarray, groups, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Divide the rows of ``mask`` in two halves, by customer when known."""
    rows = np.flatnonzero(mask)
    if groups is not None:
        part = partition_of(pd.Series(groups[rows]).astype("string"), 2)
    else:
        rng = np.random.default_rng(seed)
        part = rng.permutation(len(rows)) % 2
    a = np.zeros(len(mask), bool)
    b = np.zeros(len(mask), bool)
    a[rows[part == 0]] = True
    b[rows[part == 1]] = True
    return a, b


def out_of_time_split(
    n: int,
    time=None,
    groups=None,
    *,
    validation_size: float = 0.25,
    gap=None,
    seed: int = 0,
) -> Split:
    """Split rows into training, early-stopping and calibration parts.

    With at least two distinct snapshots, the latest snapshots holding at least
    ``validation_size`` of the rows validate (at least one snapshot is kept for
    training); training snapshots closer than ``gap`` before the first validation
    snapshot are dropped (their label window would overlap it). With a single
    snapshot (or none, but customers known), customers (``groups``) are split instead; with
    neither, the last ``validation_size`` of the rows validate (rows are assumed to be in
    time order).
    The validation rows are then halved by customer into early-stopping and
    calibration rows.

    Parameters
    ----------
    n : int
        Number of rows.
    time, groups : array-like or None
        Per-row snapshot and customer.
    validation_size : float, default=0.25
        Target share of rows used for validation.
    gap : timedelta-like, number or None, default=None
        Purge window between the last training and first validation snapshot.
    seed : int, default=0
        Seed for the row halving when customers are unknown.

    Returns
    -------
    Split
    """
    valid = np.zeros(n, bool)
    strategy = "order"
    train_times = valid_times = None
    train = None
    if time is not None and len(pd.unique(time)) >= 2:
        strategy = "snapshot"
        uniq, inv, counts = np.unique(time, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        cum = np.cumsum(counts[::-1])
        m = int(np.searchsorted(cum, validation_size * n) + 1)
        m = min(max(m, 1), len(uniq) - 1)
        first_valid = len(uniq) - m
        valid = inv >= first_valid
        train = inv < first_valid
        if gap is not None:
            cutoff = uniq[first_valid] - gap
            keep = uniq < cutoff
            if keep.any():
                train = keep[inv] & ~valid
            else:
                warnings.warn(
                    f"Purging training snapshots within {gap!r} of the first validation "
                    f"snapshot {uniq[first_valid]!r} would leave none; the purge is skipped. "
                    "Use more snapshots or a smaller validation_size.",
                    UserWarning,
                    stacklevel=3,
                )
        train_times = list(
            uniq[:first_valid][np.isin(np.arange(first_valid), np.unique(inv[train]))]
        )
        valid_times = list(uniq[first_valid:])
    elif groups is not None:
        strategy = "group"
        part = partition_of(pd.Series(groups).astype("string"), 1000)
        valid = part < int(round(validation_size * 1000))
    else:
        n_valid = int(np.ceil(validation_size * n))
        valid[n - n_valid :] = True
    if train is None:
        train = ~valid
    stop, calib = _halves(valid, groups, seed)
    return Split(train, stop, calib, strategy, train_times, valid_times)


def crossfit_folds(y, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Stratified fold of every row for cross-fitting (rows in any order).

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels.
    n_folds : int, default=5
        Number of folds (lowered to the rarer class's count when that is smaller).
    seed : int, default=0
        Shuffling seed: the folds are deterministic for a seed.

    Returns
    -------
    numpy.ndarray of int
        Fold of each row, ``0 .. k - 1``; all zeros when ``k < 2`` (no cross-fitting
        possible).
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    k = int(min(n_folds, np.bincount(y.astype(np.int64), minlength=2).min()))
    fold = np.zeros(len(y), np.int64)
    if k < 2:
        return fold
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed))
    for i, (_, test) in enumerate(skf.split(np.zeros(len(y)), y)):
        fold[test] = i
    return fold
