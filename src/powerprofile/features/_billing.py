"""Billing and payment features (电费与缴费): arrears, late payment, bill shock,
online payment share, payment channel mix, bank withholding.

A bill is known from its ``issue_date`` (and, with ``recorded_at`` versions, from when
its latest version was recorded). Payments settle bills first-in first-out: the
oldest unpaid bill is paid first, so a bill is paid on the day the customer's
cumulative payments first cover the cumulative amount billed up to that bill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema._contract import ONLINE_PAYMENT_CHANNELS, PAYMENT_CHANNELS
from ._generic import _div, event_aggregates
from ._interactions import contact_codes
from ._time import (
    DAY_NS,
    NAT,
    customer_codes,
    latest_versions,
    require_columns,
    to_ns,
    visible_mask,
)

__all__ = ["billing_features", "payment_features"]

SHOCK_HISTORY = 12  # bills in the customer's own reference median
_TOL = 0.005  # half a fen: rounding slack when comparing cumulative sums


def _visible_bills(bills: pd.DataFrame, codes, issue_ns, month_ns, rec, cutoff_ns):
    vis = np.flatnonzero(visible_mask(issue_ns, rec, cutoff_ns) & (codes >= 0))
    if rec is not None:
        vis = vis[latest_versions([codes[vis], month_ns[vis]], rec[vis])]
    return vis


def billing_features(
    bills: pd.DataFrame, payments: pd.DataFrame, index: pd.Index, snap_days, windows
) -> dict:
    """Bill and arrears features of one partition for each snapshot.

    Parameters
    ----------
    bills, payments : pandas.DataFrame
        The partition's bills and payments.
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    windows : tuple of int
        Window lengths in days.

    Returns
    -------
    dict of str to numpy.ndarray
        ``bill_amount_latest``, ``bill_amount_median``, ``bill_shock_ratio``,
        ``arrears_amount``, ``arrears_age_days``, ``late_payments_{w}d``,
        ``late_payment_rate_{w}d`` -> ``(n_snapshots, n_customers)``.
    """
    require_columns(
        bills, "bills", ("customer_id", "bill_month", "issue_date", "due_date", "amount")
    )
    require_columns(payments, "payments", ("customer_id", "date", "amount"))
    n, S = len(index), len(snap_days)
    codes = customer_codes(bills["customer_id"], index)
    issue_ns = to_ns(bills["issue_date"])
    month_ns = to_ns(bills["bill_month"])
    due_ns = to_ns(bills["due_date"])
    amount = bills["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    rec = to_ns(bills["recorded_at"]) if "recorded_at" in bills.columns else None
    if rec is not None and not (rec != NAT).any():
        rec = None
    pcodes = customer_codes(payments["customer_id"], index)
    p_ns = to_ns(payments["date"])
    p_amt = np.nan_to_num(payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan))
    porder = np.lexsort((p_ns, pcodes))
    porder = porder[pcodes[porder] >= 0]
    pc, pt, pa = pcodes[porder], p_ns[porder], p_amt[porder]
    names = [
        "bill_amount_latest",
        "bill_amount_median",
        "bill_shock_ratio",
        "arrears_amount",
        "arrears_age_days",
    ]
    names += [f"late_payments_{w}d" for w in windows] + [f"late_payment_rate_{w}d" for w in windows]
    feats = {k: np.full((S, n), np.nan) for k in names}
    for s, t_day in enumerate(snap_days):
        T = int(t_day) * DAY_NS
        rows = _visible_bills(bills, codes, issue_ns, month_ns, rec, T)
        o = rows[np.lexsort((month_ns[rows], codes[rows]))]
        c, amt, due = codes[o], np.nan_to_num(amount[o]), due_ns[o]
        has_bill = np.bincount(c, minlength=n) > 0
        # latest bill and the median of the customer's previous SHOCK_HISTORY bills
        if len(c):
            is_last = np.r_[c[1:] != c[:-1], True]
            latest = np.full(n, np.nan)
            latest[c[is_last]] = amt[is_last]
            start = np.searchsorted(c, c, side="left")
            end = np.searchsorted(c, c, side="right")
            back = end - 1 - np.arange(len(c))  # 0 for the latest bill
            prev = (back >= 1) & (back <= SHOCK_HISTORY)
            med = pd.Series(amt[prev]).groupby(c[prev]).median()
            median = np.full(n, np.nan)
            median[med.index.to_numpy()] = med.to_numpy()
            feats["bill_amount_latest"][s] = latest
            feats["bill_amount_median"][s] = median
            feats["bill_shock_ratio"][s] = _div(latest, median)
            del start
        # FIFO settlement with payments visible at T
        pv = pt < T
        paid_total = np.bincount(pc[pv], weights=pa[pv], minlength=n)
        cum_billed = np.cumsum(amt)
        cum_billed -= (
            np.r_[0.0, np.cumsum(amt)[:-1]][np.searchsorted(c, c, side="left")] if len(c) else 0
        )
        overdue = due < T
        unpaid = cum_billed > paid_total[c] + _TOL
        billed_due = np.bincount(c[overdue], weights=amt[overdue], minlength=n)
        arrears = np.where(has_bill, np.clip(billed_due - paid_total, 0, None), np.nan)
        arrears[arrears < _TOL] = 0.0
        feats["arrears_amount"][s] = arrears
        oldest = np.full(n, np.inf)
        m = overdue & unpaid
        np.minimum.at(oldest, c[m], due[m].astype(np.float64))
        age = np.where(np.isfinite(oldest), (T - oldest) / DAY_NS, 0.0)
        feats["arrears_age_days"][s] = np.where(has_bill, age, np.nan)
        # payoff day of each bill: first visible payment bringing cumulative paid to its cumulative bill
        paid_on = _payoff_times(c, cum_billed, pc[pv], pt[pv], pa[pv])
        late = overdue & (paid_on > due)  # paid after due, or still unpaid (inf) once due
        for w in windows:
            inw = overdue & (due >= T - w * DAY_NS)
            n_due = np.bincount(c[inw], minlength=n).astype(np.float64)
            n_late = np.bincount(c[inw & late], minlength=n).astype(np.float64)
            feats[f"late_payments_{w}d"][s] = np.where(has_bill, n_late, np.nan)
            feats[f"late_payment_rate_{w}d"][s] = _div(n_late, n_due)
    return feats


def _payoff_times(bc, cum_billed, pc, pt, pa) -> np.ndarray:
    """Time each bill is fully paid (FIFO); ``inf`` when not yet paid."""
    out = np.full(len(bc), np.inf)
    if len(bc) == 0 or len(pc) == 0:
        return out
    order = np.lexsort((pt, pc))
    pc, pt, pa = pc[order], pt[order], pa[order]
    cum_paid = np.cumsum(pa)
    first = np.searchsorted(pc, pc, side="left")
    cum_paid -= np.r_[0.0, cum_paid[:-1]][first]
    left = pd.DataFrame({"c": bc, "k": cum_billed - _TOL, "i": np.arange(len(bc))}).sort_values("k")
    right = pd.DataFrame({"c": pc, "k": cum_paid, "t": pt.astype(np.float64)}).sort_values("k")
    merged = pd.merge_asof(left, right, on="k", by="c", direction="forward")
    out[merged["i"].to_numpy()] = merged["t"].fillna(np.inf).to_numpy()
    return out


def payment_features(payments: pd.DataFrame, index: pd.Index, snap_days, windows) -> dict:
    """Payment features of one partition for each snapshot.

    Parameters
    ----------
    payments : pandas.DataFrame
        The partition's payments (``customer_id``, ``date``, ``amount``, ``channel``).
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    windows : tuple of int
        Window lengths in days.

    Returns
    -------
    dict of str to numpy.ndarray
        ``payments_{w}d``, ``payment_amount_{w}d``, ``online_payment_share_{w}d``,
        ``payment_share_{channel}_365d``-style channel mix per window,
        ``bank_withholding`` and ``days_since_last_payment``.
    """
    require_columns(payments, "payments", ("customer_id", "date", "amount", "channel"))
    n = len(index)
    codes = customer_codes(payments["customer_id"], index)
    t_ns = to_ns(payments["date"])
    ch = contact_codes(payments["channel"], PAYMENT_CHANNELS)
    amt = payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    snap_ns = np.asarray(snap_days, dtype=np.int64) * DAY_NS
    agg = event_aggregates(
        codes, t_ns, snap_ns, windows, n, value=amt, cat=ch, n_cat=len(PAYMENT_CHANNELS)
    )
    online = [PAYMENT_CHANNELS.index(c) for c in ONLINE_PAYMENT_CHANNELS]
    feats = {}
    for w in windows:
        cnt = agg[("count", w)]
        feats[f"payments_{w}d"] = cnt
        feats[f"payment_amount_{w}d"] = agg[("vsum", w)]
        per = agg[("cat", w)]
        feats[f"online_payment_share_{w}d"] = _div(per[:, :, online].sum(axis=2), cnt)
        for j, c in enumerate(PAYMENT_CHANNELS):
            feats[f"payment_share_{c}_{w}d"] = _div(per[:, :, j], cnt)
    wmax = max(windows)
    feats["bank_withholding"] = (
        agg[("cat", wmax)][:, :, PAYMENT_CHANNELS.index("bank_withholding")] > 0
    )
    feats["days_since_last_payment"] = agg["since_last"]
    return feats
