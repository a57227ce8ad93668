"""Models from MLflow and local model folders load only through the verified artefact path."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from powerprofile.artefacts import ARTEFACT_KEY_ENV
from powerprofile.exceptions import ArtefactError
from powerprofile.models import PropensityModel
from powerprofile.tracking import (
    load_local_model,
    load_scoring_model,
    log_training_run,
    save_local_model,
)

from .conftest import model_frame

KEY_A = "tracking-artefact-key-a-0123456789"
KEY_B = "tracking-artefact-key-b-0123456789"


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(ARTEFACT_KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def fitted():
    X, y = model_frame()
    return PropensityModel(n_estimators=30, random_state=0, n_jobs=1).fit(X, y), X


@pytest.fixture
def registered(fitted, tmp_path, monkeypatch):
    model, X = fitted
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    log_training_run(
        tracking_uri=uri,
        experiment="artefacts",
        config={"seed": 0},
        fingerprint={"rows": {}, "sha256": "00"},
        models={"churn": (model, X)},
        metrics={"churn": {"roc_auc": 0.5}},
        alias="candidate",
    )
    return uri


def test_local_round_trip_of_both_loaders(fitted, tmp_path):
    model, X = fitted
    folder = save_local_model(model, tmp_path / "churn")
    np.testing.assert_array_equal(load_local_model(folder).predict_proba(X), model.predict_proba(X))
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 2))
    lr = LogisticRegression().fit(A, (A[:, 0] > 0).astype(int))
    other = save_local_model(lr, tmp_path / "lr")
    assert (other / "estimator" / "metadata.json").is_file()
    np.testing.assert_array_equal(load_local_model(other).predict_proba(A), lr.predict_proba(A))


def test_registry_model_never_loads_the_wrapper_pickle(
    registered, fitted, tmp_path, crafted_pickle
):
    model, X = fitted
    marker = tmp_path / "marker"
    wrappers = sorted(tmp_path.rglob("python_model.pkl"))
    assert wrappers
    for w in wrappers:
        w.write_bytes(crafted_pickle(marker))
    loaded = load_scoring_model("models:/powerprofile-churn@candidate", tracking_uri=registered)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert not marker.exists()


def test_registry_model_with_a_tampered_artefact_is_refused(registered, tmp_path, crafted_pickle):
    marker = tmp_path / "marker"
    inner = sorted(tmp_path.rglob("propensity_model/model.pkl"))
    assert inner
    for f in inner:
        f.write_bytes(crafted_pickle(marker))
    with pytest.raises(ArtefactError, match="does not match its metadata"):
        load_scoring_model("models:/powerprofile-churn/1", tracking_uri=registered)
    assert not marker.exists()


def test_pyfunc_wrapper_loads_through_the_verified_path(fitted, tmp_path, monkeypatch):
    from powerprofile.tracking._pyfunc import PowerProfilePyFunc

    model, X = fitted
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    folder = save_local_model(model, tmp_path / "m")

    class Context:
        artifacts = {"model": str(folder)}

    wrapper = PowerProfilePyFunc()
    wrapper.load_context(Context())
    scores = wrapper.predict(None, X)["score"].to_numpy()
    np.testing.assert_array_equal(scores, model.predict_proba(X)[:, 1])
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_B)
    with pytest.raises(ArtefactError, match="signature does not match"):
        PowerProfilePyFunc().load_context(Context())


def test_info_file_cannot_point_outside(fitted, tmp_path):
    folder = save_local_model(fitted[0], tmp_path / "m")
    (folder / "powerprofile_model.json").write_text('{"file": "../elsewhere"}', encoding="utf-8")
    with pytest.raises(ArtefactError, match="not a plain folder name"):
        load_local_model(folder)
