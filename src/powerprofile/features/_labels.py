"""Who is active at a snapshot, and the labels over the horizon after it.

Time convention: features use ``[.., T)``; the label horizon of ``h`` days is the
following ``[T, T + h days)``, so every dated row is either a feature input or a
label input for a snapshot, never both and never neither.

* ``label_churn``: any event of the chosen kinds in the horizon (default: every kind
  in :data:`~powerprofile.schema.EVENT_KINDS`), or, with ``churn_usage_collapse``, a
  usage collapse: the mean daily kWh over the last ``window_days`` of the horizon below
  ``ratio`` times the mean over the ``baseline_days`` before the snapshot. Both
  definitions may be combined (either makes a positive).
* ``label_complaint``: at least one ``interactions.type == "complaint"`` in the horizon.

A customer is **active** at ``T`` when supply started before ``T`` and no churn event
of the chosen kinds is dated before ``T`` (customers already churned are excluded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema._contract import EVENT_KINDS
from ._interactions import contact_codes
from ._time import DAY_NS, NAT, customer_codes, to_days, to_ns

__all__ = ["CollapseRule", "LabelSpec", "active_mask", "first_churn_day", "label_arrays"]


@dataclass(frozen=True)
class CollapseRule:
    """A sustained usage collapse counted as churn.

    Parameters
    ----------
    window_days : int, default=60
        Days at the end of the horizon whose mean usage is tested.
    baseline_days : int, default=180
        Days before the snapshot forming the reference mean.
    ratio : float, default=0.2
        Collapse when the window mean is below ``ratio`` x the baseline mean.
    """

    window_days: int = 60
    baseline_days: int = 180
    ratio: float = 0.2

    @classmethod
    def coerce(cls, value):
        """Build from ``None``, ``True``, a dict or an instance."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"window_days", "baseline_days", "ratio"}
            if unknown:
                raise ValueError(
                    f"churn_usage_collapse has unknown key(s) {sorted(unknown)!r}; "
                    "allowed: 'window_days', 'baseline_days', 'ratio'"
                )
            return cls(**value)
        raise ValueError(
            "churn_usage_collapse must be None, True, a dict such as "
            f"{{'window_days': 60, 'baseline_days': 180, 'ratio': 0.2}} or a CollapseRule; got {value!r}"
        )


@dataclass(frozen=True)
class LabelSpec:
    """What the labels mean.

    Parameters
    ----------
    horizon_days : int
        Length of the horizon after the snapshot.
    churn_kinds : tuple of str
        Event kinds that count as churn.
    collapse : CollapseRule or None
        Usage-collapse rule, or ``None``.
    """

    horizon_days: int = 90
    churn_kinds: tuple = EVENT_KINDS
    collapse: CollapseRule | None = None


def resolve_kinds(churn_kinds) -> tuple:
    """Validate ``churn_kinds`` (``None`` = every kind)."""
    if churn_kinds is None:
        return tuple(EVENT_KINDS)
    if isinstance(churn_kinds, str):
        churn_kinds = (churn_kinds,)
    kinds = tuple(churn_kinds)
    bad = [k for k in kinds if k not in EVENT_KINDS]
    if bad:
        raise ValueError(f"churn_kinds has unknown event kind(s) {bad!r}; allowed: {EVENT_KINDS!r}")
    return kinds


def first_churn_day(events: pd.DataFrame, index: pd.Index, churn_kinds) -> np.ndarray:
    """Day number of each customer's first churn event (``+inf`` if none), as float."""
    out = np.full(len(index), np.inf)
    if events is None or len(events) == 0 or not churn_kinds:
        return out
    codes = customer_codes(events["customer_id"], index)
    kind = contact_codes(events["kind"], EVENT_KINDS)
    days = to_days(events["date"])
    m = (codes >= 0) & np.isin(kind, [EVENT_KINDS.index(k) for k in churn_kinds]) & (days != NAT)
    np.minimum.at(out, codes[m], days[m].astype(np.float64))
    return out


