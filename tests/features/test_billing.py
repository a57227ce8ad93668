"""Billing and payment features against hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import _dt, make_tables

from powerprofile.features import build_features

T = pd.Timestamp("2025-07-01")
PAY_CATS = ["app", "wechat", "alipay", "bank_withholding", "counter"]


def bills_frame(rows, recorded=None):
    """rows: (customer, bill_month, issue_date, due_date, amount)."""
    df = pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "bill_month": _dt([r[1] for r in rows]),
            "issue_date": _dt([r[2] for r in rows]),
            "due_date": _dt([r[3] for r in rows]),
            "amount": pd.Series([float(r[4]) for r in rows]),
            "kwh": pd.Series([float(r[4]) * 2 for r in rows]),
        }
    )
    if recorded is not None:
        df["recorded_at"] = _dt(recorded)
    return df


def payments_frame(rows):
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "date": _dt([r[1] for r in rows]),
            "amount": pd.Series([float(r[2]) for r in rows]),
            "channel": pd.Categorical([r[3] for r in rows], categories=PAY_CATS),
        }
    )


@pytest.fixture(scope="module")
def feats():
    b = [
        ("C1", "2025-01-01", "2025-02-03", "2025-02-20", 100),
        ("C1", "2025-02-01", "2025-03-03", "2025-03-20", 100),
        ("C1", "2025-03-01", "2025-04-03", "2025-04-20", 120),
        ("C1", "2025-04-01", "2025-05-03", "2025-05-20", 80),
        ("C1", "2025-05-01", "2025-06-03", "2025-06-20", 300),
        ("C1", "2025-06-01", "2025-07-03", "2025-07-20", 50),  # issued after T
        ("C2", "2025-04-01", "2025-05-03", "2025-05-20", 100),
        ("C2", "2025-05-01", "2025-06-03", "2025-06-20", 200),  # first version
        ("C2", "2025-05-01", "2025-06-03", "2025-06-20", 150),  # re-bill recorded 06-15
        ("C2", "2025-05-01", "2025-06-03", "2025-06-20", 999),  # re-bill recorded after T
    ]
    rec = [
        "2025-02-03",
        "2025-03-03",
        "2025-04-03",
        "2025-05-03",
        "2025-06-03",
        "2025-07-03",
        "2025-05-03",
        "2025-06-03",
        "2025-06-15",
        "2025-07-02",
    ]
    p = [
        ("C1", "2025-02-15", 100, "app"),
        ("C1", "2025-03-25", 100, "counter"),
        ("C1", "2025-04-20", 120, "bank_withholding"),
        ("C1", "2025-05-10", 30, "wechat"),
        ("C1", "2025-07-05", 1000, "counter"),  # after T
        ("C2", "2025-05-15", 100, "alipay"),
        ("C2", "2025-06-10", 150, "alipay"),
    ]
    return build_features(make_tables(bills=bills_frame(b, rec), payments=payments_frame(p)), T)


def at(f, cid, col):
    return float(f.loc[(cid, T), col])


def test_bill_shock(feats):
    assert at(feats, "C1", "bill_amount_latest") == 300
    assert at(feats, "C1", "bill_amount_median") == 100  # median(100, 100, 120, 80)
    assert at(feats, "C1", "bill_shock_ratio") == pytest.approx(3.0)


def test_arrears_fifo(feats):
    # due before T: 100 + 100 + 120 + 80 + 300 = 700; paid before T: 350
    assert at(feats, "C1", "arrears_amount") == pytest.approx(350)
    # cumulative 400 (the April bill, due May 20) is the oldest not covered by 350
    assert at(feats, "C1", "arrears_age_days") == (T - pd.Timestamp("2025-05-20")).days


def test_late_payments(feats):
    # March bill covered on 03-25 (> due 03-20): late; April bill covered on its due day: on time;
    # May and June bills unpaid once due: late
    assert at(feats, "C1", "late_payments_30d") == 1
    assert at(feats, "C1", "late_payment_rate_30d") == pytest.approx(1.0)
    assert at(feats, "C1", "late_payments_90d") == 2
    assert at(feats, "C1", "late_payment_rate_90d") == pytest.approx(2 / 3)
    assert at(feats, "C1", "late_payments_365d") == 3
    assert at(feats, "C1", "late_payment_rate_365d") == pytest.approx(3 / 5)


def test_rebill_uses_latest_version_recorded_before_t(feats):
    assert at(feats, "C2", "bill_amount_latest") == 150
    assert at(feats, "C2", "arrears_amount") == 0
    assert at(feats, "C2", "arrears_age_days") == 0
    assert at(feats, "C2", "late_payments_365d") == 0


def test_payments(feats):
    assert at(feats, "C1", "payments_365d") == 4
    assert at(feats, "C1", "online_payment_share_365d") == pytest.approx(3 / 4)
    assert at(feats, "C1", "payment_share_counter_365d") == pytest.approx(1 / 4)
    assert at(feats, "C1", "payment_amount_90d") == pytest.approx(150)
    assert at(feats, "C1", "payments_30d") == 0
    assert np.isnan(at(feats, "C1", "online_payment_share_30d"))
    assert bool(feats.loc[("C1", T), "bank_withholding"])
    assert not bool(feats.loc[("C2", T), "bank_withholding"])
    assert at(feats, "C1", "days_since_last_payment") == (T - pd.Timestamp("2025-05-10")).days
    assert at(feats, "C2", "payment_share_alipay_365d") == 1


def test_no_bills_gives_nan(feats):
    assert np.isnan(at(feats, "C3", "arrears_amount"))
    assert np.isnan(at(feats, "C3", "bill_shock_ratio"))
    assert at(feats, "C3", "payments_365d") == 0
