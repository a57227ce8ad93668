"""Chart text never depends on the fonts of the machine that writes the report.

The charts are SVG with their text kept as ``<text>``: the reader's browser draws it
with the CJK-first font families named on each element. These tests build the report
on a machine state with no CJK font at all (matplotlib sees only the fonts bundled
with it) and check, character by character, that every chart text is either covered
by DejaVu Sans (bundled with matplotlib, which measured it) or is a Chinese character
the element sends to a Chinese font family; that no text is drawn as glyph outlines or
pixels; and that Chinese labels got full-width room in the layout.
"""

import os
import unicodedata
import warnings

import matplotlib
import pytest
from fontTools.ttLib import TTFont

from powerprofile.features import feature_catalog
from powerprofile.report import write_report

from ._page import chart_texts, charts, check_html, check_self_contained

# families that carry Chinese glyphs on macOS, Windows and Linux
CJK_FAMILIES = {
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
}
BUNDLED = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def dejavu_cmap() -> set[int]:
    return set(TTFont(os.path.join(BUNDLED, "DejaVuSans.ttf")).getBestCmap())


def families(style: str) -> list[str]:
    """Font families of a ``style`` attribute (``font-family:`` or the ``font:`` shorthand)."""
    decl = dict(
        (k.strip(), v.strip()) for k, _, v in (d.partition(":") for d in style.split(";")) if v
    )
    value = decl.get("font-family")
    assert value, f"no font-family in style {style!r}"
    return [f.strip().strip("'\"") for f in value.split(",")]


@pytest.fixture
def no_cjk_font(monkeypatch):
    """Matplotlib sees only its bundled fonts: no CJK font on this machine."""
    import matplotlib.font_manager as fm

    bundled = [e for e in fm.fontManager.ttflist if e.fname.startswith(matplotlib.get_data_path())]
    assert bundled and not any("CJK" in e.name for e in bundled)
    monkeypatch.setattr(fm.fontManager, "ttflist", bundled)
    monkeypatch.setattr(fm, "findSystemFonts", lambda *a, **k: [])
    caches = [fm._get_font, getattr(fm.fontManager, "_findfont_cached", None)]
    for cache in caches:
        getattr(cache, "cache_clear", lambda: None)()  # forget fonts found before
    yield
    for cache in caches:
        getattr(cache, "cache_clear", lambda: None)()


def test_every_chart_character_has_a_font_with_its_glyph(tmp_path, full_inputs, no_cjk_font):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    assert not [w for w in record if "missing from" in str(w.message).lower()]
    parser = check_html(text)
    check_self_contained(text, parser)  # no raster image: charts are inline SVG
    svgs = charts(text)
    assert len(svgs) == 10
    dejavu = dejavu_cmap()
    seen_cjk = 0
    all_text = []
    for svg in svgs:
        # text drawn as outlines would reference glyph definitions of a server font
        ids = " ".join(el.get("id", "") for el in svg.iter())
        assert "DejaVu" not in ids and "LastResort" not in ids
        texts = chart_texts(svg)
        assert texts, "a chart without text elements: text was drawn as outlines"
        for content, style in texts:
            fams = families(style)
            assert fams[-1] == "sans-serif"
            assert not {"DejaVu Sans", "Last Resort High-Efficiency"} & set(fams)
            for ch in content:
                if ord(ch) in dejavu:
                    continue
                # not in the layout font: must be a Chinese (wide) character, and the
                # element must send it to Chinese fonts before any other family
                assert unicodedata.east_asian_width(ch) in ("W", "F"), (ch, content)
                assert fams[0] in CJK_FAMILIES, (content, fams)
                seen_cjk += 1
            all_text.append(content)
    assert seen_cjk > 100  # the charts do carry Chinese
    joined = "\n".join(all_text)
    # titles in both languages, Chinese data values as they are, features by description
    assert "Customers per segment" in joined and "各客群用户数" in joined
    assert "杭州" in joined and "宁波" in joined
    cat = feature_catalog().set_index("name")
    assert cat.at["complaints_90d", "description_en"] in joined
    assert cat.at["complaints_90d", "description_zh"] in joined
    assert "舆情风险" in joined and "Public-opinion risk" in joined


def test_header_says_how_chart_text_is_drawn(tmp_path, no_cjk_font):
    text = write_report(tmp_path / "r.html").read_text(encoding="utf-8")
    note = check_html(text).id_text["font-note"]
    assert "SVG" in note and "your browser draws it with its own fonts" in note
    assert "has Chinese glyphs" not in note  # the old, false claim about Last Resort


def test_chinese_labels_get_full_width_room():
    """Matplotlib lays Chinese out at least 1 em per character, as a Chinese font draws it."""
    from matplotlib.figure import Figure

    from powerprofile.report._charts import Labeller

    with Labeller().context():
        fig = Figure(dpi=100)
        label = fig.text(0, 0, "用户画像渠道", fontsize=10)
        width = label.get_window_extent(fig._get_renderer()).width
    em = 10 / 72 * 100  # 10 pt at 100 dpi, in pixels
    assert width >= 6 * em
