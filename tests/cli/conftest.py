"""One full CLI run on the sample data, shared by the CLI tests."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
KEY = "51b7b27f5b033332ade522c12c90d1e4cc45bd1b38f29d763a85622401c8d9c4"


def fast_config(tmp: Path, data: Path = SAMPLE, **extra) -> Path:
    """A config extending the defaults with a smaller, quicker job on the sample."""
    lines = [
        f"extends: {ROOT / 'configs' / 'default.yaml'}",
        f"output_dir: {tmp / 'out'}",
        "data:",
        f"  path: {data}",
        "features:",
        "  n_training_snapshots: 8",
        "n_threads: 1",
        "models:",
        "  params: {learning_rate: 0.1, early_stopping_rounds: 20, n_jobs: 1}",
        "portraits:",
        f"  tags: {ROOT / 'configs' / 'tags.yaml'}",
        f"  risk_rules: {ROOT / 'configs' / 'risk_rules.yaml'}",
        "export:",
        f"  campaigns: {ROOT / 'configs' / 'campaigns.yaml'}",
        "tracking:",
        "  experiment: cli-tests",
    ]
    for k, v in extra.items():
        lines.append(f"{k}: {v}")
    p = tmp / "config.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory):
    """A private copy of the committed sample (the tests read back exactly what the run saw)."""
    return copy_sample(tmp_path_factory.mktemp("sample") / "data")


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, sample_data):
    """``powerprofile run`` through ``main`` with tracking to a temporary SQLite store."""
    from powerprofile.cli import main

    mp = pytest.MonkeyPatch()
    mp.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    tmp = tmp_path_factory.mktemp("cli-run")
    mp.chdir(tmp)
    cfg = fast_config(tmp, data=sample_data)
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    code = main(["run", "--config", str(cfg), "--tracking-uri", uri, "-q"])
    mp.undo()
    return {
        "code": code,
        "tmp": tmp,
        "out": tmp / "out",
        "config": cfg,
        "uri": uri,
        "data": sample_data,
    }


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)


def copy_sample(dst: Path, drop=(), src: Path = SAMPLE) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*drop))
    return dst
