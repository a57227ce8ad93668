"""Tiny hand-built tables for the channel KPI and report tests.

Four customers over January and February 2024 (every expected KPI in
``test_kpis.py`` is worked out by hand from these rows):

- C1 residential, region R1, grid G1, in service all along;
- C2 residential, R1, G1, supply starts 2024-02-10 (in service from February);
- C3 commercial, R2, G2, closure on 2024-01-20 (in service in January only);
- C4 residential, R2, G2, in service all along.
"""

import numpy as np
import pandas as pd
import pytest

from powerprofile.schema import Tables
from powerprofile.schema._contract import (
    CHANNELS,
    CONTACT_TYPES,
    CUSTOMER_TYPES,
    EVENT_KINDS,
    PAYMENT_CHANNELS,
)


def _s(values):
    return pd.array(values, dtype="string")


@pytest.fixture
def tiny_tables():
    customers = pd.DataFrame(
        {
            "customer_id": _s(["C1", "C2", "C3", "C4"]),
            "customer_type": pd.Categorical(
                ["residential", "residential", "commercial", "residential"],
                categories=CUSTOMER_TYPES,
            ),
            "region": _s(["R1", "R1", "R2", "R2"]),
            "grid_unit": _s(["G1", "G1", "G2", "G2"]),
            "transformer_area": _s(["T1", "T1", "T2", "T2"]),
            "supply_start": pd.to_datetime(
                ["2020-01-01", "2024-02-10", "2019-05-01", "2021-03-01"]
            ),
        }
    )
    rows = [
        # customer, timestamp, channel, type, satisfaction
        ("C1", "2024-01-03 10:00", "app", "inquiry", 4.0),
        ("C1", "2024-01-05 09:00", "hotline_95598", "complaint", 2.0),  # repeat (2 d)
        ("C1", "2024-01-20 08:00", "app", "inquiry", np.nan),  # 15 d: not repeat
        ("C3", "2024-01-10 10:00", "counter", "business_request", 5.0),
        ("C3", "2024-01-17 10:00", "counter", "complaint", np.nan),  # exactly 7 d: repeat
        ("C1", "2024-01-29 12:00", "wechat", "inquiry", np.nan),  # 9 d: not repeat
        ("C1", "2024-02-02 12:00", "wechat", "opinion", np.nan),  # 4 d: repeat across months
        ("C2", "2024-02-15 09:00", "hotline_95598", "outage_report", 3.0),
        ("C2", "2024-02-20 09:00", "app", "inquiry", 5.0),  # 5 d: repeat
        ("C4", "2024-02-25 18:00", "app", "praise", 5.0),
    ]
    inter = pd.DataFrame(
        rows, columns=["customer_id", "timestamp", "channel", "type", "satisfaction"]
    )
    inter = inter.sample(frac=1.0, random_state=3).reset_index(drop=True)  # order must not matter
    inter = inter.assign(
        interaction_id=_s([f"I{i}" for i in range(len(inter))]),
        customer_id=_s(inter["customer_id"]),
        timestamp=pd.to_datetime(inter["timestamp"]),
        channel=pd.Categorical(inter["channel"], categories=CHANNELS),
        type=pd.Categorical(inter["type"], categories=CONTACT_TYPES),
    )
    pays = pd.DataFrame(
        [
            ("C1", "2024-01-15", 100.0, "app"),
            ("C3", "2024-01-12", 200.0, "counter"),
            ("C4", "2024-01-25", 50.0, "bank_withholding"),
            ("C1", "2024-02-14", 100.0, "alipay"),
            ("C4", "2024-02-25", 50.0, "counter"),
            ("C2", "2024-02-28", 30.0, "counter"),
        ],
        columns=["customer_id", "date", "amount", "channel"],
    )
    pays = pays.assign(
        payment_id=_s([f"P{i}" for i in range(len(pays))]),
        customer_id=_s(pays["customer_id"]),
        date=pd.to_datetime(pays["date"]),
        channel=pd.Categorical(pays["channel"], categories=PAYMENT_CHANNELS),
    )
    events = pd.DataFrame(
        {
            "customer_id": _s(["C3"]),
            "date": pd.to_datetime(["2024-01-20"]),
            "kind": pd.Categorical(["closure"], categories=EVENT_KINDS),
        }
    )
    empty = pd.DataFrame()
    return Tables(
        customers=customers,
        outages=empty,
        usage=empty,
        bills=empty,
        payments=pays,
        interactions=inter,
        events=events,
        data_end=pd.Timestamp("2024-02-29"),
    )


