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


# Run after the notebook in the same kernel (never saved): every matplotlib figure the
# notebook holds, in a variable or in a dict/list/tuple inside one, rendered by the
# kernel's own display formatter, so the test can look for the same image in the outputs.
FIGURE_PROBE = """\
import json as _json
from matplotlib.figure import Figure as _Figure

def _figures(value, depth=0):
    if isinstance(value, _Figure):
        yield value
    elif depth < 2 and isinstance(value, dict):
        for v in value.values():
            yield from _figures(v, depth + 1)
    elif depth < 2 and isinstance(value, (list, tuple)):
        for v in value:
            yield from _figures(v, depth + 1)

_seen = {}
for _name, _value in list(globals().items()):
    if not _name.startswith("_"):
        for _fig in _figures(_value):
            _seen[id(_fig)] = (_name, _fig)
_rendered = []
for _name, _fig in _seen.values():
    _data, _ = get_ipython().display_formatter.format(_fig)
    _rendered.append(
        {"name": _name, "images": {k: v for k, v in _data.items() if k.startswith("image/")}}
    )
print(_json.dumps(_rendered))
"""


def _images(cells) -> set:
    """Every image (PNG or SVG) displayed by the cells."""
    found = set()
    for cell in cells:
        for out in cell.get("outputs", []):
            for mime, data in out.get("data", {}).items():
                if mime in ("image/png", "image/svg+xml"):
                    found.add((mime, "".join(data).strip()))
    return found


@pytest.mark.slow
def test_notebook_runs_clean(tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    monkeypatch.setenv("POWERPROFILE_NOTEBOOK_OUT", str(tmp_path))
    # a headless default backend, as on a server: the notebook must still show its figures
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    n_cells = len(nb.cells)
    nb.cells.append(new_code_cell(FIGURE_PROBE))
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

    # every figure the notebook builds is shown as an image, never as "<Figure size ...>"
    cells = nb.cells[:n_cells]
    for cell in cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(data.get("text/plain", ""))
            if text.startswith("<Figure size"):
                assert {"image/png", "image/svg+xml"} & set(data), (
                    f"a figure is shown as text, not as an image: {cell.source[:80]!r}"
                )
    probe = json.loads(
        "".join(o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    )
    assert len(probe) >= 2, probe  # the gains and calibration charts at least
    shown = _images(cells)
    for fig in probe:
        assert fig["images"], f"{fig['name']!r}: the kernel cannot render this figure as an image"
        rendered = {(mime, data.strip()) for mime, data in fig["images"].items()}
        assert rendered & shown, f"a figure held in {fig['name']!r} is never shown as an image"
    # what the notebook promises to produce
    report = tmp_path / "report.html"
    assert report.exists() and report.stat().st_size > 10_000
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert any(f["rows"] > 0 for f in manifest["files"])