def supply_start_day(customers: pd.DataFrame) -> np.ndarray:
    """Day number of supply start (``-inf`` when unknown: treated as always supplied)."""
    d = to_days(customers["supply_start"]).astype(np.float64)
    d[to_ns(customers["supply_start"]) == NAT] = -np.inf
    return d


def active_mask(customers: pd.DataFrame, churn_day: np.ndarray, snap_days) -> np.ndarray:
    """``(n_snapshots, n_customers)`` bool: supplied before and not churned before ``T``."""
    start = supply_start_day(customers)
    t = np.asarray(snap_days, dtype=np.float64)[:, None]
    return (start[None, :] < t) & (churn_day[None, :] >= t)


def _any_event_in(codes, days, n, lo, hi) -> np.ndarray:
    m = (codes >= 0) & (days >= lo) & (days < hi)
    return np.bincount(codes[m], minlength=n) > 0


def label_arrays(
    tables: dict, index: pd.Index, snap_days, spec: LabelSpec, usage_matrix=None, usage_d0=None
) -> dict:
    """``label_churn`` and ``label_complaint`` of one partition, ``(S, n)`` int8 arrays.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The partition's ``events`` and ``interactions`` (and ``usage`` via
        ``usage_matrix`` when the collapse rule is on).
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    spec : LabelSpec
        Label definitions.
    usage_matrix : numpy.ndarray, optional
        Day matrix of kWh covering ``[min(T) - baseline, max(T) + horizon)``.
    usage_d0 : int, optional
        Day number of ``usage_matrix``'s first column.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    n, S, h = len(index), len(snap_days), int(spec.horizon_days)
    churn = np.zeros((S, n), dtype=bool)
    complaint = np.zeros((S, n), dtype=bool)
    ev = tables.get("events")
    if ev is not None and len(ev) and spec.churn_kinds:
        codes = customer_codes(ev["customer_id"], index)
        kind = contact_codes(ev["kind"], EVENT_KINDS)
        codes = np.where(np.isin(kind, [EVENT_KINDS.index(k) for k in spec.churn_kinds]), codes, -1)
        days = to_days(ev["date"])
        for s, t in enumerate(snap_days):
            churn[s] = _any_event_in(codes, days, n, t, t + h)
    it = tables.get("interactions")
    if it is not None and len(it):
        codes = customer_codes(it["customer_id"], index)
        codes = np.where(contact_codes(it["type"], ("complaint",)) == 0, codes, -1)
        t_ns = to_ns(it["timestamp"])
        for s, t in enumerate(snap_days):
            m = (codes >= 0) & (t_ns >= t * DAY_NS) & (t_ns < (t + h) * DAY_NS)
            complaint[s] = np.bincount(codes[m], minlength=n) > 0
    if spec.collapse is not None and usage_matrix is not None:
        churn |= collapse_flags(usage_matrix, usage_d0, snap_days, spec)
    return {"label_churn": churn.astype(np.int8), "label_complaint": complaint.astype(np.int8)}


def _span_mean(X, d0, lo, hi):
    a, b = max(lo - d0, 0), max(min(hi - d0, X.shape[1]), 0)
    block = X[:, a:b]
    cnt = np.isfinite(block).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.nansum(block, axis=1) / np.maximum(cnt, 1), np.nan)


def collapse_flags(X, d0, snap_days, spec: LabelSpec, *, before=False) -> np.ndarray:
    """Usage collapse in the horizon (or, ``before=True``, in the window ending at ``T``)."""
    rule, h = spec.collapse, int(spec.horizon_days)
    out = np.zeros((len(snap_days), X.shape[0]), dtype=bool)
    for s, t in enumerate(snap_days):
        end = t if before else t + h
        win = min(rule.window_days, h) if not before else rule.window_days
        start = end - win
        base_end = start if before else t
        base = _span_mean(X, d0, base_end - rule.baseline_days, base_end)
        recent = _span_mean(X, d0, start, end)
        out[s] = (base > 0) & (recent < rule.ratio * base)
    return out
