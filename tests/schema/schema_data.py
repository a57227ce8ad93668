"""Hand-built clean data for the schema tests (a unique module name, importable from tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
DATA_END = "2024-03-31"


def clean_frames() -> dict[str, pd.DataFrame]:
    """Four customers, all seven tables, every optional column present, no defect."""
    ids = ["C0000001", "C0000002", "C0000003", "C0000004"]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "customer_type": ["residential", "commercial", "large_industrial", "agricultural"],
            "region": ["杭州", "杭州", "宁波", "温州"],
            "grid_unit": ["G01", "G01", "G02", "G03"],
            "transformer_area": ["T001", "T001", "T002", "T003"],
            "tariff": [
                "residential_tiered",
                "general_commercial",
                "large_industrial_two_part",
                "agricultural",
            ],
            "tou_flag": [False, True, True, False],
            "supply_start": pd.to_datetime(
                ["2015-06-01", "2018-01-15", "2010-03-01", "2020-09-09"]
            ),
            "status": ["active", "active", "suspended", "closed"],
            "name": ["张三", "李四商店", "宁波钢厂", None],
            "phone": ["13812341234", None, "13900000000", "13700001111"],
            "address": ["西湖区1号", "上城区2号", "北仑区3号", "瑞安市4号"],
            "app_user": [True, False, False, True],
            "wechat_bound": [True, True, False, False],
            "sms_opt_out": [False, False, True, False],
        }
    )
    days = pd.date_range("2024-03-01", periods=10, freq="D")
    n = len(days)
    usage = pd.DataFrame(
        {
            "customer_id": np.repeat(ids, n),
            "date": np.tile(days.to_numpy(), len(ids)),
            "kwh": np.round(np.arange(len(ids) * n, dtype=float) * 1.5 + 2.0, 2),
            "peak_kwh": np.nan,
            "flat_kwh": np.nan,
            "valley_kwh": np.nan,
            "read_quality": ["actual"] * (len(ids) * n - 1) + ["estimated"],
            "recorded_at": np.repeat(days.to_numpy(), 1)[np.tile(np.arange(n), len(ids))]
            + np.timedelta64(1, "D"),
        }
    )
    usage.loc[usage["customer_id"] == "C0000002", ["peak_kwh", "flat_kwh", "valley_kwh"]] = [
        1.0,
        2.0,
        3.0,
    ]
    bills = pd.DataFrame(
        {
            "customer_id": ids,
            "bill_month": pd.to_datetime(["2024-02-01"] * 4),
            "issue_date": pd.to_datetime(["2024-03-05"] * 4),
            "due_date": pd.to_datetime(["2024-03-25"] * 4),
            "amount": [52.5, 310.0, 98000.0, 12.25],
            "kwh": [100.0, 520.0, 150000.0, 20.0],
            "recorded_at": pd.to_datetime(["2024-03-05 08:00:00"] * 4),
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3", "P4", "P5"],
            "customer_id": ["C0000001", "C0000002", "C0000003", "C0000004", "C0000001"],
            "date": pd.to_datetime(
                ["2024-03-10", "2024-03-12", "2024-03-20", "2024-03-21", "2024-03-22"]
            ),
            "amount": [52.5, 310.0, 98000.0, 12.25, 0.0],
            "channel": ["app", "wechat", "bank_withholding", "counter", "alipay"],
        }
    )
    interactions = pd.DataFrame(
        {
            "interaction_id": ["W1", "W2", "W3", "W4", "W5", "W6"],
            "customer_id": ["C0000001", "C0000001", "C0000002", "C0000003", "C0000004", "C0000004"],
            "timestamp": pd.to_datetime(
                [
                    "2024-03-02 09:15:00",
                    "2024-03-03 10:00:30",
                    "2024-03-04 11:11:11",
                    "2024-03-05 12:00:00",
                    "2024-03-06 13:30:00",
                    "2024-03-31 23:59:59",
                ]
            ),
            "channel": ["hotline_95598", "app", "wechat", "counter", "grid_manager", "app"],
            "type": [
                "outage_report",
                "complaint",
                "inquiry",
                "business_request",
                "praise",
                "opinion",
            ],
            "satisfaction": [3.0, 1.0, np.nan, 5.0, 4.0, np.nan],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C0000003", "C0000004"],
            "date": pd.to_datetime(["2024-03-15", "2024-03-30"]),
            "kind": ["suspension", "closure"],
        }
    )
    outages = pd.DataFrame(
        {
            "outage_id": ["O1", "O2"],
            "transformer_area": ["T001", "T002"],
            "start": pd.to_datetime(["2024-03-02 08:00:00", "2024-03-09 14:00:00"]),
            "end": pd.to_datetime(["2024-03-02 09:30:00", "2024-03-09 18:45:00"]),
            "planned": [False, True],
        }
    )
    return {
        "customers": customers,
        "outages": outages,
        "usage": usage,
        "bills": bills,
        "payments": payments,
        "interactions": interactions,
        "events": events,
    }
