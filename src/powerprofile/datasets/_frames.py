"""One generated chunk: rows of every table as numpy columns, and their Arrow/pandas forms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerprofile.schema._contract import (
    CHANNELS,
    CONTACT_TYPES,
    CUSTOMER_TYPES,
    EVENT_KINDS,
    PAYMENT_CHANNELS,
    READ_QUALITY,
    STATUSES,
    TABLES,
    TARIFFS,
)

from ._calendar import Calendar, make_calendar
from ._outages import AreaOutages, make_outages
from ._population import REGIONS, Population, make_population
from ._simulate import ChunkResult, simulate_chunk

__all__ = ["PER_CUSTOMER", "Chunk", "generate_chunk", "to_arrow", "to_pandas"]

PER_CUSTOMER = ("usage", "bills", "payments", "interactions", "events")
_US_PER_DAY = 86_400_000_000
_CATS = {
    ("customers", "customer_type"): CUSTOMER_TYPES,
    ("customers", "tariff"): TARIFFS,
    ("customers", "status"): STATUSES,
    ("usage", "read_quality"): READ_QUALITY,
    ("payments", "channel"): PAYMENT_CHANNELS,
    ("interactions", "channel"): CHANNELS,
    ("interactions", "type"): CONTACT_TYPES,
    ("events", "kind"): EVENT_KINDS,
}


@dataclass
class Chunk:
    """A generated chunk of customers.

    Attributes
    ----------
    index : int
        Chunk number.
    pop : Population
    outages : AreaOutages
    result : ChunkResult
    tables : dict of str to dict of numpy.ndarray
        Rows of each table as columns; per-customer tables carry ``cust`` (row of the
        customer in the chunk) and are sorted by customer then time.
    """

    index: int
    cal: Calendar
    pop: Population
    outages: AreaOutages
    result: ChunkResult
    tables: dict


def _day_us(cal: Calendar, day: np.ndarray) -> np.ndarray:
    start = np.datetime64(cal.start.date(), "us")
    return start + (np.asarray(day, dtype=np.int64) * _US_PER_DAY).astype("timedelta64[us]")


def chunk_seed(seed: int, chunk: int) -> np.random.SeedSequence:
    """Seed sequence of one chunk, derived from the data set seed and the chunk number."""
    return np.random.SeedSequence([int(seed), int(chunk), 0x5EED])


def generate_chunk(seed: int, chunk: int, first_number: int, n: int, start, end) -> Chunk:
    """Generate one chunk of ``n`` customers, independently of every other chunk.

    Parameters
    ----------
    seed : int
        Data set seed.
    chunk : int
        Chunk number (the chunk's generator is seeded from ``(seed, chunk)``).
    first_number : int
        Number of the chunk's first customer.
    n : int
        Customers in the chunk.
    start, end : str or pandas.Timestamp
        Inclusive period.

    Returns
    -------
    Chunk
    """
    cal = make_calendar(start, end)
    s_pop, s_out, s_sim, s_rows = chunk_seed(seed, chunk).spawn(4)
    pop = make_population(np.random.default_rng(s_pop), n, first_number, chunk, cal.n_days)
    outages = make_outages(np.random.default_rng(s_out), pop.area_kind, cal)
    result = simulate_chunk(np.random.default_rng(s_sim), pop, outages, cal)
    rng = np.random.default_rng(s_rows)
    tables = {
        "usage": _usage_rows(rng, result, pop, cal),
        "bills": _bill_rows(result, cal),
        "payments": _payment_rows(result, cal),
        "interactions": _interaction_rows(result, cal),
        "events": _event_rows(result, cal),
    }
    return Chunk(index=chunk, cal=cal, pop=pop, outages=outages, result=result, tables=tables)


def _usage_rows(rng, res: ChunkResult, pop: Population, cal: Calendar) -> dict:
    """Daily reads: gaps, ~2 % estimated reads and their later corrected versions.

    Rows are kept compact (customer, day, kWh, quality, recorded day); dates and the
    peak/flat/valley split are computed when a slice is converted to Arrow.
    """
    kwh = res.usage["kwh"]
    n, d = kwh.shape
    days = np.arange(d, dtype=np.int32)
    present = days[None, :] >= pop.supply_start[:, None]
    closure = np.where(res.churn_kind == 0, res.churn_day, d + 1)
    present &= days[None, :] < closure[:, None]
    # gaps: isolated missing days and, for some meters, a run of missing days
    n_gap = rng.binomial(n * d, 0.003)
    present.reshape(-1)[rng.integers(0, n * d, n_gap)] = False
    run = rng.random(n) < 0.04
    g0, glen = rng.integers(0, d, n), rng.integers(3, 21, n)
    present &= ~(
        run[:, None] & (days[None, :] >= g0[:, None]) & (days[None, :] < (g0 + glen)[:, None])
    )
    flat = np.flatnonzero(present)
    del present
    cust = (flat // d).astype(np.int32)
    day = (flat - cust.astype(np.int64) * d).astype(np.int16)
    del flat
    val = np.round(kwh[cust, day].astype(np.float64), 2)
    est_rate = (0.02 * np.exp(rng.normal(0, 0.5, n))).astype(np.float32)
    est_idx = np.flatnonzero(rng.random(len(cust), dtype=np.float32) < est_rate[cust])
    k_fix = rng.integers(3, 21, len(est_idx))
    fixed = (
        day[est_idx] + k_fix <= d
    )  # corrections known by the extract (the morning after the end)
    q = np.zeros(len(cust), np.int8)
    q[est_idx] = 1
    shown = val
    true_est = val[est_idx].copy()
    shown[est_idx] = np.round(true_est * rng.uniform(0.7, 1.3, len(est_idx)), 2)
    rec_day = day + np.int16(1)
    # corrected versions go right after their estimated row
    src = est_idx[fixed]
    ins = src + 1
    c_cust, c_day = cust[src], day[src]
    c_val, c_rec = true_est[fixed], (day[src] + k_fix[fixed]).astype(np.int16)
    return {
        "cust": np.insert(cust, ins, c_cust),
        "day": np.insert(day, ins, c_day),
        "kwh": np.insert(shown, ins, c_val),
        "read_quality": np.insert(q, ins, 0),
        "rec_day": np.insert(rec_day, ins, c_rec),
    }


def _jitter(number: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random factors (2 x rows) in ~[0.87, 1.15] from (customer, day).

    A hash instead of a generator, so that any slice of rows gives the same values
    whatever the partitioning.
    """
    x = number.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + day.astype(
        np.uint64
    ) * np.uint64(0xBF58476D1CE4E5B9)
    out = []
    for salt in (np.uint64(0x94D049BB133111EB), np.uint64(0x2545F4914F6CDD1D)):
        z = x ^ salt
        z ^= z >> np.uint64(31)
        z *= np.uint64(0xD6E8FEB86659FD93)
        z ^= z >> np.uint64(29)
        u = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        out.append(np.exp(0.14 * (u - 0.5)))
    return np.stack(out)


def _usage_arrow_columns(pop: Population, cal: Calendar, cols: dict) -> dict:
    cust = cols["cust"]
    kwh = cols["kwh"]
    tou = pop.tou[cust]
    jit = _jitter(pop.number[cust], cols["day"])
    sp = np.minimum(pop.tou_shares[cust, 0] * jit[0], 0.9)
    sv = np.minimum(pop.tou_shares[cust, 2] * jit[1], 0.95 - sp)
    peak = np.round(kwh * sp, 2)
    valley = np.round(kwh * sv, 2)
    flat_kwh = np.round(np.maximum(kwh - peak - valley, 0.0), 2)
    return {
        "date": _day_us(cal, cols["day"]),
        "kwh": kwh,
        "peak_kwh": np.where(tou, peak, np.nan),
        "flat_kwh": np.where(tou, flat_kwh, np.nan),
        "valley_kwh": np.where(tou, valley, np.nan),
        "read_quality": cols["read_quality"],
        "recorded_at": _day_us(cal, cols["rec_day"]) + np.timedelta64(2 * 3600 * 10**6, "us"),
    }


def _sorted(cols: dict, keys: list) -> dict:
    order = np.lexsort(tuple(cols[k] for k in reversed(keys)))
    return {k: v[order] for k, v in cols.items()}


def _bill_rows(res: ChunkResult, cal: Calendar) -> dict:
    b = _sorted(res.bills, ["cust", "month", "rec_day"])
    first = np.datetime64(cal.start.date(), "M")
    bill_month = (first + b["month"].astype("timedelta64[M]")).astype("datetime64[us]")
    return {
        "cust": b["cust"],
        "bill_month": bill_month,
        "issue_date": _day_us(cal, b["issue"]),
        "due_date": _day_us(cal, b["due"]),
        "amount": b["amount"].astype(np.float64),
        "kwh": b["kwh"].astype(np.float64),
        "recorded_at": _day_us(cal, b["rec_day"]) + np.timedelta64(8 * 3600 * 10**6, "us"),
    }


def _payment_rows(res: ChunkResult, cal: Calendar) -> dict:
    p = _sorted(res.payments, ["cust", "day", "month"])
    return {
        "cust": p["cust"],
        "_seq": p["month"],
        "date": _day_us(cal, p["day"]),
        "amount": p["amount"].astype(np.float64),
        "channel": p["channel"].astype(np.int8),
    }


def _interaction_rows(res: ChunkResult, cal: Calendar) -> dict:
    r = _sorted(res.interactions, ["cust", "day", "sec"])
    cust = r["cust"]
    start_of = np.r_[0, np.flatnonzero(np.diff(cust)) + 1]
    group_start = (
        np.repeat(start_of, np.diff(np.r_[start_of, len(cust)])) if len(cust) else start_of
    )
    ts = _day_us(cal, r["day"]) + (r["sec"].astype(np.int64) * 10**6).astype("timedelta64[us]")
    return {
        "cust": cust,
        "_seq": np.arange(len(cust)) - group_start,
        "timestamp": ts,
        "channel": r["channel"].astype(np.int8),
        "type": r["type"].astype(np.int8),
        "satisfaction": r["sat"].astype(np.float64),
    }


def _event_rows(res: ChunkResult, cal: Calendar) -> dict:
    e = res.events
    return {"cust": e["cust"], "date": _day_us(cal, e["day"]), "kind": e["kind"].astype(np.int8)}


# ----------------------------------------------------------------------------- conversion


def _dict_array(codes: np.ndarray, categories) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int8)), pa.array(list(categories))
    )


