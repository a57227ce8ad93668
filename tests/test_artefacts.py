"""Artefacts: nothing is unpickled unless it is intact and written by powerprofile."""

import gzip
import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from powerprofile.artefacts import (
    ARTEFACT_KEY_ENV,
    artefact_key,
    load_artefact,
    save_artefact,
    verify_artefact,
)
from powerprofile.exceptions import ArtefactError, ConfigError

PAYLOADS = [
    "os.system",
    "pathlib.touch",
    "eval",
    "numpy.runstring",
    "numpy.dotted",
    "numpy.memmap",
    "pandas.read_pickle",
]
KEY_A = "a" * 40
KEY_B = "b" * 40
LR = "sklearn.linear_model._logistic.LogisticRegression"


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(ARTEFACT_KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def estimator():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    return LogisticRegression().fit(X, y), X


@pytest.mark.parametrize("how", PAYLOADS)
def test_payloads_are_live(crafted_pickle, tmp_path, how):
    # the crafted pickles used below really run code under a plain unpickler
    marker = tmp_path / "marker"
    pickle.loads(crafted_pickle(marker, how))
    assert marker.exists()


@pytest.mark.parametrize("how", PAYLOADS)
def test_forged_metadata_is_stopped_by_the_restricted_unpickler(
    crafted_pickle, forge_artefact, tmp_path, how
):
    # no key: the attacker writes a matching checksum, the unpickler still refuses
    marker = tmp_path / "marker"
    folder = forge_artefact(tmp_path / "evil", crafted_pickle(marker, how), "estimator", LR)
    verify_artefact(folder, kind="estimator")  # the metadata itself is consistent
    with pytest.raises(ArtefactError, match=r"refers to .*never needs.*stopped before"):
        load_artefact(folder, kind="estimator")
    assert not marker.exists()


@pytest.mark.parametrize("how", ["os.system", "pathlib.touch", "eval"])
def test_forged_metadata_refused_unsigned_when_a_key_is_set(
    crafted_pickle, forge_artefact, tmp_path, monkeypatch, how
):
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    marker = tmp_path / "marker"
    folder = forge_artefact(tmp_path / "evil", crafted_pickle(marker, how), "estimator", LR)
    with pytest.raises(ArtefactError, match=rf"it is not signed, and {ARTEFACT_KEY_ENV} is set"):
        load_artefact(folder, kind="estimator")
    assert not marker.exists()


def test_bare_pickle_without_metadata_refused(crafted_pickle, tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(crafted_pickle(marker))
    for target in (evil, tmp_path):
        with pytest.raises(ArtefactError, match=r"no 'metadata.json' beside it.*nothing was"):
            load_artefact(target, kind="estimator")
    assert not marker.exists()


def test_round_trip_and_metadata(estimator, tmp_path):
    model, X = estimator
    folder = save_artefact(model, tmp_path / "m", kind="estimator", metadata={"note": "x"})
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.pkl"]
    data = (folder / "model.pkl").read_bytes()
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    art = meta["artefact"]
    assert meta["note"] == "x"
    assert art["library"] == "powerprofile" and art["kind"] == "estimator"
    assert art["class"] == LR
    assert art["sha256"] == hashlib.sha256(data).hexdigest() and art["size"] == len(data)
    assert art["signature"] is None and data[:2] == b"\x80\x05"
    loaded = load_artefact(folder, kind="estimator", cls=LogisticRegression)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # the pickle file itself names the artefact too
    assert load_artefact(folder / "model.pkl", kind="estimator").coef_.shape == (1, 3)


def test_flipped_byte_and_truncation_refused(estimator, tmp_path):
    folder = save_artefact(estimator[0], tmp_path / "m", kind="estimator")
    good = (folder / "model.pkl").read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    for bad in (bytes(flipped), good[:-1]):
        (folder / "model.pkl").write_bytes(bad)
        with pytest.raises(ArtefactError, match=r"does not match its metadata.*corrupted"):
            load_artefact(folder, kind="estimator")


def test_other_kind_or_class_refused(estimator, tmp_path):
    folder = save_artefact(estimator[0], tmp_path / "m", kind="estimator")
    with pytest.raises(ArtefactError, match=r"it is a 'estimator' artefact, not a 'segmenter'"):
        load_artefact(folder, kind="segmenter")
    with pytest.raises(ArtefactError, match=r"holds a '.*LogisticRegression', not a '.*Ridge'"):
        from sklearn.linear_model import Ridge

        load_artefact(folder, kind="estimator", cls=Ridge)


def test_not_a_pickle_refused_even_with_matching_checksum(forge_artefact, tmp_path):
    payload = gzip.compress(b"not a pickle at all")
    folder = forge_artefact(tmp_path / "gz", payload, "estimator", LR)
    with pytest.raises(ArtefactError, match="does not start with a pickle protocol header"):
        load_artefact(folder, kind="estimator")
    folder = forge_artefact(tmp_path / "cut", b"\x80\x05K\x01", "estimator", LR)
    with pytest.raises(ArtefactError, match="does not end with the pickle STOP opcode"):
        load_artefact(folder, kind="estimator")


def test_foreign_or_legacy_metadata_refused(estimator, tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(pickle.dumps(estimator[0]))
    (folder / "metadata.json").write_text(json.dumps({"version": "pm-1"}), encoding="utf-8")
    with pytest.raises(ArtefactError, match="has no powerprofile artefact block"):
        load_artefact(folder / "model.joblib", kind="estimator")
    (folder / "metadata.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtefactError, match="is not valid JSON"):
        load_artefact(folder, kind="estimator")


@pytest.mark.parametrize("name", ["../model.pkl", "/etc/passwd", ".hidden", "", "a\x00b", 3])
def test_pickle_name_must_be_a_plain_file_name(forge_artefact, estimator, tmp_path, name):
    folder = forge_artefact(tmp_path / "m", pickle.dumps(estimator[0]), "estimator", LR)
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["artefact"]["file"] = name
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtefactError, match="is not a plain file name"):
        load_artefact(folder, kind="estimator")


def test_signature_with_keys(estimator, tmp_path, monkeypatch):
    model, X = estimator
    folder = save_artefact(model, tmp_path / "m", kind="estimator", key=KEY_A)
    sig = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["artefact"][
        "signature"
    ]
    assert sig["algorithm"] == "hmac-sha256" and len(sig["value"]) == 64
    assert KEY_A not in (folder / "metadata.json").read_text(encoding="utf-8")
    # the right key loads; another key is refused before unpickling
    assert load_artefact(folder, kind="estimator", key=KEY_A).coef_.shape == (1, 3)
    with pytest.raises(ArtefactError, match="signature does not match.*another key"):
        load_artefact(folder, kind="estimator", key=KEY_B)
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_B)
    with pytest.raises(ArtefactError, match="signature does not match"):
        load_artefact(folder, kind="estimator")
    # no key configured: the checksum is still checked, the signature cannot be
    monkeypatch.delenv(ARTEFACT_KEY_ENV)
    np.testing.assert_array_equal(
        load_artefact(folder, kind="estimator").predict_proba(X), model.predict_proba(X)
    )


def test_non_ascii_signature_or_checksum_is_refused_not_a_crash(estimator, tmp_path):
    folder = save_artefact(estimator[0], tmp_path / "m", kind="estimator", key=KEY_A)
    meta_file = folder / "metadata.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["artefact"]["signature"]["value"] = "é" * 64
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtefactError, match="signature does not match"):
        load_artefact(folder, kind="estimator", key=KEY_A)
    meta["artefact"]["sha256"] = "é" * 64
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtefactError, match="does not match its metadata"):
        load_artefact(folder, kind="estimator")


