"""The streamed route of ``powerprofile run``: same results as in memory, safe when killed."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerprofile.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
KEY = "51b7b27f5b033332ade522c12c90d1e4cc45bd1b38f29d763a85622401c8d9c4"


def _config(tmp: Path, data: Path, out: Path, **data_keys) -> Path:
    lines = [
        f"extends: {ROOT / 'configs' / 'default.yaml'}",
        f"output_dir: {out}",
        "progress: false",
        "data:",
        f"  path: {data}",
        *(f"  {k}: {v}" for k, v in data_keys.items()),
        "features:",
        "  n_training_snapshots: 6",
        "  n_jobs: 1",
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


def _run(cfg: Path) -> int:
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    try:
        return main(["run", "--config", str(cfg), "--no-tracking", "-q"])
    finally:
        mp.undo()


def _portraits(out: Path) -> pd.DataFrame:
    single = out / "portraits" / "portraits.parquet"
    files = [single] if single.is_file() else sorted((out / "portraits").glob("part-*.parquet"))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    # categories differ per part file; compare the values as text
    return frame.sort_values("customer_key").reset_index(drop=True).astype(str)


def _tree(folder: Path) -> dict:
    """Visible files (not the hidden control files) and their hashes."""
    out = {}
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if f.is_file() and not any(p.startswith(".") for p in rel.parts):
            out[rel.as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def both_routes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routes")
    runs = {}
    for route in ("never", "always"):
        out = tmp / f"out-{route}"
        assert _run(_config(tmp, SAMPLE, out, streaming=route)) == 0
        runs[route] = out
    return runs


def test_streamed_and_in_memory_routes_equal_on_the_sample(both_routes):
    mem, streamed = both_routes["never"], both_routes["always"]
    summary = {r: json.loads((o / "run_summary.json").read_text()) for r, o in both_routes.items()}
    assert summary["never"]["route"] == "in-memory" and summary["always"]["route"] == "streamed"
    # the sample holds two partitions: portraits come as two part files
    assert sorted(p.name for p in (streamed / "portraits").glob("part-*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    a, b = _portraits(mem), _portraits(streamed)
    assert list(a.columns) == list(b.columns)
    # scores, bands and deciles over the whole population, reasons, segments, tags
    pd.testing.assert_frame_equal(a, b)

    # export bytes, file by file (manifest included)
    def listing(folder):  # the hidden control files carry their creation time
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))

    files = listing(mem / "export")
    assert files == listing(streamed / "export")
    for name in files:
        assert (mem / "export" / name).read_bytes() == (streamed / "export" / name).read_bytes(), (
            name
        )
    # model metrics, segment profile, risk-rule hits and the training sample record
    for rel in ("models/metrics.csv", "segments/segment_profile.csv", "portraits/risk_hits.csv"):
        assert (mem / rel).read_text() == (streamed / rel).read_text(), rel
    assert summary["never"]["training_sample"] == summary["always"]["training_sample"]
    assert summary["always"]["training_sample"]["negative_fraction"] == 1.0


_COUNTS = (
    "customers",
    "active_customers",
    "contacting_customers",
    "contacts",
    "payments",
    "complaints",
)


def _assert_kpis_equal(mem: pd.DataFrame, streamed: pd.DataFrame) -> None:
    """Counts exactly, rates within 1e-12 (relative), same keys, order and types."""
    assert list(mem.columns) == list(streamed.columns)
    rates = [c for c in mem.columns if c not in _COUNTS and pd.api.types.is_float_dtype(mem[c])]
    pd.testing.assert_frame_equal(mem.drop(columns=rates), streamed.drop(columns=rates))
    for c in rates:
        np.testing.assert_allclose(mem[c], streamed[c], rtol=1e-12, atol=0, err_msg=c)


@pytest.mark.parametrize("data_start", [None, "2023-10-01"])
def test_streamed_kpis_equal_the_in_memory_kpis(tmp_path, data_start):
    """The report's channel KPIs and payment mix, summed from per-part counts.

    ``data_start`` two months before the first contact: the months are counted
    again from the first month with a contact or payment, as in memory.
    """
    from powerprofile.config import load_config
    from powerprofile.pipeline._stream import read_customers, stream_kpis
    from powerprofile.report import REPORT_GROUPINGS, channel_kpis, payment_channel_mix
    from powerprofile.schema import load_tables

    cfg = load_config(_config(tmp_path, SAMPLE, tmp_path / "o", streaming="always"))
    tables = load_tables(SAMPLE)
    start = data_start or json.loads((SAMPLE / "dataset.json").read_text())["data_start"]
    agg = stream_kpis(cfg, read_customers(cfg), data_start=start, data_end=tables.data_end)
    for by in REPORT_GROUPINGS:
        _assert_kpis_equal(channel_kpis(tables, by=by), channel_kpis(agg, by=by))
    mem, got = payment_channel_mix(tables), payment_channel_mix(agg)
    pd.testing.assert_frame_equal(mem.drop(columns="amount"), got.drop(columns="amount"))
    np.testing.assert_allclose(mem["amount"], got["amount"], rtol=1e-12)
    assert dict(agg.items()).keys() == {"customers", "interactions", "payments", "events"}
    assert len(dict(agg.items())["payments"]) == len(tables.payments)


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    """3,000 customers in 4 parts, run once through ``main`` on the automatic route."""
    from powerprofile.datasets import write_utility_data

    tmp = tmp_path_factory.mktemp("parts")
    data = write_utility_data(tmp / "data", n_customers=3000, n_partitions=4, progress=False)
    out = tmp / "out"
    # auto streams a partitioned folder declaring at least streaming_min_customers
    cfg = _config(tmp, data, out, streaming="auto", streaming_min_customers=2500)
    code = _run(cfg)
    return {"code": code, "data": data, "out": out, "config": cfg, "tmp": tmp}


def test_partitioned_data_runs_end_to_end_streamed(partitioned):
    assert partitioned["code"] == 0
    out = partitioned["out"]
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["route"] == "streamed"
    parts = sorted(p.name for p in (out / "portraits").glob("*.parquet"))
    assert parts == [f"part-{p:05d}.parquet" for p in range(4)]
    portraits = _portraits(out)
    ids = pd.read_parquet(partitioned["data"] / "customers.parquet")["customer_id"]
    assert 0 < len(portraits) <= len(ids)
    assert portraits["customer_key"].is_unique
    # each part holds exactly its partition's customers (keys of that part's ids)
    from powerprofile import partition_of
    from powerprofile.privacy import pseudonymise

    keys = pseudonymise(ids, KEY)
    part_of_key = dict(zip(keys, partition_of(ids, 4), strict=True))
    for p in range(4):
        got = pd.read_parquet(out / "portraits" / f"part-{p:05d}.parquet")["customer_key"]
        assert {part_of_key[k] for k in got} == {p}
    assert (out / "export" / "manifest.json").is_file()
    assert (out / "report.html").is_file()
    assert not list(out.glob(".powerprofile-tmp-*"))  # staging removed once published


def test_killed_streamed_run_leaves_no_partial_output(partitioned):
    """SIGKILL while portraits are written: the previous outputs stay as they were."""
    out = partitioned["out"]
    before = _tree(out)
    assert any(k.startswith("portraits/part-") for k in before)
    env = {**os.environ, "POWERPROFILE_PSEUDONYM_KEY": KEY}
    code = "import sys; from powerprofile.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["run", "--config", str(partitioned["config"]), "--no-tracking", "-q"]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env)
    deadline = time.monotonic() + 120
    killed = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            staged = list(out.glob(".powerprofile-tmp-run-*/portraits/part-*.parquet"))
            if staged:  # the portraits stage has written a part: stop the job dead
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait()
    assert killed, "the run finished before its portraits stage could be interrupted"
    # nothing new is visible; every earlier output is byte for byte the same
    assert _tree(out) == before
    # the next job on the folder clears the dead run's staging and lock and succeeds
    assert _run(partitioned["config"]) == 0
    assert not list(out.glob(".powerprofile-tmp-*"))
    assert sorted(p.name for p in (out / "portraits").glob("*.parquet")) == [
        f"part-{p:05d}.parquet" for p in range(4)
    ]


def test_two_workers_write_part_files_and_return_paths(tmp_path, monkeypatch):
    """``features.n_jobs=2``: the same part files as one worker; only paths come back."""
    import dataclasses

    from powerprofile.config import load_config
    from powerprofile.pipeline._data import plan_snapshots
    from powerprofile.pipeline._stream import stream_features

    cfg = load_config(_config(tmp_path, SAMPLE, tmp_path / "o", streaming="always"))
    snaps, score = plan_snapshots(cfg, pd.Timestamp("2025-12-31"), pd.Timestamp("2024-01-01"))
    got = {}
    for n_jobs in (1, 2):
        c = dataclasses.replace(cfg, features=dataclasses.replace(cfg.features, n_jobs=n_jobs))
        res = stream_features(
            c,
            tmp_path / f"w{n_jobs}",
            snapshots=snaps,
            scoring_snapshot=score,
            fraction=0.5,
            seg_fraction=1.0,
        )
        for r in res["parts"]:
            frames = [k for k, v in r.items() if isinstance(v, pd.DataFrame) and k != "leak"]
            assert frames == []  # the partition's frames stay in its files
        got[n_jobs] = res
    for r1, r2 in zip(got[1]["parts"], got[2]["parts"], strict=True):
        for what in ("train", "score"):
            pd.testing.assert_frame_equal(pd.read_parquet(r1[what]), pd.read_parquet(r2[what]))
    pd.testing.assert_frame_equal(got[1]["leakage"], got[2]["leakage"])
    # the workers ended with the stage: idle, they would hold a partition each
    import psutil

    left = [
        c
        for c in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(c.cmdline())
    ]
    assert left == []


def test_feature_workers_default_to_the_cores_at_most_two(tmp_path, monkeypatch):
    import dataclasses

    from powerprofile.config import load_config
    from powerprofile.pipeline._stream import feature_workers

    cfg = load_config(_config(tmp_path, SAMPLE, tmp_path / "o", streaming="always"))
    auto = dataclasses.replace(cfg, features=dataclasses.replace(cfg.features, n_jobs=None))
    for cores, expected in ((1, 1), (2, 2), (8, 2)):
        monkeypatch.setattr("powerprofile._cores.available_cores", lambda c=cores: c)
        assert feature_workers(auto) == expected
    assert feature_workers(cfg) == 1  # set explicitly: as given


def test_export_command_reads_the_portrait_parts(partitioned):
    """``powerprofile export`` after a streamed run exports its partitioned portraits."""
    out, again = partitioned["out"], partitioned["tmp"] / "re-export"
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)

    def no_load(*a, **k):
        raise AssertionError("the export of portrait parts must not load every table")

    mp.setattr("powerprofile.pipeline.load_data", no_load)
    try:
        args = ["export", "--config", str(partitioned["config"]), "--export-dir", str(again)]
        assert main([*args, "-q"]) == 0
    finally:
        mp.undo()
    campaign_files = sorted(p.name for p in (out / "export").glob("*__*.csv"))
    assert campaign_files
    for name in campaign_files:
        assert (again / name).read_bytes() == (out / "export" / name).read_bytes(), name


def test_streamed_validation_quarantines_each_part_redacted(tmp_path):
    """Bad rows in two parts: one redacted quarantine file per part, no raw id or PII."""
    import shutil

    from powerprofile.config import load_config
    from powerprofile.pipeline import validate_streamed
    from powerprofile.privacy import pseudonymise

    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    planted = {}
    for p, rows in ((0, [3, 10]), (1, [5])):
        f = data / "usage" / f"part-{p:05d}.parquet"
        usage = pd.read_parquet(f)
        usage.loc[rows, "kwh"] = -1.0  # negative readings are set aside
        usage.to_parquet(f, index=False)
        planted[p] = usage.loc[rows, "customer_id"].tolist()

    cfg = load_config(
        _config(tmp_path, data, tmp_path / "o", streaming="always", errors="quarantine")
    )
    from powerprofile.pipeline._stream import local_mapper

    reports = {}
    for n_jobs in (1, 2):  # in this process, and the parts checked by two worker processes
        out = tmp_path / f"stage{n_jobs}"
        mapper = local_mapper(2) if n_jobs == 2 else None
        report = reports[n_jobs] = validate_streamed(cfg, out, KEY, mapper=mapper)
        assert (report["table"] == "usage").any()
        files = sorted((out / "validation" / "quarantine" / "usage").glob("*.parquet"))
        assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet"]
        for p, f in enumerate(files):
            q = pd.read_parquet(f)
            assert "customer_id" not in q.columns
            assert not {"name", "phone", "address"} & set(q.columns)
            assert sorted(q["customer_key"]) == sorted(pseudonymise(planted[p], KEY))
    pd.testing.assert_frame_equal(reports[1], reports[2])
    assert reports[1].loc[reports[1]["table"] == "usage", "n_rows"].sum() == 3


def test_export_reads_the_tag_and_risk_labels_the_dictionary_names(tmp_path):
    """The streamed export reads each tag and risk flag with its labels (the dictionary names them)."""
    from powerprofile.config import load_config
    from powerprofile.pipeline._streamrun import export_columns

    cfg = load_config(_config(tmp_path, SAMPLE, tmp_path / "o", streaming="always"))
    cols = [
        "customer_key",
        "tags",
        "tags_en",
        "tags_zh",
        "risk_flags",
        "risk_flags_en",
        "risk_flags_zh",
        "tag_counter_loyal",
        "churn_reason_1_text_en",
        "address",
    ]
    f = tmp_path / "part.parquet"
    pd.DataFrame({c: ["x"] for c in cols}).to_parquet(f)
    got = set(export_columns(cfg, f))
    assert {"tags", "tags_en", "tags_zh", "risk_flags", "risk_flags_en", "risk_flags_zh"} <= got
    assert "tag_counter_loyal" in got and "address" not in got


def test_parts_checked_by_workers_raise_the_same_named_error(tmp_path):
    """Strict mode: the parts checked by two worker processes give load_tables' error."""
    import shutil

    from powerprofile import load_tables
    from powerprofile.config import load_config
    from powerprofile.exceptions import DataValidationError
    from powerprofile.pipeline import validate_streamed
    from powerprofile.pipeline._stream import local_mapper

    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    f = data / "usage" / "part-00001.parquet"
    usage = pd.read_parquet(f)
    usage.loc[[7], "kwh"] = -2.5
    usage.to_parquet(f, index=False)
    with pytest.raises(DataValidationError) as want:
        load_tables(data)
    assert "usage.kwh: 1 negative value" in str(want.value) and "part-00001" in str(want.value)
    cfg = load_config(_config(tmp_path, data, tmp_path / "o", streaming="always"))
    with pytest.raises(DataValidationError) as got:
        validate_streamed(cfg, tmp_path / "stage", KEY, mapper=local_mapper(2))
    assert str(got.value) == str(want.value)


