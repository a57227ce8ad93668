"""Contactability: one phone rule, one set of channel rules, written by the portrait."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.portraits import CONTACT_COLUMNS, build_portraits, contactability, phone_kind


@pytest.mark.parametrize(
    ("phone", "kind"),
    [
        ("13912345678", "mobile"),
        ("139 1234 5678", "mobile"),
        ("139-1234-5678", "mobile"),
        ("+86 139 1234 5678", "mobile"),
        ("008613912345678", "mobile"),
        ("010-12345678", "fixed"),
        ("(0571) 8765 4321", "fixed"),
        ("0755-1234567", "fixed"),
        ("123", None),
        ("1234567", None),  # a local number without its area code
        ("12912345678", None),  # mobile numbers start 13-19
        ("139123456789", None),  # 12 digits
        ("1391234567x", None),
        ("139.1234.5678 ext 2", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_kind(phone, kind):
    got = phone_kind(pd.array([phone], dtype="string")).iloc[0]
    assert (got is pd.NA and kind is None) or got == kind


def test_contactability_by_hand():
    customers = pd.DataFrame(
        {
            "phone": pd.array(
                ["13912345678", "123", "010-12345678", None, "13912345678", None],
                dtype="string",
            ),
            "sms_opt_out": pd.array([False, False, False, False, True, None], dtype="boolean"),
            "app_user": [True, False, False, True, False, False],
            "wechat_bound": pd.array([False, True, False, None, False, False], dtype="boolean"),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    got = contactability(customers)
    assert list(got.columns) == list(CONTACT_COLUMNS)
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert got["has_phone"].tolist() == [True, False, True, False, True, False]
    # SMS needs a mobile and no SMS opt-out; a fixed line is called back, not texted
    assert got["contactable_sms"].tolist() == [True, False, False, False, False, False]
    assert got["contactable_hotline_callback"].tolist() == [True, False, True, False, True, False]
    assert got["contactable_app_push"].tolist() == [True, False, False, True, False, False]
    assert got["contactable_wechat"].tolist() == [False, True, False, False, False, False]
    assert got["contactable_grid_manager"].all()
    assert got["contactable_channels"].tolist() == [
        "sms;app_push;hotline_callback;grid_manager",
        "wechat;grid_manager",
        "hotline_callback;grid_manager",
        "app_push;grid_manager",
        "hotline_callback;grid_manager",
        "grid_manager",
    ]


def test_portrait_writes_the_rule_phone_123_is_no_phone():
    features = pd.DataFrame(
        {"kwh_mean_365d": [1.0, 2.0, 3.0]},
        index=pd.MultiIndex.from_tuples(
            [(c, pd.Timestamp("2025-10-01")) for c in ("C1", "C2", "C3")],
            names=["customer_id", "snapshot_date"],
        ),
    )
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(["C1", "C2", "C3"], dtype="string"),
            "phone": pd.array(["123", "13912345678", "0571-87654321"], dtype="string"),
        }
    )
    p = build_portraits(features, customers=customers, key="k" * 32)
    assert p["has_phone"].tolist() == [False, True, True]
    assert p["contactable_sms"].tolist() == [False, True, False]
    assert p["contactable_hotline_callback"].tolist() == [False, True, True]
    assert "phone" not in p.columns
    expected = contactability(customers)
    for c in CONTACT_COLUMNS:
        assert p[c].tolist() == expected[c].tolist(), c
    assert np.asarray(p["contactable_channels"])[0] == "grid_manager"
