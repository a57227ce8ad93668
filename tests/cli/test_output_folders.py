"""Output folders on the command line: foreign files survive, unsafe folders refused, one job at a time."""

import json
import shutil
import socket
import subprocess
import sys

import pytest

from powerprofile.cli import EXIT_CODES, main
from powerprofile.export import MARKER

from .conftest import SAMPLE

pytestmark = pytest.mark.skipif(
    not (SAMPLE / "customers.parquet").exists(), reason="no sample data"
)

REFUSED, BUSY = 7, 8
LOCK = ".powerprofile-lock"


def user_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_text("my numbers", encoding="utf-8")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "notes.md").write_text("# my notes", encoding="utf-8")


def assert_user_files(folder):
    assert (folder / "precious.txt").read_text(encoding="utf-8") == "my numbers"
    assert (folder / "sub" / "notes.md").read_text(encoding="utf-8") == "# my notes"


def tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def no_work(monkeypatch):
    """Make any real work fail loudly: a refused command must stop before it."""

    def boom(*a, **k):
        raise AssertionError("work started")

    import powerprofile.pipeline as pipeline
    import powerprofile.pipeline._run as run

    monkeypatch.setattr(run, "preflight", boom)
    monkeypatch.setattr(run, "load_data", boom)
    monkeypatch.setattr(pipeline, "load_data", boom)


def hold(folder):
    """Another process holding ``folder`` (as a second job would)."""
    code = (
        "import sys, time\n"
        "from powerprofile.export import output_folder\n"
        "with output_folder(sys.argv[1]):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(300)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_exit_codes_are_documented():
    assert "not created by powerprofile" in EXIT_CODES[REFUSED]
    assert "busy" in EXIT_CODES[BUSY]


def test_run_keeps_foreign_files_in_its_folder(full_run, tmp_path, key_env, capsys):
    out = tmp_path / "out"
    shutil.copytree(full_run["out"], out)  # a folder an earlier run wrote
    user_files(out)
    (out / "models" / "mine.md").write_text("in a folder the run rewrites", encoding="utf-8")
    (out / "export" / "mine.csv").write_bytes(b"a,b\r\n")
    code = main(
        [
            "run",
            "--config",
            str(full_run["config"]),
            "--out",
            str(out),
            "--no-tracking",
            "--set",
            "report.enabled=false",
            "-q",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert_user_files(out)
    assert (out / "models" / "mine.md").read_text(encoding="utf-8").startswith("in a folder")
    assert (out / "export" / "mine.csv").read_bytes() == b"a,b\r\n"
    # the run's own outputs are fresh; the report it wrote before and not now is gone
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    assert "report" not in summary["outputs"] and not (out / "report.html").exists()
    assert (out / "export" / "manifest.json").is_file()
    assert not any(p.name.startswith((".powerprofile-tmp", LOCK)) for p in out.rglob("*"))
    files = json.loads((out / MARKER).read_text(encoding="utf-8"))["files"]
    assert "precious.txt" not in files and "models/mine.md" not in files


def test_export_keeps_foreign_files_in_its_folder(full_run, tmp_path, key_env):
    exp = tmp_path / "exp"
    shutil.copytree(full_run["out"] / "export", exp)
    user_files(exp)
    args = ["--config", str(full_run["config"]), "--out", str(full_run["out"]), "-q"]
    assert main(["export", *args, "--export-dir", str(exp)]) == 0
    assert_user_files(exp)
    want = {p.name: p.read_bytes() for p in (full_run["out"] / "export").iterdir()}
    got = {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()}
    del got["precious.txt"]
    for name in (MARKER, "manifest.json", "segment_changes.csv"):  # differ: a previous export
        del want[name], got[name]
    assert got == want
    manifest = json.loads((exp / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous_export_found"] is True


def test_foreign_folder_is_refused_with_its_exit_code(full_run, tmp_path, key_env, capsys, no_work):
    theirs = tmp_path / "theirs"
    user_files(theirs)
    before = tree(theirs)
    cfg = str(full_run["config"])
    for argv in (
        ["run", "--config", cfg, "--out", str(theirs), "--no-tracking", "-q"],
        ["validate", "--config", cfg, "--out", str(theirs), "-q"],
        ["export", "--config", cfg, "--out", str(full_run["out"]), "--export-dir", str(theirs)],
    ):
        assert main(argv) == REFUSED, argv
        err = capsys.readouterr().err
        assert f"{str(theirs)!r} is not empty" in err and "not created by powerprofile" in err
        assert tree(theirs) == before
    assert_user_files(theirs)


def test_working_folder_and_its_ancestors_are_refused_before_any_work(
    full_run, tmp_path, monkeypatch, key_env, capsys, no_work
):
    work = tmp_path / "work"
    user_files(work)
    monkeypatch.chdir(work)
    cfg = str(full_run["config"])
    cases = {
        ("run", "--out", "."): "'.' is the working folder",
        ("run", "--out", ".."): "'..' contains the working folder",
        ("run", "--out", "/"): "is the file-system root",
        ("features", "--out", "."): "'.' is the working folder",
        ("export", "--out", str(full_run["out"]), "--export-dir", "."): "export folder '.'",
        ("sample", "--out", "."): "data folder '.' is the working folder",
    }
    for argv, message in cases.items():
        assert main([*argv, "--config", cfg, "-q"]) == REFUSED, argv
        assert message in capsys.readouterr().err, argv
    assert tree(tmp_path) == ["work", "work/precious.txt", "work/sub", "work/sub/notes.md"]


def test_second_job_on_a_folder_fails_fast_and_a_killed_jobs_lock_is_taken_over(
    full_run, tmp_path, key_env, capsys, monkeypatch
):
    exp = tmp_path / "exp"
    cfg = str(full_run["config"])
    export = ["export", "--config", cfg, "--out", str(full_run["out"]), "--export-dir", str(exp)]
    proc = hold(exp)
    try:
        with monkeypatch.context() as m:
            m.setattr("powerprofile.pipeline._run.load_data", lambda *a, **k: 1 / 0)
            m.setattr("powerprofile.pipeline.load_data", lambda *a, **k: 1 / 0)
            assert main(export) == BUSY
            err = capsys.readouterr().err
            assert f"export folder {str(exp)!r} is in use by another powerprofile job" in err
            assert f"(pid {proc.pid} on host {socket.gethostname()!r}, started 20" in err
            run = ["run", "--config", cfg, "--out", str(exp), "--no-tracking", "-q"]
            assert main(run) == BUSY
            assert f"output folder {str(exp)!r} is in use" in capsys.readouterr().err
        assert tree(exp) == sorted([MARKER, LOCK])
    finally:
        proc.kill()  # SIGKILL: the holder cannot clean up
        proc.wait()
    assert (exp / LOCK).is_file()
    assert main(export) == 0
    err = capsys.readouterr().err
    assert "taking over a stale lock" in err and f"pid {proc.pid} no longer runs" in err
    assert (exp / "manifest.json").is_file() and not (exp / LOCK).exists()


def test_steps_writing_in_place_record_their_files(full_run, tmp_path, key_env):
    out = tmp_path / "v"
    cfg = str(full_run["config"])
    assert main(["validate", "--config", cfg, "--out", str(out), "-q"]) == 0
    user_files(out)
    assert main(["validate", "--config", cfg, "--out", str(out), "-q"]) == 0
    assert_user_files(out)
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["files"] == {"validation/validation_report.csv": "validate"}
    assert tree(out) == sorted(
        [
            MARKER,
            "precious.txt",
            "sub",
            "sub/notes.md",
            "validation",
            "validation/validation_report.csv",
        ]
    )
