import hashlib
import json
import pickle

import lightgbm
import numpy as np
import pandas as pd
import pytest

import powerprofile
from powerprofile.artefacts import ARTEFACT_KEY_ENV
from powerprofile.exceptions import ArtefactError, FeatureMismatchError
from powerprofile.models import PropensityModel, load_model

PM = "powerprofile.models._propensity.PropensityModel"
KEY_A = "model-signing-key-a-0123456789abcdef"
KEY_B = "model-signing-key-b-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(ARTEFACT_KEY_ENV, raising=False)


def test_save_load_identical_scores(fitted, panel, tmp_path):
    X, _, _ = panel
    folder = fitted.save(tmp_path / "churn")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.pkl"]
    for loaded in (
        load_model(folder),
        PropensityModel.load(folder),
        powerprofile.load_model(folder / "model.pkl"),  # the pickle file names it too
    ):
        np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
        np.testing.assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
        assert loaded.version_ == fitted.version_


def test_artefact_block(fitted, tmp_path):
    folder = fitted.save(tmp_path / "m")
    art = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["artefact"]
    data = (folder / "model.pkl").read_bytes()
    assert art["kind"] == "propensity_model" and art["class"] == PM
    assert art["sha256"] == hashlib.sha256(data).hexdigest() and art["size"] == len(data)
    assert art["library"] == "powerprofile" and art["library_version"] == powerprofile.__version__


@pytest.mark.parametrize("how", ["os.system", "pathlib.touch"])
def test_crafted_pickle_refused_by_every_model_loader(
    crafted_pickle, forge_artefact, tmp_path, how
):
    from powerprofile.tracking import load_local_model, load_scoring_model

    marker = tmp_path / "marker"
    payload = crafted_pickle(marker, how)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "model.joblib").write_bytes(payload)
    forged = forge_artefact(tmp_path / "forged", payload, "propensity_model", PM)
    loaders = (load_model, PropensityModel.load, powerprofile.load_model)
    loaders += (load_local_model, load_scoring_model)
    for loader in loaders:
        for target in (bare, bare / "model.joblib"):
            with pytest.raises(ArtefactError, match="no 'metadata.json' beside it"):
                loader(target)
        with pytest.raises(ArtefactError, match="refers to .*never needs"):
            loader(forged)
    assert not marker.exists()


def test_flipped_byte_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "m")
    data = bytearray((folder / "model.pkl").read_bytes())
    data[1000] ^= 0x20
    (folder / "model.pkl").write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match=r"model\.pkl' does not match its metadata"):
        load_model(folder)


def test_segmenter_is_not_a_model(tmp_path):
    from powerprofile.segmentation import CustomerSegmenter

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    folder = CustomerSegmenter(n_clusters=2).fit(X).save(tmp_path / "seg")
    with pytest.raises(
        ArtefactError, match="it is a 'segmenter' artefact, not a 'propensity_model'"
    ):
        load_model(folder)


def test_legacy_joblib_folder_refused(fitted, tmp_path):
    # the layout of earlier versions: a pickle and metadata without the artefact block
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(pickle.dumps(fitted))
    (folder / "metadata.json").write_text(json.dumps(fitted.metadata_, default=str))
    with pytest.raises(ArtefactError, match="no powerprofile artefact block"):
        load_model(folder / "model.joblib")


def test_signed_model(fitted, panel, tmp_path, monkeypatch):
    X, _, _ = panel
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    folder = fitted.save(tmp_path / "m")
    np.testing.assert_array_equal(load_model(folder).predict_proba(X), fitted.predict_proba(X))
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_B)
    with pytest.raises(ArtefactError, match="signature does not match"):
        load_model(folder)
    with pytest.raises(ArtefactError, match="signature does not match"):
        PropensityModel.load(folder)
    # a model saved without a key is refused while a key is set
    monkeypatch.delenv(ARTEFACT_KEY_ENV)
    unsigned = fitted.save(tmp_path / "u")
    with pytest.raises(ArtefactError, match="it is not signed"):
        load_model(unsigned, key=KEY_A)


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
    with pytest.raises(FileNotFoundError, match="No saved model"):
        PropensityModel.load(tmp_path / "nothing")
