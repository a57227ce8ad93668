import pandas as pd

from powerprofile.features import build_features, build_training_frame, feature_catalog


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
    rep = tf.attrs["leakage_report"]
    assert rep["ok"].all()
