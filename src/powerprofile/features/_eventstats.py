"""Distinct active days and inter-event gaps of event tables, for many snapshots at once.

Both work on the sorted distinct ``(customer, day)`` pairs of a table: a customer's
visible history at a snapshot ``T`` (midnight) is a prefix of its pairs (days before
``T``), found with one ``searchsorted`` per snapshot, and gap statistics are
differences of cumulative sums at the prefix ends. Nothing loops over customers or rows.

Definitions (day numbers; ``T`` exclusive):

* active days in a window: distinct calendar days with at least one event in it, so
  duplicated rows (common in real logs) count once;
* gaps: differences between consecutive active days of a customer before ``T`` (whole
  visible history, not windowed; always >= 1 day);
* ``gap_mean`` (>= 1 gap), ``gap_std`` (population standard deviation, >= 2 gaps),
  ``gap_last`` (the latest gap, >= 1 gap), ``days_since_last_over_mean_gap``: days from
  the last active day to ``T`` (>= 1) over ``gap_mean``; ``NaN`` when undefined.
"""

from __future__ import annotations

import numpy as np

from ._time import DAY_NS, NAT, window_days

__all__ = ["active_days", "distinct_days", "gap_stats"]


def distinct_days(codes: np.ndarray, t_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``(customer code, day number)`` pairs of events.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Customer positions (``-1`` = ignore).
    t_ns : numpy.ndarray of int64
        Event times in nanoseconds (``NAT`` = ignore).

    Returns
    -------
    codes, days : numpy.ndarray of int64
        Sorted by customer, then day; each pair once.
    """
    keep = (codes >= 0) & (t_ns != NAT)
    c = codes[keep].astype(np.int64)
    d = np.floor_divide(t_ns[keep], DAY_NS)
    order = np.lexsort((d, c))
    c, d = c[order], d[order]
    first = np.ones(len(c), dtype=bool)
    first[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    return c[first], d[first]


def active_days(c_u, d_u, snap_days, windows, n: int) -> dict:
    """Distinct active days per window: ``{w: (S, n) array}``.

    Parameters
    ----------
    c_u, d_u : numpy.ndarray of int64
        Output of :func:`distinct_days`.
    snap_days : sequence of int
        Snapshot day numbers.
    windows : sequence of int or str
        Windows (days or calendar windows).
    n : int
        Number of customers.
    """
    out = {w: np.zeros((len(snap_days), n)) for w in windows}
    for s, t in enumerate(snap_days):
        t = int(t)
        for w in windows:
            m = (d_u < t) & (d_u >= t - window_days(w, t))
            out[w][s] = np.bincount(c_u[m], minlength=n)
    return out


def gap_stats(c_u, d_u, snap_days, n: int) -> dict:
    """Inter-event gap statistics per snapshot (see the module docstring).

    Parameters
    ----------
    c_u, d_u : numpy.ndarray of int64
        Output of :func:`distinct_days`.
    snap_days : sequence of int
        Snapshot day numbers.
    n : int
        Number of customers.

    Returns
    -------
    dict
        ``"gap_mean"``, ``"gap_std"``, ``"gap_last"``,
        ``"days_since_last_over_mean_gap"`` -> ``(S, n)`` float64 arrays.
    """
    S = len(snap_days)
    names = ("gap_mean", "gap_std", "gap_last", "days_since_last_over_mean_gap")
    out = {k: np.full((S, n), np.nan) for k in names}
    if len(c_u) == 0:
        return out
    same = np.zeros(len(c_u), dtype=bool)
    same[1:] = c_u[1:] == c_u[:-1]
    gap = np.zeros(len(c_u), dtype=np.int64)
    gap[1:] = np.where(same[1:], d_u[1:] - d_u[:-1], 0)
    # prefix sums with a leading 0: sum over rows [a, b) is P[b] - P[a]; a customer's first
    # row carries no gap, so its rows [start, end) hold exactly its gaps
    p1 = np.r_[0, np.cumsum(gap)]
    p2 = np.r_[0, np.cumsum(gap * gap)]
    d0 = int(d_u.min())
    span = int(d_u.max()) - d0 + 2
    key = c_u * span + (d_u - d0)
    cust = np.arange(n, dtype=np.int64)
    start = np.searchsorted(key, cust * span, side="left")
    for s, t in enumerate(snap_days):
        cut = min(max(int(t) - d0, 0), span - 1)
        end = np.searchsorted(key, cust * span + cut, side="left")
        n_gaps = np.maximum(end - start - 1, 0)
        has1, has2 = n_gaps >= 1, n_gaps >= 2
        g = np.maximum(n_gaps, 1).astype(np.float64)
        mean = (p1[end] - p1[start]) / g
        var = np.clip((p2[end] - p2[start]) / g - mean * mean, 0.0, None)
        last_idx = np.maximum(end - 1, 0)
        since = int(t) - d_u[last_idx]
        out["gap_mean"][s] = np.where(has1, mean, np.nan)
        out["gap_std"][s] = np.where(has2, np.sqrt(var), np.nan)
        out["gap_last"][s] = np.where(has1, gap[last_idx], np.nan)
        ratio = np.divide(since, mean, out=np.full(n, np.nan), where=has1)
        out["days_since_last_over_mean_gap"][s] = ratio
    return out