@pytest.fixture
def manifest():
    """An export manifest as ``powerprofile.export`` writes it, plus a field it may grow."""
    return {
        "campaigns": [
            {
                "campaign": "churn_retention",
                "selected": 9,
                "not_eligible": 2,
                "sms": 4,
                "wechat": 3,
                "title_en": "Retention offer",
                "title_zh": "流失预警挽留",
                "a_field_added_later": {"anything": [1, 2]},
            },
            {"campaign": "digital_adoption", "selected": 5, "not_eligible": 0, "sms": 5},
        ],
        "files": [
            {
                "campaign": "churn_retention",
                "channel": "sms",
                "file": "churn_retention__sms.csv",
                "format": "csv",
                "rows": 4,
            },
            {
                "campaign": "churn_retention",
                "channel": "wechat",
                "file": "churn_retention__wechat.csv",
                "format": "csv",
                "rows": 3,
            },
            {
                "campaign": "digital_adoption",
                "channel": "sms",
                "file": "digital_adoption__sms.csv",
                "format": "csv",
                "rows": 5,
            },
            {
                "campaign": None,
                "channel": None,
                "file": "segment_membership.parquet",
                "format": "parquet",
                "rows": 4,
            },
        ],
        "frequency_cap": 1,
        "n_customers": 4,
        "pii_policy": {"keys": "HMAC-SHA256 pseudonym (customer_key)"},
        "snapshot_date": "2024-03-01",
        "model_versions": {"churn": "pm-0123"},
    }


@pytest.fixture
def full_inputs(tiny_tables, manifest):
    """Every input of ``write_report``, small."""
    import powerprofile
    from powerprofile.operations import build_scorecards

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.clip(0.3 * y + 0.6 * rng.random(400), 0, 1)
    report = pd.DataFrame(
        {
            "table": ["usage"],
            "column": ["kwh"],
            "check": ["negative"],
            "n_rows": [3],
            "examples": ["C1 2024-01-01"],
            "action": ["quarantined"],
        }
    )
    return dict(
        tables=tiny_tables,
        validation_report=report,
        segment_profile=pd.DataFrame(
            {
                "segment": [0, 1],
                "size": [60, 40],
                "share": [0.6, 0.4],
                "kwh_mean_90d": [5.0, 20.0],
                "churn_rate": [0.02, 0.05],
            }
        ),
        segment_names={0: ("digital-first", "线上偏好"), 1: ("high-usage", "高用电")},
        evaluations={
            "churn": {"y_true": y, "y_score": score, "y_baseline": rng.random(400), "brier": 0.2},
            # what powerprofile.evaluate returns (metrics indexed by scorer, figures)
            "complaint": powerprofile.evaluate(y, score, baseline_score=rng.random(400)),
        },
        shap_importance={
            "churn": pd.Series({"complaints_90d": 0.5, "kwh_mean_90d": -0.2, "tenure_days": 0.1}),
            # the shape of powerprofile.explain.global_importance
            "complaint": pd.DataFrame(
                {
                    "feature": ["complaints_90d", "outage_count_90d"],
                    "mean_abs_contribution": [0.3, 0.1],
                    "mean_contribution": [0.1, -0.05],
                    "share": [0.75, 0.25],
                }
            ),
        },
        scores=pd.DataFrame(
            {
                "region": ["杭州", "R2", "宁波"] * 30,
                "churn_score": rng.random(90),
                "complaint_score": rng.random(90),
                "churn_band": ["low", "high", "medium"] * 30,
                "churn_reason_1_feature": ["complaints_90d", "tenure_days", "complaints_90d"] * 30,
            }
        ),
        # what powerprofile.uplift.run_uplift_stage returns
        uplift={
            "effects": None,
            "nbc": {
                "contacts": 2,
                "by_channel": {"sms": 1, "grid_manager": 1},
                "expected_saved_per_1000": 80.0,
                "score_expected_saved_per_1000": 15.0,
                "pilot_rows": 400,
                "examples": pd.DataFrame(),
            },
            "notes": [],
        },
        risk_hits=pd.DataFrame(
            {
                "rule": ["public_opinion", "payment_arrears"],
                "label_en": ["Public-opinion risk", "Payment arrears"],
                "label_zh": ["舆情风险", "欠费风险"],
                "count": [3, 5],
                "share": [0.01, 0.02],
            }
        ),
        export_manifest=manifest,
        scorecards=build_scorecards(tiny_tables),
    )
