"""Campaign export: eligibility, ranking, caps, PII policy, formats, manifest, atomicity."""

import hashlib
import json
import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.exceptions import ConfigError, ExportError
from powerprofile.export import MARKER, export_campaigns, load_campaigns, read_export, read_frame
from powerprofile.export import _export as export_module

from .conftest import CAMPAIGNS, KEY, make_data


def _files(folder):
    """Content of the files of an export (the ownership marker aside: it holds times)."""
    return {
        p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != MARKER
    }


def test_eligibility_ranking_and_capacity_by_hand(tmp_path, data, campaigns_file):
    customers, portraits = data
    res = export_campaigns(
        portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers
    )
    out = read_export(tmp_path / "exp")

    # expected by hand: customers with high/medium churn, SMS-eligible ones first
    i = np.arange(len(customers))
    has_phone = i % 4 != 0
    sms_ok = has_phone & (i % 10 != 1)
    wechat_ok = i % 2 == 0
    score = portraits["churn_score"].to_numpy()
    keys = portraits["customer_key"].to_numpy()
    sel = portraits["churn_band"].isin(["high", "medium"]).to_numpy()
    order = sorted(np.flatnonzero(sel), key=lambda j: (-score[j], keys[j]))
    sms = [j for j in order if sms_ok[j]][:8]
    wechat = [j for j in order if wechat_ok[j] and j not in sms][:8]

    got_sms = out["retention__sms.csv"]
    assert list(got_sms["customer_key"]) == list(keys[sms])
    assert list(got_sms["rank"]) == list(range(1, 9))
    assert list(out["retention__wechat.csv"]["customer_key"]) == list(keys[wechat])
    # digital campaign: app users with the tag, not already used by retention (cap 1)
    used = set(sms) | set(wechat)
    digital = [
        j
        for j in sorted(range(len(i)), key=lambda j: (-score[j], keys[j]))
        if j % 2 == 0 and i[j] % 3 == 0 and j not in used
    ]
    assert list(out["digital__app_push.jsonl"]["customer_key"]) == list(keys[digital])
    # manifest rows match
    rows = {f["file"]: f["rows"] for f in res.manifest["files"]}
    assert rows["retention__sms.csv"] == 8
    assert rows["digital__app_push.jsonl"] == len(digital)