def test_export_of_a_damaged_portrait_part_names_the_file(tmp_path):
    """A truncated portrait part: a named data error before any export work, no traceback."""
    from powerprofile.config import load_config
    from powerprofile.exceptions import DataValidationError
    from powerprofile.pipeline import export_portrait_parts

    good = tmp_path / "part-00000.parquet"
    pd.DataFrame({"customer_key": ["K0000000000000001"]}).to_parquet(good)
    bad = tmp_path / "part-00001.parquet"
    bad.write_bytes(good.read_bytes()[:40])  # the footer is gone
    cfg = load_config(_config(tmp_path, SAMPLE, tmp_path / "o", streaming="always"))
    with pytest.raises(DataValidationError, match=r"portrait part '.*part-00001\.parquet' is not"):
        export_portrait_parts(cfg, [good, bad], tmp_path / "export", key=KEY)
    assert not (tmp_path / "export").exists()


def test_streamed_scorecards_equal_the_in_memory_ones(both_routes):
    """Indicators per unit, the fair comparison, weak links and cases, on either route.

    The streamed route sums per-part KPI counts by grid unit up each level and the
    quality tallies part by part; the in-memory route counts from the whole tables.
    """
    mem, streamed = both_routes["never"], both_routes["always"]
    for out in (mem, streamed):
        notes = json.loads((out / "run_summary.json").read_text())["notes"]
        assert not [n for n in notes if n.startswith("scorecards")], notes
    names = sorted(p.name for p in (mem / "scorecards").glob("*.parquet"))
    for want in ("indicators", "cases", "drill_down", "early_warnings", "fair_grid_unit"):
        assert f"{want}.parquet" in names, names
    cases = pd.read_parquet(streamed / "scorecards" / "cases.parquet")
    assert len(cases) > 0  # the streamed portraits carry the risk flags the cases read
    assert names == sorted(p.name for p in (streamed / "scorecards").glob("*.parquet"))
    for name in names:
        a = pd.read_parquet(mem / "scorecards" / name)
        b = pd.read_parquet(streamed / "scorecards" / name)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=name)


def test_the_scorecard_command_reads_a_streamed_folder_part_by_part(both_routes, tmp_path):
    """``powerprofile scorecard`` after each route: the same files, without whole tables."""
    import shutil

    got = {}
    for route, out in both_routes.items():
        copy = tmp_path / f"copy-{route}"
        shutil.copytree(out, copy)
        cfg = _config(tmp_path, SAMPLE, copy, streaming=route)
        mp = pytest.MonkeyPatch()
        mp.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
        if route == "always":  # the streamed route never loads the whole tables
            import powerprofile.pipeline as pipeline

            def no_whole_tables(*a, **k):
                raise AssertionError("load_data called on the streamed route")

            mp.setattr(pipeline, "load_data", no_whole_tables)
        try:
            assert main(["scorecard", "--config", str(cfg), "-q"]) == 0
        finally:
            mp.undo()
        got[route] = copy / "scorecards"
    names = sorted(p.name for p in got["never"].glob("*.parquet"))
    assert "cases.parquet" in names and "indicators.parquet" in names
    assert names == sorted(p.name for p in got["always"].glob("*.parquet"))
    for name in names:
        a = pd.read_parquet(got["never"] / name)
        b = pd.read_parquet(got["always"] / name)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=name)
