"""The CLI loads models and segmenters only as verified artefacts: crafted files exit 3 unrun."""

import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from powerprofile.artefacts import ARTEFACT_KEY_ENV
from powerprofile.cli import main

from .conftest import SAMPLE, fast_config

SEG = "powerprofile.segmentation._segmenter.CustomerSegmenter"
KEY_A = "cli-artefact-key-a-0123456789abcdef"
KEY_B = "cli-artefact-key-b-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_artefact_key(monkeypatch):
    monkeypatch.delenv(ARTEFACT_KEY_ENV, raising=False)


@pytest.fixture
def frame(tmp_path):
    """A small scoring frame with two kinds of customer."""
    rng = np.random.default_rng(0)
    n = 300
    kind = rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "kwh_mean_365d": np.where(kind == 1, 40.0, 5.0) * rng.lognormal(0, 0.1, n),
            "online_contact_share_365d": np.clip(
                np.where(kind == 1, 0.1, 0.8) + rng.normal(0, 0.05, n), 0, 1
            ),
            "payment_share_counter_365d": np.clip(
                np.where(kind == 1, 0.7, 0.05) + rng.normal(0, 0.05, n), 0, 1
            ),
        },
        index=pd.MultiIndex.from_arrays(
            [[f"C{i:05d}" for i in range(n)], np.full(n, np.datetime64("2025-07-01"))],
            names=["customer_id", "snapshot_date"],
        ),
    )
    path = tmp_path / "scoring.parquet"
    df.to_parquet(path)
    return path


def _segment(tmp_path, frame, out, *extra):
    cfg = fast_config(tmp_path)
    args = ["segment", "--config", str(cfg), "--out", str(out), "--features", str(frame)]
    return main([*args, "-q", "--set", "segmentation.params={n_clusters: 2}", *extra])


def test_segment_previous_crafted_file_exits_3_and_runs_nothing(
    tmp_path, frame, crafted_pickle, capsys, key_env
):
    marker = tmp_path / "marker"
    evil = tmp_path / "segmenter.joblib"
    evil.write_bytes(crafted_pickle(marker))
    assert _segment(tmp_path, frame, tmp_path / "out", "--previous", str(evil)) == 3
    err = capsys.readouterr().err
    assert f"refusing to load {str(evil)!r}" in err and "nothing was unpickled" in err
    assert not marker.exists()
    assert not (tmp_path / "out" / "segments").exists()


def test_segment_previous_forged_metadata_exits_3_and_runs_nothing(
    tmp_path, frame, crafted_pickle, forge_artefact, capsys, key_env
):
    marker = tmp_path / "marker"
    forged = forge_artefact(
        tmp_path / "forged", crafted_pickle(marker), "segmenter", SEG, file="segmenter.pkl"
    )
    assert _segment(tmp_path, frame, tmp_path / "out", "--previous", str(forged)) == 3
    err = capsys.readouterr().err
    assert "refers to posix.system" in err and str(forged / "segmenter.pkl") in err
    assert not marker.exists()


def test_segment_previous_round_trip_keeps_ids_and_checks_the_key(
    tmp_path, frame, capsys, key_env, monkeypatch, forge_artefact
):
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_A)
    assert _segment(tmp_path, frame, tmp_path / "one") == 0
    seg_dir = tmp_path / "one" / "segments" / "segmenter"
    assert sorted(p.name for p in seg_dir.iterdir()) == ["metadata.json", "segmenter.pkl"]
    assert _segment(tmp_path, frame, tmp_path / "two", "--previous", str(seg_dir)) == 0
    one = pd.read_parquet(tmp_path / "one" / "segments" / "assignments.parquet")
    two = pd.read_parquet(tmp_path / "two" / "segments" / "assignments.parquet")
    pd.testing.assert_frame_equal(one, two)
    # another key: refused, naming the folder
    monkeypatch.setenv(ARTEFACT_KEY_ENV, KEY_B)
    capsys.readouterr()
    assert _segment(tmp_path, frame, tmp_path / "three", "--previous", str(seg_dir)) == 3
    err = capsys.readouterr().err
    assert f"refusing to load {str(seg_dir)!r}" in err and "signature does not match" in err
    # an artefact of another kind is refused, and so is a missing folder
    other = forge_artefact(tmp_path / "other", pickle.dumps({"a": 1}), "estimator", "builtins.dict")
    assert _segment(tmp_path, frame, tmp_path / "four", "--previous", str(other)) == 3
    assert "it is a 'estimator' artefact, not a 'segmenter'" in capsys.readouterr().err
    missing = tmp_path / "nothing"
    assert _segment(tmp_path, frame, tmp_path / "five", "--previous", str(missing)) == 3


def test_score_model_crafted_folder_exits_3_and_runs_nothing(
    tmp_path, frame, crafted_pickle, capsys, key_env
):
    marker = tmp_path / "marker"
    folder = tmp_path / "churn"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(crafted_pickle(marker))
    cfg = fast_config(tmp_path)
    code = main(
        [
            "score",
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "out"),
            "--features",
            str(frame),
            "--model",
            f"churn={folder}",
            "-q",
        ]
    )
    assert code == 3
    assert "no 'metadata.json' beside it" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.skipif(not (SAMPLE / "customers.parquet").exists(), reason="no sample data")
def test_export_refuses_a_tampered_segmenter_in_the_outputs(
    full_run, tmp_path, crafted_pickle, capsys, key_env
):
    out = tmp_path / "out"
    shutil.copytree(full_run["out"], out)
    (out / "portraits" / "portraits.parquet").unlink()  # export rebuilds them from outputs
    (out / "export").exists() and shutil.rmtree(out / "export")
    marker = tmp_path / "marker"
    (out / "segments" / "segmenter" / "segmenter.pkl").write_bytes(crafted_pickle(marker))
    code = main(["export", "--config", str(full_run["config"]), "--out", str(out), "-q"])
    assert code == 3
    assert "segmenter.pkl' does not match its metadata" in capsys.readouterr().err
    assert not marker.exists()


def test_short_artefact_key_fails_before_any_work(tmp_path, capsys, key_env, monkeypatch):
    monkeypatch.setenv(ARTEFACT_KEY_ENV, "too-short")
    cfg = fast_config(tmp_path)
    assert main(["run", "--config", str(cfg), "--no-tracking", "-q"]) == 2
    assert "is 9 bytes long; it needs at least 32" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
