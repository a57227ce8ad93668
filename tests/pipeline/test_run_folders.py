"""``run_pipeline`` owns its output folder: refusals come before any work."""

import dataclasses

import pytest

from powerprofile.config import Config
from powerprofile.exceptions import OutputDirError
from powerprofile.pipeline import run_pipeline


def _cfg(tmp_path, out) -> Config:
    cfg = Config()
    # the data folder does not exist: any work would fail with FileNotFoundError first
    data = dataclasses.replace(cfg.data, path=str(tmp_path / "no-data"))
    return dataclasses.replace(cfg, output_dir=str(out), data=data)


def test_foreign_output_folder_refused_before_any_work(tmp_path):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "precious.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputDirError, match="not created by powerprofile"):
        run_pipeline(_cfg(tmp_path, out), progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_working_folder_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputDirError, match="is the working folder"):
        run_pipeline(_cfg(tmp_path, "."), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_run_leaves_no_output_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_pipeline(_cfg(tmp_path, tmp_path / "out"), progress=False)
    assert list(tmp_path.iterdir()) == []