def test_signature_covers_the_whole_metadata(estimator, tmp_path):
    folder = save_artefact(
        estimator[0], tmp_path / "m", kind="estimator", metadata={"version": "v1"}, key=KEY_A
    )
    meta_file = folder / "metadata.json"
    original = meta_file.read_text(encoding="utf-8")
    for edit in (
        lambda m: m.update(version="v2"),
        lambda m: m["artefact"].update(created="2000-01-01T00:00:00+00:00"),
        lambda m: m["artefact"].update(library_version="9.9.9"),
        lambda m: m.update(extra=True),
    ):
        meta = json.loads(original)
        edit(meta)
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
        with pytest.raises(ArtefactError, match="signature does not match"):
            load_artefact(folder, kind="estimator", key=KEY_A)
    meta_file.write_text(original, encoding="utf-8")
    assert load_artefact(folder, kind="estimator", key=KEY_A) is not None


def test_save_signs_with_the_environment_key(estimator, tmp_path, monkeypatch):
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    folder = save_artefact(estimator[0], tmp_path / "m", kind="estimator")
    monkeypatch.delenv(ARTEFACT_KEY_ENV)
    assert load_artefact(folder, kind="estimator", key=KEY_A) is not None
    with pytest.raises(ArtefactError, match="signature does not match"):
        load_artefact(folder, kind="estimator", key=KEY_B)


