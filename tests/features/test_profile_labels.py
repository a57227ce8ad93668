"""Profile columns, active customers and labels."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import daily_usage, events_frame, interactions_frame, make_tables, usage_frame

from powerprofile.features import build_features, build_training_frame, leakage_report

T = pd.Timestamp("2025-07-01")


def test_profile_columns_and_tenure():
    f = build_features(make_tables(), T)
    assert f.loc[("C1", T), "tenure_days"] == (T - pd.Timestamp("2020-01-01")).days
    assert isinstance(f["customer_type"].dtype, pd.CategoricalDtype)
    assert list(f["customer_type"].cat.categories) == [
        "residential",
        "commercial",
        "large_industrial",
        "agricultural",
    ]
    assert list(f["region"].cat.categories) == ["north", "south"]
    assert f["tou_flag"].dtype == bool and bool(f.loc[("C2", T), "tou_flag"])
    assert f.loc[("C4", T), "tariff"] == "agricultural"


def test_customers_not_yet_supplied_are_left_out():
    f = build_features(make_tables(), "2024-11-01")  # C2's supply starts 2024-12-01
    assert "C2" not in f.index.get_level_values("customer_id")
    assert len(f) == 3


def test_closure_ten_days_after_snapshot():
    ev = events_frame([("C1", T + pd.Timedelta(days=10), "closure")])
    t = make_tables(events=ev)
    assert build_training_frame(t, [T], horizon_days=30).loc[("C1", T), "label_churn"] == 1
    assert build_training_frame(t, [T], horizon_days=5).loc[("C1", T), "label_churn"] == 0
    # after the closure the customer is no longer scored
    later = build_training_frame(t, [T + pd.Timedelta(days=11)], horizon_days=30)
    assert "C1" not in later.index.get_level_values("customer_id")


def test_churn_kinds_select_the_events():
    ev = events_frame([("C1", "2025-07-05", "suspension"), ("C2", "2025-07-05", "supplier_switch")])
    tf = build_training_frame(make_tables(events=ev), [T], 30, churn_kinds=["supplier_switch"])
    assert tf.loc[("C1", T), "label_churn"] == 0 and tf.loc[("C2", T), "label_churn"] == 1
    with pytest.raises(ValueError, match="unknown event kind"):
        build_training_frame(make_tables(), [T], 30, churn_kinds=["moved"])


def test_complaint_label_on_the_snapshot_day_is_a_label_not_a_feature():
    inter = interactions_frame([("C4", "2025-07-01 00:00", "app", "complaint")])
    tf = build_training_frame(make_tables(interactions=inter), [T], 30)
    assert tf.loc[("C4", T), "label_complaint"] == 1
    assert tf.loc[("C4", T), "complaints_365d"] == 0
    assert tf[["label_churn", "label_complaint"]].dtypes.eq(np.int8).all()


def test_usage_collapse_label():
    rows = daily_usage("C3", "2024-12-01", [10.0] * 212 + [1.0] * 90)  # collapses from T on
    rows += daily_usage("C1", "2024-12-01", [10.0] * 302)
    t = make_tables(usage=usage_frame(rows))
    tf = build_training_frame(t, [T], 90, churn_kinds=(), churn_usage_collapse=True)
    assert tf.loc[("C3", T), "label_churn"] == 1 and tf.loc[("C1", T), "label_churn"] == 0
    assert build_training_frame(t, [T], 90).loc[("C3", T), "label_churn"] == 0
    rule = {"window_days": 30, "baseline_days": 60, "ratio": 0.05}
    tf = build_training_frame(t, [T], 90, churn_kinds=(), churn_usage_collapse=rule)
    assert tf.loc[("C3", T), "label_churn"] == 0  # 1 kWh is not below 5 % of 10 kWh
    with pytest.raises(ValueError, match="unknown key"):
        build_training_frame(t, [T], 90, churn_usage_collapse={"days": 3})


def test_leakage_report_lists_each_table_before_the_snapshot():
    rows = daily_usage("C1", "2025-06-01", [1.0] * 60)
    t = make_tables(usage=usage_frame(rows))
    tf = build_training_frame(t, ["2025-06-15", T], 30)
    rep = leakage_report(tf)
    assert set(rep["table"]) == {"usage", "bills", "payments", "interactions", "events", "outages"}
    u = rep[(rep["table"] == "usage") & (rep["snapshot_date"] == T)].iloc[0]
    assert u["latest_time_used"] == pd.Timestamp("2025-06-30") and u["rows_used"] == 30
    assert rep["ok"].all()


def test_bad_arguments_are_named():
    t = make_tables()
    with pytest.raises(ValueError, match="horizon_days"):
        build_training_frame(t, [T], 0)
    with pytest.raises(ValueError, match="windows"):
        build_features(t, T, windows=(0, 30))
    with pytest.raises(ValueError, match="snapshots"):
        build_features(t, [])
