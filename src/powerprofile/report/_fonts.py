"""Which fonts lay out and draw the report's chart text.

Charts are written as SVG with their text kept as ``<text>`` elements, so no font of
the machine that builds the report is ever drawn: the reader's browser draws every
label with its own fonts, through :data:`CHART_FONT_FAMILY` (Chinese fonts first).
Matplotlib still measures each label to lay the chart out; it measures with two
families that ship with matplotlib itself (:data:`LAYOUT_FAMILIES`), never with a
CJK font found on the machine, so the same inputs give the same chart everywhere:

- DejaVu Sans for Latin letters, digits and punctuation (the real widths);
- Last Resort High-Efficiency (bundled with matplotlib 3.10 and later) only as a
  metric for the characters DejaVu Sans lacks, such as Chinese: every character is
  1.15 em wide there, a little more than a Chinese glyph (1 em), so labels keep
  their room. Its box-shaped glyphs are never drawn, as the text stays text.
"""

from __future__ import annotations

import functools
import os

__all__ = ["CHART_FONT_FAMILY", "LAYOUT_FAMILIES", "describe_chart_fonts", "layout_font_files"]

CHART_FONT_FAMILY = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "sans-serif",
)
"""CSS font families of chart and page text, Chinese fonts first (macOS, Windows,
Linux), ending with the generic ``sans-serif``; the reader's browser picks the first
one installed for each character."""

LAYOUT_FAMILIES = ("DejaVu Sans", "Last Resort High-Efficiency")
"""Matplotlib font families that measure chart text (both ship with matplotlib)."""


def css_font_family() -> str:
    """:data:`CHART_FONT_FAMILY` as a CSS value (single quotes, for style attributes)."""
    return ", ".join(f"'{f}'" if " " in f else f for f in CHART_FONT_FAMILY)


@functools.cache
def layout_font_files() -> dict[str, str]:
    """Family -> font file of :data:`LAYOUT_FAMILIES` found in matplotlib's own data.

    Only files under ``matplotlib.get_data_path()`` count, so fonts installed on the
    machine never take part. Last Resort is missing before matplotlib 3.10; Chinese
    text is then measured with DejaVu Sans' missing-glyph box (0.6 em).
    """
    import matplotlib

    ttf = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    files = {
        "DejaVu Sans": "DejaVuSans.ttf",
        "Last Resort High-Efficiency": "LastResortHE-Regular.ttf",
    }
    return {
        fam: os.path.join(ttf, f)
        for fam, f in files.items()
        if os.path.exists(os.path.join(ttf, f))
    }


def describe_chart_fonts() -> str:
    """One sentence for the report's header saying how chart text is drawn."""
    families = ", ".join(f for f in CHART_FONT_FAMILY if f != "sans-serif")
    metric = (
        "and Chinese with full-width metrics (Last Resort High-Efficiency, never drawn)"
        if "Last Resort High-Efficiency" in layout_font_files()
        else "and Chinese with DejaVu Sans' placeholder width"
    )
    return (
        "Charts are vector graphics (SVG) whose text is kept as text: your browser draws "
        f"it with its own fonts, Chinese first from {families}. No font of the machine "
        "that wrote this report is drawn; labels were laid out with the fonts bundled "
        f"with matplotlib: Latin letters and digits with DejaVu Sans {metric}. If Chinese "
        "shows as boxes, this computer has no Chinese font installed."
    )
