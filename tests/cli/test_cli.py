"""The ``powerprofile`` command: full run on the sample, subcommands, errors and exit codes."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerprofile.cli import EXIT_CODES, main
from powerprofile.export import MARKER, read_frame

from .conftest import KEY, ROOT, SAMPLE, copy_sample, fast_config

pytestmark = pytest.mark.skipif(
    not (SAMPLE / "customers.parquet").exists(), reason="no sample data"
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_every_subcommand_and_exit_code(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in (
        "sample",
        "validate",
        "features",
        "train",
        "score",
        "segment",
        "export",
        "report",
        "run",
        "scorecard",
    ):
        assert cmd in out
        assert main([cmd, "--help"]) == 0
        sub = capsys.readouterr().out
        assert "--config" in sub and "--set" in sub and "--quiet" in sub and "exit codes" in sub
    for code in EXIT_CODES:
        assert f"  {code} " in out


def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys; from powerprofile.cli import main; main(['run', '--help']); "
        "heavy = [m for m in ('mlflow', 'lightgbm', 'shap', 'sklearn', 'pandas') if m in sys.modules]; "
        "print('HEAVY', heavy)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in res.stdout, res.stdout[-500:]


def test_full_run_writes_every_output(full_run):
    assert full_run["code"] == 0
    out = full_run["out"]
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    for name in (
        "config",
        "validation",
        "training_frame",
        "scoring_frame",
        "feature_catalog",
        "leakage_report",
        "metrics",
        "plots",
        "segment_profile",
        "portraits",
        "export",
        "report",
    ):
        assert Path(summary["outputs"][name]).exists(), name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and '<svg class="chart"' in html
    for t in ("churn", "complaint"):
        saved = (out / "models" / t / "config.resolved.yaml").read_text(encoding="utf-8")
        assert saved == (out / "config.resolved.yaml").read_text(encoding="utf-8")
    # features: 8 monthly training snapshots ending 2025-10-01 (horizon 90 d, data end 2025-12-31)
    train = pd.read_parquet(out / "features" / "training.parquet")
    snaps = sorted(train.index.get_level_values("snapshot_date").unique())
    assert snaps == list(pd.date_range("2025-03-01", "2025-10-01", freq="MS"))
    assert {"label_churn", "label_complaint"} <= set(train.columns)
    score = pd.read_parquet(out / "features" / "scoring.parquet")
    assert set(score.index.get_level_values("snapshot_date")) == {pd.Timestamp("2026-01-01")}
    customers = pd.read_parquet(full_run["data"] / "customers.parquet")
    assert len(score) <= len(customers)
    # metrics of each model and its baseline, probabilities in range
    metrics = pd.read_csv(out / "models" / "metrics.csv")
    assert set(zip(metrics.target, metrics.scorer, strict=True)) == {
        ("churn", "model"),
        ("churn", "logistic_baseline"),
        ("complaint", "model"),
        ("complaint", "logistic_baseline"),
    }
    assert metrics["roc_auc"].between(0, 1).all() and metrics["brier"].between(0, 1).all()
    for t in ("churn", "complaint"):
        for plot in ("gains", "calibration", "shap_summary"):
            assert (out / "models" / "plots" / f"{t}_{plot}.png").stat().st_size > 1000
    # portraits: one row per scored customer, pseudonymised, scores are probabilities
    portraits = pd.read_parquet(out / "portraits" / "portraits.parquet")
    assert len(portraits) == len(score)
    assert portraits["customer_key"].is_unique
    assert not {"customer_id", "name", "phone", "address"} & set(portraits.columns)
    raw_ids = set(customers["customer_id"].astype(str))
    assert not portraits["customer_key"].astype(str).isin(raw_ids).any()
    assert portraits["churn_score"].between(0, 1).all()
    profile = pd.read_csv(out / "segments" / "segment_profile.csv", encoding="utf-8-sig")
    assert len(profile) >= 2
    # the resolved config records the overrides
    assert "experiment: cli-tests" in (out / "config.resolved.yaml").read_text(encoding="utf-8")


def test_full_run_writes_the_stage_log(full_run):
    out = full_run["out"]
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    log_path = Path(summary["outputs"]["stage_log"])
    assert log_path == out / "stages.jsonl"
    events = [json.loads(x) for x in log_path.read_text(encoding="utf-8").splitlines()]
    stages = ["validate", "features", "train", "segment", "portraits", "tracking", "export"]
    assert [e["stage"] for e in events] == [*stages, "scorecards", "report"]
    for prev, e in zip(events, events[1:], strict=False):
        assert prev["end"] == e["start"] <= e["end"]
    for e in events:  # the summary shows the same times to 0.1 s
        assert abs(e["seconds"] - summary["stage_seconds"][e["stage"]]) <= 0.05 + 1e-9


def test_export_content_and_manifest(full_run):
    out = full_run["out"] / "export"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["snapshot_date"] == "2026-01-01"
    assert set(manifest["model_versions"]) >= {"churn", "complaint"}
    portraits = pd.read_parquet(full_run["out"] / "portraits" / "portraits.parquet").set_index(
        "customer_key"
    )
    customers = pd.read_parquet(full_run["data"] / "customers.parquet")
    from powerprofile.privacy import pseudonymise

    customers.index = pseudonymise(customers["customer_id"], KEY).to_numpy()
    seen = []
    for f in manifest["files"]:
        path = out / f["file"]
        import hashlib

        assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
        df = read_frame(path)
        assert len(df) == f["rows"]
        if f["channel"] is None:
            continue
        if f["format"] == "csv":
            assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        keys = df["customer_key"].astype(str)
        assert keys.isin(portraits.index).all()
        seen.append(keys)
        score_col = [c for c in df.columns if c.endswith("_score")][0]
        assert np.allclose(df[score_col], portraits.loc[keys, score_col].round(6), atol=1e-6)
        # highest first by the campaign's ranking columns (its score unless rank_by says)
        ranking = {c["campaign"]: c for c in manifest["campaigns"]}[f["campaign"]]["rank_by"]
        ranked = list(zip(*(df[c].astype(float) for c in ranking), strict=True))
        assert ranked == sorted(ranked, reverse=True), f["file"]
        ch = f["channel"]
        c = customers.loc[keys]
        if ch == "sms":
            assert c["phone"].notna().all() and not c["sms_opt_out"].any()
        if ch == "app_push":
            assert c["app_user"].all()
        if ch == "wechat":
            assert c["wechat_bound"].all()
    everyone = pd.concat(seen)
    assert len(everyone) > 0  # the checks above ran on real rows
    assert everyone.is_unique  # frequency cap 1 across campaigns


def test_no_raw_pii_in_any_export_byte(full_run):
    customers = pd.read_parquet(full_run["data"] / "customers.parquet")
    raw = set(customers["customer_id"].dropna())
    for col in ("name", "phone", "address"):
        if col in customers.columns:
            raw |= {v for v in customers[col].dropna() if len(v) >= 2}
    files = [p for p in (full_run["out"] / "export").rglob("*") if p.is_file()]
    assert files
    for p in files:
        blob = p.read_bytes()
        texts = [blob]
        if p.suffix == ".parquet":
            texts.append(pd.read_parquet(p).to_csv(index=False).encode("utf-8"))
        for text in texts:
            hits = [v for v in raw if v.encode("utf-8") in text]
            assert not hits, f"{p.name} contains raw PII, e.g. {hits[:3]!r}"


def test_mlflow_run_logged_and_model_scored_from_registry(full_run, tmp_path, key_env):
    import mlflow

    client = mlflow.MlflowClient(full_run["uri"])
    exp = client.get_experiment_by_name("cli-tests")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    # the logged metrics are the holdout metrics the run wrote to models/metrics.csv
    written = pd.read_csv(full_run["out"] / "models" / "metrics.csv").set_index(
        ["target", "scorer"]
    )
    for t in ("churn", "complaint"):
        assert 0 <= run.data.metrics[f"{t}.roc_auc"] <= 1
        assert run.data.metrics[f"{t}.roc_auc"] == pytest.approx(
            written.loc[(t, "model"), "roc_auc"], rel=1e-9
        )
        assert run.data.metrics[f"{t}_baseline.roc_auc"] == pytest.approx(
            written.loc[(t, "logistic_baseline"), "roc_auc"], rel=1e-9
        )
    assert run.data.params["data.rows.customers"] == str(
        len(pd.read_parquet(full_run["data"] / "customers.parquet"))
    )
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "config.yaml",
        "data_fingerprint.json",
        "features",
        "leakage",
        "plots",
        "segments",
    } <= arts
    # score the scoring frame from the registry; same numbers as the portraits
    code = main(
        [
            "score",
            "--config",
            str(full_run["config"]),
            "--out",
            str(tmp_path / "o"),
            "-q",
            "--tracking-uri",
            full_run["uri"],
            "--features",
            str(full_run["out"] / "features" / "scoring.parquet"),
            "--model",
            "churn=models:/powerprofile-churn@candidate",
            "--set",
            "models.top_k_reasons=0",
        ]
    )
    assert code == 0
    scores = pd.read_parquet(tmp_path / "o" / "scores" / "scores.parquet").set_index("customer_key")
    portraits = pd.read_parquet(full_run["out"] / "portraits" / "portraits.parquet").set_index(
        "customer_key"
    )
    np.testing.assert_allclose(
        scores.loc[portraits.index, "churn_score"], portraits["churn_score"], rtol=1e-9
    )


@pytest.mark.slow
def test_installed_script_reexports_identical_bytes(full_run, tmp_path):
    """The console script, in a fresh process: re-export the run's portraits -> same bytes."""
    script = Path(sys.executable).with_name("powerprofile")
    env = dict(os.environ, POWERPROFILE_PSEUDONYM_KEY=KEY)
    res = subprocess.run(
        [
            str(script),
            "export",
            "--config",
            str(full_run["config"]),
            "--out",
            str(full_run["out"]),
            "--export-dir",
            str(tmp_path / "again"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"export: {tmp_path / 'again'}" in res.stdout
    first = {
        p.name: p.read_bytes() for p in (full_run["out"] / "export").iterdir() if p.name != MARKER
    }
    again = {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir() if p.name != MARKER}
    assert first == again


def test_train_is_reproducible(full_run, tmp_path, key_env):
    """Same data, config and seed: the same metrics (retraining the churn model only)."""
    code = main(
        [
            "train",
            "--config",
            str(full_run["config"]),
            "--out",
            str(tmp_path / "o"),
            "-q",
            "--no-tracking",
            "--features",
            str(full_run["out"] / "features" / "training.parquet"),
            "--set",
            "models.targets=[churn]",
        ]
    )
    assert code == 0
    a = pd.read_csv(full_run["out"] / "models" / "metrics.csv")
    b = pd.read_csv(tmp_path / "o" / "models" / "metrics.csv")
    pd.testing.assert_frame_equal(a[a.target == "churn"].reset_index(drop=True), b)


def test_bad_config_exits_2_before_any_work(tmp_path, capsys, sample_data):
    cfg = fast_config(tmp_path, data=sample_data, sede=1)
    assert main(["run", "--config", str(cfg), "--no-tracking", "-q"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'sede'" in err and str(cfg) in err
    assert not (tmp_path / "out").exists()
    assert main(["validate", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                "--config",
                str(fast_config(tmp_path)),
                "--set",
                "labels.horizon_days=soon",
                "-q",
            ]
        )
        == 2
    )
    assert "'labels.horizon_days'" in capsys.readouterr().err
    assert main(["run", "--bogus-flag"]) == 2
    assert not (tmp_path / "out").exists()


def test_missing_table_exits_3_without_output(tmp_path, capsys, key_env, sample_data):
    data = copy_sample(tmp_path / "data", drop=("usage",), src=sample_data)
    cfg = fast_config(tmp_path)
    assert main(["run", "--config", str(cfg), "--data", str(data), "--no-tracking", "-q"]) == 3
    err = capsys.readouterr().err
    assert "usage" in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "data"]
    assert main(["validate", "--config", str(cfg), "--data", str(tmp_path / "nowhere"), "-q"]) == 3


def test_unreachable_tracking_server_exits_4_without_output(tmp_path, capsys, key_env, sample_data):
    cfg = fast_config(tmp_path, data=sample_data)
    uri = f"http://127.0.0.1:{closed_port()}"
    assert main(["run", "--config", str(cfg), "--tracking-uri", uri, "-q"]) == 4
    err = capsys.readouterr().err
    assert f"tracking server '{uri}' is unreachable" in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_validate_and_segment_subcommands(full_run, tmp_path, capsys, key_env):
    cfg = str(full_run["config"])
    assert main(["validate", "--config", cfg, "--out", str(tmp_path / "v"), "-q"]) == 0
    assert (tmp_path / "v" / "validation" / "validation_report.csv").exists()
    assert (
        main(
            [
                "segment",
                "--config",
                cfg,
                "--out",
                str(tmp_path / "s"),
                "-q",
                "--features",
                str(full_run["out"] / "features" / "scoring.parquet"),
            ]
        )
        == 0
    )
    assign = pd.read_parquet(tmp_path / "s" / "segments" / "assignments.parquet")
    portraits = pd.read_parquet(full_run["out"] / "portraits" / "portraits.parquet")
    merged = assign.merge(
        portraits[["customer_key", "segment_id"]], on="customer_key", suffixes=("", "_run")
    )
    assert len(merged) == len(portraits)
    assert (merged["segment_id"].astype(int) == merged["segment_id_run"].astype(int)).all()
    out = capsys.readouterr().out
    assert "segment profile:" in out


def test_export_interrupted_keeps_previous(full_run, tmp_path, monkeypatch, key_env):
    import shutil

    from powerprofile.export import _export

    shutil.copytree(full_run["out"] / "export", tmp_path / "export")
    before = {p.name: p.read_bytes() for p in (tmp_path / "export").iterdir()}

    def boom(*a, **k):
        raise OSError("killed mid-write")

    monkeypatch.setattr(_export, "write_frame", boom)
    code = main(
        [
            "export",
            "--config",
            str(full_run["config"]),
            "--out",
            str(full_run["out"]),
            "--export-dir",
            str(tmp_path / "export"),
            "-q",
        ]
    )
    assert code == 5
    after = {p.name: p.read_bytes() for p in (tmp_path / "export").iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_root_of_repo_default_config_is_used(monkeypatch, tmp_path, capsys):
    # run from the repository root: configs/default.yaml is picked up without --config
    monkeypatch.chdir(ROOT)
    assert main(["validate", "--set", "sede=1"]) == 2
    assert "'sede'" in capsys.readouterr().err


def test_sample_writes_a_loadable_data_set(tmp_path, capsys):
    from powerprofile.schema import load_tables

    assert (
        main(["sample", "--customers", "40", "--seed", "3", "--out", str(tmp_path / "d"), "-q"])
        == 0
    )
    assert f"sample data: {tmp_path / 'd'}" in capsys.readouterr().out
    tables = load_tables(tmp_path / "d")
    assert len(tables.customers) == 40
    info = json.loads((tmp_path / "d" / "dataset.json").read_text(encoding="utf-8"))
    assert (info["n_customers"], info["seed"]) == (40, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers must be a positive integer, got 0"),
        (["--partitions", "0"], "--partitions must be a positive integer, got 0"),
        (["--end", "9999-12-31"], "covers 2023-2027"),
        (["--start", "2025-12-31", "--end", "2024-01-01"], "too short"),
        (["--start", "someday"], "sample: "),
    ],
)
def test_bad_sample_options_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    code = main(["sample", "--customers", "10", *args, "--out", str(tmp_path / "d"), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert not (tmp_path / "d").exists()


def test_sample_replaces_only_a_data_set_it_generated(tmp_path, capsys):
    def sample(out) -> int:
        return main(["sample", "--customers", "20", "--out", str(out), "-q"])

    gen = tmp_path / "gen"
    assert sample(gen) == 0 and sample(gen) == 0  # its own data set: replaced
    # a generated data set holding a file of yours: refused, nothing deleted
    (gen / "precious.txt").write_text("my numbers", encoding="utf-8")
    (gen / "usage" / "notes.md").write_text("# my notes", encoding="utf-8")
    before = sorted(p.relative_to(gen).as_posix() for p in gen.rglob("*"))
    capsys.readouterr()
    assert sample(gen) == 7
    err = capsys.readouterr().err
    assert "2 foreign entries: 'precious.txt', 'usage/notes.md'" in err
    assert "nothing was deleted" in err
    assert sorted(p.relative_to(gen).as_posix() for p in gen.rglob("*")) == before
    # your own data set, with a dataset.json the generator did not write: refused
    real = tmp_path / "real"
    real.mkdir()
    (real / "dataset.json").write_text('{"schema_version": "1.0"}', encoding="utf-8")
    (real / "customers.parquet").write_bytes(b"PAR1 real customers")
    assert sample(real) == 7
    assert "not written by the generator" in capsys.readouterr().err
    assert (real / "customers.parquet").read_bytes() == b"PAR1 real customers"


def test_score_local_model_with_reasons_matches_portraits(full_run, tmp_path, key_env, capsys):
    code = main(
        [
            "score",
            "--config",
            str(full_run["config"]),
            "--out",
            str(tmp_path / "o"),
            "-q",
            "--features",
            str(full_run["out"] / "features" / "scoring.parquet"),
            "--model",
            str(full_run["out"] / "models" / "complaint"),
        ]
    )
    assert code == 0
    scores = pd.read_parquet(tmp_path / "o" / "scores" / "scores.parquet").set_index("customer_key")
    portraits = pd.read_parquet(full_run["out"] / "portraits" / "portraits.parquet").set_index(
        "customer_key"
    )
    p = portraits.loc[scores.index]
    np.testing.assert_allclose(scores["complaint_score"], p["complaint_score"], rtol=1e-9)
    assert (scores["complaint_reason_1_feature"] == p["complaint_reason_1_feature"]).all()
    assert scores["complaint_reason_1_text_zh"].str.len().gt(0).all()
    # a frame without one of the model's features is refused, naming it
    frame = pd.read_parquet(full_run["out"] / "features" / "scoring.parquet")
    dropped = frame.columns[0]
    frame.drop(columns=dropped).to_parquet(tmp_path / "bad.parquet")
    capsys.readouterr()
    code = main(
        [
            "score",
            "--config",
            str(full_run["config"]),
            "--out",
            str(tmp_path / "o2"),
            "-q",
            "--features",
            str(tmp_path / "bad.parquet"),
            "--model",
            str(full_run["out"] / "models" / "complaint"),
        ]
    )
    assert code == 3
    assert repr(dropped) in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


def test_validate_strict_fails_and_quarantine_sets_rows_aside(tmp_path, capsys, sample_data):
    data = copy_sample(tmp_path / "data", src=sample_data)
    part = sorted((data / "usage").glob("part-*.parquet"))[0]
    usage = pd.read_parquet(part)
    usage.loc[usage.index[:3], "kwh"] = -5.0  # three absurd readings
    usage.to_parquet(part, index=False)
    cfg = fast_config(tmp_path)
    assert (
        main(
            [
                "validate",
                "--config",
                str(cfg),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "strict"),
                "-q",
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert "usage" in err and "kwh" in err
    assert not (tmp_path / "strict").exists()
    assert (
        main(
            [
                "validate",
                "--config",
                str(cfg),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "lenient"),
                "--errors",
                "quarantine",
                "-q",
            ]
        )
        == 0
    )
    q = pd.read_parquet(tmp_path / "lenient" / "validation" / "quarantine" / "usage.parquet")
    assert len(q) == 3 and (q["kwh"] == -5.0).all()
    captured = capsys.readouterr()
    assert "quarantined 3 usage rows" in captured.out
    # the operator is warned even with --quiet: those rows are missing from every result
    assert (
        "powerprofile: WARNING: 3 input rows failed validation and were set aside "
        "(data.errors='quarantine': usage 3)"
    ) in captured.err


def test_features_report_and_export_rebuilding_portraits(full_run, tmp_path, key_env, capsys):
    import shutil

    cfg = str(full_run["config"])
    # features: only the scoring frame, identical to the run's
    assert (
        main(["features", "--config", cfg, "--out", str(tmp_path / "f"), "--no-training", "-q"])
        == 0
    )
    a = pd.read_parquet(tmp_path / "f" / "features" / "scoring.parquet")
    b = pd.read_parquet(full_run["out"] / "features" / "scoring.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert not (tmp_path / "f" / "features" / "training.parquet").exists()
    # report from the run's outputs
    assert (
        main(
            [
                "report",
                "--config",
                cfg,
                "--out",
                str(full_run["out"]),
                "--output",
                str(tmp_path / "r.html"),
                "-q",
            ]
        )
        == 0
    )
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<svg class="chart"' in html and "Model performance" in html
    # export without portraits: they are rebuilt from models, segmenter and features -> same files
    out = tmp_path / "o"
    shutil.copytree(full_run["out"], out, ignore=shutil.ignore_patterns("portraits", "export"))
    assert main(["export", "--config", cfg, "--out", str(out), "-q"]) == 0
    assert (out / "portraits" / "portraits.parquet").exists()
    first = {
        p.name: p.read_bytes() for p in (full_run["out"] / "export").iterdir() if p.name != MARKER
    }
    again = {p.name: p.read_bytes() for p in (out / "export").iterdir() if p.name != MARKER}
    assert first == again


def test_a_copied_config_folder_resolves_its_paths_from_its_own_folder(
    tmp_path, monkeypatch, capsys, key_env
):
    # the shipped configs copied into a job folder anywhere, run from an unrelated folder
    job = tmp_path / "job"
    shutil.copytree(ROOT / "configs", job / "configs")
    (job / "data").mkdir()
    (job / "data" / "sample").symlink_to(SAMPLE, target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code = main(["validate", "--config", "../job/configs/demo.yaml", "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # output_dir: ../out/demo and data.path: ../data/sample, from job/configs/
    assert (job / "out" / "demo" / "validation" / "validation_report.csv").is_file()
    assert "validation report: ../job/out/demo/validation/validation_report.csv" in captured.out
    assert list(elsewhere.iterdir()) == []
