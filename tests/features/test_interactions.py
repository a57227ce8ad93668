"""Contact features against hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import interactions_frame, make_tables

from powerprofile.features import build_features

T = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def feats():
    inter = interactions_frame(
        [
            ("C1", "2025-06-20 10:00", "app", "complaint", 2.0),
            (
                "C1",
                "2025-06-25 09:00",
                "hotline_95598",
                "inquiry",
            ),  # within 7 days: a repeat contact
            ("C1", "2025-03-01 12:00", "wechat", "opinion", 4.0),
            ("C1", "2025-07-01 00:00", "app", "complaint", 1.0),  # at T: not a feature input
            ("C1", "2024-06-30 10:00", "hotline_95598", "inquiry"),  # outside 365 days
            ("C3", "2025-06-30 23:00", "counter", "complaint"),
        ]
    )
    return build_features(make_tables(interactions=inter), T)


def at(f, cid, col):
    return float(f.loc[(cid, T), col])


def test_counts_shares_and_types(feats):
    assert at(feats, "C1", "contacts_30d") == 2
    assert at(feats, "C1", "contacts_365d") == 3
    assert at(feats, "C1", "online_contact_share_30d") == pytest.approx(1 / 2)
    assert at(feats, "C1", "online_contact_share_365d") == pytest.approx(2 / 3)
    assert at(feats, "C1", "contacts_hotline_95598_30d") == 1
    assert at(feats, "C1", "contact_share_wechat_365d") == pytest.approx(1 / 3)
    assert at(feats, "C1", "complaints_30d") == 1
    assert at(feats, "C1", "opinions_365d") == 1 and at(feats, "C1", "opinions_90d") == 0
    assert at(feats, "C1", "inquiries_365d") == 1
    assert at(feats, "C1", "repeat_contacts_30d") == 1


def test_satisfaction_and_recency(feats):
    assert at(feats, "C1", "satisfaction_mean_30d") == pytest.approx(2.0)
    assert at(feats, "C1", "satisfaction_mean_365d") == pytest.approx(3.0)
    since = (T - pd.Timestamp("2025-06-20 10:00")) / pd.Timedelta(days=1)
    assert at(feats, "C1", "days_since_last_complaint") == pytest.approx(since)
    assert at(feats, "C1", "days_since_last_contact") == pytest.approx(
        (T - pd.Timestamp("2025-06-25 09:00")) / pd.Timedelta(days=1)
    )
    assert at(feats, "C1", "days_since_last_wechat_contact") == pytest.approx(
        (T - pd.Timestamp("2025-03-01 12:00")) / pd.Timedelta(days=1), rel=1e-6
    )
    assert at(feats, "C3", "days_since_last_complaint") == pytest.approx(1 / 24, rel=1e-5)


def test_no_contacts_gives_zero_counts_and_nan_rates(feats):
    assert at(feats, "C2", "contacts_365d") == 0
    assert np.isnan(at(feats, "C2", "online_contact_share_365d"))
    assert np.isnan(at(feats, "C2", "days_since_last_complaint"))
    assert np.isnan(at(feats, "C2", "satisfaction_mean_90d"))
