"""Errors surface before any work, with the documented exit code and the key or path."""

import errno
import re
import warnings
from pathlib import Path

import pytest

from powerprofile.cli import EXIT_CODES, main

from .conftest import KEY, ROOT, fast_config


def _commands() -> dict:
    """The subcommand table (imported late: the package's ``__all__`` test runs first)."""
    from powerprofile.cli._commands import COMMANDS

    return COMMANDS


BAD = [
    ("features.windows", "[100000000]", "'features.windows[0]'", "from 1 to 3660 days"),
    ("seed", "1e29", "'seed'", "an integer from 0 to 4294967295"),
    ("labels.horizon_days", "1e12", "'labels.horizon_days'", "from 1 to 3660 days"),
    ("tracking.timeout_seconds", ".inf", "'tracking.timeout_seconds'", "finite number"),
    ("data.data_end", "20251231", "'data.data_end'", "'2025-12-31'"),
]


@pytest.mark.parametrize(("key", "value", "named", "allowed"), BAD)
def test_bad_value_in_an_override_exits_2_before_any_work(
    tmp_path, capsys, key, value, named, allowed
):
    cfg = fast_config(tmp_path)
    code = main(["run", "--config", str(cfg), "--set", f"{key}={value}", "--no-tracking", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    # the override is named as typed, and the config file it overrode is not blamed
    assert named in err and allowed in err and f"(set by --set {key}={value})" in err
    assert str(cfg) not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("key", "value", "named", "allowed"), BAD)
def test_bad_value_in_a_config_file_exits_2_before_any_work(
    tmp_path, capsys, key, value, named, allowed
):
    section, _, name = key.rpartition(".")
    cfg = fast_config(tmp_path)
    text = cfg.read_text(encoding="utf-8")
    block = f"{section}:\n  {name}: {value}\n" if section else f"{name}: {value}\n"
    if section and f"\n{section}:\n" in text:  # add to the existing section
        text = text.replace(f"\n{section}:\n", f"\n{block}", 1)
    else:
        text += block
    cfg.write_text(text, encoding="utf-8")
    code = main(["run", "--config", str(cfg), "--no-tracking", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err and allowed in err and str(cfg) in err
    assert not (tmp_path / "out").exists()


def test_alias_bomb_exits_2_naming_the_file(tmp_path, capsys):
    levels = ["    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"    {x}: &{x} [{', '.join([f'*{p}'] * 9)}]"
        for p, x in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("models:\n  params:\n" + "\n".join(levels) + "\n", encoding="utf-8")
    assert bomb.stat().st_size < 700
    assert main(["run", "--config", str(bomb), "--no-tracking", "-q"]) == 2
    err = capsys.readouterr().err
    assert f"config file {str(bomb)!r} is refused" in err
    assert "aliases" in err and "expand to more than 10,000 values" in err


PARAMS = [
    ("run", "models.params.__class__=1", "PropensityModel has no parameter '__class__'"),
    ("run", "models.params.learnin_rate=0.1", "(did you mean 'learning_rate'?)"),
    ("run", "models.params.horizon_days=3", "'horizon_days' itself (from labels.horizon_days)"),
    ("run", "segmentation.params.n_cluster=3", "(did you mean 'n_clusters'?)"),
    (
        "run",
        "portraits.params.key=x",
        "config key 'portraits.params.key' (set by --set portraits.params.key=x) has the value 'x': it cannot be set",
    ),
    ("run", "portraits.params.bands=[1e308]", "'portraits.params.bands': bands must be"),
    ("run", "portraits.params.bands={churn: {high: 0.1, medium: 0.5}}", "high >= medium"),
    ("run", "report.params.foo=1", "write_report has no parameter 'foo'"),
    ("train", "models.params.__class__=1", "config key 'models.params.__class__' (set by"),
    ("segment", "segmentation.params.x=1", "CustomerSegmenter has no parameter 'x'"),
    (
        "report",
        "report.params.tables=x",
        "config key 'report.params.tables' (set by --set report.params.tables=x) has the value 'x': it cannot be set",
    ),
]


@pytest.mark.parametrize(("command", "override", "message"), PARAMS)
def test_params_a_step_cannot_take_exit_2_before_any_work(
    tmp_path, capsys, monkeypatch, command, override, message
):
    # <section>.params are keyword arguments: a name the callee does not take, or one the
    # job passes itself, used to stop the job late (exit 1) after training
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)

    def boom(*a, **k):
        raise AssertionError("work started")

    import powerprofile.pipeline as pipeline
    import powerprofile.pipeline._run as run

    monkeypatch.setattr(run, "load_data", boom)
    monkeypatch.setattr(pipeline, "load_data", boom)
    monkeypatch.setattr(pipeline, "segment_customers", boom)
    cfg = fast_config(tmp_path)
    args = [command, "--config", str(cfg), "--set", override, "-q"]
    code = main([*args, "--no-tracking"] if command in ("run", "train") else args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err


def test_a_huge_value_is_not_echoed_whole(tmp_path, capsys):
    cfg = fast_config(tmp_path)
    code = main(["validate", "--config", str(cfg), "--set", "seed=" + "1" * 120_000, "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err) < 2_200, len(err)
    assert "config key 'seed'" in err and "characters left out" in err
    assert err.rstrip().endswith("fix the value in the file or the override.")


# ------------------------------------------------------------------ the file system


def test_output_under_a_regular_file_exits_6_naming_the_path(tmp_path, capsys):
    blocker = tmp_path / "somefile"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "sub"
    code = main(["sample", "--customers", "5", "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 6, err
    assert EXIT_CODES[6].startswith("file system error")
    assert re.search(rf"cannot use '{re.escape(str(out))}[^']*': a part of it is a file", err)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/out/models"),
            "cannot use '/srv/out/models': permission denied",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out"),
            "cannot use '/mnt/ro/out': the file system is read-only",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/out/features/part-0.parquet"),
            "cannot use '/data/out/features/part-0.parquet': no space left on the device",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "/srv/out/report.html"),
            "cannot use '/srv/out/report.html': it is a folder where a file was expected",
        ),
        (
            FileExistsError(errno.EEXIST, "File exists", "/srv/out.tmp", None, "/srv/out"),
            "cannot use '/srv/out.tmp -> /srv/out': it already exists",
        ),
        (
            OSError(errno.EIO, "Input/output error", "/srv/out/x"),
            "cannot use '/srv/out/x': Input/output error; check the path and the disk",
        ),
        (
            OSError("Cannot save file into a non-existent directory: '/srv/gone'"),
            "file system error (Cannot save file into a non-existent directory: '/srv/gone')",
        ),
        (  # pyarrow on a full disk names no file: the output folder is named instead
            OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28]"),
            "file system error ([Errno 28] Error writing bytes to file. Detail: [errno 28]) "
            "while writing under '{out}'; no space left on the device",
        ),
    ],
)
def test_filesystem_errors_exit_6_naming_the_path(tmp_path, capsys, monkeypatch, exc, expected):
    def fail(cfg, args):
        raise exc

    monkeypatch.setitem(_commands(), "validate", fail)
    assert main(["validate", "--config", str(fast_config(tmp_path)), "-q"]) == 6
    expected = expected.replace("{out}", str(tmp_path / "out"))
    assert f"powerprofile: error: {expected}" in capsys.readouterr().err


def test_network_errors_are_not_called_file_system_errors(tmp_path, capsys, monkeypatch):
    def fail(cfg, args):
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    monkeypatch.setitem(_commands(), "validate", fail)
    assert main(["validate", "--config", str(fast_config(tmp_path)), "-q"]) == 1
    assert "internal error: ConnectionRefusedError" in capsys.readouterr().err


def test_missing_input_keeps_exit_3(tmp_path, capsys):
    cfg = fast_config(tmp_path, data=tmp_path / "nowhere")
    assert main(["validate", "--config", str(cfg), "-q"]) == 3
    assert "nowhere" in capsys.readouterr().err


def test_every_exit_code_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for code in EXIT_CODES:
        assert re.search(rf"^\|\s*{code}\s*\|", doc, re.M), f"exit code {code} not in docs/cli.md"


# ------------------------------------------------------------------ warnings


def _warning_command(cfg, args):
    """Warnings as powerprofile's modules and a third-party library raise them."""
    import powerprofile.models._split as ours

    for _ in range(3):  # the same message three times: shown once
        warnings.warn_explicit(
            "purging would leave no training snapshot; the purge is skipped",
            UserWarning,
            ours.__file__,
            160,
            module="powerprofile.models._split",
        )
    warnings.warn_explicit(
        "a pandas detail will change",
        FutureWarning,
        "/site-packages/pandas/x.py",
        1,
        module="pandas.x",
    )
    warnings.warn_explicit(
        "lightgbm chatter",
        UserWarning,
        "/site-packages/lightgbm/basic.py",
        1,
        module="lightgbm.basic",
    )
    return 0


@pytest.mark.parametrize("flags", [[], ["-q"]])
def test_library_warnings_reach_the_operator_once(tmp_path, capsys, monkeypatch, flags):
    monkeypatch.setitem(_commands(), "validate", _warning_command)
    filters = list(warnings.filters)
    assert main(["validate", "--config", str(fast_config(tmp_path)), *flags]) == 0
    err = capsys.readouterr().err
    line = "powerprofile: WARNING: purging would leave no training snapshot; the purge is skipped\n"
    assert err.count(line) == 1, err
    assert "pandas detail" not in err and "lightgbm chatter" not in err
    assert warnings.filters == filters  # the caller's warning filters are left as they were


def test_verbose_shows_third_party_warnings_too(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(_commands(), "validate", _warning_command)
    assert main(["validate", "--config", str(fast_config(tmp_path)), "-v"]) == 0
    err = capsys.readouterr().err
    assert err.count("purge is skipped") == 1
    assert "powerprofile: WARNING: FutureWarning: a pandas detail will change (" in err
    assert "powerprofile: WARNING: UserWarning: lightgbm chatter (" in err


# ------------------------------------------------------------------ progress bars


def test_no_progress_bars_when_stderr_is_not_a_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # set by earlier --quiet runs
    out = tmp_path / "d"
    assert main(["sample", "--customers", "20", "--out", str(out)]) == 0
    err = capfd.readouterr().err
    assert "generating" not in err and "%|" not in err, err
    assert (Path(out) / "customers.parquet").exists()


@pytest.fixture(scope="module")
def broken_data(tmp_path_factory):
    """A 30-customer data set with one negative meter reading."""
    import pandas as pd

    from powerprofile.datasets import write_sample

    folder = tmp_path_factory.mktemp("broken") / "data"
    write_sample(folder, n_customers=30, seed=1, start="2025-01-01", end="2025-06-30")
    part = sorted((folder / "usage").glob("part-*.parquet"))[0]
    usage = pd.read_parquet(part)
    usage.loc[usage.index[:1], "kwh"] = -5.0
    usage.to_parquet(part, index=False)
    return folder


@pytest.mark.parametrize("command", ["validate", "run"])
def test_strict_validation_names_the_flag_and_the_config_key(
    tmp_path, capsys, key_env, broken_data, command
):
    cfg = fast_config(tmp_path, data=broken_data)
    args = [command, "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-tracking", "-q"]
    code = main(args if command == "run" else [a for a in args if a != "--no-tracking"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "usage.kwh" in err
    assert (
        "To go on: fix the source or pass --errors quarantine (or set the config key "
        "data.errors: quarantine) to set the bad rows aside."
    ) in err
    assert "errors='quarantine'" not in err  # no Python argument in an operator's message
    # and the flag it names works for that command: the bad row is set aside
    args = [*args, "--errors", "quarantine"]
    code = main(args if command == "run" else [a for a in args if a != "--no-tracking"])
    err = capsys.readouterr().err
    assert "1 input rows failed validation and were set aside" in err
    assert code == 0 or command == "run"  # the 6-month sample is too short to train on


def test_run_takes_the_campaigns_file_like_export(tmp_path, capsys, key_env, broken_data):
    missing = tmp_path / "nowhere" / "campaigns.yaml"
    cfg = fast_config(tmp_path, data=broken_data)
    code = main(["run", "--config", str(cfg), "--campaigns", str(missing), "--no-tracking", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err  # checked before any work, naming the file given on the command line
    assert str(missing) in err
    assert not (tmp_path / "out").exists()


def test_a_damaged_portraits_file_exits_3_naming_it(tmp_path, capsys, monkeypatch):
    """A truncated --portraits file: a named data error (exit 3), no traceback, no export."""
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    damaged = tmp_path / "portraits.parquet"
    damaged.write_bytes(b"PAR1" + b"\0" * 64)  # a Parquet header with no footer
    cfg = fast_config(tmp_path)
    export_dir = tmp_path / "exports"
    code = main(
        ["export", "--config", str(cfg), "--portraits", str(damaged)]
        + ["--export-dir", str(export_dir), "-q"]
    )
    err = capsys.readouterr().err
    assert code == 3, err  # bad input data
    assert str(damaged) in err and "not a readable Parquet file" in err
    assert "internal error" not in err and "Traceback" not in err
    assert not export_dir.exists()
