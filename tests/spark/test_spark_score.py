"""Spark scores and reasons (pandas UDF) equal the single-machine ones for the same model."""

from pathlib import Path

import numpy as np
import pytest

from powerprofile import features as local
from powerprofile.explain import explain
from powerprofile.models import PropensityModel
from powerprofile.spark import score_frame
from powerprofile.tracking import save_local_model

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    train = local.build_training_frame(SAMPLE, ["2025-01-01", "2025-03-01", "2025-05-01"])
    X = train.drop(columns=["label_churn", "label_complaint"])
    model = PropensityModel(n_estimators=40, learning_rate=0.1, min_child_samples=20, n_jobs=1)
    model.fit(X, train["label_churn"])
    folder = tmp_path_factory.mktemp("model") / "churn"
    save_local_model(model, folder)
    return model, folder


def test_scores_and_reasons_equal_the_single_machine_ones(spark, fitted):
    model, folder = fitted
    X = local.build_features(SAMPLE, "2025-10-01")
    sdf = spark.createDataFrame(X.reset_index())
    # the model travels from its saved folder (verified on load), as a job would use it
    got = score_frame(sdf, str(folder), X.head(0), target="churn", top_k=3).toPandas()
    got = got.sort_values(["customer_id", "snapshot_date"]).reset_index(drop=True)

    want = explain(model, X, top_k=3, score=True).reset_index()
    assert len(got) == len(want) == len(X)
    assert got["customer_id"].tolist() == want["customer_id"].astype(str).tolist()
    np.testing.assert_allclose(got["score"], model.predict_proba(X)[:, 1], rtol=1e-9)
    for i in (1, 2, 3):
        for part in ("feature", "text_en", "text_zh"):
            col = f"reason_{i}_{part}"
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col
    # the joined texts the portraits carry: "; " in English, "；" in Chinese
    first = want.loc[0, [f"reason_{i}_text_en" for i in (1, 2, 3)]].dropna().astype(str)
    assert got.loc[0, "reasons_en"] == "; ".join(first)
    assert got["reasons_zh"].str.contains("；").any()
