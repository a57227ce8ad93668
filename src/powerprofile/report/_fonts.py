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

So that a reader whose computer has no Chinese font still reads the page, the report
embeds the Chinese characters it uses: :func:`embedded_cjk_font` cuts a subset of Noto
Sans CJK (from the ``cvttf-notosanscjk-regular`` package, SIL Open Font License 1.1)
holding exactly those characters, in their Simplified Chinese forms, as a WOFF font
named :data:`EMBEDDED_FAMILY`. It comes after the computer's own Chinese fonts in
:data:`CHART_FONT_FAMILY`, so a computer with a Chinese font draws with that one.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import logging
import os

__all__ = [
    "CHART_FONT_FAMILY",
    "EMBEDDED_FAMILY",
    "LAYOUT_FAMILIES",
    "EmbeddedFont",
    "cjk_characters",
    "describe_chart_fonts",
    "embedded_cjk_font",
    "layout_font_files",
]

log = logging.getLogger(__name__)

EMBEDDED_FAMILY = "PowerprofileCJK"
"""CSS family of the Chinese font subset embedded in the report (``@font-face``)."""

CJK_FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
"""Import name of the package shipping Noto Sans CJK (PyPI ``cvttf-notosanscjk-regular``)."""

CJK_FONT_FILE = "NotoSansCJKtc-Regular.otf"
"""The font file inside :data:`CJK_FONT_PACKAGE`."""

CHART_FONT_FAMILY = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    EMBEDDED_FAMILY,
    "sans-serif",
)
"""CSS font families of chart and page text, Chinese fonts first (macOS, Windows,
Linux), then the subset embedded in the report (:data:`EMBEDDED_FAMILY`), ending with
the generic ``sans-serif``; the reader's browser picks, for each character, the first
family that has it."""

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


@functools.cache
def _dejavu_codepoints() -> frozenset[int]:
    """Code points of matplotlib's own DejaVu Sans (empty if it is missing)."""
    from fontTools.ttLib import TTFont

    path = layout_font_files().get("DejaVu Sans")
    if path is None:
        return frozenset()
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def cjk_characters(text: str) -> str:
    """The characters of ``text`` the embedded Chinese font is for, sorted, once each.

    These are the wide characters (East Asian width ``W`` or ``F``: Chinese,
    CJK punctuation, full-width forms) and any other printable character DejaVu
    Sans lacks; Latin letters, digits and the punctuation DejaVu Sans has are left
    to the reader's ``sans-serif``.
    """
    import unicodedata

    dejavu = _dejavu_codepoints()
    return "".join(
        sorted(
            c
            for c in set(text)
            if unicodedata.east_asian_width(c) in ("W", "F")
            or (c.isprintable() and not c.isspace() and ord(c) not in dejavu)
        )
    )


def cjk_font_file() -> str:
    """Path of Noto Sans CJK in the ``cvttf-notosanscjk-regular`` package.

    Raises
    ------
    ImportError
        The package is not installed.
    FileNotFoundError
        The package is installed without its font file.
    """
    import importlib

    package = importlib.import_module(CJK_FONT_PACKAGE)
    path = os.path.join(os.path.dirname(os.path.abspath(package.__file__)), CJK_FONT_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"font file {CJK_FONT_FILE!r} not found in package {CJK_FONT_PACKAGE!r} "
            f"(looked for {path!r}); reinstall it: pip install --force-reinstall "
            "cvttf-notosanscjk-regular"
        )
    return path


@dataclasses.dataclass(frozen=True)
class EmbeddedFont:
    """The Chinese font subset of one report, or why there is none.

    Attributes
    ----------
    characters : str
        The characters the page needs it for (:func:`cjk_characters`).
    woff : bytes or None
        The subset as WOFF, or None when no font was embedded.
    missing : str
        Characters of ``characters`` the source font lacks (not embedded).
    problem : str or None
        Why no font was embedded (None when one was).
    """

    characters: str
    woff: bytes | None
    missing: str = ""
    problem: str | None = None

    def css(self) -> str:
        """The ``@font-face`` rule (a base64 ``data:`` URI), or "" without a font."""
        if self.woff is None:
            return ""
        data = base64.b64encode(self.woff).decode("ascii")
        return (
            f"@font-face{{font-family:{EMBEDDED_FAMILY};font-style:normal;font-weight:400;"
            f"src:url(data:font/woff;base64,{data}) format('woff')}}"
        )


