"""The generated contract doc is current; the public names are exported."""

from __future__ import annotations

from pathlib import Path

import powerprofile
import powerprofile.schema as schema
from powerprofile.schema._docs import BEGIN, END, contract_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_contract_doc_is_current():
    text = DOC.read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == contract_markdown().strip(), (
        "docs/data-contract.md is stale: run python -m powerprofile.schema._docs docs/data-contract.md"
    )
    for name, spec in schema.TABLES.items():
        assert f"### `{name}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text and col.description_zh in text


def test_all_is_complete():
    public = {n for n in vars(schema) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n, v in vars(schema).items() if type(v).__name__ == "module"}
    assert set(schema.__all__) == public - modules
    for name in ("load_tables", "validate_tables", "save_tables", "Tables"):
        assert getattr(powerprofile, name) is getattr(schema, name)