def test_phone_masked_by_default_and_no_pii_anywhere(tmp_path, data, campaigns_file):
    customers, portraits = data
    # portraits that (wrongly) carry raw PII columns must not leak them either
    address = pd.array([f"幸福路{i}号" for i in range(len(customers))], dtype="string")
    leaky = portraits.assign(
        customer_id=customers["customer_id"].to_numpy(),
        name=customers["name"].to_numpy(),
        phone=customers["phone"].to_numpy(),
        address=address,
    )
    export_campaigns(leaky, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    sms = read_frame(tmp_path / "exp" / "retention__sms.csv")
    assert sms["phone"].str.fullmatch(r"\*{7}\d{4}").all()
    blob = b"".join(p.read_bytes() for p in (tmp_path / "exp").iterdir())
    for raw in (
        list(customers["customer_id"])
        + list(customers["name"])
        + list(customers["phone"].dropna())
        + list(address)
    ):
        for enc in (raw.encode("utf-8"), raw.encode("utf-16-le")):
            assert enc not in blob, raw


def test_raw_phone_only_when_allowed_and_channel_named(tmp_path, data, campaigns_file):
    customers, portraits = data
    export_campaigns(
        portraits,
        tmp_path / "a",
        campaigns=campaigns_file,
        customers=customers,
        allow_raw_phone=False,
        raw_phone_channels=["sms"],
    )
    assert read_frame(tmp_path / "a" / "retention__sms.csv")["phone"].str.contains(r"\*").all()
    export_campaigns(
        portraits,
        tmp_path / "b",
        campaigns=campaigns_file,
        customers=customers,
        allow_raw_phone=True,
        raw_phone_channels=["hotline_callback"],
    )
    assert read_frame(tmp_path / "b" / "retention__sms.csv")["phone"].str.contains(r"\*").all()
    export_campaigns(
        portraits,
        tmp_path / "c",
        campaigns=campaigns_file,
        customers=customers,
        allow_raw_phone=True,
        raw_phone_channels=["sms"],
    )
    got = read_frame(tmp_path / "c" / "retention__sms.csv")
    assert got["phone"].astype(str).str.fullmatch(r"139\d{8}").all()
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pii_policy"]["phone"]["sms"] == "raw"


def test_csv_has_bom_and_chinese_text(tmp_path, data, campaigns_file):
    customers, portraits = data
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    raw = (tmp_path / "exp" / "retention__sms.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "城东".encode() in raw
    # RFC 4180 records: every record ends with CRLF, no bare LF
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_formats_round_trip(tmp_path, data, campaigns_file, fmt):
    customers, portraits = data
    res = export_campaigns(
        portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers, format=fmt
    )
    names = {f["file"] for f in res.manifest["files"]}
    assert f"retention__sms.{fmt}" in names and f"digital__app_push.{fmt}" in names
    back = read_frame(tmp_path / "exp" / f"retention__sms.{fmt}")
    assert len(back) == 8
    assert back["segment_name_zh"].isin(["线上偏好", "高用电", "老年柜台"]).all()
    assert back["churn_score"].is_monotonic_decreasing


def test_manifest_hashes_and_identical_bytes_on_rerun(tmp_path, data, campaigns_file):
    customers, portraits = data
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    first = _files(tmp_path / "exp")
    manifest = json.loads(first["manifest.json"])
    for f in manifest["files"]:
        assert hashlib.sha256(first[f["file"]]).hexdigest() == f["sha256"]
    assert manifest["snapshot_date"] == "2026-01-01"
    assert manifest["export_schema_version"] == "1.1"
    assert len(manifest["config_hash"]) == 64
    # shuffled input, same key: identical bytes
    export_campaigns(
        portraits.sample(frac=1, random_state=3),
        tmp_path / "exp",
        campaigns=campaigns_file,
        customers=customers,
        incremental=True,
    )
    second = _files(tmp_path / "exp")
    assert set(second) == set(first)
    for name in first:
        if name not in ("segment_changes.csv", "manifest.json"):
            assert second[name] == first[name], name
    # third run equals second byte for byte (the previous export is now identical)
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    assert _files(tmp_path / "exp") == second


def test_export_killed_mid_write_leaves_previous_untouched(
    tmp_path, data, campaigns_file, monkeypatch
):
    customers, portraits = data
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    before = _files(tmp_path / "exp")
    calls = {"n": 0}
    real = export_module.write_frame

    def failing(frame, path, fmt):
        calls["n"] += 1
        if calls["n"] == 2:
            path.write_bytes(b"partial")
            raise OSError("disk full")
        return real(frame, path, fmt)

    monkeypatch.setattr(export_module, "write_frame", failing)
    portraits2 = portraits.assign(churn_score=1 - portraits["churn_score"])
    with pytest.raises(ExportError, match="previous export, if any, is untouched"):
        export_campaigns(
            portraits2, tmp_path / "exp", campaigns=campaigns_file, customers=customers
        )
    assert _files(tmp_path / "exp") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaigns.yaml", "exp"]


def test_opt_out_and_do_not_contact_lists(tmp_path, data, campaigns_file):
    customers, portraits = data
    base = export_campaigns(
        portraits, tmp_path / "a", campaigns=campaigns_file, customers=customers
    )
    first_sms = read_frame(tmp_path / "a" / "retention__sms.csv")["customer_key"].iloc[0]
    raw_id = customers["customer_id"][portraits["customer_key"] == first_sms].iloc[0]
    first_push = read_frame(tmp_path / "a" / "digital__app_push.jsonl")["customer_key"].iloc[0]
    pd.DataFrame({"customer_id": [raw_id]}).to_csv(tmp_path / "optout.csv", index=False)
    pd.DataFrame({"customer_key": [first_push]}).to_csv(tmp_path / "dnc.csv", index=False)
    export_campaigns(
        portraits,
        tmp_path / "b",
        campaigns=campaigns_file,
        customers=customers,
        opt_out_list=tmp_path / "optout.csv",
        do_not_contact_list=tmp_path / "dnc.csv",
    )
    out = read_export(tmp_path / "b")
    everyone = pd.concat([df for name, df in out.items() if "__" in name])
    assert first_push not in set(everyone["customer_key"])
    assert first_sms not in set(out["retention__sms.csv"]["customer_key"])
    assert base.manifest["files"] != []


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00not text\n", b'"unclosed\n'])
def test_an_unreadable_opt_out_list_is_a_config_error_naming_it(
    tmp_path, data, campaigns_file, content
):
    customers, portraits = data
    (tmp_path / "optout.csv").write_bytes(content)
    with pytest.raises(ConfigError, match=r"opt-out list '.*optout\.csv' cannot be read"):
        export_campaigns(
            portraits,
            tmp_path / "a",
            campaigns=campaigns_file,
            customers=customers,
            opt_out_list=tmp_path / "optout.csv",
        )
    assert not (tmp_path / "a").exists()


def test_an_opt_out_list_matching_nobody_is_warned_about(tmp_path, data, campaigns_file, caplog):
    customers, portraits = data
    # ids written in another form (lower case) match no customer: nobody would be blocked
    ids = customers["customer_id"].str.lower().iloc[:3]
    pd.DataFrame({"customer_id": ids}).to_csv(tmp_path / "optout.csv", index=False)
    with caplog.at_level(logging.WARNING):
        export_campaigns(
            portraits,
            tmp_path / "a",
            campaigns=campaigns_file,
            customers=customers,
            opt_out_list=tmp_path / "optout.csv",
        )
    assert "opt-out list" in caplog.text and "none of its 3 entries" in caplog.text


def test_incremental_segment_changes_by_hand(tmp_path, data, campaigns_file):
    customers, portraits = data
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    first = read_frame(tmp_path / "exp" / "segment_changes.csv")
    assert len(first) == 0  # no previous export
    moved = portraits.copy()
    moved.loc[[0, 5], "segment_id"] = [2, 0]  # customer 0: 0 -> 2, customer 5: 2 -> 0
    export_campaigns(moved, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    ch = read_frame(tmp_path / "exp" / "segment_changes.csv")
    k0, k5 = portraits["customer_key"].iloc[0], portraits["customer_key"].iloc[5]
    got = {(str(r.segment_id), r.change, r.customer_key) for r in ch.itertuples()}
    assert got == {("2", "entered", k0), ("0", "left", k0), ("0", "entered", k5), ("2", "left", k5)}


def test_bad_campaigns_are_config_errors(tmp_path, data):
    customers, portraits = data
    bad = tmp_path / "bad.yaml"
    bad.write_text(CAMPAIGNS.replace("channels: [app_push]", "channels: [fax]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'campaigns\[1\]\.channels\[0\]'.*'fax'"):
        load_campaigns(bad)
    bad.write_text(
        CAMPAIGNS.replace("has(tags, 'digital_first')", "__import__('os').system('x')"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="selection of 'digital'"):
        load_campaigns(bad)
    bad.write_text(CAMPAIGNS + "    columns: [phone]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="raw PII column"):
        load_campaigns(bad)
    bad.write_text(CAMPAIGNS.replace("churn_band in", "churn_bnd in"), encoding="utf-8")
    with pytest.raises(ConfigError, match="churn_bnd"):
        export_campaigns(portraits, tmp_path / "x", campaigns=bad, customers=customers)
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="does not exist"):
        load_campaigns(tmp_path / "missing.yaml")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    cap=st.integers(1, 2),
    capacity=st.integers(0, 30),
    global_sms=st.integers(0, 40),
)
def test_caps_and_order_hold_for_any_population(tmp_path_factory, seed, cap, capacity, global_sms):
    customers, portraits = make_data(n=80, seed=seed)
    campaigns = tmp_path_factory.mktemp("c") / "c.yaml"
    campaigns.write_text(
        CAMPAIGNS.replace("capacity: 8", f"capacity: {capacity}").replace(
            "campaigns:\n",
            f"channel_capacity:\n  sms: {global_sms}\ncampaigns:\n"
            '  - name: again\n    select: "churn_score >= 0"\n    channels: [sms, grid_manager]\n'
            "    capacity: 20\n    priority: 3\n",
        ),
        encoding="utf-8",
    )
    out_dir = tmp_path_factory.mktemp("o") / "exp"
    export_campaigns(
        portraits, out_dir, campaigns=campaigns, customers=customers, frequency_cap=cap
    )
    out = read_export(out_dir)
    lists = {n: df for n, df in out.items() if "__" in n}
    counts = pd.concat(
        [df["customer_key"] for df in lists.values() if len(df)] or [pd.Series([], dtype=str)]
    ).value_counts()
    assert (counts <= cap).all()
    sms_total = sum(len(df) for n, df in lists.items() if n.split("__")[1].startswith("sms"))
    assert sms_total <= global_sms
    for n, df in lists.items():
        if n.startswith("retention"):
            assert len(df) <= capacity
        if len(df):
            s = df["churn_score"].to_numpy()
            assert (np.diff(s) <= 0).all(), n
            # ties broken by customer_key ascending
            tied = df[df["churn_score"].duplicated(keep=False)]
            for _, g in tied.groupby("churn_score"):
                assert list(g["customer_key"]) == sorted(g["customer_key"])
    sms_keys = pd.concat(
        [df["customer_key"] for n, df in lists.items() if "__sms" in n]
        or [pd.Series([], dtype=str)]
    )
    phones = customers.set_index(portraits["customer_key"].to_numpy())
    assert phones.loc[list(sms_keys), "phone"].notna().all()
    assert not phones.loc[list(sms_keys), "sms_opt_out"].any()


def test_key_is_required_secret_consistent(tmp_path, data, campaigns_file, monkeypatch):
    customers, portraits = data
    # with another key the portraits' customer_key no longer matches customers: nobody is contactable
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY[::-1])
    res = export_campaigns(
        portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers
    )
    rows = {f["file"]: f["rows"] for f in res.manifest["files"]}
    assert rows["retention__sms.csv"] == 0 and rows["digital__app_push.jsonl"] == 0


def test_portraits_without_key_refused(tmp_path, data, campaigns_file):
    customers, portraits = data
    with pytest.raises(ExportError, match="customer_key"):
        export_campaigns(
            portraits.drop(columns="customer_key"), tmp_path / "e", campaigns=campaigns_file
        )


def test_interrupted_publish_is_completed_on_next_export(
    tmp_path, data, campaigns_file, monkeypatch
):
    import os

    from powerprofile.exceptions import OutputDirError
    from powerprofile.export import recover_directory

    customers, portraits = data
    portraits2 = portraits.assign(churn_score=1 - portraits["churn_score"])
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers)
    for p in (portraits, portraits2):  # the same two exports, uninterrupted
        export_campaigns(p, tmp_path / "ref", campaigns=campaigns_file, customers=customers)
    want = _files(tmp_path / "ref")
    # a crash after the commit point: the second staged file never moves
    real, moved = os.replace, []

    def power_cut(src, dst):
        if "/.powerprofile-tmp-" in str(src) and not str(src).endswith(".part"):
            moved.append(src)
            if len(moved) == 2:
                raise OSError("power cut")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OutputDirError, match="stopped half way"):
        export_campaigns(
            portraits2, tmp_path / "exp", campaigns=campaigns_file, customers=customers
        )
    monkeypatch.setattr(os, "replace", real)
    assert _files(tmp_path / "exp") != want
    # left-overs: an uncommitted staging folder of the job, and hidden folders of someone else
    stale = tmp_path / "exp" / ".powerprofile-tmp-export-dead"
    stale.mkdir()
    (stale / ".powerprofile-staging").write_text("{}", encoding="utf-8")
    (stale / "half.csv").write_bytes(b"partial")
    mine = tmp_path / "exp" / ".powerprofile-tmp-mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("not the job's", encoding="utf-8")
    (tmp_path / ".exp.tmp-old").mkdir()
    recover_directory(tmp_path / "exp")
    assert _files(tmp_path / "exp") == want
    assert (mine / "keep.txt").read_text(encoding="utf-8") == "not the job's"
    assert not stale.exists()
    assert (tmp_path / ".exp.tmp-old").is_dir()
    assert not (tmp_path / "exp" / ".powerprofile-lock").exists()


# ------------------------------------------------------------------ contactability


def _phone_files(out):
    return {n: df for n, df in out.items() if "__sms" in n or "__hotline_callback" in n}


def test_phone_123_is_no_phone_in_the_export_too(tmp_path, data):
    customers, portraits = data
    customers = customers.assign(phone=pd.array(["123"] * len(customers), dtype="string"))
    campaigns = tmp_path / "c.yaml"
    campaigns.write_text(
        'campaigns:\n  - name: call\n    select: "churn_score >= 0"\n'
        "    channels: [sms, hotline_callback, grid_manager]\n    control_share: 0\n",
        encoding="utf-8",
    )
    res = export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns, customers=customers)
    rows = {f["file"]: f["rows"] for f in res.manifest["files"]}
    assert rows["call__sms.csv"] == 0 and rows["call__hotline_callback.csv"] == 0
    assert rows["call__grid_manager.csv"] == len(portraits)