def test_short_key_is_a_config_error(monkeypatch):
    monkeypatch.setenv(ARTEFACT_KEY_ENV, "short")
    with pytest.raises(ConfigError, match=rf"{ARTEFACT_KEY_ENV}\) is 5 bytes long.*at least 32"):
        artefact_key()
    assert artefact_key(KEY_A) == KEY_A.encode()
    monkeypatch.delenv(ARTEFACT_KEY_ENV)
    assert artefact_key() is None


def test_missing_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_artefact(tmp_path / "nothing", kind="estimator")


def test_common_containers_load_through_the_restricted_unpickler(tmp_path):
    idx = pd.MultiIndex.from_arrays(
        [["C1", "C2", "C3"], pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])],
        names=["customer_id", "snapshot_date"],
    )
    obj = {
        "frame": pd.DataFrame(
            {
                "x": [1.0, np.nan, 3.0],
                "s": pd.Series(["a", None, "c"], dtype="str"),
                "c": pd.Categorical(["u", "v", "u"]),
                "i": pd.array([1, None, 3], dtype="Int64"),
                "t": pd.to_timedelta([1, 2, 3], unit="D"),
            },
            index=idx,
        ),
        "series": pd.Series([1, 2], index=pd.date_range("2024-01-01", periods=2, tz="UTC")),
        "stamp": pd.Timestamp("2024-05-01 12:00"),
        "nat": pd.NaT,
        "array": np.arange(6, dtype="float32").reshape(2, 3),
        "rng": np.random.default_rng(3),
        "legacy_rng": np.random.RandomState(0),
        "period": pd.period_range("2024-01", periods=3, freq="M"),
        "intervals": pd.interval_range(0, 3),
        "offset": pd.offsets.MonthEnd(),
        "timedeltas": pd.timedelta_range("1D", periods=2),
        "set": {1, 2},
        "scalar": np.float64(1.5),
    }
    folder = save_artefact(obj, tmp_path / "c", kind="estimator")
    back = load_artefact(folder, kind="estimator", cls=dict)
    pd.testing.assert_frame_equal(back["frame"], obj["frame"])
    pd.testing.assert_series_equal(back["series"], obj["series"])
    assert back["stamp"] == obj["stamp"] and back["nat"] is pd.NaT
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert back["rng"].random() == np.random.default_rng(3).random()
    assert back["set"] == {1, 2} and back["scalar"] == 1.5
    assert back["legacy_rng"].randint(1000) == np.random.RandomState(0).randint(1000)
    for name in ("period", "intervals", "timedeltas"):
        pd.testing.assert_index_equal(back[name], obj[name])
    assert back["offset"] == pd.offsets.MonthEnd()


def test_scikit_learn_estimators_load_through_the_restricted_unpickler(tmp_path):
    from lightgbm import LGBMClassifier
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    for i, est in enumerate(
        (
            RandomForestClassifier(n_estimators=3, random_state=0),
            HistGradientBoostingClassifier(max_iter=5),
            CalibratedClassifierCV(LogisticRegression(), cv=2),
            make_pipeline(StandardScaler(), LogisticRegression()),
            LGBMClassifier(n_estimators=5, verbose=-1),
        )
    ):
        est.fit(X, y)
        back = load_artefact(
            save_artefact(est, tmp_path / str(i), kind="estimator"), kind="estimator"
        )
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
