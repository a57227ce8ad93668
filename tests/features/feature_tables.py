"""Hand-built and random tables (with NaNs, gaps, versions and odd dtypes) for the feature tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerprofile.schema import Tables

S = "string"


def _dt(values):
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def make_tables(
    usage=None,
    bills=None,
    payments=None,
    interactions=None,
    events=None,
    outages=None,
    customers=None,
) -> Tables:
    """Tables with contract dtypes; any table may be replaced."""
    if customers is None:
        customers = pd.DataFrame(
            {
                "customer_id": pd.Series(["C1", "C2", "C3", "C4"], dtype=S),
                "customer_type": pd.Categorical(
                    ["residential", "commercial", "residential", "agricultural"],
                    categories=["residential", "commercial", "large_industrial", "agricultural"],
                ),
                "region": pd.Series(["north", "north", "south", "south"], dtype=S),
                "grid_unit": pd.Series(["G1", "G1", "G1", "G2"], dtype=S),
                "transformer_area": pd.Series(["A1", "A1", "A1", "A2"], dtype=S),
                "tariff": pd.Categorical(
                    [
                        "residential_tiered",
                        "general_commercial",
                        "residential_tiered",
                        "agricultural",
                    ],
                    categories=[
                        "residential_tiered",
                        "general_commercial",
                        "large_industrial_two_part",
                        "agricultural",
                    ],
                ),
                "tou_flag": np.array([False, True, False, False]),
                "supply_start": _dt(["2020-01-01", "2024-12-01", "2021-05-05", "2019-03-01"]),
                "status": pd.Categorical(
                    ["active"] * 4, categories=["active", "suspended", "closed"]
                ),
            }
        )
    empty = {
        "usage": pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=S),
                "date": _dt([]),
                "kwh": pd.Series([], dtype="float64"),
            }
        ),
        "bills": pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=S),
                "bill_month": _dt([]),
                "issue_date": _dt([]),
                "due_date": _dt([]),
                "amount": pd.Series([], dtype="float64"),
                "kwh": pd.Series([], dtype="float64"),
            }
        ),
        "payments": pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=S),
                "date": _dt([]),
                "amount": pd.Series([], dtype="float64"),
                "channel": pd.Categorical(
                    [], categories=["app", "wechat", "alipay", "bank_withholding", "counter"]
                ),
            }
        ),
        "interactions": pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=S),
                "timestamp": _dt([]),
                "channel": pd.Categorical(
                    [], categories=["hotline_95598", "app", "wechat", "counter", "grid_manager"]
                ),
                "type": pd.Categorical(
                    [],
                    categories=[
                        "inquiry",
                        "outage_report",
                        "payment",
                        "business_request",
                        "complaint",
                        "opinion",
                        "praise",
                    ],
                ),
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=S),
                "date": _dt([]),
                "kind": pd.Categorical(
                    [],
                    categories=["closure", "supplier_switch", "suspension", "capacity_reduction"],
                ),
            }
        ),
        "outages": pd.DataFrame(
            {
                "outage_id": pd.Series([], dtype=S),
                "transformer_area": pd.Series([], dtype=S),
                "start": _dt([]),
                "end": _dt([]),
                "planned": np.array([], dtype=bool),
            }
        ),
    }
    given = {
        "usage": usage,
        "bills": bills,
        "payments": payments,
        "interactions": interactions,
        "events": events,
        "outages": outages,
    }
    frames = {k: (empty[k] if v is None else v) for k, v in given.items()}
    return Tables(customers=customers, data_end=pd.Timestamp("2025-12-31"), **frames)


def usage_frame(rows):
    """rows: list of (customer_id, date, kwh[, read_quality])."""
    df = pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype=S),
            "date": _dt([r[1] for r in rows]),
            "kwh": pd.Series([r[2] for r in rows], dtype="float64"),
        }
    )
    if rows and len(rows[0]) > 3:
        df["read_quality"] = pd.Categorical(
            [r[3] for r in rows], categories=["actual", "estimated"]
        )
    return df


def interactions_frame(rows):
    """rows: list of (customer_id, timestamp, channel, type[, satisfaction])."""
    df = pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype=S),
            "timestamp": _dt([r[1] for r in rows]),
            "channel": pd.Categorical(
                [r[2] for r in rows],
                categories=["hotline_95598", "app", "wechat", "counter", "grid_manager"],
            ),
            "type": pd.Categorical(
                [r[3] for r in rows],
                categories=[
                    "inquiry",
                    "outage_report",
                    "payment",
                    "business_request",
                    "complaint",
                    "opinion",
                    "praise",
                ],
            ),
        }
    )
    df["satisfaction"] = pd.Series([r[4] if len(r) > 4 else np.nan for r in rows], dtype="float64")
    return df


def events_frame(rows):
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype=S),
            "date": _dt([r[1] for r in rows]),
            "kind": pd.Categorical(
                [r[2] for r in rows],
                categories=["closure", "supplier_switch", "suspension", "capacity_reduction"],
            ),
        }
    )


def daily_usage(customer, start, values, quality=None):
    days = pd.date_range(start, periods=len(values), freq="D")
    rows = []
    for i, (d, v) in enumerate(zip(days, values, strict=True)):
        if v is None:
            continue
        rows.append((customer, d, v) if quality is None else (customer, d, v, quality[i]))
    return rows


CUSTOMER_TYPES = ["residential", "commercial", "large_industrial", "agricultural"]
TARIFFS = ["residential_tiered", "general_commercial", "large_industrial_two_part", "agricultural"]
CHANNELS = ["hotline_95598", "app", "wechat", "counter", "grid_manager"]
TYPES = [
    "inquiry",
    "outage_report",
    "payment",
    "business_request",
    "complaint",
    "opinion",
    "praise",
]
PAY = ["app", "wechat", "alipay", "bank_withholding", "counter"]
KINDS = ["closure", "supplier_switch", "suspension", "capacity_reduction"]


def random_tables(
    seed: int, n_customers: int = 8, start="2024-06-01", end="2025-09-30", versions=True
) -> Tables:
    """A small random population with gaps, zeros, NaN TOU parts, re-reads and re-bills."""
    rng = np.random.default_rng(seed)
    ids = [f"K{i:03d}" for i in range(n_customers)]
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    span = (t1 - t0).days + 1
    customers = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype=S),
            "customer_type": pd.Categorical(
                rng.choice(CUSTOMER_TYPES, n_customers), categories=CUSTOMER_TYPES
            ),
            "region": pd.Series(rng.choice(["r1", "r2"], n_customers), dtype=S),
            "grid_unit": pd.Series(rng.choice(["g1", "g2"], n_customers), dtype=S),
            "transformer_area": pd.Series(rng.choice(["a1", "a2", "a3"], n_customers), dtype=S),
            "tariff": pd.Categorical(rng.choice(TARIFFS, n_customers), categories=TARIFFS),
            "tou_flag": rng.random(n_customers) < 0.5,
            "supply_start": (
                t0 + pd.to_timedelta(rng.integers(-400, 300, n_customers), unit="D")
            ).astype("datetime64[us]"),
            "status": pd.Categorical(
                ["active"] * n_customers, categories=["active", "suspended", "closed"]
            ),
        }
    )
    # usage: each customer a random contiguous stretch with gaps
    u_id, u_day, u_kwh = [], [], []
    for cid in ids:
        a = int(rng.integers(0, span // 2))
        b = int(rng.integers(a + 1, span + 1))
        days = np.arange(a, b)
        days = days[rng.random(len(days)) > 0.1]
        kwh = rng.gamma(2.0, 3.0, len(days)) * (rng.random(len(days)) > 0.15)
        u_id += [cid] * len(days)
        u_day += list(days)
        u_kwh += list(np.round(kwh, 3))
    usage = pd.DataFrame(
        {
            "customer_id": pd.Series(u_id, dtype=S),
            "date": (t0 + pd.to_timedelta(np.array(u_day, dtype=np.int64), unit="D")).astype(
                "datetime64[us]"
            ),
            "kwh": np.array(u_kwh, dtype=np.float64),
        }
    )
    n = len(usage)
    tou = rng.random(n) < 0.6
    usage["peak_kwh"] = np.where(tou, usage["kwh"] * 0.4, np.nan)
    usage["flat_kwh"] = np.where(tou, usage["kwh"] * 0.35, np.nan)
    usage["valley_kwh"] = np.where(tou, usage["kwh"] * 0.25, np.nan)
    usage["read_quality"] = pd.Categorical(
        np.where(rng.random(n) < 0.1, "estimated", "actual"), categories=["actual", "estimated"]
    )
    usage["recorded_at"] = (usage["date"] + pd.Timedelta(days=1)).astype("datetime64[us]")
    if versions and n:
        # corrections of some estimated reads, recorded 3-40 days later
        fix = usage[usage["read_quality"] == "estimated"].copy()
        fix["kwh"] = np.round(fix["kwh"] * 1.3 + 1.0, 3)
        fix["read_quality"] = pd.Categorical(
            ["actual"] * len(fix), categories=["actual", "estimated"]
        )
        fix["recorded_at"] = (
            fix["date"] + pd.to_timedelta(rng.integers(3, 40, len(fix)), unit="D")
        ).astype("datetime64[us]")
        usage = pd.concat([usage, fix], ignore_index=True)
    # bills: monthly from each customer's first usage month
    months = pd.date_range(t0, t1, freq="MS")
    b_rows = []
    for cid in ids:
        k0 = int(rng.integers(0, len(months)))
        for m in months[k0:]:
            amt = float(np.round(rng.gamma(3, 40), 2))
            issue = m + pd.DateOffset(months=1) + pd.Timedelta(days=2)
            b_rows.append((cid, m, issue, issue + pd.Timedelta(days=15), amt, issue))
            if versions and rng.random() < 0.15:  # a re-bill recorded later
                b_rows.append(
                    (
                        cid,
                        m,
                        issue,
                        issue + pd.Timedelta(days=15),
                        round(amt * 0.8, 2),
                        issue + pd.Timedelta(days=int(rng.integers(1, 30))),
                    )
                )
    bills = pd.DataFrame(
        b_rows,
        columns=["customer_id", "bill_month", "issue_date", "due_date", "amount", "recorded_at"],
    )
    bills["customer_id"] = bills["customer_id"].astype(S)
    for c in ("bill_month", "issue_date", "due_date", "recorded_at"):
        bills[c] = bills[c].astype("datetime64[us]")
    bills["kwh"] = bills["amount"] * 1.7
    bills = bills[bills["issue_date"] <= t1].reset_index(drop=True)
    # payments, interactions, events, outages
    k = 12 * n_customers
    payments = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.choice(ids, k), dtype=S),
            "date": (t0 + pd.to_timedelta(rng.integers(0, span, k), unit="D")).astype(
                "datetime64[us]"
            ),
            "amount": np.round(rng.gamma(3, 40, k), 2),
            "channel": pd.Categorical(rng.choice(PAY, k), categories=PAY),
        }
    )
    k = 10 * n_customers
    interactions = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.choice(ids, k), dtype=S),
            "timestamp": (
                t0 + pd.to_timedelta(rng.integers(0, span * 24 * 60, k), unit="min")
            ).astype("datetime64[us]"),
            "channel": pd.Categorical(rng.choice(CHANNELS, k), categories=CHANNELS),
            "type": pd.Categorical(rng.choice(TYPES, k), categories=TYPES),
            "satisfaction": np.where(
                rng.random(k) < 0.5, rng.integers(1, 6, k).astype(float), np.nan
            ),
        }
    )
    k = max(1, n_customers // 3)
    events = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.choice(ids, k, replace=False), dtype=S),
            "date": (t0 + pd.to_timedelta(rng.integers(0, span, k), unit="D")).astype(
                "datetime64[us]"
            ),
            "kind": pd.Categorical(rng.choice(KINDS, k), categories=KINDS),
        }
    )
    k = 15
    start_o = t0 + pd.to_timedelta(rng.integers(0, span * 24 * 60, k), unit="min")
    outages = pd.DataFrame(
        {
            "outage_id": pd.Series([f"O{i}" for i in range(k)], dtype=S),
            "transformer_area": pd.Series(rng.choice(["a1", "a2", "a3"], k), dtype=S),
            "start": start_o.astype("datetime64[us]"),
            "end": (start_o + pd.to_timedelta(rng.integers(10, 3000, k), unit="min")).astype(
                "datetime64[us]"
            ),
            "planned": rng.random(k) < 0.4,
        }
    )
    return Tables(
        customers=customers,
        outages=outages,
        usage=usage,
        bills=bills,
        payments=payments,
        interactions=interactions,
        events=events,
        data_end=t1,
    )