def test_export_reads_the_portraits_contactability(tmp_path, data):
    customers, portraits = data
    n = len(portraits)
    i = np.arange(n)
    # the portrait says: nobody by SMS (although customers have valid mobiles), WeChat
    # for every third customer (although the customers table says otherwise)
    portraits = portraits.assign(
        contactable_sms=False,
        contactable_app_push=False,
        contactable_wechat=i % 3 == 0,
        contactable_hotline_callback=i % 5 == 0,
        contactable_grid_manager=True,
    )
    campaigns = tmp_path / "c.yaml"
    campaigns.write_text(
        'campaigns:\n  - name: all\n    select: "churn_score >= 0"\n'
        "    channels: [sms, wechat, hotline_callback, grid_manager]\n    control_share: 0\n",
        encoding="utf-8",
    )
    export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns, customers=customers)
    out = read_export(tmp_path / "exp")
    keys = portraits["customer_key"].to_numpy()
    assert len(out["all__sms.csv"]) == 0
    assert set(out["all__wechat.csv"]["customer_key"]) == set(keys[i % 3 == 0])
    assert set(out["all__hotline_callback.csv"]["customer_key"]) == set(
        keys[(i % 5 == 0) & (i % 3 != 0)]
    )
    # the call-back file still carries the (masked) phone from the customers table
    assert out["all__hotline_callback.csv"]["phone"].notna().sum() == len(
        [j for j in i if j % 5 == 0 and j % 3 != 0 and j % 4 != 0]
    )


def test_export_without_any_contactability_is_refused(tmp_path, data, campaigns_file):
    _, portraits = data
    with pytest.raises(ExportError, match="no contactable_<channel> columns"):
        export_campaigns(portraits, tmp_path / "exp", campaigns=campaigns_file)
    assert not (tmp_path / "exp").exists()


def test_lists_keyed_before_the_k_prefix_still_match(tmp_path, data, campaigns_file):
    customers, portraits = data
    base = read_export(
        export_campaigns(
            portraits, tmp_path / "a", campaigns=campaigns_file, customers=customers
        ).out_dir
    )
    first_push = base["digital__app_push.jsonl"]["customer_key"].iloc[0]
    assert first_push.startswith("K")
    # a do-not-contact list written with the bare 16-hex key of export schema 1.0
    pd.DataFrame({"customer_key": [first_push[1:]]}).to_csv(tmp_path / "dnc.csv", index=False)
    export_campaigns(
        portraits,
        tmp_path / "b",
        campaigns=campaigns_file,
        customers=customers,
        do_not_contact_list=tmp_path / "dnc.csv",
    )
    out = read_export(tmp_path / "b")
    everyone = pd.concat([df for name, df in out.items() if "__" in name])
    assert first_push not in set(everyone["customer_key"])