def _derived_id(prefix: str, numbers: np.ndarray, seq: np.ndarray, width: int) -> pa.Array:
    num = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 7, padding="0")
    sq = pc.utf8_lpad(pa.array(seq).cast(pa.string()), width, padding="0")
    return pc.binary_join_element_wise(prefix, num, sq, "")


def to_arrow(chunk: Chunk, name: str, rows=None) -> pa.Table:
    """Return table ``name`` of ``chunk`` (optionally only ``rows``) as an Arrow table.

    Columns are in contract order with the Arrow types the files use: strings,
    dictionary-encoded categories, ``timestamp[us]`` dates, float64, bool.
    """
    pop = chunk.pop
    if name == "customers":
        return _customers_arrow(chunk)
    if name == "outages":
        return _outages_arrow(chunk)
    cols = chunk.tables[name]
    if rows is not None:
        cols = {k: v[rows] for k, v in cols.items()}
    cust = cols["cust"]
    out = {"customer_id": pc.take(pop.ids, pa.array(cust))}
    if name == "usage":
        cols = {"cust": cust, **_usage_arrow_columns(pop, chunk.cal, cols)}
    if name == "payments":
        out = {"payment_id": _derived_id("P", pop.number[cust], cols["_seq"], 3), **out}
    if name == "interactions":
        out = {"interaction_id": _derived_id("W", pop.number[cust], cols["_seq"], 5), **out}
    for k, v in cols.items():
        if k in ("cust", "_seq"):
            continue
        if (name, k) in _CATS:
            out[k] = _dict_array(v, _CATS[(name, k)])
        else:
            out[k] = pa.array(v)
    return pa.table(out)


