"""Baseline daily consumption of one chunk (before churn, suspension and decline)."""

from __future__ import annotations

import numpy as np

from ._archetypes import A
from ._calendar import Calendar
from ._outages import AreaOutages
from ._population import REGIONS, Population

__all__ = ["baseline_usage"]

_NOISE_SIGMA = np.array([0.22, 0.15, 0.08, 0.28])  # by customer type


def _ar1(rng, n_series: int, n_days: int, rho: float, sigma: float) -> np.ndarray:
    eps = rng.normal(0.0, sigma * np.sqrt(1 - rho**2), (n_series, n_days))
    out = np.empty_like(eps)
    out[:, 0] = rng.normal(0.0, sigma, n_series)
    for t in range(1, n_days):  # loop over days, vectorised over series
        out[:, t] = rho * out[:, t - 1] + eps[:, t]
    return out


def baseline_usage(
    rng: np.random.Generator, pop: Population, out: AreaOutages, cal: Calendar
) -> np.ndarray:
    """Daily kWh each customer would consume with no churn event (n x days, float32).

    Level x seasonality (summer cooling, winter heating or the irrigation season, scaled
    by a regional weather shock) x weekday/weekend x holidays and Spring Festival x growth
    x day noise x outage minutes; vacations, zero days and meter replacements; zero before
    supply starts.

    Parameters
    ----------
    rng : numpy.random.Generator
    pop : Population
    out : AreaOutages
    cal : Calendar

    Returns
    -------
    numpy.ndarray of float32, shape (n, n_days)
    """
    n, d = pop.n, cal.n_days
    a = pop.arch
    f32 = np.float32
    irr = A["irrigation_season"][a]
    amp_s = (A["summer"][a] * np.exp(rng.normal(0, 0.25, n))).astype(f32)
    amp_w = (A["winter"][a] * np.exp(rng.normal(0, 0.25, n))).astype(f32)
    weather = np.exp(_ar1(rng, len(REGIONS), d, 0.9, 0.15)).astype(f32)[pop.region]
    seas = np.where(irr[:, None], cal.irrigation[None, :], cal.summer[None, :]).astype(f32)
    seas *= amp_s[:, None]
    seas += amp_w[:, None] * cal.winter.astype(f32)[None, :]
    seas *= weather
    del weather
    seas += f32(1.0)
    base = seas
    base *= pop.level.astype(f32)[:, None]
    wk = (A["weekend"][a] * np.exp(rng.normal(0, 0.04, n))).astype(f32)
    base[:, cal.weekend] *= wk[:, None]
    hol = cal.holiday & (cal.spring < 1.0)
    base[:, hol] *= A["holiday"][a].astype(f32)[:, None]
    sf = np.flatnonzero(cal.spring > 0)
    base[:, sf] *= (1.0 + (A["spring"][a][:, None] - 1.0) * cal.spring[sf][None, :]).astype(f32)
    t = np.arange(d, dtype=f32)
    base *= np.exp(pop.growth.astype(f32)[:, None] * t[None, :] / f32(365.0))
    sigma = _NOISE_SIGMA[pop.ctype].astype(f32)
    base *= np.exp(sigma[:, None] * rng.standard_normal((n, d), dtype=f32))
    month_f = np.exp(rng.normal(0, 0.06, (n, cal.month_index[-1] + 1))).astype(f32)
    base *= month_f[:, cal.month_index]
    base *= f32(1.0) - out.minutes_daily[pop.area] / f32(1440.0)
    # vacations (residential): a run of 4-20 days at ~8 % of normal use
    vac = (pop.ctype == 0) & (rng.random(n) < 0.25)
    v0 = rng.integers(0, d, n)
    vlen = rng.integers(4, 21, n)
    days = np.arange(d)
    in_vac = vac[:, None] & (days[None, :] >= v0[:, None]) & (days[None, :] < (v0 + vlen)[:, None])
    base[in_vac] *= f32(0.08)
    del in_vac
    # isolated zero days and meter replacements (a zero read on the swap day)
    n_zero = rng.binomial(n * d, 0.0015)
    base.reshape(-1)[rng.integers(0, n * d, n_zero)] = 0.0
    swap = np.flatnonzero(rng.random(n) < 0.02)
    base[swap, rng.integers(0, d, len(swap))] = 0.0
    # no supply before the start day
    base[days[None, :] < pop.supply_start[:, None]] = 0.0
    return base
