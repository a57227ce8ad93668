"""CustomerSegmenter.save / load: verified artefacts, identical assignments after a round trip."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from powerprofile.artefacts import ARTEFACT_KEY_ENV
from powerprofile.exceptions import ArtefactError, NotFittedError
from powerprofile.segmentation import CustomerSegmenter

SEG = "powerprofile.segmentation._segmenter.CustomerSegmenter"
KEY_A = "segmenter-signing-key-a-0123456789"
KEY_B = "segmenter-signing-key-b-0123456789"


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(ARTEFACT_KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def typed(population):
    """The population with a customer type, so categories are saved too."""
    X, kind = population
    ctype = np.where(kind == 2, "commercial", "residential")
    X = X.assign(customer_type=pd.Series(ctype, index=X.index, dtype="str"))
    return X, CustomerSegmenter(n_clusters=4, n_init=3, random_state=0).fit(X)


def test_round_trip_identical_assignments(typed, tmp_path):
    X, seg = typed
    folder = seg.save(tmp_path / "seg")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "segmenter.pkl"]
    for loaded in (
        CustomerSegmenter.load(folder),
        CustomerSegmenter.load(folder / "segmenter.pkl"),
    ):
        assert type(loaded) is CustomerSegmenter
        np.testing.assert_array_equal(loaded.predict(X), seg.predict(X))
        np.testing.assert_array_equal(loaded.transform(X), seg.transform(X))
        assert loaded.names_ == seg.names_ and loaded.version_ == seg.version_
        pd.testing.assert_frame_equal(loaded.profile(X), seg.profile(X))


def test_metadata_is_readable(typed, tmp_path):
    X, seg = typed
    folder = seg.save(tmp_path / "seg")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    data = (folder / "segmenter.pkl").read_bytes()
    assert meta["version"] == seg.version_ and meta["n_clusters"] == 4
    assert meta["features"] == [
        "kwh_mean_365d",
        "kwh_weekend_ratio_365d",
        "online_contact_share_365d",
        "payment_share_counter_365d",
    ]
    assert meta["categorical"] == {"customer_type": ["commercial", "residential"]}
    assert [s["segment_id"] for s in meta["segments"]] == [0, 1, 2, 3]
    assert {s["segment_id"]: (s["name_en"], s["name_zh"]) for s in meta["segments"]} == seg.names_
    assert meta["params"]["n_clusters"] == 4 and "reference" not in meta["params"]
    art = meta["artefact"]
    assert art["kind"] == "segmenter" and art["class"] == SEG and art["file"] == "segmenter.pkl"
    assert art["sha256"] == hashlib.sha256(data).hexdigest()


def test_unfitted_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        CustomerSegmenter().save(tmp_path / "seg")
    assert not (tmp_path / "seg").exists()


@pytest.mark.parametrize("how", ["os.system", "pathlib.touch", "numpy.memmap"])
def test_crafted_pickle_refused(crafted_pickle, forge_artefact, tmp_path, how):
    marker = tmp_path / "marker"
    payload = crafted_pickle(marker, how)
    bare = tmp_path / "segmenter.joblib"
    bare.write_bytes(payload)
    with pytest.raises(ArtefactError, match=r"segmenter\.joblib'.*no 'metadata.json' beside it"):
        CustomerSegmenter.load(bare)
    forged = forge_artefact(tmp_path / "forged", payload, "segmenter", SEG, file="segmenter.pkl")
    with pytest.raises(ArtefactError, match="refers to .*never needs"):
        CustomerSegmenter.load(forged)
    assert not marker.exists()


def test_flipped_byte_refused(typed, tmp_path):
    folder = typed[1].save(tmp_path / "seg")
    data = bytearray((folder / "segmenter.pkl").read_bytes())
    data[len(data) // 3] ^= 0xFF
    (folder / "segmenter.pkl").write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match="does not match its metadata"):
        CustomerSegmenter.load(folder)


def test_model_is_not_a_segmenter(fitted, tmp_path):
    # ``fitted`` is the shared PropensityModel of tests/conftest.py
    folder = fitted.save(tmp_path / "model")
    with pytest.raises(
        ArtefactError, match="it is a 'propensity_model' artefact, not a 'segmenter'"
    ):
        CustomerSegmenter.load(folder)


def test_signed_segmenter(typed, tmp_path, monkeypatch):
    X, seg = typed
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    folder = seg.save(tmp_path / "seg")
    np.testing.assert_array_equal(CustomerSegmenter.load(folder).predict(X), seg.predict(X))
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_B)
    with pytest.raises(ArtefactError, match="signature does not match"):
        CustomerSegmenter.load(folder)
    with pytest.raises(ArtefactError, match="signature does not match"):
        CustomerSegmenter.load(folder, key=KEY_B)
    assert CustomerSegmenter.load(folder, key=KEY_A).version_ == seg.version_


def test_refit_against_a_loaded_segmenter_keeps_ids(typed, tmp_path):
    X, seg = typed
    previous = CustomerSegmenter.load(seg.save(tmp_path / "seg"))
    again = CustomerSegmenter(n_clusters=4, n_init=3, random_state=7).fit(X, previous=previous)
    np.testing.assert_array_equal(again.predict(X), seg.predict(X))
