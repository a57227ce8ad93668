"""Generate the table reference of ``docs/data-contract.md`` from the contract.

    python -m powerprofile.schema._docs docs/data-contract.md

rewrites the part of the file between the two ``GENERATED`` markers; a test fails
when the committed file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._coerce import validated_dtype
from ._contract import (
    CHANNEL_ZH,
    CONTACT_TYPE_ZH,
    CUSTOMER_TYPE_ZH,
    DATE_MAX,
    DATE_MIN,
    FEEDBACK_TABLES,
    REFERENCE_TABLES,
    TABLE_ORDER,
    TABLES,
    ColumnSpec,
    TableSpec,
)

__all__ = ["BEGIN", "END", "contract_markdown", "update_contract_doc"]

BEGIN = "<!-- BEGIN GENERATED: contract tables (python -m powerprofile.schema._docs docs/data-contract.md) -->"
END = "<!-- END GENERATED: contract tables -->"

_ZH = {**CUSTOMER_TYPE_ZH, **CONTACT_TYPE_ZH, **{f"channel:{k}": v for k, v in CHANNEL_ZH.items()}}
_EXTRA_ZH = {
    "residential_tiered": "居民阶梯电价",
    "general_commercial": "一般工商业电价",
    "large_industrial_two_part": "大工业两部制电价",
    "active": "正常",
    "suspended": "暂停",
    "closed": "销户",
    "actual": "实抄",
    "estimated": "估抄",
    "alipay": "支付宝",
    "bank_withholding": "银行代扣",
    "closure": "销户/迁出",
    "supplier_switch": "更换售电公司",
    "suspension": "暂停",
    "capacity_reduction": "减容",
}

_TYPE = {
    "id": "id (text)",
    "text": "text",
    "category": "category",
    "date": "date",
    "datetime": "datetime",
    "float": "float",
    "bool": "bool",
}


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def _category_zh(table: str, column: str, value: str) -> str:
    if column == "channel" and table == "interactions":
        return CHANNEL_ZH.get(value, "")
    if column == "channel" and table == "payments":
        return CHANNEL_ZH.get(value, _EXTRA_ZH.get(value, ""))
    return _ZH.get(value, _EXTRA_ZH.get(value, ""))


def _allowed(spec: TableSpec, col: ColumnSpec) -> str:
    if col.kind == "category":
        return ", ".join(
            f"`{c}`" + (f" ({z})" if (z := _category_zh(spec.name, col.name, c)) else "")
            for c in col.categories
        )
    if col.kind == "float" and (col.min_value is not None or col.max_value is not None):
        lo = "" if col.min_value is None else _num(col.min_value)
        hi = "" if col.max_value is None else _num(col.max_value)
        return f"{lo} .. {hi}"
    return ""


def _checks(spec: TableSpec, col: ColumnSpec) -> str:
    out = [_TYPE_CHECK[col.kind]]
    if col.kind in ("date", "datetime"):
        out.append(f"within {DATE_MIN} .. {DATE_MAX}")
    if not col.nullable:
        out.append("not null")
    if col.kind == "category":
        out.append("allowed value")
    if col.kind == "float" and col.min_value is not None:
        out.append("negative" if col.min_value == 0 else "below minimum")
    if col.kind == "float" and col.max_value is not None:
        out.append("absurd (above maximum)")
    if col.name in spec.key:
        out.append("key")
    if col.name == spec.customer_column:
        out.append("in customers (orphan)")
    if col.name == spec.time_column:
        out.append("not after data_end")
    if (spec.name, col.name) == ("outages", "end"):
        out.append("not before start")
    if (spec.name, col.name) == ("bills", "due_date"):
        out.append("not before issue_date")
    return "; ".join(out)


_TYPE_CHECK = {
    "id": "text",
    "text": "text",
    "category": "text",
    "date": "parses as date",
    "datetime": "parses as date-time",
    "float": "parses as number",
    "bool": "parses as boolean",
}


def _dtype_name(col: ColumnSpec) -> str:
    dt = validated_dtype(col.kind, col.categories)
    return {"id": "string", "text": "string", "category": "category"}.get(col.kind, str(dt))


def contract_markdown() -> str:
    """Return the Markdown reference of every contract table and column.

    Returns
    -------
    str
    """
    lines = []
    for name in (*TABLE_ORDER, *REFERENCE_TABLES, *FEEDBACK_TABLES):
        spec = TABLES[name]
        required = "required" if name in ("customers", "usage") else "optional"
        if name in FEEDBACK_TABLES:
            required = "answers an export; read by `powerprofile outcomes`"
        lines.append(f"### `{name}` ({required}) — {spec.description}")
        lines.append("")
        facts = []
        if spec.key:
            key = ", ".join(f"`{k}`" for k in spec.key)
            note = ""
            if any(not spec.column(k).required for k in spec.key):
                note = " (checked only when the optional id column is present)"
            if "recorded_at" in spec.names:
                note = "; `recorded_at` joins the key when present"
            facts.append(f"Key: ({key}){note}.")
        if spec.customer_column:
            facts.append(f"`{spec.customer_column}` must exist in `customers.customer_id`.")
        if spec.time_column:
            facts.append(f"Time column: `{spec.time_column}` (rows after `data_end` are errors).")
        if facts:
            lines.append(" ".join(facts))
            lines.append("")
        lines.append(
            "| column | type (validated dtype) | required | allowed values / range | "
            "meaning | 含义 | checks |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for col in spec.columns:
            req = "yes" if col.required else "optional"
            if col.nullable:
                req += ", may be empty"
            pii = " **PII**" if col.pii else ""
            lines.append(
                f"| `{col.name}` | {_TYPE[col.kind]} (`{_dtype_name(col)}`) | {req} | "
                f"{_allowed(spec, col)} | {col.description}{pii} | {col.description_zh} | "
                f"{_checks(spec, col)} |"
            )
        lines.append("")
    return "\n".join(lines)


def update_contract_doc(path) -> bool:
    """Rewrite the generated part of ``path``; return True when it changed.

    Parameters
    ----------
    path : str or os.PathLike
        ``docs/data-contract.md`` with the ``BEGIN``/``END`` markers.

    Returns
    -------
    bool
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(BEGIN)
    if not sep or END not in rest:
        raise ValueError(f"{str(path)!r} lacks the markers {BEGIN!r} and {END!r}")
    tail = rest.split(END, 1)[1]
    new = f"{head}{BEGIN}\n\n{contract_markdown()}\n{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


if __name__ == "__main__":  # pragma: no cover
    changed = update_contract_doc(sys.argv[1] if len(sys.argv) > 1 else "docs/data-contract.md")
    print("updated" if changed else "up to date")
