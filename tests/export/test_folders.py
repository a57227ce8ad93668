"""Output folders: ownership marker, unsafe places, lock, staged publish that keeps foreign files."""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from powerprofile.exceptions import OutputDirBusyError, OutputDirError
from powerprofile.export import MARKER, check_output_path, export_campaigns, output_folder

LOCK = ".powerprofile-lock"


def user_files(folder: Path) -> dict:
    """A user's files in ``folder``; returns what they must still hold afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_text("my numbers", encoding="utf-8")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "notes.md").write_text("# my notes", encoding="utf-8")
    return {"precious.txt": "my numbers", "sub/notes.md": "# my notes"}


def still_there(folder: Path, files: dict) -> bool:
    return all((folder / k).read_text(encoding="utf-8") == v for k, v in files.items())


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_new_folder_is_claimed_with_a_marker(tmp_path):
    with output_folder(tmp_path / "a" / "out") as folder:
        with folder.staging("run") as tmp:
            (tmp / "x.csv").write_text("1", encoding="utf-8")
        assert (tmp_path / "a" / "out" / LOCK).is_file()
    marker = json.loads((tmp_path / "a" / "out" / MARKER).read_text(encoding="utf-8"))
    assert marker["created_by"].startswith("powerprofile ")
    assert marker["created_at"].endswith("Z") and marker["host"] == socket.gethostname()
    assert marker["files"] == {"x.csv": "run"}
    assert listing(tmp_path / "a" / "out") == [MARKER, "x.csv"]


def test_foreign_non_empty_folder_is_refused_and_untouched(tmp_path):
    mine = user_files(tmp_path / "mine")
    before = listing(tmp_path / "mine")
    with pytest.raises(OutputDirError, match=r"is not empty \(2 entries: 'precious.txt', 'sub'\)"):
        with output_folder(tmp_path / "mine"):
            pass
    with pytest.raises(OutputDirError, match="not created by powerprofile"):
        check_output_path(tmp_path / "mine")
    assert listing(tmp_path / "mine") == before and still_there(tmp_path / "mine", mine)
    # an empty folder of yours is fine: it is claimed
    (tmp_path / "empty").mkdir()
    with output_folder(tmp_path / "empty") as folder, folder.staging("run") as tmp:
        (tmp / "a.txt").write_text("a", encoding="utf-8")
    assert listing(tmp_path / "empty") == [MARKER, "a.txt"]


def test_unsafe_places_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "h" / "me").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "h" / "me"))
    with pytest.raises(OutputDirError, match=r"'\.' is the working folder"):
        check_output_path(".")
    with pytest.raises(OutputDirError, match="contains the working folder"):
        check_output_path("..")
    with pytest.raises(OutputDirError, match="is the file-system root"):
        check_output_path("/")
    with pytest.raises(OutputDirError, match="is the home folder"):
        check_output_path("~")
    with pytest.raises(OutputDirError, match="contains the home folder"):
        check_output_path(tmp_path / "h")
    (work / "f.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputDirError, match="is a file"):
        check_output_path("f.txt")
    assert check_output_path("new") == work / "new"
    assert listing(tmp_path) == ["h", "h/me", "work", "work/f.txt"]


def test_publish_replaces_own_files_keeps_foreign_ones(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "models").mkdir()
        (tmp / "models" / "old.csv").write_text("old", encoding="utf-8")
        (tmp / "keep.csv").write_text("v1", encoding="utf-8")
    mine = user_files(out)
    (out / "models" / "mine.md").write_text("mine", encoding="utf-8")
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "keep.csv").write_text("v2", encoding="utf-8")
    assert still_there(out, {**mine, "models/mine.md": "mine", "keep.csv": "v2"})
    assert not (out / "models" / "old.csv").exists()  # the run's own, no longer written
    # another producer's files are not the run's to delete
    with output_folder(out) as folder, folder.staging("export") as tmp:
        (tmp / "e.csv").write_text("e", encoding="utf-8")
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "keep.csv").write_text("v3", encoding="utf-8")
    assert (out / "e.csv").read_text(encoding="utf-8") == "e"
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["files"] == {"e.csv": "export", "keep.csv": "run"}


def test_a_name_taken_by_a_foreign_file_is_refused_before_anything_moves(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "a.csv").write_text("v1", encoding="utf-8")
    (out / "report.html").write_text("my report", encoding="utf-8")
    (out / "models").write_text("a file where the job wants a folder", encoding="utf-8")
    with pytest.raises(OutputDirError, match=r"2 path\(s\) .* \('models', 'report.html'\)"):
        with output_folder(out) as folder, folder.staging("run") as tmp:
            (tmp / "a.csv").write_text("v2", encoding="utf-8")
            (tmp / "report.html").write_text("job", encoding="utf-8")
            (tmp / "models").mkdir()
            (tmp / "models" / "m.bin").write_text("job", encoding="utf-8")
    assert (out / "a.csv").read_text(encoding="utf-8") == "v1"
    assert (out / "report.html").read_text(encoding="utf-8") == "my report"
    assert listing(out) == [MARKER, "a.csv", "models", "report.html"]


def _owned(out: Path) -> None:
    """A folder the job owns, holding ``features/a.csv`` and ``keep.csv``."""
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "features").mkdir()
        (tmp / "features" / "a.csv").write_text("job", encoding="utf-8")
        (tmp / "keep.csv").write_text("job", encoding="utf-8")


@pytest.mark.parametrize("entry", ["../outside.txt", "{abs}", "features/../../outside.txt"])
def test_a_marker_naming_files_outside_its_folder_is_refused(tmp_path, entry):
    # the marker is a claim anyone who can write the folder can forge: it must never
    # make the job delete (or rmdir) anything outside the folder
    out = tmp_path / "out"
    _owned(out)
    victim = tmp_path / "outside.txt"
    victim.write_text("not yours", encoding="utf-8")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    marker["files"][entry.format(abs=victim)] = "run"
    (out / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    with pytest.raises(OutputDirError, match=r"outside the folder .* marker was altered"):
        check_output_path(out)
    with pytest.raises(OutputDirError, match=r"outside the folder"):
        with output_folder(out) as folder, folder.staging("run") as tmp:
            (tmp / "keep.csv").write_text("v2", encoding="utf-8")
    assert victim.read_text(encoding="utf-8") == "not yours"
    assert (out / "keep.csv").read_text(encoding="utf-8") == "job"


def test_a_lock_file_planted_as_a_link_is_never_written_through(tmp_path):
    out = tmp_path / "out"
    _owned(out)
    victim = tmp_path / "passwd"
    victim.write_text("root:x:0:0", encoding="utf-8")
    (out / LOCK).symlink_to(victim)
    with pytest.raises(OutputDirError, match=r"symbolic link"):
        with output_folder(out):
            pass
    assert victim.read_text(encoding="utf-8") == "root:x:0:0"
    assert (out / LOCK).is_symlink()  # the job does not tidy what it did not write


@pytest.mark.parametrize("link", ["features", "keep.csv", "features/a.csv"])
def test_a_link_inside_an_owned_folder_is_refused_before_anything_is_written(tmp_path, link):
    out = tmp_path / "out"
    _owned(out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.csv").write_text("not yours", encoding="utf-8")
    (elsewhere / "keep.csv").write_text("not yours", encoding="utf-8")
    target = out / link
    if target.is_dir():
        for f in target.iterdir():
            f.unlink()
        target.rmdir()
    else:
        target.unlink()
    target.symlink_to(elsewhere if link == "features" else elsewhere / Path(link).name)
    before = listing(out)
    with pytest.raises(OutputDirError, match=rf"1 symbolic link\(s\) \('{link}' -> "):
        check_output_path(out)
    with pytest.raises(OutputDirError, match=r"never writes, moves or deletes through a link"):
        with output_folder(out) as folder, folder.staging("run") as tmp:
            (tmp / "features").mkdir()
            (tmp / "features" / "a.csv").write_text("v2", encoding="utf-8")
            (tmp / "keep.csv").write_text("v2", encoding="utf-8")
    assert listing(out) == before
    assert sorted(p.name for p in elsewhere.iterdir()) == ["a.csv", "keep.csv"]
    assert {p.read_text(encoding="utf-8") for p in elsewhere.iterdir()} == {"not yours"}


def test_failed_job_leaves_no_folder_it_created(tmp_path):
    with pytest.raises(RuntimeError):
        with output_folder(tmp_path / "a" / "b") as folder, folder.staging("run") as tmp:
            (tmp / "x").write_text("x", encoding="utf-8")
            raise RuntimeError("stage failed")
    assert listing(tmp_path) == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError):
        with output_folder(tmp_path / "empty"):
            raise RuntimeError("stage failed")
    assert listing(tmp_path) == ["empty"]


def test_second_holder_fails_fast_naming_the_first(tmp_path):
    out = tmp_path / "out"
    seen = {}

    def other():
        try:
            with output_folder(out):
                seen["got"] = True
        except OutputDirBusyError as exc:
            seen["error"] = str(exc)

    with output_folder(out):
        with output_folder(out):  # the same job may nest
            pass
        t = threading.Thread(target=other)
        t.start()
        t.join(timeout=30)
    assert "got" not in seen
    assert f"output folder {str(out)!r} is in use by another powerprofile job" in seen["error"]
    assert f"pid {os.getpid()} on host {socket.gethostname()!r}, started 20" in seen["error"]
    assert not (out / LOCK).exists()  # released on exit


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_of_a_dead_job_is_taken_over_with_a_warning(tmp_path, caplog):
    out = tmp_path / "out"
    with output_folder(out) as folder, folder.staging("run") as tmp:
        (tmp / "a.csv").write_text("0", encoding="utf-8")
    pid = _dead_pid()
    stale = {"pid": pid, "host": socket.gethostname(), "started_at": "2026-01-01T00:00:00Z"}
    (out / LOCK).write_text(json.dumps({**stale, "command": "powerprofile run"}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="powerprofile"):
        with output_folder(out) as folder, folder.staging("run") as tmp:
            (tmp / "a.csv").write_text("a", encoding="utf-8")
    text = caplog.text
    assert "taking over a stale lock" in text and f"pid {pid} no longer runs" in text
    assert (out / "a.csv").exists() and not (out / LOCK).exists()


def test_lock_held_by_another_process_names_it_then_is_stale_once_killed(tmp_path, caplog):
    out = tmp_path / "out"
    code = (
        "import sys, time\n"
        "from powerprofile.export import output_folder\n"
        "with output_folder(sys.argv[1]):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(OutputDirBusyError, match=f"pid {proc.pid} on host"):
            with output_folder(out):
                pass
    finally:
        proc.kill()  # SIGKILL: no clean-up, the lock file stays
        proc.wait()
    assert (out / LOCK).is_file()
    with caplog.at_level(logging.WARNING, logger="powerprofile"):
        with output_folder(out):
            pass
    assert f"pid {proc.pid} no longer runs" in caplog.text


def test_export_into_folder_keeps_foreign_files(tmp_path, data, campaigns_file):
    customers, portraits = data
    exp = tmp_path / "exp"
    export_campaigns(portraits, exp, campaigns=campaigns_file, customers=customers)
    mine = user_files(exp)
    first = {p.name for p in exp.iterdir()}
    res = export_campaigns(
        portraits, exp, campaigns=campaigns_file, customers=customers, format="parquet"
    )
    assert still_there(exp, mine)
    names = {p.name for p in exp.iterdir()}
    # the csv files of the first export are the job's: replaced by the parquet ones
    assert names == {f["file"] for f in res.manifest["files"]} | {
        "manifest.json",
        "README.txt",
        "data_dictionary.csv",
        MARKER,
        "precious.txt",
        "sub",
    }
    assert "retention__sms.csv" in first and "retention__sms.csv" not in names
    theirs = user_files(tmp_path / "theirs")
    with pytest.raises(OutputDirError, match="export folder .* not created by powerprofile"):
        export_campaigns(portraits, tmp_path / "theirs", campaigns=campaigns_file)
    assert listing(tmp_path / "theirs") == ["precious.txt", "sub", "sub/notes.md"]
    assert still_there(tmp_path / "theirs", theirs)