def _customers_arrow(chunk: Chunk) -> pa.Table:
    pop = chunk.pop
    cal = chunk.cal
    res = chunk.result
    return pa.table(
        {
            "customer_id": pop.ids,
            "customer_type": _dict_array(pop.ctype, CUSTOMER_TYPES),
            "region": pa.array(np.asarray(REGIONS, dtype=object)[pop.region], type=pa.string()),
            "grid_unit": pc.take(pop.grid_ids, pa.array(pop.grid_of_area[pop.area])),
            "transformer_area": pc.take(pop.area_ids, pa.array(pop.area)),
            "tariff": _dict_array(pop.ctype, TARIFFS),
            "tou_flag": pa.array(pop.tou),
            "supply_start": pa.array(_day_us(cal, pop.supply_start)),
            "status": _dict_array(res.status, STATUSES),
            "name": pop.text["name"],
            "phone": pop.text["phone"],
            "address": pop.text["address"],
            "app_user": pa.array(pop.app_user),
            "wechat_bound": pa.array(pop.wechat_bound),
            "sms_opt_out": pa.array(pop.sms_opt_out),
        }
    )


def _outages_arrow(chunk: Chunk) -> pa.Table:
    o = chunk.outages
    area = pa.array(o.area)
    start_of = (
        np.r_[0, np.flatnonzero(np.diff(o.area)) + 1] if len(o.area) else np.zeros(0, np.int64)
    )
    seq = np.arange(len(o.area)) - np.repeat(start_of, np.diff(np.r_[start_of, len(o.area)]))
    area_ids = pc.take(chunk.pop.area_ids, area)
    oid = pc.binary_join_element_wise(
        area_ids, pc.utf8_lpad(pa.array(seq).cast(pa.string()), 4, padding="0"), "-"
    )
    start = _day_us(chunk.cal, o.day) + (o.start_s.astype(np.int64) * 10**6).astype(
        "timedelta64[us]"
    )
    end = start + (o.minutes.astype(np.int64) * 60 * 10**6).astype("timedelta64[us]")
    return pa.table(
        {
            "outage_id": oid,
            "transformer_area": area_ids,
            "start": pa.array(start),
            "end": pa.array(end),
            "planned": pa.array(o.planned),
        }
    )


def coerce_contract(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Give ``df`` the contract dtypes of table ``name`` (string, category, datetime, ...)."""
    spec = TABLES[name]
    out = {}
    for c in spec.columns:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        if c.kind in ("id", "text"):
            out[c.name] = s.astype("string")
        elif c.kind == "category":
            out[c.name] = pd.Categorical(
                s.astype("string").astype(object).where(s.notna(), None),
                categories=list(c.categories),
            )
        elif c.kind in ("date", "datetime"):
            out[c.name] = s.astype("datetime64[us]")
        elif c.kind == "float":
            out[c.name] = s.astype("float64")
        elif c.kind == "bool":
            out[c.name] = s.astype(bool)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def to_pandas(table: pa.Table, name: str) -> pd.DataFrame:
    """Convert an Arrow table of contract table ``name`` to pandas with contract dtypes."""
    return coerce_contract(table.to_pandas(), name)


__all__ += ["chunk_seed", "coerce_contract"]
