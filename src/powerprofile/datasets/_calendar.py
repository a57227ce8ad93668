"""Calendar of the simulated period: seasons, weekends, holidays, Spring Festival."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SPRING_FESTIVAL", "Calendar", "make_calendar"]

SPRING_FESTIVAL = {
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
}
"""Approximate Spring Festival (春节) dates used for the business dip."""

# fixed-date public holidays (month, first day, last day): New Year, Qingming, Labour Day,
# National Day (Golden Week)
_HOLIDAYS = ((1, 1, 1), (4, 4, 6), (5, 1, 5), (10, 1, 7))


@dataclass(frozen=True)
class Calendar:
    """Day-level calendar arrays of the simulated period (length ``n_days``).

    Attributes
    ----------
    start : pandas.Timestamp
        First day.
    n_days : int
        Number of days (inclusive period).
    dates : numpy.ndarray of datetime64[D]
    doy : numpy.ndarray of int
        Day of year (1..366).
    weekend : numpy.ndarray of bool
        Saturday or Sunday.
    holiday : numpy.ndarray of bool
        Public holiday (fixed dates, approximate).
    spring : numpy.ndarray of float
        Depth of the Spring Festival break, 0 (none) to 1 (the core week).
    summer, winter, irrigation : numpy.ndarray of float
        Seasonal bumps in [0, 1] (cooling, heating, irrigation season).
    month_index : numpy.ndarray of int
        Month number counted from the first month of the period (0-based).
    month_starts : numpy.ndarray of int
        Day index of the first day of each month (clipped to 0 for the first).
    """

    start: pd.Timestamp
    n_days: int
    dates: np.ndarray
    doy: np.ndarray
    weekend: np.ndarray
    holiday: np.ndarray
    spring: np.ndarray
    summer: np.ndarray
    winter: np.ndarray
    irrigation: np.ndarray
    month_index: np.ndarray
    month_starts: np.ndarray


def _bump(doy: np.ndarray, center: float, width: float) -> np.ndarray:
    dist = np.abs(doy - center)
    dist = np.minimum(dist, 365.25 - dist)
    return np.exp(-0.5 * (dist / width) ** 2)


def make_calendar(start, end) -> Calendar:
    """Build the calendar of the inclusive period ``start`` .. ``end``.

    Parameters
    ----------
    start, end : str or pandas.Timestamp
        First and last day.

    Returns
    -------
    Calendar
    """
    start = pd.Timestamp(start).normalize()
    end = pd.Timestamp(end).normalize()
    dr = pd.date_range(start, end, freq="D")
    n = len(dr)
    doy = dr.day_of_year.to_numpy()
    weekend = dr.day_of_week.to_numpy() >= 5
    month = dr.month.to_numpy()
    day = dr.day.to_numpy()
    holiday = np.zeros(n, dtype=bool)
    for m, d0, d1 in _HOLIDAYS:
        holiday |= (month == m) & (day >= d0) & (day <= d1)
    dates = dr.to_numpy().astype("datetime64[D]")
    spring = np.zeros(n)
    for sf in SPRING_FESTIVAL.values():
        off = (dates - np.datetime64(sf, "D")).astype(np.int64)
        core = (off >= -3) & (off <= 7)
        edge = ((off >= -8) & (off < -3)) | ((off > 7) & (off <= 15))
        spring = np.maximum(spring, np.where(core, 1.0, np.where(edge, 0.5, 0.0)))
    holiday |= spring >= 1.0
    years = dr.year.to_numpy()
    month_index = (years - years[0]) * 12 + month - month[0]
    month_starts = np.flatnonzero(np.r_[True, np.diff(month_index) != 0])
    return Calendar(
        start=start,
        n_days=n,
        dates=dates,
        doy=doy,
        weekend=weekend,
        holiday=holiday,
        spring=spring,
        summer=_bump(doy, 205.0, 30.0),
        winter=_bump(doy, 15.0, 36.0),
        irrigation=_bump(doy, 185.0, 48.0),
        month_index=month_index,
        month_starts=month_starts,
    )
