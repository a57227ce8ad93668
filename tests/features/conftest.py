"""Tiny hand-built tables (with NaNs and odd dtypes) for the feature tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerprofile.schema import Tables

S = "string"


def _dt(values):
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def make_tables(usage=None, bills=None, payments=None, interactions=None, events=None, outages=None,
                customers=None) -> Tables:
    """Tables with contract dtypes; any table may be replaced."""
    if customers is None:
        customers = pd.DataFrame({
            "customer_id": pd.Series(["C1", "C2", "C3", "C4"], dtype=S),
            "customer_type": pd.Categorical(["residential", "commercial", "residential", "agricultural"],
                                            categories=["residential", "commercial", "large_industrial",
                                                        "agricultural"]),
            "region": pd.Series(["north", "north", "south", "south"], dtype=S),
            "grid_unit": pd.Series(["G1", "G1", "G1", "G2"], dtype=S),
            "transformer_area": pd.Series(["A1", "A1", "A1", "A2"], dtype=S),
            "tariff": pd.Categorical(["residential_tiered", "general_commercial", "residential_tiered",
                                      "agricultural"],
                                     categories=["residential_tiered", "general_commercial",
                                                 "large_industrial_two_part", "agricultural"]),
            "tou_flag": np.array([False, True, False, False]),
            "supply_start": _dt(["2020-01-01", "2024-12-01", "2021-05-05", "2019-03-01"]),
            "status": pd.Categorical(["active"] * 4, categories=["active", "suspended", "closed"]),
        })
    empty = {
        "usage": pd.DataFrame({"customer_id": pd.Series([], dtype=S), "date": _dt([]),
                               "kwh": pd.Series([], dtype="float64")}),
        "bills": pd.DataFrame({"customer_id": pd.Series([], dtype=S), "bill_month": _dt([]),
                               "issue_date": _dt([]), "due_date": _dt([]),
                               "amount": pd.Series([], dtype="float64"), "kwh": pd.Series([], dtype="float64")}),
        "payments": pd.DataFrame({"customer_id": pd.Series([], dtype=S), "date": _dt([]),
                                  "amount": pd.Series([], dtype="float64"),
                                  "channel": pd.Categorical([], categories=["app", "wechat", "alipay",
                                                                            "bank_withholding", "counter"])}),
        "interactions": pd.DataFrame({"customer_id": pd.Series([], dtype=S), "timestamp": _dt([]),
                                      "channel": pd.Categorical([], categories=["hotline_95598", "app", "wechat",
                                                                                "counter", "grid_manager"]),
                                      "type": pd.Categorical([], categories=["inquiry", "outage_report", "payment",
                                                                             "business_request", "complaint",
                                                                             "opinion", "praise"])}),
        "events": pd.DataFrame({"customer_id": pd.Series([], dtype=S), "date": _dt([]),
                                "kind": pd.Categorical([], categories=["closure", "supplier_switch", "suspension",
                                                                       "capacity_reduction"])}),
        "outages": pd.DataFrame({"outage_id": pd.Series([], dtype=S), "transformer_area": pd.Series([], dtype=S),
                                 "start": _dt([]), "end": _dt([]), "planned": np.array([], dtype=bool)}),
    }
    given = {"usage": usage, "bills": bills, "payments": payments, "interactions": interactions,
             "events": events, "outages": outages}
    frames = {k: (empty[k] if v is None else v) for k, v in given.items()}
    return Tables(customers=customers, data_end=pd.Timestamp("2025-12-31"), **frames)


def usage_frame(rows):
    """rows: list of (customer_id, date, kwh[, read_quality])."""
    df = pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype=S),
        "date": _dt([r[1] for r in rows]),
        "kwh": pd.Series([r[2] for r in rows], dtype="float64"),
    })
    if rows and len(rows[0]) > 3:
        df["read_quality"] = pd.Categorical([r[3] for r in rows], categories=["actual", "estimated"])
    return df


def interactions_frame(rows):
    """rows: list of (customer_id, timestamp, channel, type[, satisfaction])."""
    df = pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype=S),
        "timestamp": _dt([r[1] for r in rows]),
        "channel": pd.Categorical([r[2] for r in rows], categories=["hotline_95598", "app", "wechat", "counter",
                                                                    "grid_manager"]),
        "type": pd.Categorical([r[3] for r in rows], categories=["inquiry", "outage_report", "payment",
                                                                 "business_request", "complaint", "opinion",
                                                                 "praise"]),
    })
    df["satisfaction"] = pd.Series([r[4] if len(r) > 4 else np.nan for r in rows], dtype="float64")
    return df


def events_frame(rows):
    return pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype=S),
        "date": _dt([r[1] for r in rows]),
        "kind": pd.Categorical([r[2] for r in rows], categories=["closure", "supplier_switch", "suspension",
                                                                 "capacity_reduction"]),
    })


def daily_usage(customer, start, values, quality=None):
    days = pd.date_range(start, periods=len(values), freq="D")
    rows = []
    for i, (d, v) in enumerate(zip(days, values, strict=True)):
        if v is None:
            continue
        rows.append((customer, d, v) if quality is None else (customer, d, v, quality[i]))
    return rows


@pytest.fixture
def small_tables():
    """Four customers with a bit of everything, snapshot 2025-07-01."""
    rng = np.random.default_rng(0)
    rows = []
    rows += daily_usage("C1", "2024-01-01", list(rng.gamma(5, 2, 547)))
    rows += daily_usage("C2", "2025-04-01", [3.0] * 91)
    rows += daily_usage("C3", "2024-06-01", [float(v) for v in rng.integers(0, 3, 400)])
    usage = usage_frame(rows)
    inter = interactions_frame([
        ("C1", "2025-06-20 10:00", "app", "complaint", 2.0),
        ("C1", "2025-06-25 09:00", "hotline_95598", "inquiry"),
        ("C2", "2025-05-01 12:00", "wechat", "outage_report", 4.0),
        ("C3", "2025-06-30 23:00", "counter", "complaint"),
        ("C3", "2025-07-02 10:00", "counter", "complaint"),
        ("C4", "2025-01-10 08:00", "grid_manager", "praise", 5.0),
    ])
    return make_tables(usage=usage, interactions=inter)