def embedded_cjk_font(characters: str) -> EmbeddedFont:
    """Subset Noto Sans CJK to ``characters`` (Simplified Chinese forms), as WOFF.

    Parameters
    ----------
    characters : str
        What the page needs, from :func:`cjk_characters`.

    Returns
    -------
    EmbeddedFont
        With ``woff`` None and ``problem`` set when the font package is missing (the
        report is still written, relying on the reader's fonts) or there is nothing
        to embed. The same characters always give the same bytes.
    """
    chars = "".join(sorted(set(characters)))
    if not chars:
        return EmbeddedFont(chars, None, problem="the page has no Chinese characters")
    try:
        path = cjk_font_file()
    except (ImportError, OSError) as exc:
        log.warning("no Chinese font embedded in the report: %s", exc)
        return EmbeddedFont(
            chars,
            None,
            problem=f"the font package cvttf-notosanscjk-regular is not usable ({exc})",
        )
    woff, missing = _subset(path, chars)
    return EmbeddedFont(chars, woff, missing=missing)


@functools.lru_cache(maxsize=8)
def _subset(path: str, chars: str) -> tuple[bytes, str]:
    """(WOFF bytes, characters the font lacks) of the subset of ``path`` for ``chars``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # recalcTimestamp=False: keep the source's head.modified, so equal input, equal bytes
    font = TTFont(path, recalcTimestamp=False, lazy=False)
    zhs = _simplified_forms(font["GSUB"].table) if "GSUB" in font else {}
    best = font.getBestCmap()
    wanted = [ord(c) for c in chars if ord(c) in best]
    missing = "".join(c for c in chars if ord(c) not in best)
    # bake the Simplified Chinese forms (locl for ZHS) into the cmap: the file is a
    # Traditional Chinese build and the layout tables are dropped below
    for table in font["cmap"].tables:
        if table.isUnicode():
            for cp in wanted:
                if cp in table.cmap:
                    table.cmap[cp] = zhs.get(table.cmap[cp], table.cmap[cp])
    opts = subset.Options()
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "BASE", "DSIG", "VORG", "vhea", "vmtx"]
    opts.hinting = False
    opts.desubroutinize = True  # compresses better (about 6 % smaller WOFF)
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # names, copyright and the licence
    opts.recalc_timestamp = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=wanted)
    sub.subset(font)
    font["head"].modified = font["head"].created  # fixed, whatever the source says
    font.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli
    buf = io.BytesIO()
    font.save(buf, reorderTables=True)
    font.close()
    return buf.getvalue(), missing


def _simplified_forms(gsub) -> dict[str, str]:
    """Glyph -> its Simplified Chinese form: the ``locl`` single substitutions for ZHS."""
    lookups = set()
    for script in gsub.ScriptList.ScriptRecord:
        for lang in script.Script.LangSysRecord:
            if lang.LangSysTag == "ZHS ":
                for i in lang.LangSys.FeatureIndex:
                    record = gsub.FeatureList.FeatureRecord[i]
                    if record.FeatureTag == "locl":
                        lookups.update(record.Feature.LookupListIndex)
    mapping = {}
    for i in sorted(lookups):
        lookup = gsub.LookupList.Lookup[i]
        for st in lookup.SubTable:
            st = st.ExtSubTable if lookup.LookupType == 7 else st
            if hasattr(st, "mapping"):  # single substitution
                mapping.update(st.mapping)
    return mapping


def describe_chart_fonts(embedded: EmbeddedFont | None = None) -> str:
    """One paragraph for the report's header saying how text is drawn.

    Parameters
    ----------
    embedded : EmbeddedFont, optional
        The Chinese font subset embedded in the page (or why there is none).
    """
    families = ", ".join(f for f in CHART_FONT_FAMILY if f not in ("sans-serif", EMBEDDED_FAMILY))
    metric = (
        "and Chinese with full-width metrics (Last Resort High-Efficiency, never drawn)"
        if "Last Resort High-Efficiency" in layout_font_files()
        else "and Chinese with DejaVu Sans' placeholder width"
    )
    text = (
        "Charts are vector graphics (SVG) whose text is kept as text: your browser draws "
        f"it with its own fonts, Chinese first from {families}. No font of the machine "
        "that wrote this report is drawn; labels were laid out with the fonts bundled "
        f"with matplotlib: Latin letters and digits with DejaVu Sans {metric}."
    )
    if embedded is not None and embedded.woff is not None:
        n = len(embedded.characters) - len(embedded.missing)
        text += (
            f" For computers without any of these fonts, the {n} Chinese characters and "
            f"punctuation marks this page uses are embedded in it ({len(embedded.woff) / 1024:.0f} KB subset of "
            "Noto Sans CJK, SIL Open Font License 1.1, from the Python package "
            "cvttf-notosanscjk-regular), so they read the same on any computer."
        )
        if embedded.missing:
            text += f" Not in that font: {embedded.missing}."
    else:
        why = embedded.problem if embedded is not None else "none was requested"
        text += (
            f" No Chinese font is embedded in this page ({why}): if Chinese shows as "
            "boxes, this computer has no Chinese font installed."
        )
    return text
