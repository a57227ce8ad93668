"""Figures a manager reads: percentages with units, bands in order, plain names.

Expected texts are worked out by hand from the fixtures (``conftest.py``).
"""

import re

import pandas as pd

from powerprofile.features import feature_catalog
from powerprofile.report import write_report

from ._page import cells, chart_texts, charts, check_html, header_row, section

RAW_RATIO = re.compile(r"^-?0\.\d{3,}$")  # 0.3988, 0.003929
LONG_FLOAT = re.compile(r"\d\.\d{5,}")  # 0.3588924387646432


def test_percent_and_probability_formats():
    from powerprofile.report._format import fmt_pct, fmt_prob

    assert fmt_pct(0.3988) == "39.9 %"
    assert fmt_prob(0.3988) == "39.9 %"
    assert fmt_prob(0.003929) == "0.39 %"
    assert fmt_prob(0.0000412) == "0.0041 %"
    assert fmt_pct(float("nan")) == "–"


def test_no_raw_ratios_in_any_table(tmp_path, full_inputs):
    text = write_report(tmp_path / "r.html", generated_at="x", **full_inputs).read_text(
        encoding="utf-8"
    )
    # model measures (ROC AUC 0.893, Brier score 0.2000) are scores, not ratios: they
    # have their own table, named in plain words with the term on hover
    assert '<abbr title="ROC AUC: ' in text
    page = check_html(re.sub(r'<table class="dataframe metrics">.*?</table>', "", text, flags=re.S))
    values = cells(page)
    assert len(values) > 300
    raw = [v for v in values if RAW_RATIO.match(v.strip()) or LONG_FLOAT.search(v)]
    assert not raw, raw[:10]
    # ratios of the inputs, shown as percentages: segment share 0.6, risk share 0.01
    assert "60.0 %" in values and "1.0 %" in values
    # February digital adoption of the tiny tables: 2 of 3 contacting customers
    assert "66.7 %" in values
    # whole-period complaint rate per month in region R1: 1 complaint (C1, January) over
    # 3 customer-months (C1 in January and February, C2 in February)
    region = next(t for t in page.tables if header_row(t)[0] == "Region · 地区")
    r1 = next([c[1] for c in row] for row in region[1:] if row[0][1] == "R1")
    heads = header_row(region)
    assert r1[heads.index("Complaints per 10,000 customers per month · 万户月均投诉量")] == (
        "3,333.3"
    )


def test_bands_in_order_high_medium_low(tmp_path, full_inputs):
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    page = check_html(text)
    band = next(t for t in page.tables if "High · 高" in header_row(t))
    assert header_row(band)[1:] == ["High · 高", "Medium · 中", "Low · 低"]
    # the fixture cycles low, high, medium over 杭州, R2, 宁波 (30 rows each)
    rows = {r[0][1]: [c[1] for c in r[1:]] for r in band[1:]}
    assert rows["R2"] == ["30", "0", "0"] and rows["杭州"] == ["0", "0", "30"]


def test_latest_month_per_channel_and_customer_level_apart(tmp_path, tiny_tables):
    text = write_report(tmp_path / "r.html", tables=tiny_tables).read_text(encoding="utf-8")
    page = check_html(text)
    kpi = section(text, "kpi-trends")
    per_channel = next(t for t in page.tables if header_row(t)[0] == "Channel · 渠道")
    heads = header_row(per_channel)
    # customer-level figures are not repeated on every channel row
    assert not any(h.startswith(("Digital adoption", "Online payment share")) for h in heads)
    assert "Customer-level figures, all channels together" in kpi
    customer_level = next(
        t for t in page.tables if header_row(t)[0].startswith("Customers in service")
    )
    assert [c[1] for c in customer_level[1]] == ["3", "66.7 %", "3", "33.3 %"]
    # February, app: C2 and C4 contacted through the app (1 contact each)
    app = next([c[1] for c in r] for r in per_channel[1:] if r[0][1] == "App · 网上国网")
    assert app[heads.index("Contacts · 接触次数")] == "2"


def test_features_named_by_the_catalogue(tmp_path, full_inputs):
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    cat = feature_catalog().set_index("name")
    en, zh = cat.loc["complaints_90d", ["description_en", "description_zh"]]
    models = section(text, "models")
    shap_text = "\n".join(t for svg in charts(models) for t, _ in chart_texts(svg))
    assert en in shap_text and zh in shap_text  # SHAP chart
    assert f"<td>{en} · {zh}</td>" in models  # importance table
    scores = section(text, "scores")  # most common first reason of the high band
    t_en, t_zh = cat.loc["tenure_days", ["description_en", "description_zh"]]
    assert f"<td>{t_en} · {t_zh}</td>" in scores
    segments = section(text, "segments")  # a profile column named by the catalogue
    kwh_en, kwh_zh = cat.loc["kwh_mean_90d", ["description_en", "description_zh"]]
    assert f"{kwh_en} · {kwh_zh}" in segments


def test_risk_chart_and_table_use_the_same_labels(tmp_path, full_inputs):
    full_inputs["risk_hits"] = pd.DataFrame(
        {
            "rule": ["public_opinion", "public_opinion", "public_opinion"],
            "label_en": ["Public-opinion risk"] * 3,
            "label_zh": ["舆情风险"] * 3,
            "region": ["(all)", "R1", "R2"],
            "count": [3, 1, 2],
            "share": [0.01, 0.005, 0.02],
        }
    )
    text = write_report(tmp_path / "r.html", **full_inputs).read_text(encoding="utf-8")
    risk = section(text, "risk")
    drawn = [t for svg in charts(risk) for t, _ in chart_texts(svg)]
    assert "Public-opinion risk" in drawn and "舆情风险" in drawn
    page = check_html(text)
    share = next(t for t in page.tables if header_row(t)[0] == "Risk rule · 风险规则")
    assert [c[1] for c in share[1]] == ["Public-opinion risk · 舆情风险", "0.5 %", "2.0 %"]
    assert "<td>public_opinion</td>" not in risk
