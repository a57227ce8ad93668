import json

import lightgbm
import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import FeatureMismatchError
from powerprofile.models import load_model


def test_save_load_identical_scores(fitted, panel, tmp_path):
    X, _, _ = panel
    folder = fitted.save(tmp_path / "churn")
    loaded = load_model(folder)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
    assert loaded.version_ == fitted.version_
    # the joblib file alone loads too
    assert load_model(folder / "model.joblib").version_ == fitted.version_


def test_metadata(fitted, tmp_path):
    folder = fitted.save(tmp_path / "m")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["version"] == fitted.version_
    assert meta["versions"]["lightgbm"] == lightgbm.__version__
    assert meta["horizon_days"] == 31 and meta["label"] == "churn"
    assert meta["snapshot_range"] == ["2024-01-01T00:00:00", "2024-06-01T00:00:00"]
    feats = {f["name"]: f for f in meta["features"]}
    assert feats["customer_type"] == {
        "name": "customer_type",
        "kind": "categorical",
        "dtype": "str",
        "categories": ["agricultural", "commercial", "residential"],
    }
    assert feats["num_0"]["kind"] == "numeric" and feats["tou_flag"]["dtype"] == "bool"
    assert set(meta["metrics"]["validation"]) >= {"roc_auc", "brier", "log_loss", "ece"}
    assert meta["calibration"]["method"] in ("sigmoid", "isotonic")


def test_renamed_column_named_error(fitted, panel, tmp_path):
    X, _, _ = panel
    loaded = load_model(fitted.save(tmp_path / "m"))
    bad = X.head(10).rename(columns={"num_3": "num_3_renamed"})
    with pytest.raises(
        FeatureMismatchError,
        match=r"missing columns \['num_3'\].*unexpected columns \['num_3_renamed'\]",
    ):
        loaded.predict_proba(bad)


def test_extra_and_wrong_dtype_named(fitted, panel):
    X, _, _ = panel
    with pytest.raises(FeatureMismatchError, match=r"unexpected columns \['extra'\]"):
        fitted.predict_proba(X.head(5).assign(extra=1.0))
    bad = X.head(5).assign(num_0=pd.Series(["a"] * 5, index=X.head(5).index, dtype="str"))
    with pytest.raises(
        FeatureMismatchError, match=r"wrong dtypes 'num_0' \(fitted 'float64', received 'str'\)"
    ):
        fitted.predict_proba(bad)
    with pytest.raises(FeatureMismatchError, match=r"missing columns \['customer_type'\]"):
        fitted.predict_proba(X.head(5).drop(columns="customer_type"))


def test_load_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="No saved model"):
        load_model(tmp_path / "nothing")
