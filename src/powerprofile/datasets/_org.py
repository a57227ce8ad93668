"""The operating organisation of a generated data set, with planted service quality.

Every chunk's grid units are placed under counties and service centres of their city
(the customer's ``region``), under one province. Service quality is then planted, with
random streams of its own (``[seed, _STREAM, chunk]``), so the other tables keep their
values wherever this module does not need to change them:

- **mix effect** (every unit): customers of a *hard* kind (residential customers who
  use neither the app nor WeChat, and agricultural customers) need a follow-up contact
  more often and rate the service a little lower;
- **weak grid units** (one in ten, rounded: none below five grid units) and **one
  weak service centre** (one of the smallest with at least two grid units; all its grid
  units): more repeat contacts within a week (first contacts left unresolved) and
  lower satisfaction, whatever their customers;
- **mix-only units**: the grid units with the highest share of hard customers and
  normal service, so that a unit's raw figures look bad for its mix alone.

The truth (``truth/org_units.parquet``, :func:`load_org_truth`) records per unit the
``planted`` role (``weak``, ``weak_centre``, ``mix_only`` or ``normal``), whether its
service is worse (``weak_service``) and its share of hard customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._population import _REGION_ZH, REGIONS

__all__ = ["OrgPlan", "assemble_org", "load_org_truth", "plan_org", "plant_service"]

_STREAM = 0x0E6A  # this module's random stream label
PROVINCE_ID = "zhejiang"
_COUNTY_SIZE = (3, 6)  # grid units per county
_CENTRE_SIZE = (2, 3)  # grid units per service centre
WEAK_SHARE = 0.10
MIX_ONLY_SHARE = 0.06
# extra unresolved first contacts (a follow-up within 1..6 days) and rating drops
P_FOLLOW_HARD = 0.30  # hard customers anywhere (the mix effect)
P_FOLLOW_WEAK = 0.16  # every customer of a weak unit
P_SAT_DROP_HARD = 0.60
P_SAT_DROP_WEAK = 0.40
_T_CMP, _T_PRS = 4, 6  # contact type codes of complaint and praise (CONTACT_TYPES order)


@dataclass
class OrgPlan:
    """The organisation and planted roles of one chunk's grid units (index = grid)."""

    county: np.ndarray  # chunk-local county number per grid
    centre: np.ndarray  # chunk-local service-centre number per grid
    weak: np.ndarray  # service worse (planted weak grid or inside the weak centre)
    role: np.ndarray  # "weak", "weak_centre", "mix_only", "normal"
    hard_share: np.ndarray
    weak_centre: int  # chunk-local centre number of the weak centre, -1 if none here


def hard_customers(pop) -> np.ndarray:
    """Customers of the hard kind: offline residential customers and agricultural ones."""
    offline = ~(pop.app_user | pop.wechat_bound)
    return ((pop.ctype == 0) & offline) | (pop.ctype == 3)


