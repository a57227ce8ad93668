import pandas as pd

from powerprofile.features import (
    build_features,
    build_training_frame,
    feature_catalog,
    leakage_report,
)


def test_build_features_shape_and_index(small_tables):
    f = build_features(small_tables, "2025-07-01")
    assert f.index.names == ["customer_id", "snapshot_date"]
    assert list(f.index.get_level_values(0)) == ["C1", "C2", "C3", "C4"]
    assert set(f.columns) == set(feature_catalog()["name"])
    assert f.index.is_unique


def test_training_frame_labels_and_report(small_tables):
    tf = build_training_frame(small_tables, ["2025-06-01", "2025-07-01"], horizon_days=30)
    assert {"label_churn", "label_complaint"} <= set(tf.columns)
    # C3 complains on 2025-07-02: positive for the 2025-07-01 snapshot only
    assert tf.loc[("C3", pd.Timestamp("2025-07-01")), "label_complaint"] == 1
    # by hand: C1 complains 06-20, C3 06-30 and 07-02 (30-day horizons); nobody churns
    assert tf["label_complaint"].tolist() == [1, 0, 0, 0, 1, 1, 0, 0]  # C1..C4 x (06-01, 07-01)
    assert tf["label_churn"].tolist() == [0] * 8
    rep = leakage_report(tf)
    assert rep["ok"].all()
    rep = rep.set_index(["snapshot_date", "table"])
    jun, jul = pd.Timestamp("2025-06-01"), pd.Timestamp("2025-07-01")
    # usage rows strictly before the snapshot: C1 517 + C2 61 + C3 365; a month later +30 +30 +30
    assert rep.loc[(jun, "usage"), "rows_used"] == 943
    assert rep.loc[(jul, "usage"), "rows_used"] == 1033
    assert rep.loc[(jun, "usage"), "latest_time_used"] == pd.Timestamp("2025-05-31")
    assert rep.loc[(jun, "interactions"), "rows_used"] == 2  # C4 01-10, C2 05-01
    assert rep.loc[(jun, "interactions"), "latest_time_used"] == pd.Timestamp("2025-05-01 12:00")
    assert rep.loc[(jul, "interactions"), "rows_used"] == 5  # the 07-02 complaint is not used
    assert rep.loc[(jul, "interactions"), "latest_time_used"] == pd.Timestamp("2025-06-30 23:00")
