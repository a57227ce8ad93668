"""The report embeds the Chinese characters it uses, so it reads without a Chinese font.

The page carries a subset of Noto Sans CJK (package ``cvttf-notosanscjk-regular``) as an
``@font-face`` with a ``data:`` URI, named after the computer's own Chinese fonts and
before ``sans-serif`` in every font-family list. These tests decode that font and check
its character map against the characters of the page, its determinism, its Simplified
Chinese forms, and the report written without the font package.
"""

import base64
import io
import os
import re
import sys
import unicodedata

import matplotlib
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from powerprofile.report import _fonts, write_report

from ._page import chart_texts, charts, check_html, check_self_contained

DATA_URI = re.compile(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)")
SYSTEM_CJK = [
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
]


def dejavu_cmap() -> set[int]:
    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    return set(TTFont(path).getBestCmap())


def embedded(text):
    """(font, page text without the data URI) of a written report."""
    uris = DATA_URI.findall(text)
    assert len(uris) == 1, "expected one embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(uris[0])))
    return font, DATA_URI.sub("url()", text)


@pytest.fixture
def fresh_subset():
    """Forget subsets cut before, so each write cuts its own."""
    _fonts._subset.cache_clear()
    yield
    _fonts._subset.cache_clear()


def test_embedded_font_covers_every_character_dejavu_lacks(tmp_path, full_inputs, fresh_subset):
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    check_self_contained(text, check_html(text))
    font, page = embedded(text)
    assert font.flavor == "woff"
    cmap = set(font.getBestCmap())
    dejavu = dejavu_cmap()
    needed = {
        ord(c)
        for c in page
        if ord(c) > 0xFF and ord(c) not in dejavu and not c.isspace() and c.isprintable()
    }
    assert len(needed) > 150  # the page does carry Chinese
    assert not needed - cmap, "".join(sorted(chr(c) for c in needed - cmap))
    # every wide character (Chinese, CJK punctuation, full-width forms) is in it
    wide = {ord(c) for c in page if unicodedata.east_asian_width(c) in ("W", "F")}
    assert {0x3002, 0xFF08, 0xFF09} & wide and not wide - cmap
    # and nothing else: no Latin letters or digits, nothing the page does not use
    assert cmap <= {ord(c) for c in page}
    assert not {c for c in cmap if c <= 0xFF}
    # no layout tables left that could need features; licence kept in the font
    assert {"GSUB", "GPOS", "vmtx", "DSIG"}.isdisjoint(font.keys())
    names = " ".join(n.toUnicode() for n in font["name"].names)
    assert "SIL Open Font License" in names and "Adobe" in names
    assert font["head"].modified == font["head"].created  # no time of writing in it


def test_embedded_family_comes_after_system_chinese_fonts(tmp_path, full_inputs):
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    assert "@font-face{font-family:PowerprofileCJK;" in text
    body = re.search(r"body\{font-family:([^;]*);", text).group(1)
    expected = [*SYSTEM_CJK, "PowerprofileCJK", "sans-serif"]
    assert [f.strip('"') for f in body.split(",")] == expected
    n = 0
    for svg in charts(text):
        for _, style in chart_texts(svg):
            fams = re.search(r"font-family:\s*([^;]*)", style).group(1)
            assert [f.strip().strip("'") for f in fams.split(",")] == expected
            n += 1
    assert n > 100


def test_same_inputs_same_bytes(tmp_path, full_inputs, fresh_subset):
    a = write_report(tmp_path / "a.html", generated_at="2026-01-02 03:04 UTC", **full_inputs)
    _fonts._subset.cache_clear()  # the second write cuts the font again
    b = write_report(tmp_path / "b.html", generated_at="2026-01-02 03:04 UTC", **full_inputs)
    assert a.read_bytes() == b.read_bytes()


def test_embedded_punctuation_has_simplified_chinese_forms(fresh_subset):
    # the source file is the Traditional Chinese build: its full-width comma and full
    # stop are centred in the em square; the Simplified Chinese forms sit low and left
    font = TTFont(io.BytesIO(_fonts.embedded_cjk_font("，。").woff))
    glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
    for ch in "，。":
        pen = BoundsPen(glyphs)
        glyphs[cmap[ord(ch)]].draw(pen)
        x_min, y_min, x_max, y_max = pen.bounds
        assert x_max < 500 and y_max < 300, (ch, pen.bounds)


def test_cjk_characters_are_the_wide_ones_and_what_dejavu_lacks():
    text = "Data · 数据（全渠道）：a1 — 2 %，数据。"
    assert _fonts.cjk_characters(text) == "".join(sorted("数据全渠道（）：，。"))
    assert _fonts.cjk_characters("Latin only — ±5 %") == ""


@pytest.mark.parametrize("how", ["no package", "no file"])
def test_report_without_the_font_package_still_writes_and_says_so(
    tmp_path, full_inputs, monkeypatch, fresh_subset, how
):
    if how == "no package":
        monkeypatch.setitem(sys.modules, _fonts.CJK_FONT_PACKAGE, None)  # import fails
    else:
        monkeypatch.setattr(_fonts, "CJK_FONT_FILE", "NoSuchFont.otf")
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    assert "@font-face" not in text and "data:font" not in text
    note = parser.id_text["font-note"]
    assert "No Chinese font is embedded" in note and "cvttf-notosanscjk-regular" in note
    assert "are embedded in it" not in note
    assert len(charts(text)) == 10  # the rest of the report is all there


def test_header_says_what_was_embedded(tmp_path, fresh_subset):
    text = write_report(tmp_path / "r.html").read_text(encoding="utf-8")
    font, page = embedded(text)
    note = check_html(text).id_text["font-note"]
    n = len(font.getBestCmap())
    assert f"the {n} Chinese characters and punctuation marks this page uses" in note
    assert "Noto Sans CJK" in note and "SIL Open Font License 1.1" in note
    kb = len(base64.b64decode(DATA_URI.search(text).group(1))) / 1024
    assert f"({kb:.0f} KB subset" in note
