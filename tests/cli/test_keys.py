"""The pseudonymisation key through the CLI: refused when missing or weak, the
development switch recorded, and no key or personal data in any output file."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import re

import pytest
from pii_scan import leaks, pii_values

from .conftest import SAMPLE, fast_config

WEAK = "weak-dev-key-ZQ7"
NO_KEY = (
    "powerprofile: error: no pseudonymisation key: set the environment variable "
    "POWERPROFILE_PSEUDONYM_KEY to a secret of at least 32 random bytes written as 64 hex "
    "characters; make one with `powerprofile keygen`"
)
TOO_WEAK = (
    "powerprofile: error: pseudonymisation key from POWERPROFILE_PSEUDONYM_KEY is too weak: "
    "it has 16 characters, fewer than the 43 of the shortest key."
)


def _fingerprint(key: str) -> str:
    mac = hmac.new(key.encode(), b"powerprofile/pseudonym-key-fingerprint/v1", hashlib.sha256)
    return hashlib.sha256(mac.digest()).hexdigest()[:16]


@pytest.mark.parametrize("command", ["run", "export", "validate", "score", "segment"])
def test_keyed_commands_refuse_without_a_key(tmp_path, monkeypatch, capsys, command):
    from powerprofile.cli import main

    monkeypatch.delenv("POWERPROFILE_PSEUDONYM_KEY")
    monkeypatch.chdir(tmp_path)
    cfg = fast_config(tmp_path)
    assert main([command, "--config", str(cfg), "-q"]) == 2
    assert NO_KEY in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.parametrize("command", ["run", "export"])
def test_weak_key_refused_unless_the_development_switch(tmp_path, monkeypatch, capsys, command):
    from powerprofile.cli import main

    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", WEAK)
    monkeypatch.chdir(tmp_path)
    cfg = fast_config(tmp_path)
    assert main([command, "--config", str(cfg), "-q"]) == 2
    err = capsys.readouterr().err
    assert TOO_WEAK in err and "--insecure-development-key" in err and WEAK not in err
    assert not (tmp_path / "out").exists()


def test_keygen_prints_a_fresh_key_that_meets_the_rule(capsys):
    from powerprofile.cli import main
    from powerprofile.privacy import resolve_pseudonym_key

    keys = []
    for _ in range(2):
        assert main(["keygen", "-q"]) == 0
        keys.append(capsys.readouterr().out.strip())
    assert all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys) and keys[0] != keys[1]
    assert resolve_pseudonym_key(keys[0]).strong


@pytest.fixture(scope="module")
def dev_run(tmp_path_factory):
    """A run with a weak key and the development switch, on the sample with injected
    defects (lenient validation, so the quarantine files are not empty)."""
    from powerprofile.cli import main
    from powerprofile.schema import load_tables, save_tables
    from powerprofile.schema._defects import inject_defects

    tmp = tmp_path_factory.mktemp("dev-run")
    clean = load_tables(SAMPLE)
    injected = inject_defects(clean, seed=0)
    data = save_tables(injected.tables, tmp / "data")
    mp = pytest.MonkeyPatch()
    mp.setenv("POWERPROFILE_PSEUDONYM_KEY", WEAK)
    mp.chdir(tmp)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "run",
                "--config",
                str(fast_config(tmp, data=data)),
                "--no-tracking",
                "--insecure-development-key",
                "--set",
                "data.errors=quarantine",
                "--set",
                "progress=false",
                "--set",
                "features.n_training_snapshots=4",
            ]
        )
    mp.undo()
    return {"code": code, "out": tmp / "out", "err": err.getvalue(), "clean": clean}


def test_development_switch_warns_and_is_recorded(dev_run):
    assert dev_run["code"] == 0, dev_run["err"][-2000:]
    # a WARNING at the default level (no -v), naming the fingerprint, never the key
    assert re.search(
        r"powerprofile: WARNING: INSECURE DEVELOPMENT KEY: .* \(fingerprint " + _fingerprint(WEAK),
        dev_run["err"],
    )
    assert WEAK not in dev_run["err"]
    expected = {
        "fingerprint": _fingerprint(WEAK),
        "strong": False,
        "insecure_development_key": True,
        "demo": False,
    }
    out = dev_run["out"]
    manifest = json.loads((out / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pseudonym_key"] == expected
    assert (
        json.loads((out / "run_summary.json").read_text(encoding="utf-8"))["pseudonym_key"]
        == expected
    )


def test_no_key_and_no_personal_data_in_any_output_file(dev_run):
    out = dev_run["out"]
    assert dev_run["code"] == 0
    quarantine = sorted(p.name for p in (out / "validation" / "quarantine").iterdir())
    assert "customers.parquet" in quarantine and "usage.parquet" in quarantine
    assert leaks(out, {WEAK.encode()}) == {}
    found = leaks(out, pii_values(dev_run["clean"].customers))
    # only the internal feature frames, indexed by the raw customer id (docs/config.md)
    assert sorted(found) == ["features/scoring.parquet", "features/training.parquet"]


def test_export_takes_the_switch_from_the_config(dev_run, tmp_path, monkeypatch, capsys):
    from powerprofile.cli import main

    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", WEAK)
    monkeypatch.chdir(tmp_path)
    cfg = fast_config(tmp_path)
    portraits = str(dev_run["out"] / "portraits" / "portraits.parquet")
    base = ["export", "--config", str(cfg), "--portraits", portraits, "-q"]
    assert main([*base, "--export-dir", str(tmp_path / "a")]) == 2
    assert TOO_WEAK in capsys.readouterr().err
    code = main(
        [
            *base,
            "--export-dir",
            str(tmp_path / "b"),
            "--set",
            "privacy.insecure_development_key=true",
        ]
    )
    assert code == 0
    assert "INSECURE DEVELOPMENT KEY" in capsys.readouterr().err  # shown even with -q
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pseudonym_key"]["insecure_development_key"] is True
