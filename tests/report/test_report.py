"""The HTML report: valid, self-contained, every section present, every input optional."""

import base64
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import powerprofile
from powerprofile.report import SECTIONS, find_cjk_font, write_report

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class StrictChecker(HTMLParser):
    """Fails on unbalanced or mis-nested tags and collects img sources and ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.imgs, self.ids, self.text = [], [], [], [], []
        self.seen_doctype = False

    def handle_decl(self, decl):
        self.seen_doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(text):
    p = StrictChecker()
    p.feed(text)
    p.close()
    assert p.seen_doctype
    assert not p.errors, p.errors[:5]
    assert not p.stack, p.stack
    assert len(p.ids) == len(set(p.ids)), "duplicate ids"
    return p


def check_self_contained(text, parser):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "url(" not in text
    assert "<script" not in text.lower()
    for img in parser.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:40]
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt")


@pytest.fixture
def full_inputs(tiny_tables):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.clip(0.3 * y + 0.6 * rng.random(400), 0, 1)
    report = pd.DataFrame(
        {
            "table": ["usage"],
            "column": ["kwh"],
            "check": ["negative"],
            "n_rows": [3],
            "examples": ["C1 2024-01-01"],
            "action": ["quarantined"],
        }
    )
    return dict(
        tables=tiny_tables,
        validation_report=report,
        segment_profile=pd.DataFrame(
            {
                "segment": [0, 1],
                "size": [60, 40],
                "share": [0.6, 0.4],
                "kwh_mean_90d": [5.0, 20.0],
                "churn_rate": [0.02, 0.05],
            }
        ),
        segment_names={0: ("digital-first", "线上偏好"), 1: ("high-usage", "高用电")},
        evaluations={
            "churn": {"y_true": y, "y_score": score, "y_baseline": rng.random(400), "brier": 0.2},
            # what powerprofile.evaluate returns (metrics indexed by scorer, figures)
            "complaint": powerprofile.evaluate(y, score, baseline_score=rng.random(400)),
        },
        shap_importance={
            "churn": pd.Series({"complaints_90d": 0.5, "kwh_mean_90d": -0.2, "tenure_days": 0.1}),
            # the shape of powerprofile.explain.global_importance
            "complaint": pd.DataFrame(
                {
                    "feature": ["complaints_90d", "outage_count_90d"],
                    "mean_abs_contribution": [0.3, 0.1],
                    "mean_contribution": [0.1, -0.05],
                    "share": [0.75, 0.25],
                }
            ),
        },
        scores=pd.DataFrame(
            {
                "region": ["杭州", "R2", "宁波"] * 30,
                "churn_score": rng.random(90),
                "complaint_score": rng.random(90),
                "churn_band": ["high", "low", "medium"] * 30,
            }
        ),
        risk_hits=pd.DataFrame(
            {
                "rule": ["public_opinion_risk", "payment_risk"],
                "count": [3, 5],
                "share": [0.01, 0.02],
            }
        ),
    )


def _glyph_warnings(record):
    return [str(w.message) for w in record if "missing from" in str(w.message).lower()]


@pytest.mark.parametrize("font", ["auto", False])
def test_full_report(tmp_path, full_inputs, font):
    assert powerprofile.write_report is write_report
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = write_report(
            tmp_path / "sub" / "report.html",
            cjk_font=font,
            title="Report <test> & co",
            generated_at="2024-03-01",
            **full_inputs,
        )
    assert not _glyph_warnings(record)  # never an empty box
    text = out.read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    for sid, en, zh in SECTIONS:
        assert f'<section id="{sid}">' in text
        assert f"<h2>{en} · {zh}</h2>" in text
    assert "Not available" not in text
    assert 'class="section-error"' not in text
    # kpis, mix, segments, gains+calibration, evaluate's 2 figures, 2 shap, scores, risk
    assert len(parser.imgs) == 10
    assert "outage_count_90d" in text
    assert "Report &lt;test&gt; &amp; co" in text
    assert "roc_auc (" in text  # AUC of model and baseline computed from the arrays
    assert "for the logistic-regression baseline" in text  # headline from evaluate's metrics
    assert "logistic_baseline" in text
    assert "线上偏好" in text and "public_opinion_risk" in text and "quarantined" in text
    if font is False:
        assert "No installed font with Chinese glyphs" in text
        # the Chinese region names are coded on the chart and explained in the page
        assert "#1 = 宁波" in text or "#2 = 宁波" in text


def test_font_reported(tmp_path):
    choice = find_cjk_font()
    text = write_report(tmp_path / "r.html").read_text(encoding="utf-8")
    if choice.cjk:
        assert f"uses the font {choice.name} (" in text
        from matplotlib.ft2font import FT2Font

        font = FT2Font(choice.path)
        assert all(font.get_char_index(ord(c)) for c in "渠道投诉")
    else:
        assert "No installed font with Chinese glyphs" in text


def test_every_input_missing(tmp_path):
    out = write_report(tmp_path / "empty.html", generated_at="2024-03-01")
    text = out.read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    assert parser.imgs == []
    for sid, en, _ in SECTIONS:
        assert f'<section id="{sid}">' in text and en in text
    body = text.split("</nav>", 1)[1]
    assert body.count('class="missing"') >= len(SECTIONS)


def test_kpis_only_and_escaping(tmp_path, tiny_tables):
    from powerprofile import channel_kpis

    kpis = channel_kpis(tiny_tables)
    bad_profile = pd.DataFrame({"segment": ["<b>x</b>"], "size": [1]})
    text = write_report(
        tmp_path / "k.html",
        kpis=kpis,
        segment_profile=bad_profile,
        subtitle="a <script>alert(1)</script>",
    ).read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    assert "&lt;script&gt;" in text and "<b>x</b>" not in text
    assert len(parser.imgs) == 3  # trends, channel mix, segment sizes
    assert "Not available: a validation report" in text


def test_bad_section_input_does_not_sink_report(tmp_path, tiny_tables):
    text = write_report(
        tmp_path / "b.html",
        tables=tiny_tables,
        evaluations={"churn": {"y_true": [0, 1, 0], "y_score": ["a", "b", "c"]}},
    ).read_text(encoding="utf-8")
    check_html(text)
    assert text.count('class="section-error"') == 1
    assert "ValueError" in text
    assert 'id="kpi-trends"' in text and "Not available" in text


def test_validation_examples_with_raw_ids_stay_out_of_the_report(tmp_path):
    report = pd.DataFrame(
        {
            "table": ["usage"],
            "column": ["kwh"],
            "check": ["negative"],
            "severity": ["error"],
            "n_rows": [2],
            "examples": ["customer 'C0000042' on 2024-03-01 kwh=-1.0"],
            "action": ["quarantined"],
            "message": [
                "usage.kwh: 2 negative values (examples: customer 'C0000042' on 2024-03-01 "
                "kwh=-1.0, customer 'C0000043' on 2024-03-02 kwh=-2.0)"
            ],
        }
    )
    text = write_report(tmp_path / "v.html", validation_report=report).read_text(encoding="utf-8")
    check_html(text)
    assert "C0000042" not in text and "C0000043" not in text
    assert "<td>usage.kwh: 2 negative values</td>" in text and "<td>quarantined</td>" in text


def test_deterministic_bytes(tmp_path, tiny_tables):
    a = write_report(tmp_path / "a.html", tables=tiny_tables, generated_at="x").read_bytes()
    b = write_report(tmp_path / "b.html", tables=tiny_tables, generated_at="x").read_bytes()
    assert a == b


def test_no_cjk_font_installed(tmp_path, monkeypatch, full_inputs):
    """Where no font has Chinese glyphs, "auto" falls back to English and says so."""
    import matplotlib.font_manager as fm

    from powerprofile.report import _fonts, _report

    dejavu = [e for e in fm.fontManager.ttflist if e.name == "DejaVu Sans"]
    monkeypatch.setattr(fm.fontManager, "ttflist", dejavu)
    monkeypatch.setattr(fm, "findSystemFonts", lambda *a, **k: [])
    _fonts.find_cjk_font.cache_clear()
    try:
        choice = _fonts.find_cjk_font()
        assert not choice.cjk and choice.name is None
        monkeypatch.setattr(_report, "find_cjk_font", lambda: choice)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
        assert not _glyph_warnings(record)
        assert "No installed font with Chinese glyphs was found" in text
        check_html(text)
    finally:
        _fonts.find_cjk_font.cache_clear()


def test_segment_profile_shape_of_the_segmenter(tmp_path):
    # CustomerSegmenter.profile: indexed by segment_id, names, size, share, median_*,
    # and a final row -1 for all customers
    profile = pd.DataFrame(
        {
            "name_en": ["low-usage", "high-usage", "all customers"],
            "name_zh": ["低用电", "高用电", "全部用户"],
            "size": [30, 10, 40],
            "share": [0.75, 0.25, 1.0],
            "median_kwh_mean_90d": [5.0, 20.0, 10.0],
            "median_contacts_90d": [1.0, 1.1, 1.0],
        },
        index=pd.Index([0, 1, -1], name="segment_id"),
    )
    text = write_report(tmp_path / "s.html", segment_profile=profile).read_text(encoding="utf-8")
    check_html(text)
    # segment 0: kwh is 50 % below all customers, contacts equal -> only kwh
    assert "<td>kwh_mean_90d 5 (all 10)</td>" in text
    # segment 1: kwh +100 %, contacts +10 %
    assert "<td>kwh_mean_90d 20 (all 10), contacts_90d 1.1 (all 1)</td>" in text
    assert "高用电" in text and "segment_id" in text
