"""Day-by-day simulation of one chunk of customers.

The loop runs over days; every step is vectorised across the chunk's customers. On day
``t`` the churn, complaint and disengagement hazards are computed from state built from
history strictly before ``t`` only, then the day's events, consumption, contacts and
bills are drawn.

Drivers ``x_k`` (all from days ``< t``; windows end the day before ``t``):

``usage_drop``
    ``clip(-log(r) - 0.3, 0, 1.2)`` with ``r`` = mean daily kWh of the last 30 days over
    the mean of the 90 days before those (needs 120 days of history in the data).
``outages``
    In the customer's transformer area: ``log1p(unplanned 30d) + 0.5 log1p(unplanned 90d)
    + 0.25 log1p(planned 90d) + 0.3 log1p(unplanned 365d)`` (outages counted by start day).
``bill_shock``
    ``clip(log(latest bill / median of the up-to-12 previous bills) - log 1.25, 0, 1.5)``
    (needs 3 previous bills; the latest version known, so a re-bill replaces the shock).
``repeat_contacts``
    ``log1p(R30) + 0.5 log1p(R90)``, ``R`` = contacts made within 7 days of a previous
    contact of the same customer.
``arrears``
    ``min(age, 180) / 60`` with ``age`` the days since the due date of the oldest bill
    unpaid at ``t``.
``complaint_history``
    ``min(log1p(complaints 90d) + 0.5 log1p(complaints 365d), 1.5)``.
``supplier_offer``
    businesses only: ``log1p(business_request contacts in 90d)`` (retail suppliers'
    offers surface as business requests).

The log-hazard is the archetype's baseline (plus, for churn, ``0.5 exp(-tenure/365)``)
plus ``sum_k beta_k m_k x_k``, where ``m_k`` is a per-customer effect modifier (1 for
most drivers) that plants two interactions an additive model cannot express:

* ``outages`` x customer type and tariff: an outage interrupts the peak-hour work of
  businesses (general commercial and large industrial) on a time-of-use tariff, so
  their ``m`` is 2.2 for churn and 1.6 for complaints; for residential customers it is
  0.2 for churn (outages barely make a household move) and 0.7 for complaints; 1 for
  the others (flat-rate businesses, agriculture).
* ``bill_shock`` x usage level: a bill jump hurts high-usage customers (baseline
  level above the typical level of their latent segment, about half of each segment):
  ``m`` is 2.0 for churn and 1.6 for complaints; for the others, whose jump is a few
  yuan, 0.15 and 0.3.

The modifiers are constants of the customer (:func:`effect_modifiers`); the dominant
driver recorded in the ground truth uses the modified contributions.

The log-hazard is stored per customer and day, quantised to ``uint8`` steps of
:data:`LOG_STEP` in log space, and the simulation draws its events from the quantised
value, so the stored ground truth is exactly the hazard that produced the
data. A latent disengagement process (driven by the same drivers) makes usage decline
over weeks; the decline raises the churn hazard through ``usage_drop``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._archetypes import A
from ._calendar import Calendar
from ._outages import AreaOutages
from ._population import Population
from ._usage import baseline_usage

__all__ = [
    "DRIVER_NAMES",
    "LOG_MIN",
    "LOG_STEP",
    "ChunkResult",
    "effect_modifiers",
    "simulate_chunk",
]

LOG_MIN = -14.0
LOG_STEP = 0.05
DRIVER_NAMES = (
    "usage_drop",
    "outages",
    "bill_shock",
    "repeat_contacts",
    "arrears",
    "complaint_history",
    "supplier_offer",
)
"""Hazard drivers; ``"baseline"`` is reported when none adds at least :data:`DOMINANT_MIN`."""
DOMINANT_MIN = 0.7
# offsets added to the archetypes' baseline log-hazards (calibration of base rates)
OFFSET = {"churn": -2.45, "complaint": -3.1, "disengage": -0.85}
DECLINE_TAU = (15.0, 40.0)  # days of exponential usage decline before a closure
DROP_THRESHOLD = 0.3  # -log(usage ratio) above which the drop raises the churn hazard
DROP_CAP = 1.2
DECLINE_FLOOR = (0.03, 0.25)

#                         drop  outage bill  repeat arrears complaints offer
BETA_CHURN = np.array([8.0, 0.8, 1.2, 0.7, 1.0, 1.0, 1.5], dtype=np.float32)
BETA_COMPLAINT = np.array([0.0, 1.75, 2.4, 1.3, 0.5, 1.5, 0.0], dtype=np.float32)
BETA_DISENGAGE = np.array([0.0, 1.0, 1.5, 0.8, 1.2, 1.2, 0.0], dtype=np.float32)
# planted interactions (effect modifiers of the churn and complaint drivers)
# (time-of-use business, residential) outage multipliers; (high, low usage) bill-shock ones
OUTAGE_M = {"churn": (2.2, 0.2), "complaint": (1.6, 0.7)}
BILL_SHOCK_M = {"churn": (2.0, 0.15), "complaint": (1.6, 0.3)}

KIND_CODES = {"closure": 0, "supplier_switch": 1, "suspension": 2, "capacity_reduction": 3}
# contact types: inquiry, outage_report, payment, business_request, complaint, opinion, praise
T_INQ, T_OUT, T_PAY, T_BREQ, T_CMP, T_OPN, T_PRS = range(7)
_TYPE_P_RES = np.array([0.47, 0.08, 0.17, 0.06, 0.0, 0.11, 0.11])
_TYPE_P_BUS = np.array([0.42, 0.08, 0.12, 0.16, 0.0, 0.11, 0.11])
_CMP_MIX = np.array([0.55, 0.15, 0.12, 0.10, 0.08])
_OUT_MIX = np.array([0.60, 0.15, 0.10, 0.02, 0.13])
_OFFER_MIX = np.array([0.25, 0.20, 0.0, 0.05, 0.50])
# satisfaction 1..5 probabilities: resolved, unresolved, complaint, praise
_SAT_P = np.array(
    [
        [0.02, 0.04, 0.14, 0.35, 0.45],
        [0.20, 0.35, 0.30, 0.10, 0.05],
        [0.40, 0.30, 0.20, 0.07, 0.03],
        [0.00, 0.00, 0.02, 0.18, 0.80],
    ]
)
# tariffs (CNY/kWh): peak, flat, valley, flat-rate
_PRICE = np.array(
    [
        [0.568, 0.568, 0.288, 0.538],  # residential (tier surcharges added)
        [1.08, 0.72, 0.36, 0.72],  # general commercial
        [0.95, 0.62, 0.31, 0.62],  # large industrial (plus capacity charge)
        [0.70, 0.50, 0.25, 0.50],  # agricultural
    ]
)
_TIER1, _TIER2 = 2760.0, 4800.0
_BIG = np.iinfo(np.int32).max // 2
_LOG1P = np.log1p(np.arange(4096, dtype=np.float64)).astype(np.float32)
_P_EVENT = (-np.expm1(-np.exp(LOG_MIN + LOG_STEP * np.arange(256)))).astype(np.float32)
_P_EVENT[0] = 0.0


@dataclass
class ChunkResult:
    """Raw output of one chunk: numpy columns per table plus the ground truth."""

    usage: dict
    bills: dict
    payments: dict
    interactions: dict
    events: dict
    status: np.ndarray
    churn_day: np.ndarray
    churn_kind: np.ndarray
    q_churn: np.ndarray
    q_complaint: np.ndarray
    drivers: dict


def _quantise(log_h: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((log_h - LOG_MIN) / LOG_STEP), 1, 255).astype(np.uint8)


def effect_modifiers(pop: Population, target: str) -> np.ndarray:
    """Per-customer multipliers of the churn or complaint driver coefficients.

    Parameters
    ----------
    pop : Population
    target : {"churn", "complaint"}

    Returns
    -------
    numpy.ndarray of float32, shape (len(DRIVER_NAMES), n)
        ``m[k, i]`` multiplies ``beta_k`` for customer ``i``: outage exposure by
        :data:`OUTAGE_M` (businesses on a time-of-use tariff, residential customers),
        a bill shock by :data:`BILL_SHOCK_M` (usage level above or below the typical
        level of the customer's segment); every other driver by 1.
    """
    m = np.ones((len(DRIVER_NAMES), pop.n), dtype=np.float32)
    tou_business = pop.tou & ((pop.ctype == 1) | (pop.ctype == 2))
    m[1] = np.select([tou_business, pop.ctype == 0], OUTAGE_M[target], 1.0)
    high = pop.level > A["level"][pop.arch]
    m[2] = np.where(high, *BILL_SHOCK_M[target])
    return m


def _categorical(rng, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a row-stochastic matrix."""
    c = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * c[:, -1]
    return np.minimum((u[:, None] > c).sum(axis=1), probs.shape[1] - 1)


def _dominant(contrib: np.ndarray) -> np.ndarray:
    """Index into ``DRIVER_NAMES`` of the largest contribution, or 7 for ``baseline``."""
    arg = contrib.argmax(axis=0)
    return np.where(contrib.max(axis=0) >= DOMINANT_MIN, arg, len(DRIVER_NAMES))


def _window(cs: np.ndarray, t: int, w: int) -> np.ndarray:
    return cs[:, t] - cs[:, max(t - w, 0)]


class _Rows:
    """Accumulates rows of a table as lists of numpy arrays."""

    def __init__(self, *names):
        self.parts = {k: [] for k in names}

    def add(self, **cols):
        for k, v in cols.items():
            self.parts[k].append(np.asarray(v))

    def done(self, dtypes: dict) -> dict:
        return {
            k: (
                np.concatenate(v).astype(dtypes.get(k, None) or v[0].dtype)
                if v
                else np.zeros(0, dtypes.get(k, "f8"))
            )
            for k, v in self.parts.items()
        }


def simulate_chunk(
    rng: np.random.Generator, pop: Population, out: AreaOutages, cal: Calendar
) -> ChunkResult:
    """Simulate one chunk day by day (vectorised over its customers).

    Parameters
    ----------
    rng : numpy.random.Generator
    pop : Population
    out : AreaOutages
    cal : Calendar

    Returns
    -------
    ChunkResult
    """
    n, D = pop.n, cal.n_days
    a = pop.arch
    ctype = pop.ctype
    business = (ctype == 1) | (ctype == 2)
    # day-major (days x customers) so that each day's step reads contiguous memory
    base = np.ascontiguousarray(baseline_usage(rng, pop, out, cal).T)
    kwh = np.zeros((D, n), dtype=np.float32)
    rep = np.zeros((D, n), dtype=np.uint8)
    cmp_ = np.zeros((D, n), dtype=np.uint8)
    brq = np.zeros((D, n), dtype=np.uint8)
    q_ch = np.zeros((D + 1, n), dtype=np.uint8)
    q_cp = np.zeros((D + 1, n), dtype=np.uint8)
    # area-level outage cumulative counts: cs[:, t] = count over days < t
    n_area = out.unplanned_daily.shape[0]
    cu = np.zeros((n_area, D + 1), dtype=np.float32)
    cu[:, 1:] = np.cumsum(out.unplanned_daily, axis=1)
    cpl = np.zeros((n_area, D + 1), dtype=np.float32)
    cpl[:, 1:] = np.cumsum(out.planned_daily, axis=1)
    first_start = np.full(out.unplanned_daily.shape, 86_399, dtype=np.int32)
    np.minimum.at(first_start, (out.area, out.day), out.start_s.astype(np.int32))

    # state
    closed = np.zeros(n, bool)
    churned = np.zeros(n, bool)
    churn_day = np.full(n, -1, np.int64)
    churn_kind = np.full(n, -1, np.int64)
    susp_until = np.full(n, -1, np.int64)
    cap = np.ones(n, np.float32)
    dis = np.zeros(n, bool)
    dis_start = np.zeros(n, np.int64)
    dis_tau = rng.uniform(*DECLINE_TAU, n)
    dis_floor = rng.uniform(*DECLINE_FLOOR, n)
    last_contact = np.full(n, -1000, np.int64)
    follow_day = np.full(n, -1, np.int64)
    follow_type = np.zeros(n, np.int64)
    binq_day = np.full(n, -1, np.int64)
    s30 = np.zeros(n)
    s90p = np.zeros(n)
    r30, r90, c90, c365, b90 = (np.zeros(n, np.int32) for _ in range(5))
    a_ch = (A["churn"][a] + OFFSET["churn"]).astype(np.float32)
    a_cp = (A["complaint"][a] + OFFSET["complaint"]).astype(np.float32)
    a_dis = (A["disengage"][a] + OFFSET["disengage"]).astype(np.float32)
    # tenure term 0.5 * exp(-tenure / 365) = exp(-t / 365) * tenure_w
    tenure_w = (0.5 * np.exp(np.minimum(pop.supply_start, 3 * 365) / 365.0)).astype(np.float32)
    contact_p = (-np.expm1(-pop.contact_rate)).astype(np.float32)
    bill_x = np.zeros(n, np.float32)
    bill_med = np.ones(n)
    corr_day = np.full(n, -1, np.int64)
    corr_amt = np.zeros(n)
    n_months = int(cal.month_index[-1]) + 1
    ms = np.r_[cal.month_starts, D]
    amt_known = np.full((n, n_months), np.nan)
    due = np.full((n, n_months), _BIG, np.int32)
    paid = np.full((n, n_months), _BIG, np.int32)
    year_kwh = np.zeros(n)
    month_of_year = ((cal.dates.astype("datetime64[M]").astype(np.int64)) % 12) + 1
    doms = (cal.dates - cal.dates.astype("datetime64[M]")).astype(np.int64) + 1
    unresolved_p = A["unresolved"][a]
    or_p = A["outage_report"][a]
    cmp_mix = 0.5 * _CMP_MIX[None, :] + 0.5 * pop.contact_mix
    out_mix = 0.5 * _OUT_MIX[None, :] + 0.5 * pop.contact_mix
    type_p = np.where(business[:, None], _TYPE_P_BUS[None, :], _TYPE_P_RES[None, :])
    offer_rate = np.where(ctype == 2, 3.0, np.where(ctype == 1, 1.5, 0.0)) / 365.0
    sp, sv = pop.tou_shares[:, 0], pop.tou_shares[:, 2]
    beta_ch = BETA_CHURN[:, None] * effect_modifiers(pop, "churn")
    beta_cp = BETA_COMPLAINT[:, None] * effect_modifiers(pop, "complaint")

    inter = _Rows("cust", "day", "sec", "channel", "type", "sat")
    bills = _Rows("cust", "month", "issue", "due", "amount", "kwh", "rec_day")
    pays = _Rows("cust", "day", "amount", "channel", "month")
    drv = _Rows("cust", "day", "target", "driver")

    for t in range(D + 1):  # loop over days; everything inside is vectorised over customers
        if t >= 1:
            s30 += kwh[t - 1]
            r30 += rep[t - 1]
            r90 += rep[t - 1]
            c90 += cmp_[t - 1]
            c365 += cmp_[t - 1]
            b90 += brq[t - 1]
            if t - 31 >= 0:
                s30 -= kwh[t - 31]
                s90p += kwh[t - 31]
                r30 -= rep[t - 31]
            if t - 121 >= 0:
                s90p -= kwh[t - 121]
            if t - 91 >= 0:
                r90 -= rep[t - 91]
                c90 -= cmp_[t - 91]
                b90 -= brq[t - 91]
            if t - 366 >= 0:
                c365 -= cmp_[t - 366]
        started = pop.supply_start <= t
        active = started & ~closed
        hist = t - np.maximum(pop.supply_start, 0)
        ratio = np.where(s90p > 1e-6, (s30 / 30.0) / np.maximum(s90p / 90.0, 1e-9), 1.0)
        x_drop = np.where(
            hist >= 120,
            np.clip(-np.log(np.maximum(ratio, 0.02)) - DROP_THRESHOLD, 0.0, DROP_CAP),
            0.0,
        )
        x_out_area = (
            np.log1p(_window(cu, t, 30))
            + 0.5 * np.log1p(_window(cu, t, 90))
            + 0.25 * np.log1p(_window(cpl, t, 90))
            + 0.3 * np.log1p(_window(cu, t, 365))
        )
        x_out = x_out_area[pop.area]
        mcur = int(cal.month_index[min(t, D - 1)]) + 1
        overdue = (due[:, :mcur] < t) & (paid[:, :mcur] >= t)
        oldest = np.where(overdue, due[:, :mcur], _BIG).min(axis=1)
        x_arr = np.where(oldest < _BIG, np.clip(t - oldest, 0, 180) / 60.0, 0.0)
        x_rep = _LOG1P[np.minimum(r30, 4095)] + 0.5 * _LOG1P[np.minimum(r90, 4095)]
        x_cmp = np.minimum(
            _LOG1P[np.minimum(c90, 4095)] + 0.5 * _LOG1P[np.minimum(c365, 4095)], 1.5
        )
        x_off = np.where(business, _LOG1P[np.minimum(b90, 4095)], 0.0)
        X = np.stack([x_drop, x_out, bill_x, x_rep, x_arr, x_cmp, x_off]).astype(np.float32)
        contrib_ch = beta_ch * X
        contrib_cp = beta_cp * X
        log_ch = a_ch + np.float32(np.exp(-t / 365.0)) * tenure_w + contrib_ch.sum(axis=0)
        log_cp = a_cp + contrib_cp.sum(axis=0)
        qc, qp = _quantise(log_ch), _quantise(log_cp)
        elig_ch = active & ~churned
        q_ch[t] = np.where(elig_ch, qc, 0)
        q_cp[t] = np.where(active, qp, 0)
        if t == D:
            break

        # --- events of day t
        ev = elig_ch & (rng.random(n, dtype=np.float32) < _P_EVENT[qc])
        cp_ev = active & (rng.random(n, dtype=np.float32) < _P_EVENT[qp])
        lam_dis = np.exp(a_dis + (BETA_DISENGAGE[:, None] * X).sum(axis=0))
        new_dis = elig_ch & ~dis & (hist >= 60) & (rng.random(n) < lam_dis)
        dis[new_dis] = True
        dis_start[new_dis] = t
        if ev.any():
            e = np.flatnonzero(ev)
            dom = _dominant(contrib_ch[:, e])
            u = rng.random(len(e))
            ct = ctype[e]
            # residential: closure (move-out); agricultural: closure or suspension;
            # businesses: supplier switch after offers, else closure, suspension or
            # capacity reduction (a production cut shows as a usage drop first)
            kind = np.zeros(len(e), np.int64)
            off = dom == 6
            drop = dom == 0
            kind = np.where((ct == 3) & (u >= np.where(drop, 0.6, 0.5)), 2, kind)
            kind = np.where(
                (ct == 1), np.select([u < np.where(drop, 0.55, 0.45), u < 0.75], [0, 2], 3), kind
            )
            kind = np.where(
                (ct == 2), np.select([u < np.where(drop, 0.4, 0.2), u < 0.6], [0, 2], 3), kind
            )
            kind = np.where(off & business[e], 1, kind)
            churned[e] = True
            churn_day[e] = t
            churn_kind[e] = kind
            closed[e[kind == 0]] = True
            s = e[kind == 2]
            susp_until[s] = t + rng.integers(30, 181, len(s))
            c = e[kind == 3]
            cap[c] = rng.uniform(0.4, 0.75, len(c)).astype(np.float32)
            drv.add(cust=e, day=np.full(len(e), t), target=np.zeros(len(e), np.int8), driver=dom)
            active = started & ~closed
            cp_ev &= active
        if cp_ev.any():
            e = np.flatnonzero(cp_ev)
            drv.add(
                cust=e,
                day=np.full(len(e), t),
                target=np.ones(len(e), np.int8),
                driver=_dominant(contrib_cp[:, e]),
            )

        # --- consumption of day t
        mult = cap * np.where(susp_until > t, np.float32(0.03), np.float32(1.0))
        dec = np.ones(n, np.float32)
        di = np.flatnonzero(dis)
        dec[di] = dis_floor[di] + (1 - dis_floor[di]) * np.exp(-(t - dis_start[di]) / dis_tau[di])
        kwh[t] = np.where(active, base[t] * mult * dec, np.float32(0.0))

        # --- contacts of day t
        years = t / 365.0
        drift = np.array([np.exp(-0.12 * years), 1.0, 1.0, np.exp(-0.45 * years), 1.0])
        c_bg = np.flatnonzero(active & (rng.random(n, dtype=np.float32) < contact_p))
        ty_bg = _categorical(rng, type_p[c_bg])
        ar = pop.area
        unpl_today = out.unplanned_daily[ar, t] > 0
        pl_today = out.planned_daily[ar, t] > 0
        p_or = np.where(unpl_today, or_p * (1 - np.exp(-out.minutes_daily[ar, t] / 90.0)), 0.0)
        p_or = np.where(pl_today & ~unpl_today, 0.03, p_or)
        c_or = np.flatnonzero(active & (rng.random(n) < p_or))
        fu = active & (follow_day == t) & (rng.random(n) < 0.8)
        c_fu = np.flatnonzero(fu)
        c_bi = np.flatnonzero(active & (binq_day == t))
        offer = active & (rng.random(n) < offer_rate * (0.5 + t / D)) & (rng.random(n) < 0.85)
        c_of = np.flatnonzero(offer)
        c_cp = np.flatnonzero(cp_ev)
        cust = np.concatenate([c_bg, c_or, c_fu, c_bi, c_of, c_cp])
        if len(cust):
            typ = np.concatenate(
                [
                    ty_bg,
                    np.full(len(c_or), T_OUT),
                    follow_type[c_fu],
                    np.full(len(c_bi), T_INQ),
                    np.full(len(c_of), T_BREQ),
                    np.full(len(c_cp), T_CMP),
                ]
            )
            src = np.repeat(
                np.arange(6), [len(c_bg), len(c_or), len(c_fu), len(c_bi), len(c_of), len(c_cp)]
            )
            mix = pop.contact_mix[cust] * drift[None, :]
            mix = np.where((src == 1)[:, None], out_mix[cust] * drift, mix)
            mix = np.where(
                (src == 4)[:, None], _OFFER_MIX[None, :] * (0.3 + pop.contact_mix[cust]), mix
            )
            mix = np.where((src == 5)[:, None], cmp_mix[cust] * drift, mix)
            chan = _categorical(rng, mix)
            resolvable = (typ != T_CMP) & (typ != T_PRS)
            unres = resolvable & (
                rng.random(len(cust)) < np.where(src == 2, 0.4, unresolved_p[cust])
            )
            ur = cust[unres]
            follow_day[ur] = t + rng.integers(1, 8, len(ur))
            follow_type[ur] = typ[unres]
            done = cust[~unres & resolvable]
            follow_day[done[follow_day[done] == t]] = -1
            sat_kind = np.select([typ == T_CMP, typ == T_PRS, unres], [2, 3, 1], 0)
            sat = (_categorical(rng, _SAT_P[sat_kind]) + 1).astype(np.float64)
            sat[rng.random(len(cust)) >= 0.45] = np.nan
            sec = rng.integers(7 * 3600, 22 * 3600, len(cust))
            fs = first_start[ar[cust], t]
            sec = np.where(
                src == 1, np.minimum(fs + rng.integers(300, 3600, len(cust)), 86_399), sec
            )
            inter.add(
                cust=cust, day=np.full(len(cust), t), sec=sec, channel=chan, type=typ, sat=sat
            )
            k = np.bincount(cust, minlength=n)
            has = k > 0
            rep[t] = np.minimum(np.maximum(k - 1, 0) + (has & (t - last_contact <= 7)), 255)
            last_contact[has] = t
            cmp_[t] = np.minimum(np.bincount(cust[typ == T_CMP], minlength=n), 255)
            brq[t] = np.minimum(np.bincount(cust[typ == T_BREQ], minlength=n), 255)

        # --- re-bill corrections known today
        fix = np.flatnonzero(corr_day == t)
        if len(fix):
            bill_x[fix] = _shock(corr_amt[fix], bill_med[fix])
            corr_day[fix] = -1

        # --- bills issued today (for the previous month)
        dom_t = int(doms[t])
        m = int(cal.month_index[t]) - 1
        if m >= 0 and 3 <= dom_t <= 6:
            m_first, m_last = ms[m], ms[m + 1] - 1
            billable = (pop.issue_offset == dom_t) & (pop.supply_start <= m_last)
            billable &= ~(closed & (churn_day <= m_first))
            b = np.flatnonzero(billable)
            if len(b):
                _issue_bills(
                    rng,
                    t,
                    m,
                    b,
                    kwh,
                    ms,
                    pop,
                    sp,
                    sv,
                    susp_until,
                    year_kwh,
                    month_of_year,
                    amt_known,
                    due,
                    paid,
                    bill_x,
                    bill_med,
                    corr_day,
                    corr_amt,
                    binq_day,
                    bills,
                    pays,
                    D,
                )

    status = np.where(closed, 2, np.where(susp_until > D - 1, 1, 0))
    return ChunkResult(
        usage={"kwh": np.ascontiguousarray(kwh.T)},
        bills=bills.done({"cust": np.int64}),
        payments=pays.done({"cust": np.int64}),
        interactions=inter.done({"cust": np.int64, "sat": np.float64}),
        events={
            "cust": np.flatnonzero(churned),
            "day": churn_day[churned],
            "kind": churn_kind[churned],
        },
        status=status,
        churn_day=churn_day,
        churn_kind=churn_kind,
        q_churn=np.ascontiguousarray(q_ch.T),
        q_complaint=np.ascontiguousarray(q_cp.T),
        drivers=drv.done({"cust": np.int64, "target": np.int8, "driver": np.int64}),
    )


def _shock(amount: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Bill-shock driver: log of latest bill over the customer's median, above 1.25x."""
    return np.clip(
        np.log(np.maximum(amount, 0.01) / np.maximum(median, 5.0)) - np.log(1.25), 0.0, 1.5
    ).astype(np.float32)


def _overlap(lo, hi, a, b):
    return np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)


def _issue_bills(
    rng,
    t,
    m,
    b,
    kwh,
    ms,
    pop,
    sp,
    sv,
    susp_until,
    year_kwh,
    month_of_year,
    amt_known,
    due,
    paid,
    bill_x,
    bill_med,
    corr_day,
    corr_amt,
    binq_day,
    bills,
    pays,
    D,
):
    """Issue month ``m``'s bills to customers ``b`` on day ``t`` and schedule payments."""
    mk = kwh[ms[m] : ms[m + 1], b].sum(axis=0, dtype=np.float64)
    ct = pop.ctype[b]
    tou = pop.tou[b]
    pk, vl = mk * sp[b], mk * sv[b]
    fl = mk - pk - vl
    price = _PRICE[ct]
    energy = np.where(tou, pk * price[:, 0] + fl * price[:, 1] + vl * price[:, 2], mk * price[:, 3])
    res = ct == 0
    if month_of_year[ms[m]] == 1:
        year_kwh[b] = 0.0
    c0 = year_kwh[b]
    c1 = c0 + mk
    year_kwh[b] = c1
    tier = 0.05 * _overlap(c0, c1, _TIER1, _TIER2) + 0.30 * _overlap(c0, c1, _TIER2, np.inf)
    energy = energy + np.where(res, tier, 0.0)
    capacity = np.where((ct == 2) & ~(susp_until[b] > t), 30.0 * pop.capacity_kva[b], 0.0)
    amount = np.round(energy + capacity, 2)
    mk = np.round(mk, 2)
    err = rng.random(len(b)) < 0.008
    f = np.where(err, rng.uniform(1.8, 3.0, len(b)), 1.0)
    issued = np.round(amount * f, 2)
    issued_kwh = np.round(mk * f, 2)
    lo = max(0, m - 12)
    prev = amt_known[b, lo:m]
    n_prev = np.isfinite(prev).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(prev, axis=1) if prev.shape[1] else np.full(len(b), np.nan)
    med = np.where(n_prev >= 3, med, np.nan)
    amt_known[b, m] = amount  # the corrected value is what later medians see
    bill_med[b] = np.where(np.isfinite(med), med, 1.0)
    x = _shock(issued, bill_med[b])
    bill_x[b] = np.where(np.isfinite(med), x, 0.0)
    fix_day = t + rng.integers(5, 26, len(b))
    corr_day[b[err]] = fix_day[err]
    corr_amt[b[err]] = amount[err]
    due_day = t + pop.due_gap[b]
    due[b, m] = due_day
    # payment behaviour
    gap = pop.due_gap[b]
    late = rng.random(len(b)) < pop.late_p[b]
    chronic = pop.chronic[b] & (rng.random(len(b)) < 0.35)
    delay = rng.integers(0, gap + 1)
    delay = np.where(late, gap + 1 + rng.geometric(1 / 15.0, len(b)), delay)
    delay = np.where(chronic, gap + rng.integers(40, 200, len(b)), delay)
    wh = pop.withholding[b] & ~chronic
    delay = np.where(wh, rng.integers(1, 4, len(b)), delay)
    pay_day = t + delay
    paid[b, m] = pay_day
    # bill inquiries after a shock
    ratio = issued / np.maximum(bill_med[b], 5.0)
    p_inq = np.where(np.isfinite(med), np.clip(0.35 * (ratio - 1.3), 0.0, 0.6), 0.0)
    q = rng.random(len(b)) < p_inq
    binq_day[b[q]] = t + rng.integers(1, 6, int(q.sum()))
    rec = np.full(len(b), t)
    bills.add(
        cust=b,
        month=np.full(len(b), m),
        issue=rec,
        due=due_day,
        amount=issued,
        kwh=issued_kwh,
        rec_day=rec,
    )
    ce = err & (fix_day <= D - 1)
    bills.add(
        cust=b[ce],
        month=np.full(int(ce.sum()), m),
        issue=rec[ce],
        due=due_day[ce],
        amount=amount[ce],
        kwh=mk[ce],
        rec_day=fix_day[ce],
    )
    ok = pay_day <= D - 1
    years = pay_day[ok] / 365.0
    mix = pop.pay_mix[b[ok]].copy()
    mix[:, 4] *= np.exp(-0.6 * years)
    chan = _categorical(rng, mix)
    chan = np.where(wh[ok], 3, chan)
    pay_amt = np.where(err[ok] & (fix_day[ok] <= pay_day[ok]), amount[ok], issued[ok])
    pays.add(
        cust=b[ok], day=pay_day[ok], amount=pay_amt, channel=chan, month=np.full(int(ok.sum()), m)
    )
