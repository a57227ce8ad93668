"""Export files a person can act on: keys, types, the data dictionary, reasons, ranking."""

import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from spreadsheet import coerced

from powerprofile.exceptions import ConfigError
from powerprofile.export import (
    DICTIONARY_FILE,
    README_FILE,
    export_campaigns,
    read_export,
    read_frame,
)

from .conftest import make_data

CJK = re.compile(r"[\u4e00-\u9fff]")

CAMPAIGNS = """
schema_version: "1.0"
frequency_cap: 2
campaigns:
  - name: retention
    title_en: Keep customers likely to leave
    title_zh: 流失挽留
    purpose_en: Offer help before they leave.
    purpose_zh: 在流失前提供帮助。
    select: "churn_band in ['high', 'medium']"
    channels: [sms, wechat]
    score: churn_score
    capacity: 8
    priority: 1
    columns: [churn_reasons_en, churn_reasons_zh, tags_zh, preferred_channel, tag_elderly]
  - name: digital
    title_en: Pay online
    title_zh: 线上缴费
    select: "has(tags, 'digital_first')"
    channels: [app_push, sms]
    score: churn_score
    rank_by: [app_user, churn_score]
    capacity: 100
    priority: 2
    columns: [app_user, risk_flags, risk_flags_zh]
"""


def _rich():
    customers, portraits = make_data()
    n = len(portraits)
    i = np.arange(n)
    portraits["segment_id"] = portraits["segment_id"].astype("Int64")
    portraits["segment_name_en"] = np.array(["online", "heavy", "counter"])[i % 3]
    portraits["churn_decile"] = pd.array(
        np.ceil(portraits["churn_score"] * 10).clip(1, 10), dtype="Int64"
    )
    portraits["tags_en"] = np.where(i % 2 == 0, "digital first;heating heavy", "elderly")
    portraits["tags_zh"] = np.where(i % 2 == 0, "线上偏好;采暖大户", "老年用户")
    portraits["tag_elderly"] = i % 2 == 1
    portraits["app_user"] = i % 3 == 0
    portraits["risk_flags"] = np.where(i % 4 == 0, "arrears", "")
    portraits["risk_flags_en"] = np.where(i % 4 == 0, "arrears", "")
    portraits["risk_flags_zh"] = np.where(i % 4 == 0, "欠费", "")
    portraits["preferred_channel"] = np.array(["app_push", "counter", "sms"])[i % 3]
    # reason 1 raises the risk, reason 2 lowers it on odd rows, reason 3 raises it
    for k, up in ((1, np.ones(n, bool)), (2, i % 2 == 0), (3, np.ones(n, bool))):
        d = np.where(up, "increase", "decrease")
        portraits[f"churn_reason_{k}_direction"] = d
        portraits[f"churn_reason_{k}_text_en"] = [f"r{k} {x}" for x in d]
        portraits[f"churn_reason_{k}_text_zh"] = [f"原因{k}{'上升' if u else '下降'}" for u in up]
    portraits["churn_reasons_en"] = [
        "; ".join(f"r{k} {portraits.loc[j, f'churn_reason_{k}_direction']}" for k in (1, 2, 3))
        for j in range(n)
    ]
    portraits["churn_reasons_zh"] = "全部原因"
    return customers, portraits


@pytest.fixture
def exported(tmp_path):
    customers, portraits = _rich()
    camp = tmp_path / "campaigns.yaml"
    camp.write_text(CAMPAIGNS, encoding="utf-8")
    out = {}
    for fmt in ("csv", "parquet", "jsonl"):
        res = export_campaigns(
            portraits, tmp_path / fmt, campaigns=camp, customers=customers, format=fmt
        )
        out[fmt] = res
    return portraits, out


def _cells(path):
    """Every key cell exactly as the file holds it (text for CSV, JSON values)."""
    if path.suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_parquet(path)


def test_every_exported_key_survives_spreadsheet_coercion(exported):
    _, out = exported
    seen = 0
    for res in out.values():
        for f in res.manifest["files"]:
            if not f["rows"]:  # an empty JSON Lines file holds no cell
                continue
            cells = _cells(res.out_dir / f["file"])
            for col in ("customer_key",):
                for v in cells[col]:
                    assert isinstance(v, str) and not coerced(v), (f["file"], v)
                    assert re.fullmatch(r"K[0-9a-f]{16}", v)
                    seen += 1
    assert seen > 100


