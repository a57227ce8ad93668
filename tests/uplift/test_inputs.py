"""The uplift model's inputs: the scoring features joined to the portraits by key."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.privacy import pseudonymise
from powerprofile.uplift import iter_uplift_inputs, scoring_feature_names, uplift_inputs

KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture
def frames():
    ids = [f"C{i:03d}" for i in range(6)]
    portraits = pd.DataFrame(
        {
            "customer_key": pseudonymise(ids, KEY).to_numpy(),
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "churn_score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "region": pd.array(["东"] * 6, dtype="string"),
            "churn_band": pd.Categorical(["low"] * 6),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    # the scoring frame of build_features: another order, C005 missing, a label column
    scoring = pd.DataFrame(
        {
            "customer_id": ["C004", "C001", "C000", "C003", "C002"],
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "complaints_90d": np.array([4.0, 1.0, 0.0, 3.0, 2.0], dtype="float32"),
            "region": pd.Categorical(["北", "西", "南", "东", "中"]),
            "kwh_mean_30d": np.array([40, 10, 0, 30, 20], dtype="float32"),
            "label_churn": [True, False, False, True, False],
        }
    ).set_index(["customer_id", "snapshot_date"])
    return portraits, scoring


def test_features_are_joined_by_key_in_the_portraits_order(frames):
    portraits, scoring = frames
    X = uplift_inputs(portraits, scoring, key=KEY)
    assert list(X.index) == list(portraits.index)
    assert "label_churn" not in X.columns and "customer_key" not in X.columns
    # C000..C004 carry 0..4 complaints; C005 is not in the frame
    np.testing.assert_array_equal(X["complaints_90d"].to_numpy()[:5], [0, 1, 2, 3, 4])
    assert np.isnan(X["complaints_90d"].iloc[5])
    np.testing.assert_array_equal(X["churn_score"], portraits["churn_score"])
    # the frame's region wins over the portrait's
    assert list(X["region"].astype("string")[:5]) == ["南", "西", "中", "东", "北"]
    assert "churn_band" not in X.columns  # bands: the deciles carry them


def test_parts_on_disk_read_only_the_columns_and_rows_asked(frames, tmp_path, monkeypatch):
    portraits, scoring = frames
    folder = tmp_path / "scoring"
    folder.mkdir()
    scoring.iloc[:2].to_parquet(folder / "part-00000.parquet")
    scoring.iloc[2:].to_parquet(folder / "part-00001.parquet")
    assert scoring_feature_names(folder) == ["complaints_90d", "region", "kwh_mean_30d"]
    read = []
    real = pd.read_parquet

    def spy(path, columns=None, **kw):
        read.append(columns)
        return real(path, columns=columns, **kw)

    monkeypatch.setattr(pd, "read_parquet", spy)
    rows = np.array([False, True, False, True, False, True])
    pieces = list(
        iter_uplift_inputs(portraits, folder, key=KEY, columns=["complaints_90d"], rows=rows)
    )
    assert read == [["customer_id", "complaints_90d"]] * 2
    pos = np.concatenate([p for p, _ in pieces])
    assert sorted(pos) == [1, 3, 5]  # each asked row once, C005 with missing features
    X = uplift_inputs(portraits, folder, key=KEY, columns=["complaints_90d"], rows=rows)
    assert list(X.index) == [11, 13, 15]
    np.testing.assert_array_equal(X["complaints_90d"].to_numpy()[:2], [1, 3])
    assert list(X.columns) == ["complaints_90d", "churn_score", "region"]


def test_an_unknown_feature_is_named(frames):
    portraits, scoring = frames
    with pytest.raises(ValueError, match="'complaint_90d'"):
        uplift_inputs(portraits, scoring, key=KEY, columns=["complaint_90d"])
