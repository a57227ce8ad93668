"""MLflow tracking: URI resolution, fail-fast checks, fingerprints, logging, registry, scoring."""

import os

import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import FeatureMismatchError, TrackingError
from powerprofile.models import PropensityModel
from powerprofile.tracking import (
    check_model_features,
    check_tracking_uri,
    data_fingerprint,
    load_scoring_model,
    log_training_run,
    resolve_tracking_uri,
)

from .conftest import free_port, model_frame

SCORE_KEY = "47111928f6de5b3e92e725cd323c97596ae6d6329987f7c9dc7d71c8d527c211"


@pytest.fixture(scope="module")
def fitted():
    X, y = model_frame()
    model = PropensityModel(n_estimators=40, random_state=0, n_jobs=1).fit(X, y)
    return model, X, y


def test_uri_resolution_order(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example.invalid:5000")
    assert resolve_tracking_uri() == "http://example.invalid:5000"
    assert resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


def test_unreachable_server_fails_fast(monkeypatch):
    for var in (
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "POWERPROFILE_MLFLOW_MAX_RETRIES",
    ):
        monkeypatch.delenv(var, raising=False)
    import urllib.request

    calls = []
    real_urlopen = urllib.request.urlopen

    def counting_urlopen(*args, **kwargs):
        calls.append(kwargs.get("timeout"))
        return real_urlopen(*args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting_urlopen)
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(
        TrackingError,
        match=r"tracking server 'http://127\.0\.0\.1:\d+' is unreachable.*--no-tracking",
    ):
        check_tracking_uri(uri, timeout=2)
    # one probe with the given timeout, and MLflow's own retries and back-off turned off
    assert calls == [2]
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    assert os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "0"


def test_fingerprint_counts_ranges_and_hash():
    tables = {
        "usage": pd.DataFrame(
            {
                "customer_id": ["A", "A", "B"],
                "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-03-05"]),
                "kwh": [1.0, 2.0, 3.0],
            }
        ),
        "customers": pd.DataFrame({"customer_id": ["A", "B"]}),
    }
    fp = data_fingerprint(tables)
    assert fp["rows"] == {"customers": 2, "usage": 3}
    assert fp["date_range"]["usage"] == ["2024-01-01", "2024-03-05"]
    assert fp == data_fingerprint({k: v.copy() for k, v in tables.items()})
    changed = dict(tables, usage=tables["usage"].assign(kwh=[1.0, 2.0, 3.5]))
    fp2 = data_fingerprint(changed)
    assert fp2["sha256"] != fp["sha256"]
    assert fp2["sha256_by_table"]["customers"] == fp["sha256_by_table"]["customers"]


def test_feature_check_names_the_difference(fitted):
    model, X, _ = fitted
    check_model_features(model, X)
    bad = X.rename(columns={"complaints_90d": "complaints_90"}).assign(extra=1.0)
    with pytest.raises(
        FeatureMismatchError,
        match=r"missing 1 column\(s\) \['complaints_90d'\]; 2 unexpected column\(s\) \['complaints_90', 'extra'\]",
    ):
        check_model_features(model, bad, what="churn model")


def _log(uri, model, X, **kw):
    return log_training_run(
        tracking_uri=uri,
        experiment="tests",
        config={"seed": 0, "labels": {"horizon_days": 90}},
        fingerprint={"rows": {"usage": 3}, "sha256": "00ff"},
        models={"churn": (model, X)},
        metrics={"churn": {"roc_auc": 0.8}, "churn_baseline": {"roc_auc": 0.7}},
        alias="candidate",
        **kw,
    )