def _groups(rng, n: int, lo: int, hi: int) -> np.ndarray:
    sizes = rng.integers(lo, hi + 1, size=n // lo + 2)
    return np.repeat(np.arange(len(sizes)), sizes)[:n]


def plan_org(seed: int, chunk: int, pop) -> OrgPlan:
    """Place the chunk's grid units in counties and centres and plant their service."""
    rng = np.random.default_rng([int(seed), _STREAM, int(chunk)])
    n_grid = len(pop.region_of_grid)
    county = np.full(n_grid, -1, dtype=np.int64)
    centre = np.full(n_grid, -1, dtype=np.int64)
    n_county = n_centre = 0
    for r in range(len(REGIONS)):  # six cities, not customers
        g = np.flatnonzero(pop.region_of_grid == r)
        if not len(g):
            continue
        c_of = _groups(rng, len(g), *_COUNTY_SIZE)
        county[g] = n_county + c_of
        n_county += c_of.max() + 1
        for k in np.unique(c_of):  # a few counties per city
            gk = g[c_of == k]
            s_of = _groups(rng, len(gk), *_CENTRE_SIZE)
            centre[gk] = n_centre + s_of
            n_centre += s_of.max() + 1
    grid_of_cust = pop.grid_of_area[pop.area]
    hard = hard_customers(pop)
    n_in = np.bincount(grid_of_cust, minlength=n_grid)
    hard_share = np.bincount(grid_of_cust, weights=hard, minlength=n_grid) / np.maximum(n_in, 1)
    role = np.full(n_grid, "normal", dtype=object)
    weak_centre = -1
    sizes = np.bincount(centre, minlength=n_centre)
    if chunk == 0 and (sizes >= 2).any():  # one weak service centre in the data set
        smallest = sizes[sizes >= 2].min()  # the fewest grid units: a centre-level effect
        weak_centre = int(rng.choice(np.flatnonzero(sizes == smallest)))
        role[centre == weak_centre] = "weak_centre"
    free = np.flatnonzero(role == "normal")
    n_weak = int(round(WEAK_SHARE * n_grid))
    if n_weak and len(free):
        role[rng.choice(free, size=min(n_weak, len(free)), replace=False)] = "weak"
    free = np.flatnonzero((role == "normal") & (centre != weak_centre))
    n_mix = max(1, int(round(MIX_ONLY_SHARE * n_grid))) if n_grid >= 4 else 0
    if n_mix and len(free):
        hardest = free[np.argsort(-hard_share[free], kind="stable")][:n_mix]
        role[hardest] = "mix_only"
    weak = np.isin(role, ["weak", "weak_centre"])
    return OrgPlan(county, centre, weak, role, hard_share, weak_centre)


def plant_service(
    seed: int, chunk: int, pop, rows: dict, cal, plan: OrgPlan, churn_day=None
) -> dict:
    """Add the planted follow-up contacts and rating drops to a chunk's interactions.

    Parameters
    ----------
    seed, chunk : int
        Seed the module's own stream.
    pop : Population
    rows : dict
        The chunk's interaction rows (``cust``, ``_seq``, ``timestamp``, ``channel``,
        ``type``, ``satisfaction``), sorted by customer and time.
    cal : Calendar
        The period (follow-ups stay inside it).
    plan : OrgPlan
    churn_day : numpy.ndarray or None
        Day index of each customer's churn (negative: none); a follow-up never falls
        on or after it, as no contact does once a customer has left.

    Returns
    -------
    dict
        The rows with the follow-ups added, sorted again, ``_seq`` renumbered.
    """
    rng = np.random.default_rng([int(seed), _STREAM, int(chunk), 1])
    cust = rows["cust"]
    if not len(cust):
        return rows
    grid = pop.grid_of_area[pop.area[cust]]
    weak = plan.weak[grid]
    hard = hard_customers(pop)[cust]
    typ = rows["type"]
    resolvable = (typ != _T_CMP) & (typ != _T_PRS)
    p_follow = np.where(hard, P_FOLLOW_HARD, 0.0) + np.where(weak, P_FOLLOW_WEAK, 0.0)
    follow = resolvable & (rng.random(len(cust)) < p_follow)
    gap_us = (rng.integers(1, 7, len(cust)) * 86_400 + rng.integers(-3600, 3600, len(cust))) * 10**6
    ts = rows["timestamp"]
    f_ts = ts[follow] + gap_us[follow].astype("timedelta64[us]")
    last = np.datetime64(cal.start.date(), "D") + np.timedelta64(cal.n_days, "D")
    inside = f_ts < last.astype("datetime64[us]")
    if churn_day is not None:
        day = np.asarray(churn_day)[cust[follow]]
        gone = np.datetime64(cal.start.date(), "D") + day.astype("timedelta64[D]")
        inside &= (day < 0) | (f_ts < gone.astype("datetime64[us]"))
    n_f = int(follow.sum())
    chan = rows["channel"][follow].copy()
    to_hotline = rng.random(n_f) < 0.5
    chan[to_hotline] = 0  # hotline_95598
    sat_f = np.where(
        rng.random(n_f) < 0.45, rng.choice([1.0, 2.0, 3.0], n_f, p=[0.4, 0.4, 0.2]), np.nan
    )
    # rating drops on the original contacts
    sat = rows["satisfaction"].copy()
    p_drop = np.where(hard, P_SAT_DROP_HARD, 0.0) + np.where(weak, P_SAT_DROP_WEAK, 0.0)
    drop = ~np.isnan(sat) & (rng.random(len(cust)) < p_drop)
    sat[drop] = np.maximum(sat[drop] - rng.integers(1, 3, int(drop.sum())), 1.0)
    new = {
        "cust": np.r_[cust, cust[follow][inside]],
        "timestamp": np.r_[ts, f_ts[inside]],
        "channel": np.r_[rows["channel"], chan[inside]].astype(np.int8),
        "type": np.r_[typ, typ[follow][inside]].astype(np.int8),
        "satisfaction": np.r_[sat, sat_f[inside]],
    }
    order = np.lexsort((new["timestamp"], new["cust"]))
    new = {k: v[order] for k, v in new.items()}
    c = new["cust"]
    start_of = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
    group_start = np.repeat(start_of, np.diff(np.r_[start_of, len(c)]))
    return {
        "cust": c,
        "_seq": np.arange(len(c)) - group_start,
        "timestamp": new["timestamp"],
        "channel": new["channel"],
        "type": new["type"],
        "satisfaction": new["satisfaction"],
    }


def chunk_org_rows(chunk: int, pop, plan: OrgPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county, centre and grid rows of one chunk, and their truth rows."""
    grid_ids = np.asarray(pop.grid_ids.to_numpy(zero_copy_only=False), dtype=object)
    region = np.asarray(REGIONS, dtype=object)[pop.region_of_grid]
    rzh = np.asarray(_REGION_ZH, dtype=object)[pop.region_of_grid]
    county_ids = np.array(
        [f"{r}-X{chunk:03d}{k:03d}" for r, k in zip(region, plan.county, strict=True)], dtype=object
    )
    centre_ids = np.array(
        [f"{r}-S{chunk:03d}{k:03d}" for r, k in zip(region, plan.centre, strict=True)], dtype=object
    )
    grids = pd.DataFrame(
        {
            "unit_id": grid_ids,
            "parent_id": centre_ids,
            "level": "grid_unit",
            "name_zh": [
                f"{z}网格{g.rsplit('G', 1)[-1]}" for z, g in zip(rzh, grid_ids, strict=True)
            ],
            "name_en": [f"Grid {g.rsplit('G', 1)[-1]}" for g in grid_ids],
        }
    )
    centres = pd.DataFrame(
        {
            "unit_id": centre_ids,
            "parent_id": county_ids,
            "level": "service_centre",
            "name_zh": [f"{z}{k + 1}号供电服务中心" for z, k in zip(rzh, plan.centre, strict=True)],
            "name_en": [
                f"{r.title()} service centre {k + 1}"
                for r, k in zip(region, plan.centre, strict=True)
            ],
        }
    ).drop_duplicates("unit_id")
    counties = pd.DataFrame(
        {
            "unit_id": county_ids,
            "parent_id": region,
            "level": "county",
            "name_zh": [f"{z}{k + 1}号区县公司" for z, k in zip(rzh, plan.county, strict=True)],
            "name_en": [
                f"{r.title()} county {k + 1}" for r, k in zip(region, plan.county, strict=True)
            ],
        }
    ).drop_duplicates("unit_id")
    rows = pd.concat([counties, centres, grids], ignore_index=True)
    truth_grid = pd.DataFrame(
        {
            "unit_id": grid_ids,
            "level": "grid_unit",
            "planted": plan.role.astype(str),
            "weak_service": plan.weak,
            "hard_share": plan.hard_share,
        }
    )
    c_ids = centres["unit_id"].to_numpy()
    weak_c = centre_ids[plan.centre == plan.weak_centre][0] if plan.weak_centre >= 0 else None
    truth_centre = pd.DataFrame(
        {
            "unit_id": c_ids,
            "level": "service_centre",
            "planted": np.where(c_ids == weak_c, "weak_centre", "normal"),
            "weak_service": c_ids == weak_c,
            "hard_share": np.nan,
        }
    )
    return rows, pd.concat([truth_centre, truth_grid], ignore_index=True)


def assemble_org(parts: list[pd.DataFrame], truths: list[pd.DataFrame]):
    """The whole ``org_units`` table (province and cities added) and its truth."""
    cities = pd.DataFrame(
        {
            "unit_id": list(REGIONS),
            "parent_id": PROVINCE_ID,
            "level": "city",
            "name_zh": [f"{z}供电公司" for z in _REGION_ZH],
            "name_en": [f"{r.title()} power supply company" for r in REGIONS],
        }
    )
    root = pd.DataFrame(
        {
            "unit_id": [PROVINCE_ID],
            "parent_id": [None],
            "level": ["province"],
            "name_zh": ["浙江省电力公司"],
            "name_en": ["Zhejiang electric power company"],
        }
    )
    org = pd.concat([root, cities, *parts], ignore_index=True)
    from powerprofile.schema._contract import ORG_LEVELS

    for c in ("unit_id", "parent_id", "name_zh", "name_en"):
        org[c] = org[c].astype("string")
    org["level"] = pd.Categorical(org["level"], categories=ORG_LEVELS)
    truth = pd.concat(truths, ignore_index=True)
    truth["unit_id"] = truth["unit_id"].astype("string")
    truth["level"] = truth["level"].astype("string")
    truth["planted"] = truth["planted"].astype("string")
    return org, truth


def load_org_truth(path) -> pd.DataFrame:
    """The planted service quality of a generated data set's units.

    Parameters
    ----------
    path : str or pathlib.Path
        The data-set folder or its ``truth`` folder.

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``level``, ``planted`` (``weak``, ``weak_centre``, ``mix_only``,
        ``normal``), ``weak_service`` (bool), ``hard_share``.
    """
    path = Path(path)
    f = path / "truth" / "org_units.parquet"
    if not f.exists():
        f = path / "org_units.parquet"
    if not f.exists():
        raise FileNotFoundError(
            f"no organisation truth in {str(path)!r}: 'truth/org_units.parquet' is missing; "
            "generate the data set again with this version of powerprofile"
        )
    out = pd.read_parquet(f)
    for c in ("unit_id", "level", "planted"):
        out[c] = out[c].astype("string")
    return out
