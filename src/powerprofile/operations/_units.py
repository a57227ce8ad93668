"""Where each customer sits in the organisation, and indicators per unit and month.

The channel KPIs are those of :func:`powerprofile.channel_kpis` (one definition of each
KPI): for every level, the customers' ``grid_unit`` is replaced by their unit at that
level and the KPIs are computed by unit and month, so a city's counts are exactly the
sum of its counties' (customers belong to one unit per level).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..features import contact_codes, repeat_contact_flags
from ..report import KPI_COLUMNS, KpiAggregates, channel_kpis
from ..schema import CHANNELS, CONTACT_TYPES, ORG_LEVELS, org_paths

__all__ = [
    "LOW_SATISFACTION",
    "TALLY_KEYS",
    "customer_units",
    "derive_org",
    "quality_tallies",
    "sum_tallies",
    "unit_kpis",
]

log = logging.getLogger("powerprofile")

LOW_SATISFACTION = 2.0
"""A rated contact is *dissatisfied* when its score is at most this (1-5 scale)."""
DERIVED_ROOT = "all"
SERVICE_TYPES = ("inquiry", "payment", "business_request", "opinion")
"""Contact types whose handling the fair comparison judges: outage reports (they follow
the network's outages), complaints and praise are left out, since they say more about
events than about how a unit served the request."""


def derive_org(customers: pd.DataFrame) -> pd.DataFrame:
    """An organisation derived from the customers' ``region`` and ``grid_unit``.

    Used when a data set has no ``org_units``: the province (``"all"``), one city per
    region and the grid units under them; counties and service centres are unknown.
    """
    pairs = customers[["region", "grid_unit"]].astype("string").drop_duplicates()
    cities = pairs["region"].dropna().unique()
    frame = pd.concat(
        [
            pd.DataFrame({"unit_id": [DERIVED_ROOT], "parent_id": [pd.NA], "level": ["province"]}),
            pd.DataFrame({"unit_id": cities, "parent_id": DERIVED_ROOT, "level": "city"}),
            pd.DataFrame(
                {"unit_id": pairs["grid_unit"], "parent_id": pairs["region"], "level": "grid_unit"}
            ),
        ],
        ignore_index=True,
    )
    for c in ("unit_id", "parent_id"):
        frame[c] = frame[c].astype("string")
    frame["name_zh"] = frame["unit_id"]
    frame["name_en"] = frame["unit_id"]
    frame["level"] = pd.Categorical(frame["level"], categories=ORG_LEVELS)
    return frame.drop_duplicates("unit_id", ignore_index=True)


def _derived_paths(org: pd.DataFrame) -> pd.DataFrame:
    par = org.set_index("unit_id")["parent_id"]
    grids = org.loc[org["level"] == "grid_unit", "unit_id"].astype("string")
    out = pd.DataFrame({"grid_unit": grids.to_numpy()})
    out["city"] = out["grid_unit"].map(par).astype("string")
    out["province"] = DERIVED_ROOT
    for lv in ("county", "service_centre"):
        out[lv] = pd.array([pd.NA] * len(out), dtype="string")
    return out[list(ORG_LEVELS)].astype("string")


def customer_units(customers: pd.DataFrame, org: pd.DataFrame) -> tuple[pd.DataFrame, tuple]:
    """Each customer's unit at every level.

    Parameters
    ----------
    customers : pandas.DataFrame
    org : pandas.DataFrame
        Checked ``org_units`` (or :func:`derive_org`).

    Returns
    -------
    (pandas.DataFrame, tuple of str)
        One row per customer (``customer_id`` and one column per level), and the
        levels known (all of :data:`ORG_LEVELS` unless the hierarchy was derived).
    """
    full = set(org["level"].astype("string").unique()) == set(ORG_LEVELS)
    paths = org_paths(org) if full else _derived_paths(org)
    levels = tuple(lv for lv in ORG_LEVELS if paths[lv].notna().any())
    cu = customers[["customer_id", "grid_unit"]].astype("string")
    cu = cu.merge(paths, on="grid_unit", how="left")
    return cu, levels


def unit_kpis(tables, units: pd.DataFrame, levels, **kpi_kwargs) -> pd.DataFrame:
    """Channel KPIs per unit and month at every level (``channel_kpis`` per level).

    ``tables`` may be a streamed job's :class:`~powerprofile.report.KpiAggregates`
    (counted by month and grid unit): each level's counts are then its grid units'
    summed, the same KPIs.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``unit_id``, ``month`` and :data:`~powerprofile.report.KPI_COLUMNS`.
    """
    frames = []
    customers = tables["customers"]
    first = units.drop_duplicates("grid_unit")
    for lv in levels:
        if isinstance(tables, KpiAggregates):
            up = pd.Series(first[lv].to_numpy(), index=first["grid_unit"].to_numpy())
            k = tables.kpis_regrouped(("month", "grid_unit"), "grid_unit", up)
        else:
            view = {k: tables[k] for k in ("interactions", "payments", "events")}
            c = customers.copy()
            c["grid_unit"] = units[lv].to_numpy()
            view["customers"] = c
            k = channel_kpis(_View(view, getattr(tables, "data_end", None)), ("month", "grid_unit"))
        k = k.rename(columns={"grid_unit": "unit_id"})
        k.insert(0, "level", lv)
        frames.append(k)
    out = pd.concat(frames, ignore_index=True)
    out["unit_id"] = out["unit_id"].astype("string")
    return out[["level", "unit_id", "month", *KPI_COLUMNS]]


class _View(dict):
    """A mapping of tables with a ``data_end`` (what ``channel_kpis`` reads)."""

    def __init__(self, tables: dict, data_end):
        super().__init__(tables)
        self.data_end = data_end


def quality_tallies(
    tables, units: pd.DataFrame, strata: pd.Series, *, months=None, repeat_window_days=7.0
) -> pd.DataFrame:
    """Counts of contacts, repeat contacts, rated and dissatisfied contacts per cell.

    One cell per grid unit, month, stratum (customer mix) and channel: everything
    the fair comparison and the drill-down add up. Only service requests
    (:data:`SERVICE_TYPES`) are counted; a repeat contact is still any contact of the
    customer within the window before it. The repeat rule is
    :func:`powerprofile.features.repeat_contact_flags` (the one of the KPIs).

    Parameters
    ----------
    tables : Tables or mapping
    units : pandas.DataFrame
        :func:`customer_units` (aligned with ``tables["customers"]``).
    strata : pandas.Series
        Stratum of each customer (aligned with ``tables["customers"]``).
    months : sequence of month starts, optional
        Keep these months only.

    Returns
    -------
    pandas.DataFrame
        ``grid_unit``, ``month``, ``stratum``, ``channel``, ``contacts``, ``repeats``,
        ``rated``, ``dissatisfied``.
    """
    inter = tables["interactions"]
    cust_ids = pd.Index(units["customer_id"])
    pos = cust_ids.get_indexer(inter["customer_id"].astype("string"))
    ch = contact_codes(inter["channel"], CHANNELS)
    ty = contact_codes(inter["type"], CONTACT_TYPES)
    rep = repeat_contact_flags(
        np.where(pos >= 0, pos, len(cust_ids)), inter["timestamp"], ch, ty, repeat_window_days
    )
    ok = (pos >= 0) & (ch >= 0) & np.isin(ty, [CONTACT_TYPES.index(t) for t in SERVICE_TYPES])
    sat = pd.to_numeric(inter.get("satisfaction"), errors="coerce")
    sat = np.full(len(inter), np.nan) if sat is None else np.asarray(sat, dtype=float)
    month = pd.to_datetime(inter["timestamp"]).dt.to_period("M").dt.start_time.to_numpy()
    frame = pd.DataFrame(
        {
            "grid_unit": units["grid_unit"].to_numpy()[pos[ok]],
            "month": month[ok],
            "stratum": np.asarray(strata.astype("string"))[pos[ok]],
            "channel": np.asarray(CHANNELS, dtype=object)[ch[ok]],
            "contacts": 1,
            "repeats": rep[ok].astype(np.int64),
            "rated": (~np.isnan(sat[ok])).astype(np.int64),
            "dissatisfied": (sat[ok] <= LOW_SATISFACTION).astype(np.int64),
        }
    )
    if months is not None:
        frame = frame[frame["month"].isin(pd.to_datetime(list(months)))]
    return sum_tallies([frame])


TALLY_KEYS = ("grid_unit", "month", "stratum", "channel")
"""The cell of a quality tally: grid unit, month, stratum and channel."""


def sum_tallies(frames: list) -> pd.DataFrame:
    """Tally rows summed per cell (:data:`TALLY_KEYS`), keys as text.

    Tallies of disjoint sets of customers (the parts of a folder) add up to those of
    their union: a customer's contacts, repeats included, all fall in one part.
    """
    keys = list(TALLY_KEYS)
    if not frames:  # no contact anywhere
        out = pd.DataFrame({k: pd.array([], dtype="string") for k in keys})
        out["month"] = pd.to_datetime(out["month"])
        for c in ("contacts", "repeats", "rated", "dissatisfied"):
            out[c] = np.zeros(0, dtype=np.int64)
        return out
    frame = pd.concat(frames, ignore_index=True)
    out = frame.groupby(keys, observed=True, sort=True).sum().reset_index()
    for c in ("grid_unit", "stratum", "channel"):
        out[c] = out[c].astype("string")
    return out
