"""Hand-built portraits and customers for the export tests."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.privacy import pseudonymise

KEY = "119dbc6c19bbc53c828575c8fdacd94bcec4c037826fff176580fe773e4ca2a0"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)


def make_data(n=60, seed=0):
    """Customers (with PII) and matching portraits (pseudonymised)."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:05d}" for i in range(n)]
    phones = [f"139{i:08d}" if i % 4 else None for i in range(n)]
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "name": pd.array([f"张{i}号" for i in range(n)], dtype="string"),
            "phone": pd.array(phones, dtype="string"),
            "app_user": (np.arange(n) % 3 == 0),
            "wechat_bound": (np.arange(n) % 2 == 0),
            "sms_opt_out": (np.arange(n) % 10 == 1),
        }
    )
    churn = np.round(rng.random(n), 2)  # two decimals: ties happen
    portraits = pd.DataFrame(
        {
            "customer_key": pseudonymise(ids, KEY).to_numpy(),
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "customer_type": pd.Categorical(
                np.where(np.arange(n) % 5 == 0, "commercial", "residential")
            ),
            "region": "城东",
            "segment_id": (np.arange(n) % 3).astype(np.int64),
            "segment_name_zh": np.array(["线上偏好", "高用电", "老年柜台"])[np.arange(n) % 3],
            "churn_score": churn,
            "churn_band": pd.Categorical(
                np.where(churn >= 0.7, "high", np.where(churn >= 0.4, "medium", "low"))
            ),
            "complaint_score": np.round(rng.random(n), 3),
            "tags": np.where(np.arange(n) % 2 == 0, "digital_first;heating_heavy", "elderly"),
        }
    )
    return customers, portraits


@pytest.fixture
def data():
    return make_data()


# these campaigns test the selection: no control group held out (tests/export/test_control.py)
CAMPAIGNS = """
schema_version: "1.0"
frequency_cap: 1
campaigns:
  - name: retention
    title_zh: 流失挽留
    select: "churn_band in ['high', 'medium']"
    channels: [sms, wechat]
    score: churn_score
    capacity: 8
    priority: 1
    control_share: 0
  - name: digital
    select: "has(tags, 'digital_first')"
    channels: [app_push]
    score: churn_score
    capacity: 100
    priority: 2
    format: jsonl
    control_share: 0
"""


@pytest.fixture
def campaigns_file(tmp_path):
    p = tmp_path / "campaigns.yaml"
    p.write_text(CAMPAIGNS, encoding="utf-8")
    return p
