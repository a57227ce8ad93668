"""Area features (台区 / 网格): outages of the customer's transformer area and the
complaint rate among the customer's neighbours.

These are the only features that look across customers, so they need a small
pre-aggregation over all partitions first. It is a map-reduce of pure functions:

1. map — :func:`area_partial` on each partition's ``customers``, ``interactions`` and
   ``events`` gives, per (level, area, snapshot), the number of active customers and of
   active customers with at least one complaint in each window;
2. reduce — :func:`combine_area_partials` sums the partials (associative and
   commutative, so any partitioning and order give the same totals);
3. :func:`outage_stats` aggregates the (small, global) ``outages`` table per
   transformer area and snapshot.

The partition function then reads its customers' rows of these small tables
(:func:`area_features`); the neighbour rate excludes the customer itself:
``(complainers_in_area - own) / (active_in_area - 1)``. In a distributed engine the
partials are a ``groupBy().sum()`` and the result is broadcast to the tasks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema._contract import CONTACT_TYPES
from ._interactions import contact_codes
from ._labels import active_mask, first_churn_day
from ._time import DAY_NS, NAT, customer_codes, to_ns

__all__ = ["area_features", "area_partial", "combine_area_partials", "outage_stats"]

LEVELS = {"transformer_area": "neighbour", "grid_unit": "grid"}


def complained_in_windows(interactions, index, snap_days, windows) -> dict:
    """``{w: (S, n) bool}``: the customer made a complaint in ``[T - w, T)``."""
    n, S = len(index), len(snap_days)
    out = {w: np.zeros((S, n), dtype=bool) for w in windows}
    if interactions is None or len(interactions) == 0:
        return out
    codes = customer_codes(interactions["customer_id"], index)
    is_c = contact_codes(interactions["type"], CONTACT_TYPES) == CONTACT_TYPES.index("complaint")
    t_ns = to_ns(interactions["timestamp"])
    m0 = (codes >= 0) & is_c & (t_ns != NAT)
    codes, t_ns = codes[m0], t_ns[m0]
    for s, t in enumerate(snap_days):
        T = int(t) * DAY_NS
        for w in windows:
            m = (t_ns < T) & (t_ns >= T - w * DAY_NS)
            out[w][s] = np.bincount(codes[m], minlength=n) > 0
    return out


def area_partial(customers, interactions, events, snap_days, windows, churn_kinds) -> pd.DataFrame:
    """Per (level, area, snapshot) counts of active customers and complainers (map step).

    Parameters
    ----------
    customers, interactions, events : pandas.DataFrame
        One partition's rows.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    windows : tuple of int
        Window lengths.
    churn_kinds : tuple of str
        Event kinds that end a customer's activity.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, area, snapshot_day, n_active, complainers_{w}d``.
    """
    index = pd.Index(customers["customer_id"].astype("string"))
    active = active_mask(customers, first_churn_day(events, index, churn_kinds), snap_days)
    comp = complained_in_windows(interactions, index, snap_days, windows)
    frames = []
    for level in LEVELS:
        codes, uniq = pd.factorize(customers[level].astype("string"), sort=True)
        uniq = np.asarray(uniq, dtype=object)
        k = len(uniq)
        for s, t in enumerate(snap_days):
            a = active[s] & (codes >= 0)
            n_act = np.bincount(codes[a], minlength=k)
            keep = n_act > 0
            cols = {
                "level": np.full(keep.sum(), level, dtype=object),
                "area": uniq[keep],
                "snapshot_day": np.full(keep.sum(), int(t), dtype=np.int64),
                "n_active": n_act[keep].astype(np.float64),
            }
            for w in windows:
                cols[f"complainers_{w}d"] = np.bincount(codes[a & comp[w][s]], minlength=k)[
                    keep
                ].astype(np.float64)
            frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def combine_area_partials(partials) -> pd.DataFrame:
    """Sum partials from :func:`area_partial` (reduce step)."""
    df = pd.concat(list(partials), ignore_index=True)
    return df.groupby(["level", "area", "snapshot_day"], sort=True).sum().reset_index()


def outage_stats(outages: pd.DataFrame, snap_days, windows) -> pd.DataFrame:
    """Per (transformer area, snapshot) outage counts and minutes in each window.

    Only outages that started before the snapshot count, and an outage still running
    at the snapshot counts only its minutes up to the snapshot.

    Returns
    -------
    pandas.DataFrame
        Columns ``area, snapshot_day, outage_count_{w}d, outage_minutes_{w}d,
        planned_outages_{w}d, unplanned_outages_{w}d, days_since_last_outage``.
    """
    cols = ["area", "snapshot_day"]
    for w in windows:
        cols += [
            f"outage_count_{w}d",
            f"outage_minutes_{w}d",
            f"planned_outages_{w}d",
            f"unplanned_outages_{w}d",
        ]
    cols.append("days_since_last_outage")
    if outages is None or len(outages) == 0:
        return pd.DataFrame(columns=cols)
    codes, uniq = pd.factorize(outages["transformer_area"].astype("string"), sort=True)
    uniq = np.asarray(uniq, dtype=object)
    k = len(uniq)
    start = to_ns(outages["start"])
    end = to_ns(outages["end"])
    planned = outages["planned"].to_numpy(dtype=bool, na_value=False)
    frames = []
    for t in snap_days:
        T = int(t) * DAY_NS
        vis = (start < T) & (start != NAT) & (codes >= 0)
        c = codes[vis]
        seen = np.bincount(c, minlength=k) > 0
        stop = np.where((end == NAT) | (end > T), T, end)[vis]
        age = (T - start[vis]) / DAY_NS
        minutes = np.clip((stop - start[vis]) / 60e9, 0, None)
        pl = planned[vis]
        out = {"area": uniq[seen], "snapshot_day": np.full(seen.sum(), int(t), dtype=np.int64)}
        for w in windows:
            inw = age <= w
            out[f"outage_count_{w}d"] = np.bincount(c[inw], minlength=k)[seen].astype(np.float64)
            out[f"outage_minutes_{w}d"] = np.bincount(c[inw], weights=minutes[inw], minlength=k)[
                seen
            ]
            out[f"planned_outages_{w}d"] = np.bincount(c[inw & pl], minlength=k)[seen].astype(
                np.float64
            )
            out[f"unplanned_outages_{w}d"] = np.bincount(c[inw & ~pl], minlength=k)[seen].astype(
                np.float64
            )
        last = np.full(k, np.inf)
        np.minimum.at(last, c, age)
        out["days_since_last_outage"] = last[seen]
        frames.append(pd.DataFrame(out))
    return pd.concat(frames, ignore_index=True)[cols]


def area_features(customers, index, snap_days, windows, area_stats, own_complained) -> dict:
    """Area features of one partition's customers.

    Parameters
    ----------
    customers : pandas.DataFrame
        The partition's customers, in ``index`` order.
    index : pandas.Index
        The partition's customer ids.
    snap_days : numpy.ndarray of int
        Snapshot day numbers.
    windows : tuple of int
        Window lengths.
    area_stats : dict
        ``{"complaints": combine_area_partials(...), "outages": outage_stats(...)}``.
    own_complained : dict
        ``{w: (S, n) bool}`` from :func:`complained_in_windows`.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    n, S = len(index), len(snap_days)
    feats = {}
    comp = area_stats.get("complaints")
    for level, stem in LEVELS.items():
        area = pd.Index(customers[level].astype("string"))
        for w in windows:
            feats[f"{stem}_complaint_rate_{w}d"] = np.full((S, n), np.nan)
        if comp is None or len(comp) == 0:
            continue
        lv = comp[comp["level"] == level]
        for s, t in enumerate(snap_days):
            sub = lv[lv["snapshot_day"] == int(t)]
            pos = pd.Index(sub["area"]).get_indexer(area)
            ok = pos >= 0
            n_act = np.where(ok, sub["n_active"].to_numpy(dtype=np.float64)[pos], np.nan)
            for w in windows:
                tot = np.where(ok, sub[f"complainers_{w}d"].to_numpy(dtype=np.float64)[pos], np.nan)
                own = own_complained[w][s].astype(np.float64)
                with np.errstate(invalid="ignore", divide="ignore"):
                    rate = (tot - own) / (n_act - 1)
                rate[~(n_act > 1)] = np.nan
                feats[f"{stem}_complaint_rate_{w}d"][s] = rate
    out = area_stats.get("outages")
    ocols = [
        c for c in (out.columns if out is not None else []) if c not in ("area", "snapshot_day")
    ]
    area = pd.Index(customers["transformer_area"].astype("string"))
    for c in ocols:
        feats[c] = np.full((S, n), np.nan if c == "days_since_last_outage" else 0.0)
    for s, t in enumerate(snap_days if ocols else ()):
        sub = out[out["snapshot_day"] == int(t)]
        pos = pd.Index(sub["area"]).get_indexer(area)
        ok = pos >= 0
        for c in ocols:
            feats[c][s][ok] = sub[c].to_numpy(dtype=np.float64)[pos[ok]]
    return feats
