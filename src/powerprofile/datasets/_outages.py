"""Outages per transformer area (planned maintenance and faults)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._calendar import Calendar

__all__ = ["AreaOutages", "make_outages"]

# unplanned outages per area per year, by area kind (urban, rural, industrial)
_UNPLANNED_RATE = np.array([1.6, 3.5, 1.4])
_PLANNED_RATE = np.array([0.8, 1.2, 1.0])


@dataclass
class AreaOutages:
    """Outages of the areas of one chunk.

    Attributes
    ----------
    area, day : numpy.ndarray of int
        Affected area (chunk-local index) and start day index of each outage.
    start_s, minutes : numpy.ndarray
        Start second within the day and duration in minutes.
    planned : numpy.ndarray of bool
    unplanned_daily, planned_daily, minutes_daily : numpy.ndarray
        Per area x day: number of unplanned and planned outages starting that day, and
        minutes without power that day.
    """

    area: np.ndarray
    day: np.ndarray
    start_s: np.ndarray
    minutes: np.ndarray
    planned: np.ndarray
    unplanned_daily: np.ndarray
    planned_daily: np.ndarray
    minutes_daily: np.ndarray


def make_outages(rng: np.random.Generator, area_kind: np.ndarray, cal: Calendar) -> AreaOutages:
    """Draw outages for every area of a chunk (vectorised over areas x days).

    Areas differ in reliability (gamma-distributed rates), summer storms raise the fault
    rate, and some areas go through a degradation episode (an ageing transformer) with
    bursts of faults.

    Parameters
    ----------
    rng : numpy.random.Generator
    area_kind : numpy.ndarray of int
        Kind of each area (0 urban, 1 rural, 2 industrial).
    cal : Calendar

    Returns
    -------
    AreaOutages
    """
    n_a, n_d = len(area_kind), cal.n_days
    frailty = rng.gamma(1.3, 1 / 1.3, n_a)
    rate_u = _UNPLANNED_RATE[area_kind] * frailty / 365.0
    season = 1.0 + 1.2 * cal.summer + 0.4 * cal.winter
    lam = rate_u[:, None] * season[None, :]
    # degradation episodes: 60-150 days of 6x fault rate in ~20 % of areas
    ep = rng.random(n_a) < 0.2
    ep_start = rng.integers(-60, n_d, n_a)
    ep_len = rng.integers(60, 150, n_a)
    days = np.arange(n_d)
    in_ep = (
        ep[:, None]
        & (days[None, :] >= ep_start[:, None])
        & (days[None, :] < (ep_start + ep_len)[:, None])
    )
    lam = np.where(in_ep, lam * 6.0, lam)
    unpl = rng.poisson(lam).astype(np.int16)
    planned = rng.poisson(
        np.broadcast_to((_PLANNED_RATE[area_kind] / 365.0)[:, None], (n_a, n_d))
    ).astype(np.int16)
    planned[:, cal.weekend | cal.holiday] = 0
    a_u, d_u = np.nonzero(unpl)
    rep_u = unpl[a_u, d_u]
    a_u, d_u = np.repeat(a_u, rep_u), np.repeat(d_u, rep_u)
    a_p, d_p = np.nonzero(planned)
    rep_p = planned[a_p, d_p]
    a_p, d_p = np.repeat(a_p, rep_p), np.repeat(d_p, rep_p)
    n_u, n_p = len(a_u), len(a_p)
    min_u = np.clip(np.round(rng.lognormal(np.log(110.0), 0.8, n_u)), 10, 1400)
    min_p = np.round(rng.choice([240.0, 300.0, 360.0, 480.0], n_p))
    s_u = rng.integers(0, 86_400, n_u)
    s_p = rng.choice([7, 8, 9], n_p) * 3600 + rng.choice([0, 1800], n_p)
    area = np.r_[a_u, a_p]
    day = np.r_[d_u, d_p]
    start_s = np.r_[s_u, s_p]
    minutes = np.r_[min_u, min_p]
    is_planned = np.r_[np.zeros(n_u, bool), np.ones(n_p, bool)]
    order = np.lexsort((start_s, day, area))
    area, day, start_s, minutes, is_planned = (
        area[order],
        day[order],
        start_s[order],
        minutes[order],
        is_planned[order],
    )
    minutes_daily = np.zeros((n_a, n_d), dtype=np.float32)
    np.add.at(minutes_daily, (area, day), np.minimum(minutes, 1440 - start_s / 60.0))
    return AreaOutages(
        area=area,
        day=day,
        start_s=start_s,
        minutes=minutes,
        planned=is_planned,
        unplanned_daily=unpl,
        planned_daily=planned,
        minutes_daily=np.minimum(minutes_daily, 1440),
    )
