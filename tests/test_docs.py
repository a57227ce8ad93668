"""The documentation runs: every Python block and every command line of the docs.

Each Python block of ``README.md`` and ``docs/*.md`` runs as written, in a fresh
namespace, from a working folder laid out like the repository after ``make demo``:
``data/sample`` (the committed sample), ``configs/`` (a copy) and ``out/demo`` (the
demo job, run once for the module through the CLI, tracked in ``mlflow.db``).

A block that cannot run here is marked in the doc, on the line just before it, with
``<!-- doc-test: skip (why) -->``; :data:`SKIPPED` lists them, so a new skip fails
until it is added there on purpose. The Spark block runs in its own test with a
stand-in for Spark.

Every ``powerprofile ...`` command line in a shell block or an inline code span must
name a subcommand and parse (``build_parser().parse_args``, nothing run), and every
flag the docs attribute to a subcommand must exist on it.
"""

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from powerprofile.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SKIPPED = {
    (
        "docs/scale.md",
        "needs a Spark cluster; tests/test_docs.py runs it with a stand-in for Spark",
    ),
    ("docs/scale.md", "starts a JVM; tests/spark runs the same calls on local[2]"),
    ("docs/scale.md", "needs a Hive metastore; the parts it writes follow section 1's layout"),
}
"""Blocks marked ``<!-- doc-test: skip (...) -->``: (file, reason), every one explained."""