def test_local_sqlite_store_registers_and_scores(tmp_path, monkeypatch, fitted):
    import mlflow

    model, X, _ = fitted
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    check_tracking_uri(uri)
    res = _log(uri, model, X)
    assert res.model_uris == {"churn": "models:/powerprofile-churn/1"}
    run = mlflow.MlflowClient(uri).get_run(res.run_id)
    assert run.data.metrics["churn.roc_auc"] == pytest.approx(0.8)
    assert run.data.metrics["churn_baseline.roc_auc"] == pytest.approx(0.7)
    assert run.data.params["config.labels.horizon_days"] == "90"
    assert run.data.params["data.sha256"] == "00ff"
    # the structure chosen and every candidate's validation loss
    assert run.data.params["churn.structure"] == model.structure_
    assert run.data.params["churn.structure_selection_rows"] == str(model.selection_rows_)
    for cand, loss in model.structure_losses_.items():
        assert run.data.metrics[f"churn.validation_log_loss.{cand}"] == pytest.approx(loss)
    expected = model.predict_proba(X)[:, 1]
    for ref in ("models:/powerprofile-churn/1", "models:/powerprofile-churn@candidate"):
        loaded = load_scoring_model(ref, tracking_uri=uri)
        np.testing.assert_allclose(loaded.predict_proba(X)[:, 1], expected)
    # the registered pyfunc predicts the same calibrated scores for plain MLflow users
    from powerprofile.tracking import signature_frame

    mlflow.set_tracking_uri(uri)
    pyfunc = mlflow.pyfunc.load_model("models:/powerprofile-churn/1")
    np.testing.assert_allclose(pyfunc.predict(signature_frame(X))["score"].to_numpy(), expected)
    mv = mlflow.MlflowClient(uri).get_model_version("powerprofile-churn", "1")
    info = mlflow.models.get_model_info(f"models:/powerprofile-churn/{mv.version}")
    # the input is checked by the model itself; the MLmodel lists the features it expects
    assert info.signature.inputs is None
    assert info.signature.outputs.input_names() == ["score"]
    feats = info.metadata["powerprofile"]["features"]
    assert [f["name"] for f in feats] == list(X.columns)
    with pytest.raises(TrackingError, match="malformed"):
        load_scoring_model("models:/powerprofile-churn", tracking_uri=uri)
    with pytest.raises(TrackingError, match="cannot load model"):
        load_scoring_model("models:/no-such-model/3", tracking_uri=uri)


@pytest.mark.slow
def test_real_server_logs_registers_and_cli_scores(mlflow_server, tmp_path, monkeypatch, fitted):
    import mlflow

    from powerprofile.cli import main

    model, X, _ = fitted
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", SCORE_KEY)
    check_tracking_uri(mlflow_server)
    res = _log(mlflow_server, model, X)
    version = res.model_versions["churn"]
    client = mlflow.MlflowClient(mlflow_server)
    assert client.get_model_version_by_alias("powerprofile-churn", "candidate").version == version
    assert client.get_run(res.run_id).data.metrics["churn.roc_auc"] == pytest.approx(0.8)

    # score through the CLI from the registry; a mismatching frame is refused (exit 3)
    X.to_parquet(tmp_path / "scoring.parquet")
    code = main(
        [
            "score",
            "--tracking-uri",
            mlflow_server,
            "--out",
            str(tmp_path / "out"),
            "-q",
            "--model",
            f"churn=models:/powerprofile-churn/{version}",
            "--features",
            str(tmp_path / "scoring.parquet"),
            "--set",
            "models.top_k_reasons=0",
        ]
    )
    assert code == 0
    scores = pd.read_parquet(tmp_path / "out" / "scores" / "scores.parquet")
    assert len(scores) == len(X)
    raw_ids = set(X.index.get_level_values("customer_id").astype(str))
    assert "customer_id" not in scores.columns
    for col in scores.columns:  # no raw id in any column, key or otherwise
        assert not scores[col].astype("string").isin(raw_ids).any(), col
    by_key = scores.set_index("customer_key")["churn_score"]
    from powerprofile.privacy import pseudonymise

    keys = pseudonymise(X.index.get_level_values("customer_id"), SCORE_KEY).to_numpy()
    snap = scores.set_index(["customer_key", "snapshot_date"])["churn_score"]
    got = snap.loc[
        list(zip(keys, X.index.get_level_values("snapshot_date"), strict=True))
    ].to_numpy()
    np.testing.assert_allclose(got, model.predict_proba(X)[:, 1], rtol=1e-9)
    assert by_key.between(0, 1).all()

    X.drop(columns="complaints_90d").to_parquet(tmp_path / "bad.parquet")
    code = main(
        [
            "score",
            "--tracking-uri",
            mlflow_server,
            "--out",
            str(tmp_path / "out2"),
            "-q",
            "--model",
            "churn=models:/powerprofile-churn@candidate",
            "--features",
            str(tmp_path / "bad.parquet"),
        ]
    )
    assert code == 3
    assert not (tmp_path / "out2").exists()
