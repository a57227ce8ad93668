"""``powerprofile run --engine spark``: the default engine's results, and no key anywhere."""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from pii_scan import leaks

from powerprofile.cli import main
from powerprofile.spark import task_frame

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


def _config(tmp: Path, out: Path) -> Path:
    lines = [
        f"extends: {ROOT / 'configs' / 'default.yaml'}",
        f"output_dir: {out}",
        "progress: false",
        "data:",
        f"  path: {SAMPLE}",
        "features:",
        "  n_training_snapshots: 6",
        "n_threads: 1",
        "models:",
        "  params: {learning_rate: 0.1, early_stopping_rounds: 20, n_jobs: 1}",
        "portraits:",
        f"  tags: {ROOT / 'configs' / 'tags.yaml'}",
        f"  risk_rules: {ROOT / 'configs' / 'risk_rules.yaml'}",
        "export:",
        f"  campaigns: {ROOT / 'configs' / 'campaigns.yaml'}",
        "tracking:",
        "  enabled: false",
    ]
    p = tmp / f"config-{out.name}.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _portraits(out: Path) -> pd.DataFrame:
    single = out / "portraits" / "portraits.parquet"
    files = [single] if single.is_file() else sorted((out / "portraits").glob("part-*.parquet"))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return frame.sort_values("customer_key").reset_index(drop=True).astype(str)


@pytest.fixture(scope="module")
def both_engines(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("engines")
    runs = {}
    for engine in ("local", "spark"):
        out = tmp / f"out-{engine}"
        args = ["run", "--config", str(_config(tmp, out)), "--no-tracking", "-q"]
        assert main([*args, "--engine", engine, "--set", "spark.master=local[2]"]) == 0
        runs[engine] = out
    return runs


def test_spark_engine_gives_the_default_engines_results(both_engines):
    local, spark = both_engines["local"], both_engines["spark"]
    summary = json.loads((spark / "run_summary.json").read_text())
    assert summary["route"] == "spark"
    # portraits as partitioned Parquet: one part per hash partition of the data
    assert sorted(p.name for p in (spark / "portraits").glob("part-*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    # scores, bands, deciles, reasons, segments, tags: every portrait value
    pd.testing.assert_frame_equal(_portraits(local), _portraits(spark))
    names = sorted(p.name for p in (local / "export").iterdir() if not p.name.startswith("."))
    assert "manifest.json" in names and len(names) > 3
    for name in names:  # exports byte for byte, the manifest and its checksums included
        assert (local / "export" / name).read_bytes() == (spark / "export" / name).read_bytes(), (
            name
        )
    for rel in ("models/metrics.csv", "segments/segment_profile.csv", "portraits/risk_hits.csv"):
        assert (local / rel).read_text() == (spark / rel).read_text(), rel
    local_summary = json.loads((local / "run_summary.json").read_text())
    assert summary["training_sample"] == local_summary["training_sample"]


def test_pseudonymisation_key_is_in_no_log_event_log_plan_or_output(
    both_engines, spark, spark_dirs, capfd
):
    import os

    key = os.environ["POWERPROFILE_PSEUDONYM_KEY"].encode()
    # the key reached the executors: the portraits' keys are its keyed hashes
    keys = _portraits(both_engines["spark"])["customer_key"]
    assert keys.str.len().min() > 8

    events = list(spark_dirs["events"].rglob("*"))
    assert any(f.is_file() and f.stat().st_size > 0 for f in events), "no event log written"
    assert spark_dirs["log"].stat().st_size > 0, "no Spark log written"
    for folder in (spark_dirs["root"], both_engines["spark"]):
        assert leaks(folder, {key}) == {}, folder

    # the plan of a task carrying the key names the function, never its closure
    class Task:  # pickled by value, like the portraits task with the key inside
        def __init__(self, secret):
            self.secret = secret

        def __call__(self, p):
            return hashlib.sha256(self.secret + bytes([p])).hexdigest()

    df = task_frame(spark, Task(key), 2)
    df.explain(extended=True)
    plan = capfd.readouterr().out
    assert "MapInArrow" in plan
    assert key.decode() not in plan
    assert len(df.collect()) == 2
