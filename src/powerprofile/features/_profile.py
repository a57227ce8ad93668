"""Profile features (用户档案): tenure, customer type, region, tariff, time-of-use flag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema._contract import CUSTOMER_TYPES, TARIFFS
from ._labels import supply_start_day
from ._time import require_columns

__all__ = ["PROFILE_CATEGORIES", "profile_columns", "tenure_days"]

PROFILE_CATEGORIES = {"customer_type": CUSTOMER_TYPES, "tariff": TARIFFS}


def tenure_days(customers: pd.DataFrame, snap_days) -> np.ndarray:
    """``(S, n)`` days from supply start to each snapshot (``NaN`` when unknown)."""
    start = supply_start_day(customers)
    t = np.asarray(snap_days, dtype=np.float64)[:, None]
    out = t - start[None, :]
    out[~np.isfinite(out)] = np.nan
    return out


def profile_columns(customers: pd.DataFrame, rows: np.ndarray, region_categories=None) -> dict:
    """Categorical/bool profile columns for the customer positions ``rows``.

    Parameters
    ----------
    customers : pandas.DataFrame
        The partition's customers.
    rows : numpy.ndarray of int
        Positions to take (one output row each).
    region_categories : sequence of str, optional
        The categories of ``region`` over the whole data set, so that every partition
        produces the same categorical dtype (default: the regions present).

    Returns
    -------
    dict of str to pandas.Series-compatible arrays
    """
    require_columns(
        customers, "customers", ("customer_id", "customer_type", "region", "tariff", "tou_flag")
    )
    out = {}
    for col, cats in PROFILE_CATEGORIES.items():
        vals = customers[col].astype("string").to_numpy(dtype=object, na_value=None)[rows]
        out[col] = pd.Categorical(vals, categories=list(cats))
    regions = customers["region"].astype("string")
    if region_categories is None:
        region_categories = sorted(regions.dropna().unique())
    out["region"] = pd.Categorical(
        regions.to_numpy(dtype=object, na_value=None)[rows], categories=list(region_categories)
    )
    out["tou_flag"] = customers["tou_flag"].to_numpy(dtype=bool, na_value=False)[rows]
    return out