def test_dictionary_lists_every_exported_column_in_both_languages(exported):
    portraits, out = exported
    for res in out.values():
        d = read_frame(res.out_dir / DICTIONARY_FILE)
        assert (res.out_dir / DICTIONARY_FILE).read_bytes().startswith(b"\xef\xbb\xbf")
        cols = d[d["kind"] == "column"].set_index("column")
        exported_cols = {c for f in res.manifest["files"] for c in f["columns"]}
        assert exported_cols == set(cols.index)
        for name in exported_cols:
            assert CJK.search(cols.loc[name, "name_zh"]), name
            assert "未登记" not in cols.loc[name, "name_zh"], name
            assert re.search(r"[A-Za-z]", cols.loc[name, "name_en"]), name
            assert cols.loc[name, "meaning_en"] and cols.loc[name, "meaning_zh"], name
        codes = d[d["kind"] == "code"]
        got = set(zip(codes["column"], codes["code"], codes["name_zh"], strict=True))
        assert ("customer_type", "residential", "居民") in got
        assert ("channel", "sms", "短信") in got
        assert ("preferred_channel", "counter", "营业厅") in got
        assert ("campaign", "retention", "流失挽留") in got
        assert ("segment_id", "2", "老年柜台") in got
        assert ("risk_flags", "arrears", "欠费") in got
        # the band's definition from the data: high holds churn >= 0.7 here (make_data)
        high = codes[(codes["column"] == "churn_band") & (codes["code"] == "high")]
        lowest = portraits["churn_score"][portraits["churn_score"] >= 0.7].min()
        share = (portraits["churn_score"] >= 0.7).mean()
        assert f"churn probability {lowest * 100:.1f} % to 100.0 %" in high["meaning_en"].iloc[0]
        assert f"{share * 100:.1f} % of the customers" in high["meaning_en"].iloc[0]
        readme = (res.out_dir / README_FILE).read_text(encoding="utf-8-sig")
        assert "流失挽留" in readme and "Keep customers likely to leave" in readme
        assert "preferred_channel" in readme and "app_user, churn_score" in readme


def test_same_column_same_type_in_every_format(exported):
    _, out = exported
    schemas = {fmt: res.manifest["columns"] for fmt, res in out.items()}
    assert schemas["csv"] == schemas["parquet"] == schemas["jsonl"]
    schema = schemas["csv"]
    assert schema["segment_id"] == "integer" and schema["customer_key"] == "string"
    assert schema["rank"] == "integer" and schema["churn_score"] == "number"
    assert schema["app_user"] == "boolean"
    frames = {fmt: read_export(res.out_dir) for fmt, res in out.items()}
    for name_csv, csv in frames["csv"].items():
        stem = name_csv.rsplit(".", 1)[0]
        for fmt in ("parquet", "jsonl"):
            other = next(v for k, v in frames[fmt].items() if k.rsplit(".", 1)[0] == stem)
            assert dict(csv.dtypes) == dict(other.dtypes), (stem, fmt)
            pd.testing.assert_frame_equal(csv, other, check_exact=False, rtol=1e-6)
    # the Parquet files themselves: segment_id is an integer in every file that has it
    for f in out["parquet"].manifest["files"]:
        arrow = pq.read_schema(out["parquet"].out_dir / f["file"])
        if "segment_id" in arrow.names:
            assert str(arrow.field("segment_id").type) == "int64", f["file"]


def test_lists_show_only_reasons_that_raise_the_risk(exported):
    portraits, out = exported
    lists = read_export(out["csv"].out_dir)
    got = pd.concat([df for n, df in lists.items() if n.startswith("retention__")])
    assert len(got)
    by_key = portraits.set_index("customer_key")
    for key, en, zh in zip(
        got["customer_key"], got["churn_reasons_en"], got["churn_reasons_zh"], strict=True
    ):
        odd = by_key.loc[key, "churn_reason_2_direction"] == "decrease"
        assert en == (
            "r1 increase; r3 increase" if odd else "r1 increase; r2 increase; r3 increase"
        )
        assert zh == ("原因1上升；原因3上升" if odd else "原因1上升；原因2上升；原因3上升")
        assert "decrease" not in en and "下降" not in zh


def test_campaign_ranks_by_its_own_rank_by(exported):
    portraits, out = exported
    lists = read_export(out["csv"].out_dir)
    got = pd.concat([lists["digital__app_push.csv"], lists["digital__sms.csv"]])
    for df in (lists["digital__app_push.csv"], lists["digital__sms.csv"]):
        pairs = list(zip(df["app_user"].astype(int), df["churn_score"], strict=True))
        assert pairs == sorted(pairs, reverse=True)
    assert got["app_user"].any()
    manifest = json.loads((out["csv"].out_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = next(c for c in manifest["campaigns"] if c["campaign"] == "digital")
    assert entry["rank_by"] == ["app_user", "churn_score"]
    assert entry["title_zh"] == "线上缴费" and entry["purpose_en"] is not None
    assert "preferred_channel" in manifest["channel_rule"]


@pytest.mark.parametrize(
    ("rank_by", "message"),
    [
        ("[region]", r"campaign 'bad' ranks by 'region', a .* column; rank_by takes number"),
        ("[no_such]", r"campaign 'bad' ranks by 'no_such', which the portraits do not have"),
    ],
)
def test_rank_by_names_a_number_column(tmp_path, rank_by, message):
    customers, portraits = _rich()
    camp = tmp_path / "c.yaml"
    camp.write_text(
        'campaigns:\n  - name: bad\n    select: "churn_score >= 0"\n'
        f"    channels: [grid_manager]\n    rank_by: {rank_by}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        export_campaigns(portraits, tmp_path / "exp", campaigns=camp, customers=customers)
