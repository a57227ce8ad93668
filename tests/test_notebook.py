"""The quickstart notebook: committed without outputs, in sync with its script, runs clean."""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
SCRIPT = ROOT / "notebooks" / "make_quickstart.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_quickstart", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_without_outputs_and_in_sync():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cell"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert NOTEBOOK.read_text(encoding="utf-8") == _script().render(), (
        "notebooks/quickstart.ipynb is stale: run `.venv/bin/python notebooks/make_quickstart.py`"
    )


@pytest.mark.slow
def test_notebook_runs_clean(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("POWERPROFILE_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
        allow_errors=False,
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"]
    # what the notebook promises to produce
    report = tmp_path / "report.html"
    assert report.exists() and report.stat().st_size > 10_000
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert any(f["rows"] > 0 for f in manifest["files"])
