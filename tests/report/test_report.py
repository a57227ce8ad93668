"""The HTML report: valid, self-contained, every section present, every input optional."""

import warnings

import pandas as pd

import powerprofile
from powerprofile.features import feature_catalog
from powerprofile.report import SECTIONS, write_report

from ._page import charts, check_html, check_self_contained, section


def test_full_report(tmp_path, full_inputs):
    assert powerprofile.write_report is write_report
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = write_report(
            tmp_path / "sub" / "report.html",
            title="Report <test> & co",
            generated_at="2024-03-01 08:00",
            **full_inputs,
        )
    assert not [w for w in record if "missing from" in str(w.message).lower()]
    text = out.read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    for sid, en, zh in SECTIONS:
        assert f'<section id="{sid}">' in text
        assert f"<h2>{en} · {zh}</h2>" in text
    assert SECTIONS[0][0] == "summary"
    assert text.index('<section id="summary">') < text.index('<section id="kpi-trends">')
    assert "Not available" not in text
    assert 'class="section-error"' not in text
    # kpis, mix, segments, gains+calibration, evaluate's 2 figures, 2 shap, scores, risk
    assert len(charts(text)) == 10
    assert "outage_count_90d" in text
    assert "Report &lt;test&gt; &amp; co" in text
    assert "线上偏好" in text and "舆情风险" in text and "quarantined" in text
    # Chinese region names are drawn as they are (the browser draws them)
    assert "杭州" in section(text, "scores")


def test_every_input_missing(tmp_path):
    out = write_report(tmp_path / "empty.html", generated_at="2024-03-01")
    text = out.read_text(encoding="utf-8")
    parser = check_html(text)
    check_self_contained(text, parser)
    assert charts(text) == []
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
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert len(charts(text)) == 3  # trends, channel mix, segment sizes
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


def test_validation_examples_stay_out_when_the_file_is_named_after_them(tmp_path):
    # the folder reader appends the file after the examples: "... (examples: ...) in 'f'"
    ex = "customer 'C0000042' on 2024-03-01 kwh=-1.0 (meter (2))"
    report = pd.DataFrame(
        {
            "table": ["usage", "usage"],
            "column": ["kwh", "kwh"],
            "check": ["negative", "missing"],
            "severity": ["error", "error"],
            "n_rows": [1, 1],
            "examples": [ex, ""],
            "action": ["quarantined", "quarantined"],
            "message": [
                f"usage.kwh: 1 negative value (examples: {ex}) in 'data/usage/part-00001.parquet'",
                "usage.kwh: 1 missing value (examples: customer 'C0000077' kwh=missing) in 'u'",
            ],
        }
    )
    text = write_report(tmp_path / "v.html", validation_report=report).read_text(encoding="utf-8")
    assert "C0000042" not in text and "C0000077" not in text
    assert (
        "<td>usage.kwh: 1 negative value in &#x27;data/usage/part-00001.parquet&#x27;</td>" in text
    )
    assert "<td>usage.kwh: 1 missing value</td>" in text


def test_deterministic_bytes(tmp_path, tiny_tables):
    a = write_report(tmp_path / "a.html", tables=tiny_tables, generated_at="x").read_bytes()
    b = write_report(tmp_path / "b.html", tables=tiny_tables, generated_at="x").read_bytes()
    assert a == b


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
    cat = feature_catalog().set_index("name")
    kwh = " · ".join(cat.loc["kwh_mean_90d", ["description_en", "description_zh"]])
    contacts = " · ".join(cat.loc["contacts_90d", ["description_en", "description_zh"]])
    # segment 0: kwh is 50 % below all customers, contacts equal -> only kwh
    assert f'<td class="wrap">{kwh}: 5.00 kWh/day (all 10.0 kWh/day)</td>' in text
    # segment 1: kwh +100 %, contacts +10 %
    assert (
        f'<td class="wrap">{kwh}: 20.0 kWh/day (all 10.0 kWh/day)\n{contacts}: 1.10 (all 1.00)</td>'
    ) in text
    assert "高用电" in text and "Segment · 客群" in text
