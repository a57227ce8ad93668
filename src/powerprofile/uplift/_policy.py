"""Next-best-channel: each customer's best channel by expected effect, under the contact policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..export import CHANNELS

__all__ = ["next_best_channel", "score_targeting"]


def _matrix(effects: pd.DataFrame, channels) -> np.ndarray:
    missing = [ch for ch in channels if f"effect_{ch}" not in effects.columns]
    if missing:
        raise ValueError(
            f"effects lack the column(s) {[f'effect_{c}' for c in missing]!r}; pass "
            "UpliftModel.predict_effect output or restrict channels=."
        )
    return np.column_stack(
        [effects[f"effect_{ch}"].to_numpy(dtype=float, na_value=np.nan) for ch in channels]
    )


def _eligible(eligible, channels, n: int) -> np.ndarray:
    if eligible is None:
        return np.ones((n, len(channels)), dtype=bool)
    if isinstance(eligible, pd.DataFrame):
        cols = [
            f"contactable_{ch}" if f"contactable_{ch}" in eligible.columns else ch
            for ch in channels
        ]
        return np.column_stack([eligible[c].to_numpy(dtype=bool) for c in cols])
    return np.column_stack([np.asarray(eligible[ch], dtype=bool) for ch in channels])


def next_best_channel(
    effects: pd.DataFrame,
    *,
    eligible=None,
    capacity: dict | None = None,
    budget: int | None = None,
    used=None,
    frequency_cap: int | None = None,
    min_effect: float = 0.0,
    keys=None,
    channels=None,
) -> pd.DataFrame:
    """Give each customer the channel with the largest expected effect, under the policy.

    Customers are served best effect first: each takes their best eligible channel with
    capacity left; when a channel fills, the customers who wanted it move to their next
    best. Nobody gets a channel whose effect is not above ``min_effect`` (a contact
    that would not help, or would backfire, is not made).

    Parameters
    ----------
    effects : pandas.DataFrame
        ``effect_<channel>`` columns (:meth:`UpliftModel.predict_effect`).
    eligible : mapping or pandas.DataFrame or None, default=None
        Per channel, who may be contacted on it: the export's rule
        (:func:`powerprofile.export.eligibility`: contactable, not opted out, not on the
        do-not-contact list), or ``contactable_<channel>`` columns. None: everyone.
    capacity : dict of str to int or None, default=None
        Contacts per channel (missing channel: unlimited).
    budget : int or None, default=None
        Contacts in total (the best effects first).
    used : array-like of int or None, default=None
        Campaigns each customer is already in this run (frequency cap).
    frequency_cap : int or None, default=None
        Customers with ``used >= frequency_cap`` are not contacted.
    min_effect : float, default=0.0
    keys : array-like of str or None, default=None
        Tie-break (``customer_key``), for a deterministic order.
    channels : sequence of str or None, default=None
        Channels considered (default: the export's channels present in ``effects``).

    Returns
    -------
    pandas.DataFrame
        Index of ``effects``: ``channel`` (missing when not contacted),
        ``expected_effect`` and ``rank`` (1 = contacted first; missing when not contacted).
    """
    if channels is None:
        channels = [ch for ch in CHANNELS if f"effect_{ch}" in effects.columns]
    channels = list(channels)
    n = len(effects)
    eff = _matrix(effects, channels)
    ok = _eligible(eligible, channels, n) & ~np.isnan(eff) & (eff > min_effect)
    if frequency_cap is not None and used is not None:
        ok &= (np.asarray(used) < int(frequency_cap))[:, None]
    score = np.where(ok, eff, -np.inf)
    left = np.array(
        [np.inf if (capacity or {}).get(ch) is None else float(capacity[ch]) for ch in channels]
    )
    total = np.inf if budget is None else float(budget)
    tie = np.arange(n) if keys is None else pd.Series(keys).astype(str).to_numpy()
    chosen = np.full(n, -1, dtype=np.int64)
    value = np.full(n, np.nan)
    rank = np.zeros(n, dtype=np.int64)
    served = 0
    for _ in range(len(channels) + 1):  # one round per channel that fills, at most
        open_rows = (chosen < 0) & np.isfinite(score).any(axis=1)
        if not open_rows.any() or total <= 0:
            break
        best = np.argmax(score, axis=1)
        val = score[np.arange(n), best]
        rows = np.flatnonzero(open_rows)
        rows = rows[np.lexsort((tie[rows], -val[rows]))]
        # within a round, each channel serves its takers best first up to its capacity;
        # the budget goes to the best effects across channels
        pos = np.zeros(len(rows), dtype=np.int64)
        for j in range(len(channels)):
            at = best[rows] == j
            pos[at] = np.arange(int(at.sum()))
        fits = pos < left[best[rows]]
        take = rows[fits]
        if total < len(take):
            take = take[: int(total)]
        if len(take) == 0 and not (~fits).any():
            break
        chosen[take] = best[take]
        value[take] = val[take]
        rank[take] = served + np.arange(1, len(take) + 1)
        served += len(take)
        total -= len(take)
        np.subtract.at(left, best[take], 1)
        full = left <= 0
        score[:, full] = -np.inf
    names = np.asarray(channels, dtype=object)
    got = chosen >= 0
    return pd.DataFrame(
        {
            "channel": pd.array(np.where(got, names[np.maximum(chosen, 0)], None), dtype="string"),
            "expected_effect": value,
            "rank": pd.Series(rank, dtype="Int64", index=effects.index).where(got),
        },
        index=effects.index,
    )


def score_targeting(
    score,
    *,
    eligible=None,
    channels=None,
    capacity: dict | None = None,
    budget: int | None = None,
    keys=None,
) -> pd.DataFrame:
    """The export's rule for comparison: highest score first, first eligible channel in order.

    Parameters
    ----------
    score : array-like of float
        The ranking score (e.g. ``churn_score``).
    eligible : mapping or pandas.DataFrame or None, default=None
    channels : sequence of str or None, default=None
        Channel preference order (default: the export's channel order).
    capacity : dict of str to int or None, default=None
    budget : int or None, default=None
    keys : array-like of str or None, default=None

    Returns
    -------
    pandas.DataFrame
        ``channel`` (missing when not contacted) and ``rank``.
    """
    channels = list(channels or CHANNELS)
    s = np.asarray(score, dtype=float)
    n = len(s)
    elig = _eligible(eligible, channels, n)
    tie = np.arange(n) if keys is None else pd.Series(keys).astype(str).to_numpy()
    order = np.lexsort((tie, -np.nan_to_num(s, nan=-np.inf)))
    chosen = np.full(n, -1, dtype=np.int64)
    for j, ch in enumerate(channels):  # the export's loop: channels in order, capacity each
        cand = order[(chosen[order] < 0) & elig[order, j]]
        cap = (capacity or {}).get(ch)
        chosen[cand[: len(cand) if cap is None else int(cap)]] = j
    got = chosen >= 0
    rank = np.zeros(n, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    picked = np.flatnonzero(got)
    picked = picked[np.argsort(pos[picked], kind="stable")]
    if budget is not None:
        drop = picked[int(budget) :]
        got[drop] = False
        picked = picked[: int(budget)]
    rank[picked] = np.arange(1, len(picked) + 1)
    names = np.asarray(channels, dtype=object)
    return pd.DataFrame(
        {
            "channel": pd.array(np.where(got, names[np.maximum(chosen, 0)], None), dtype="string"),
            "rank": pd.Series(rank, dtype="Int64").where(got),
        }
    )