_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_SKIP = re.compile(r"^<!--\s*doc-test:\s*skip\s*\((?P<why>.+)\)\s*-->$")
_SHELL = {"", "bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Block:
    """A fenced code block: its file (relative to the repository), first code line, text."""

    file: str
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for path in DOC_FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        rel = path.relative_to(ROOT).as_posix()
        i = 0
        while i < len(lines):
            m = _FENCE.match(lines[i].strip())
            if m is None:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            skip = _SKIP.match(before)
            code = "\n".join(lines[i + 1 : end])
            out.append(Block(rel, i + 2, m.group(1), code, skip and skip.group("why")))
            i = end + 1
    return out


BLOCKS = _blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def test_the_docs_have_python_blocks_and_skip_only_the_known_few():
    assert len(PYTHON) >= 13
    skipped = {(b.file, b.skip) for b in PYTHON if b.skip}
    assert skipped == SKIPPED
    assert len([b for b in PYTHON if b.skip]) == len(SKIPPED)
    # a marker must stand just before a Python block, or it would hide nothing silently
    markers = sum(
        1
        for p in DOC_FILES
        for line in p.read_text(encoding="utf-8").splitlines()
        if _SKIP.match(line.strip())
    )
    assert markers == len(SKIPPED)


# ---------------------------------------------------------------- the demo workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder laid out like the repository after ``make demo``, shared by the blocks."""
    tmp = tmp_path_factory.mktemp("docs")
    (tmp / "data").mkdir()
    (tmp / "data" / "sample").symlink_to(ROOT / "data" / "sample", target_is_directory=True)
    shutil.copytree(ROOT / "configs", tmp / "configs")
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    try:
        # configs/demo.yaml names ../data/sample and ../out/demo: from its own folder
        code = main(["run", "--config", "configs/demo.yaml", "--tracking-uri", _uri(tmp), "-q"])
    finally:
        mp.undo()
    assert code == 0
    assert (tmp / "out" / "demo" / "report.html").is_file()
    return tmp


def _uri(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'mlflow.db'}"


@pytest.mark.parametrize("block", [b for b in PYTHON if not b.skip], ids=lambda b: b.id)
def test_python_block_runs(block, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the docs' default: ./mlflow.db
    namespace = {"__name__": "__doc_block__"}
    try:
        exec(compile(block.code, block.id, "exec"), namespace)
    finally:
        if "mlflow" in sys.modules:  # a block may point MLflow at ./mlflow.db: make it absolute
            sys.modules["mlflow"].set_tracking_uri(_uri(workspace))
        _close_figures()


def _close_figures():
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ---------------------------------------------------------------- the Spark block


class _StandInFrame:
    """The few Spark DataFrame methods the doc uses, over Arrow record batches."""

    def __init__(self, batches):
        self.batches = list(batches)

    def withColumnRenamed(self, old, new):  # noqa: N802 - Spark's name
        return _StandInFrame(
            b.rename_columns([new if c == old else c for c in b.schema.names]) for b in self.batches
        )

    def repartition(self, n):
        import pyarrow as pa

        rows = pa.Table.from_batches(self.batches).to_batches(max_chunksize=1)
        return _StandInFrame(rows)

    def mapInArrow(self, func, schema):  # noqa: N802 - Spark's name
        import pyarrow as pa

        out = []
        for batch in self.batches:  # one task per partition id
            for result in func(iter([batch])):
                assert result.schema.equals(schema), "a task's batch differs from the schema"
                out.append(result)
        return pa.Table.from_batches(out, schema=schema)


class _StandInSpark:
    """``spark.range`` and ``spark.sparkContext.broadcast``, run in this process."""

    class sparkContext:  # noqa: N801 - Spark's name
        @staticmethod
        def broadcast(value):
            from types import SimpleNamespace

            return SimpleNamespace(value=value)

    @staticmethod
    def range(n):
        import pyarrow as pa

        return _StandInFrame([pa.record_batch({"id": pa.array(range(n), pa.int64())})])


def test_the_spark_block_gives_the_local_features(workspace, monkeypatch):
    import json

    import pandas as pd

    from powerprofile import build_features

    (block,) = [b for b in PYTHON if b.skip and "Spark" in b.skip]
    data = ROOT / "data" / "sample"
    n_parts = json.loads((data / "dataset.json").read_text(encoding="utf-8"))["n_partitions"]
    code, n = re.subn(r'^DATA = ".*?"', f"DATA = {str(data)!r}", block.code, flags=re.M)
    code, m = re.subn(r"^P = \d+", f"P = {n_parts}", code, flags=re.M)
    assert (n, m) == (1, 1), "the Spark block no longer sets DATA and P where the test expects"
    monkeypatch.chdir(workspace)
    namespace = {"__name__": "__doc_block__", "spark": _StandInSpark()}
    exec(compile(code, block.id, "exec"), namespace)
    got = namespace["features"].to_pandas().set_index(["customer_id", "snapshot_date"])
    want = build_features(data, namespace["SNAP"][0])
    got = got.sort_index().loc[:, list(want.columns)]
    pd.testing.assert_frame_equal(got, want.sort_index(), check_dtype=False, check_freq=False)


# ---------------------------------------------------------------- command lines


def _command_lines() -> list[tuple[str, str]]:
    """``(where, command)`` for every ``powerprofile ...`` in a shell block or a code span."""
    found = []
    for block in BLOCKS:
        if block.lang not in _SHELL:
            continue
        text = block.code.replace("\\\n", " ")
        for k, line in enumerate(text.splitlines()):
            line = line.strip().removeprefix("$ ")
            if line.startswith("powerprofile ") and not line.startswith("powerprofile: "):
                found.append((f"{block.file}:{block.line + k}", line))
    span = re.compile(r"`(powerprofile [^`]+)`")
    for path in DOC_FILES:
        rel = path.relative_to(ROOT).as_posix()
        in_block = False
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _FENCE.match(line.strip()):
                in_block = not in_block
                continue
            if in_block:
                continue
            for text in span.findall(line):
                if ", " not in text:  # "powerprofile sample, validate, ...": a list, not a command
                    found.append((f"{rel}:{n}", text))
    for n, line in enumerate((ROOT / "Makefile").read_text(encoding="utf-8").splitlines(), 1):
        m = re.search(r"\$\(BIN\)/(powerprofile .*)$", line)
        if m:
            found.append((f"Makefile:{n}", m.group(1)))
    return found


COMMANDS = _command_lines()


def _subcommands(parser) -> dict:
    action = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
    return dict(action.choices)


def test_the_docs_show_command_lines():
    assert len(COMMANDS) >= 15
    assert any("run --config configs/demo.yaml" in c for _, c in COMMANDS)


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_command_line_parses(where, command, capsys):
    words = shlex.split(command, comments=True)
    parser = build_parser()
    assert words[1] in _subcommands(parser) or words[1] in ("--help", "--version"), (
        f"{where}: {command!r} names no subcommand"
    )
    if words[1] in ("--help", "--version"):
        return
    try:
        parser.parse_args(words[1:])
    except SystemExit as exc:  # argparse's usage error
        pytest.fail(f"{where}: {command!r} does not parse: {capsys.readouterr().err}")
        raise AssertionError from exc


def _flag_table() -> list[tuple[str, list[str], list[str]]]:
    """config.md's shortcut table: (row, flags, subcommands named in parentheses or all)."""
    rows = []
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    section = text.split("## Overrides", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        if not line.startswith("| `-"):
            continue
        first = line.split(" | ")[0]
        flags = re.findall(r"`(--[a-z-]+)", first)
        named = re.search(r"\(([a-z, ]+)\)", first)
        rows.append((first, flags, named.group(1).split(", ") if named else []))
    return rows


@pytest.mark.parametrize(
    ("row", "flags", "commands"), _flag_table(), ids=[" ".join(f) for _, f, _ in _flag_table()]
)
def test_every_documented_flag_exists_where_the_docs_say(row, flags, commands):
    subs = _subcommands(build_parser())
    options = {
        name: {o for a in sub._actions for o in a.option_strings}  # noqa: SLF001
        for name, sub in subs.items()
    }
    for flag in flags:
        if commands:  # "(export, run)": each of them takes it
            for name in commands:
                assert flag in options[name], f"docs/config.md says {name} takes {flag}: {row}"
        else:
            assert any(flag in o for o in options.values()), f"no subcommand takes {flag}: {row}"


def _subcommand_table() -> list[tuple[str, str, list[str]]]:
    """cli.md's subcommand table: (first cell, subcommand, the flags it shows)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Subcommands", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = re.match(r"\| `([a-z]+)([^`]*)`", line)
        if m and m.group(1) != "command":
            rows.append((m.group(0), m.group(1), re.findall(r"--[a-z-]+", m.group(2))))
    return rows


@pytest.mark.parametrize(
    ("row", "command", "flags"), _subcommand_table(), ids=[c for _, c, _ in _subcommand_table()]
)
def test_every_subcommand_in_the_cli_table_takes_the_flags_shown(row, command, flags):
    subs = _subcommands(build_parser())
    assert command in subs, row
    options = {o for a in subs[command]._actions for o in a.option_strings}  # noqa: SLF001
    assert set(flags) <= options, f"docs/cli.md: {row} shows {sorted(set(flags) - options)}"
