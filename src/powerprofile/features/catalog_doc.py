"""Write the feature catalogue as Markdown: ``python -m powerprofile.features.catalog_doc docs/features.md``."""

from __future__ import annotations

import sys
from pathlib import Path

from ._catalog import feature_catalog

__all__ = ["main", "render_catalog"]

_HEADER = """# Feature catalogue (特征目录)

Generated from `powerprofile.feature_catalog()` by
`python -m powerprofile.features.catalog_doc docs/features.md` (`make docs`); do not edit by hand.

Every feature of a snapshot `T` uses only rows dated (and, with `recorded_at`, recorded)
strictly before `T`; a window of `w` days is `[T - w days, T)`. Labels use `[T, T + horizon)`.
Missing history gives `NaN` (counts are 0), never an error. Numeric features are `float32`;
`customer_type`, `tariff` and `region` are `category`; `tou_flag`, `short_history` and
`bank_withholding` are `bool`. The build with the default windows (30, 90, 180, 365 days)
has {n} features.

The templates are `str.format` patterns with a `{{value}}` placeholder, used for reason codes.

"""


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or str(v) == "<NA>":
        return ""
    return str(v).replace("|", "\\|")


def render_catalog() -> str:
    """The catalogue as a Markdown document (one table per source)."""
    cat = feature_catalog()
    out = [_HEADER.format(n=len(cat))]
    for source, group in cat.groupby("source", sort=False):
        out.append(f"## {source}\n\n")
        out.append("| name | window (days) | unit | description | 说明 | reason (en) | 理由 (zh) |\n")
        out.append("|---|---|---|---|---|---|---|\n")
        for r in group.itertuples(index=False):
            cells = [f"`{r.name}`", _cell(r.window_days), _cell(r.unit), _cell(r.description_en),
                     _cell(r.description_zh), f"`{r.template_en}`", f"`{r.template_zh}`"]
            out.append("| " + " | ".join(cells) + " |\n")
        out.append("\n")
    return "".join(out)


def main(argv=None) -> int:
    """Write the catalogue to the path given (default ``docs/features.md``)."""
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0] if argv else "docs/features.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_catalog(), encoding="utf-8")
    print(f"wrote {target} ({len(feature_catalog())} features)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
