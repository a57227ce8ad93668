"""Find an installed font with Chinese (CJK) glyphs for the report's charts."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

__all__ = ["FontChoice", "find_cjk_font"]

# family names known to carry CJK glyphs, best first
_PREFERRED = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "Sarasa Gothic SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
# file-name fragments of CJK fonts (for fonts matplotlib's cache does not know yet)
_FILE_HINTS = (
    "cjk",
    "wqy",
    "droidsansfallback",
    "sourcehan",
    "simhei",
    "msyh",
    "uming",
    "ukai",
    "sarasa",
    "pingfang",
    "hiragino",
    "yahei",
    "notosanssc",
    "han",
)
_PROBE = "用户画像渠道投诉"


@dataclass(frozen=True)
class FontChoice:
    """The font used for chart text.

    Attributes
    ----------
    name : str or None
        Font family name, or None when no font with Chinese glyphs was found.
    path : str or None
        Font file.
    cjk : bool
        Whether chart labels can be written in Chinese.
    """

    name: str | None
    path: str | None
    cjk: bool

    def describe(self) -> str:
        """One sentence for the report saying which font was used."""
        if self.cjk:
            return (
                f"Chart text uses the font {self.name} ({os.path.basename(self.path or '')}), "
                "which has Chinese glyphs, so labels are shown in Chinese and English."
            )
        return (
            "No installed font with Chinese glyphs was found, so chart text is in English "
            "only (no empty boxes). Install one (e.g. Debian's fonts-noto-cjk or "
            "fonts-wqy-zenhei) to get Chinese chart labels."
        )


def _covers(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except Exception:  # unreadable or unsupported font file
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in _PROBE)


@functools.cache
def find_cjk_font() -> FontChoice:
    """Find an installed font whose glyphs cover Chinese text.

    Looks first for well-known CJK families in matplotlib's font list, then for
    system font files with a CJK-looking name that matplotlib has not indexed yet
    (they are added to its font manager), then checks every known font's glyphs.
    The result is cached for the process.

    Returns
    -------
    FontChoice
        The font found, or ``FontChoice(None, None, False)``.
    """
    from matplotlib import font_manager as fm

    by_name: dict[str, str] = {}
    for entry in fm.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    for name in _PREFERRED:
        path = by_name.get(name)
        if path and _covers(path):
            return FontChoice(name, path, True)
    known = {entry.fname for entry in fm.fontManager.ttflist}
    try:
        system = fm.findSystemFonts()
    except Exception:  # no font directories at all
        system = []
    for path in sorted(system):
        base = os.path.basename(path).lower().replace("-", "").replace("_", "")
        if path in known or not any(h in base for h in _FILE_HINTS):
            continue
        if _covers(path):
            try:
                fm.fontManager.addfont(path)
            except Exception:  # matplotlib cannot use this file
                continue
            name = fm.FontProperties(fname=path).get_name()
            return FontChoice(name, path, True)
    for name, path in sorted(by_name.items()):
        if _covers(path):
            return FontChoice(name, path, True)
    return FontChoice(None, None, False)
