"""Contact features against hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import interactions_frame, make_tables

from powerprofile.features import build_features, repeat_contact_flags

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


# ------------------------------------------------------------------ repeat contacts
# customer, timestamp, channel, type; expected repeat flag worked out by hand
TIES = [
    ("C1", "2024-01-10 10:00", "app", "inquiry", True),  # after the hotline call (tie)
    ("C1", "2024-01-10 10:00", "hotline_95598", "complaint", False),  # hotline sorts first
    ("C1", "2024-01-10 10:00", "app", "complaint", True),  # app: inquiry before complaint
    ("C1", "2024-01-17 10:00", "wechat", "inquiry", True),  # exactly 7 days later
    ("C1", "2024-01-25 10:00", "counter", "inquiry", False),  # 8 days later
    ("C4", "2024-01-10 10:00", "app", "inquiry", False),  # another customer, same time
    ("C4", "2024-01-16 10:00", "counter", "complaint", True),  # 6 days later
]


def test_repeat_contact_flags_with_ties_by_hand():
    rows = [*TIES, ("C4", None, "app", "inquiry", False)]  # no timestamp: never a repeat
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "type", "want"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    for seed in range(5):  # any row order gives the same flag per contact
        d = df.sample(frac=1.0, random_state=seed)
        got = repeat_contact_flags(d["customer_id"], d["timestamp"], d["channel"], d["type"])
        assert got.tolist() == d["want"].tolist(), seed


def test_repeat_contact_flags_missing_time_is_no_previous_contact():
    got = repeat_contact_flags(
        ["C1", "C1"], pd.to_datetime([None, "2024-01-10"]), ["app", "app"], ["inquiry"] * 2
    )
    assert got.tolist() == [False, False]


def test_identical_contacts_one_is_the_repeat():
    rows = [("C3", "2024-01-02 08:00", "grid_manager", "praise")] * 2
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "type"])
    got = repeat_contact_flags(
        df["customer_id"], pd.to_datetime(df["timestamp"]), df["channel"], df["type"]
    )
    assert sorted(got.tolist()) == [False, True]


def test_repeat_contact_features_use_the_rule():
    inter = interactions_frame([r[:4] for r in TIES])
    f = build_features(make_tables(interactions=inter), pd.Timestamp("2024-02-01"))
    # by hand from TIES: C1 has 3 repeats, C4 one; both within 30 days of 2024-02-01
    assert float(f.loc[("C1", pd.Timestamp("2024-02-01")), "repeat_contacts_30d"]) == 3
    assert float(f.loc[("C4", pd.Timestamp("2024-02-01")), "repeat_contacts_30d"]) == 1
