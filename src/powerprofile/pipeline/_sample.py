"""Reproducible samples of customers and training rows, and the route choice.

A row's place in a sample depends only on its customer id, its snapshot and the
job's seed (a keyed hash), never on the row order or the partitioning, so the
in-memory and the streamed routes keep exactly the same rows.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
from pandas.util import hash_array

from ..config import Config
from ._paths import _resolve

__all__ = [
    "IMPORTANCE_CUSTOMERS",
    "customer_uniform",
    "importance_rows",
    "segment_sample_fraction",
    "segment_sample_mask",
    "training_sample",
    "training_sample_fraction",
    "uniform_rows",
    "use_streaming",
]

log = logging.getLogger("powerprofile")

_M1, _M2, _GOLD = (
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0x9E3779B97F4A7C15),
)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread 64-bit hash of 64-bit integers."""
    with np.errstate(over="ignore"):
        x = (x + _GOLD).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def customer_uniform(customer_ids, seed: int, salt=0) -> np.ndarray:
    """A number in [0, 1) per customer (and ``salt``), fixed by the id and ``seed``.

    Parameters
    ----------
    customer_ids : array-like of str
    seed : int
        The job's seed: another seed gives an independent draw.
    salt : int or numpy.ndarray of int, default=0
        Mixed in per row (e.g. the snapshot day), so that one customer's rows at
        different snapshots are drawn independently.

    Returns
    -------
    numpy.ndarray of float64
    """
    values = np.asarray(pd.Series(customer_ids, dtype="string").to_numpy(dtype=object))
    h = hash_array(values, categorize=True)
    s = _mix(np.asarray(salt, dtype=np.int64).astype(np.uint64) ^ _mix(np.uint64(seed)))
    return (_mix(h ^ s) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def training_sample_fraction(cfg: Config, n_customers: int) -> float:
    """Fraction of the all-negative training rows kept (``models.max_training_rows``).

    ``min(1, max_training_rows / (n_customers * n_training_snapshots))``: the same
    on both routes, since both know the number of customers before any feature.
    """
    cap = cfg.models.max_training_rows
    rows = max(1, int(n_customers) * cfg.features.n_training_snapshots)
    return 1.0 if cap is None else min(1.0, cap / rows)


def segment_sample_fraction(cfg: Config, n_customers: int) -> float:
    """Fraction of the scored customers the segmenter is fitted on (``segmentation.max_customers``)."""
    cap = cfg.segmentation.max_customers
    return 1.0 if cap is None else min(1.0, cap / max(1, int(n_customers)))


def _row_uniform(frame: pd.DataFrame, seed: int) -> np.ndarray:
    snaps = pd.DatetimeIndex(frame.index.get_level_values("snapshot_date"))
    days = snaps.to_numpy().astype("datetime64[D]").astype(np.int64)
    return customer_uniform(frame.index.get_level_values("customer_id"), seed, days)


def uniform_rows(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Rows of a feature frame drawn with probability ``fraction``, whatever their labels.

    The same draw as :func:`training_sample` (a row drawn here is kept there), so
    the training sample's rows with ``uniform_rows`` true are a uniform sample of the
    population: rates measured on them (the segment profile's churn and complaint
    rates) need no weights.
    """
    if fraction >= 1.0:
        return np.ones(len(frame), dtype=bool)
    return _row_uniform(frame, seed) < fraction


def segment_sample_mask(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Scored customers the segmenter is fitted on: drawn by customer id and ``seed``."""
    if fraction >= 1.0:
        return np.ones(len(frame), dtype=bool)
    return customer_uniform(frame.index.get_level_values("customer_id"), seed, 1) < fraction


IMPORTANCE_CUSTOMERS = 20_000
"""About how many scored customers the global SHAP importance is averaged over."""


def importance_rows(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The scored rows the global SHAP importance (``models/plots``) is averaged over.

    Every row up to :data:`IMPORTANCE_CUSTOMERS`; beyond, customers drawn by a keyed
    hash of the id and ``seed`` (the same rows on both routes).
    """
    f = min(1.0, IMPORTANCE_CUSTOMERS / max(1, len(frame)))
    return frame if f >= 1.0 else frame[segment_sample_mask(frame, f, seed + 1)]


def training_sample(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """Every row positive for some target plus a hash-chosen ``fraction`` of the others.

    The kept negative rows get ``sample_weight = 1 / fraction`` (positives 1), so the
    weights of the kept rows add up to the number of rows of ``frame`` in
    expectation, and weighted fits and calibration estimate the population's rates.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training frame indexed by (customer_id, snapshot_date) with ``label_*`` columns.
    fraction : float
        In (0, 1]; 1 keeps every row, with weight 1.
    seed : int

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        The kept rows (in ``frame``'s order) and their weights.
    """
    if fraction >= 1.0:
        return frame, np.ones(len(frame))
    labels = [c for c in frame.columns if c.startswith("label_")]
    positive = np.zeros(len(frame), dtype=bool)
    for c in labels:
        positive |= frame[c].to_numpy() > 0
    keep = positive | (_row_uniform(frame, seed) < fraction)
    weights = np.where(positive, 1.0, 1.0 / fraction)[keep]
    return frame[keep], weights


def use_streaming(cfg: Config) -> bool:
    """Whether the job takes the streamed route (``data.streaming``).

    ``"always"``/``"never"`` force it; ``"auto"`` streams a partitioned folder
    (``dataset.json`` declares ``n_partitions``) that declares at least
    ``data.streaming_min_customers`` customers.
    """
    mode = cfg.data.streaming
    if mode in ("always", "never"):
        return mode == "always"
    info = _resolve(cfg.data.path) / "dataset.json"
    try:
        meta = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # the reader names a broken dataset.json on the in-memory route
    if not isinstance(meta, dict) or not meta.get("n_partitions"):
        return False
    n = meta.get("n_customers")
    return isinstance(n, int) and n >= cfg.data.streaming_min_customers
