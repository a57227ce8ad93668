"""The executive summary, the campaign section and the header's two dates.

Every expected figure is worked out by hand from the tiny tables of ``conftest.py``
(four customers over January and February 2024) or from the manifest fixture.
"""

import datetime as dt
import json

import pandas as pd

from powerprofile.report import write_report

from ._page import check_html, section


def _page(tmp_path, **kwargs):
    text = write_report(tmp_path / "r.html", generated_at="2024-03-05 09:30", **kwargs).read_text(
        encoding="utf-8"
    )
    return text, check_html(text)


def test_summary_comes_first_with_hand_checked_figures(tmp_path, tiny_tables, manifest):
    text, page = _page(tmp_path, tables=tiny_tables, export_manifest=manifest)
    assert text.split("</nav>", 1)[1].lstrip().startswith('<section id="summary">')
    customers = page.id_text["summary-customers"]
    n = tiny_tables["customers"]["customer_id"].nunique()
    assert f"{n} customers in the input data" in customers
    # February: C1 and C4 all along, C2 from 10 Feb; C3 closed on 20 January
    assert "3 in service in 2024-02" in customers
    channels = page.id_text["summary-channels"]
    # contacts: 6 in January (C1 x4, C3 x2), 4 in February -> -33.3 %
    assert "4 in 2024-02 (-33.3 % on 2024-01)" in channels
    # digital adoption: Jan C1 (3 of 4 online) yes, C3 (counter) no -> 50 %;
    # Feb C1 (WeChat) yes, C2 (hotline + app, 1 of 2) no, C4 (app) yes -> 66.7 %
    assert "66.7 % in 2024-02 (+16.7 pp on 2024-01)" in channels
    # online payments: Jan app, counter, bank -> 2/3; Feb alipay, counter, counter -> 1/3
    assert "33.3 % in 2024-02 (-33.3 pp on 2024-01)" in channels
    exports = page.id_text["summary-exports"]
    lists = [f for f in manifest["files"] if f["campaign"]]
    total = sum(f["rows"] for f in lists)
    sms = sum(f["rows"] for f in lists if f["channel"] == "sms")
    assert f"Exported {total} customers in 2 campaign lists" in exports
    assert f"SMS · 短信 {sms}" in exports and "WeChat · 微信 3" in exports
    assert "Retention offer · 流失预警挽留 (churn_retention): 7" in exports


def test_movements_by_region_and_grid_unit(tmp_path, tiny_tables):
    # R1: C1 in Jan; C1 + C2 in Feb. Contacts per 1,000: Jan 4/1 -> 4,000, Feb 3/2 -> 1,500
    # R2: C3 + C4 in Jan, C4 in Feb. Contacts per 1,000: Jan 2/2 -> 1,000, Feb 1/1 -> 1,000
    from powerprofile import channel_kpis
    from powerprofile.report._summary import movements

    frames = {"region": channel_kpis(tiny_tables, by=("month", "region"))}
    moves = movements(frames, min_customers=1)
    row = moves[moves["measure"].str.startswith("Contacts per 1,000")].iloc[0]
    assert row["unit"] == "R1"
    assert row["previous"] == "4,000.0 (2024-01)" and row["latest"] == "1,500.0 (2024-02)"
    assert row["change"] == "-2,500.0"
    # with the default floor of 30 customers the tiny units are left out
    assert movements(frames).empty


def test_model_quality_in_one_sentence(tmp_path):
    metrics = pd.DataFrame(
        {
            "n": [1878, 1878],
            "positive_rate": [0.0234, 0.0234],
            "roc_auc": [0.8248, 0.7230],
            "capture_10": [0.6136, 0.3409],
            "lift_10": [6.13, 3.41],
            "ece": [0.0185, 0.0187],
            "brier": [0.0221, 0.0251],
        },
        index=pd.Index(["model", "logistic_baseline"], name="scorer"),
    )
    text, page = _page(tmp_path, evaluations={"churn": {"metrics": metrics}})
    sentence = page.id_text["summary-models"]
    assert "ROC AUC) 0.825 against 0.723 for a simple baseline" in sentence
    assert "hold 61.4 % of those who churned (6.1× the average rate of 2.3 %)" in sentence
    assert "off by 1.85 % on average" in sentence
    models = section(text, "models")
    # plain names, the technical term on hover, no raw metric codes as labels
    assert '<abbr title="Brier score: mean squared gap' in models
    assert ">Probability error · 概率误差</abbr>" in models
    assert ">Top 10 % vs average · 前10%提升倍数</abbr>" in models
    for code in ("brier", "ece_uniform", "lift_5", "roc_auc"):
        assert f">{code}<" not in models


def test_campaign_section_from_the_manifest(tmp_path, manifest):
    text, page = _page(tmp_path, export_manifest=manifest)
    camp = section(text, "campaigns")
    assert "Not available" not in camp
    table = next(t for t in page.tables if any("Customers selected" in c[1] for c in t[0]))
    rows = {r[0][1]: [c[1] for c in r] for r in table[1:]}
    assert rows["churn_retention"][1] == "Retention offer · 流失预警挽留"
    assert rows["churn_retention"][2:5] == ["9", "2", "7"]  # selected, not reachable, exported
    assert rows["churn_retention"][5] == "SMS · 短信 4, WeChat · 微信 3"
    assert rows["digital_adoption"][2:5] == ["5", "0", "5"]
    assert "segment_membership.parquet" in camp and "HMAC-SHA256" in camp
    # the export folder works as well as the dict
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again, _ = _page(tmp_path, export_manifest=folder)
    assert section(again, "campaigns") == camp
    # no manifest: the section says so
    empty, _ = _page(tmp_path)
    assert "Not available: an export manifest was not given" in section(empty, "campaigns")


def test_generation_time_and_snapshot_date_both_shown(tmp_path, tiny_tables):
    from powerprofile.config import Config
    from powerprofile.pipeline import write_run_report

    before = dt.datetime.now(dt.UTC)
    out = write_run_report(Config(), tmp_path / "r.html", tables=tiny_tables, snapshot="2024-03-01")
    after = dt.datetime.now(dt.UTC)
    page = check_html(out.read_text(encoding="utf-8"))
    assert page.id_text["snapshot-date"].endswith("2024-03-01")
    generated = page.id_text["generated-at"]
    assert "2024-03-01" not in generated
    stamp = generated.split(": ", 1)[1][: len("2024-03-01 08:00")]
    when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    assert before.replace(second=0, microsecond=0) <= when <= after
    assert "UTC" in generated


def test_snapshot_date_from_the_scores(tmp_path):
    scores = pd.DataFrame(
        {"region": ["R1", "R2"], "churn_score": [0.1, 0.2], "snapshot_date": ["2025-01-01"] * 2}
    )
    _, page = _page(tmp_path, scores=scores)
    assert page.id_text["snapshot-date"].endswith("2025-01-01")
    assert page.id_text["generated-at"].startswith("Generated · 生成时间: 2024-03-05 09:30")
