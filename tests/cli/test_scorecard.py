"""`powerprofile scorecard` and the scorecard stage of `run`."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from powerprofile.cli import main

from .conftest import fast_config


def test_run_writes_scorecards_report_section_and_mlflow_metrics(full_run):
    out = full_run["out"]
    assert full_run["code"] == 0
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["outputs"]["scorecards"] == str(out / "scorecards")
    for name in ("scorecard_grid_unit.csv", "weak_links_city.parquet", "cases.csv"):
        assert (out / "scorecards" / name).is_file()
    state = pd.read_parquet(out / "scorecards" / "case_state.parquet")
    assert len(state) and set(state["state"]) == {"new"}  # the first run opens every case
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="scorecards">' in html and "薄弱环节" in html
    import mlflow

    mlflow.set_tracking_uri(full_run["uri"])
    runs = mlflow.search_runs(experiment_names=["cli-tests"])
    assert "metrics.operations.grid_unit.weak_links" in runs.columns
    assert (runs["metrics.operations.cases.new"] == len(state)).any()


def test_scorecard_command_carries_case_states(full_run, tmp_path, capsys, key_env):
    cfg = fast_config(tmp_path, data=full_run["data"])
    out = tmp_path / "out"
    (out / "portraits").mkdir(parents=True)
    shutil.copy(full_run["out"] / "portraits" / "portraits.parquet", out / "portraits")
    assert main(["scorecard", "--config", str(cfg), "-q"]) == 0
    first = pd.read_parquet(out / "scorecards" / "case_state.parquet")
    assert set(first["state"]) == {"new"}
    # the same hits a second time: the cases are carried over, not opened again
    assert main(["scorecard", "--config", str(cfg), "-q"]) == 0
    second = pd.read_parquet(out / "scorecards" / "case_state.parquet")
    assert len(second) == len(first)
    assert set(second["state"]) <= {"open", "overdue"}
    assert "scorecards" in capsys.readouterr().out


@pytest.mark.parametrize("with_org", [True, False])
def test_scorecard_command_on_generated_data_prints_planted_recall(
    tmp_path, capsys, key_env, with_org
):
    from powerprofile.datasets import write_utility_data

    data = write_utility_data(tmp_path / "data", 1500, seed=3, n_partitions=1, progress=False)
    if not with_org:
        (data / "org_units.parquet").unlink()
    cfg = fast_config(tmp_path, data=data)
    assert main(["scorecard", "--config", str(cfg), "-q"]) == 0
    printed = capsys.readouterr().out
    if with_org:
        assert "planted weak links, grid_unit: recall" in printed
        assert (tmp_path / "out" / "scorecards" / "scorecard_service_centre.csv").is_file()
    else:  # derived from region and grid unit: no county or service centre
        assert "planted weak links" not in printed
        assert (tmp_path / "out" / "scorecards" / "scorecard_city.csv").is_file()
        assert not (tmp_path / "out" / "scorecards" / "scorecard_county.csv").exists()


def test_state_dir_and_resolution_records(full_run, tmp_path, key_env):
    cfg = fast_config(tmp_path, data=full_run["data"])
    out = tmp_path / "out"
    (out / "portraits").mkdir(parents=True)
    shutil.copy(full_run["out"] / "portraits" / "portraits.parquet", out / "portraits")
    state = tmp_path / "state"
    assert main(["scorecard", "--config", str(cfg), "--set", f"operations.state_dir={state}"]) == 0
    first = pd.read_parquet(state / "case_state.parquet")
    assert (state / ".powerprofile-output").is_file()  # an owned folder
    (state / "notes.md").write_text("mine", encoding="utf-8")
    done = first.iloc[:2][["case_id"]]
    done.to_csv(tmp_path / "resolved.csv", index=False)
    args = ["--set", f"operations.state_dir={state}"]
    args += ["--set", f"operations.resolutions={tmp_path / 'resolved.csv'}"]
    assert main(["scorecard", "--config", str(cfg), *args]) == 0
    second = pd.read_parquet(state / "case_state.parquet").set_index("case_id")
    assert (second.loc[done["case_id"], "resolved_by"] == "record").all()
    assert (state / "notes.md").read_text(encoding="utf-8") == "mine"  # never touched
