"""Randomised control groups: deterministic, stratified, never in a channel file."""

import hashlib
import math

import numpy as np
import pandas as pd

from powerprofile.export import export_campaigns, read_export

from .conftest import make_data

CAMPAIGNS = """
campaigns:
  - name: retain
    select: "churn_score >= 0"
    channels: [sms, wechat, grid_manager]
    control_share: {share}
    control_strata: {strata}
"""


def _campaigns(tmp_path, share=0.25, strata="null"):
    p = tmp_path / "c.yaml"
    p.write_text(CAMPAIGNS.format(share=share, strata=strata), encoding="utf-8")
    return p


def _data(n=400):
    customers, portraits = make_data(n=n, seed=5)
    i = np.arange(n)
    portraits["region"] = pd.array(np.where(i % 3 == 0, "城东", "城西"), dtype="string")
    return customers, portraits


def _u(cid: str, value: str) -> float:
    digest = hashlib.sha256(f"{cid}\x1f{value}".encode()).digest()[:8]
    return int.from_bytes(digest, "big") / 2**64


def test_control_group_is_deterministic_stratified_and_counted(tmp_path):
    customers, portraits = _data()
    camp = _campaigns(tmp_path)
    a = export_campaigns(portraits, tmp_path / "a", campaigns=camp, customers=customers)
    b = export_campaigns(portraits, tmp_path / "b", campaigns=camp, customers=customers)
    assert (tmp_path / "a" / "control_group.csv").read_bytes() == (
        tmp_path / "b" / "control_group.csv"
    ).read_bytes()
    out = read_export(tmp_path / "a")
    control = out["control_group.csv"]
    assert set(control["campaign_id"]) == {"retain@2026-01-01"}
    # every selected customer is either in a channel file or in the control group
    treated = pd.concat([out[f"retain__{ch}.csv"] for ch in ("sms", "wechat", "grid_manager")])
    assert len(treated) + len(control) == len(portraits)
    # stratified: within each (channel, band, region) stratum the control count is
    # share x size rounded down or up
    chan = pd.concat(
        [treated[["customer_key", "channel"]].rename(columns={"channel": "ch"})]
        + [control[["customer_key", "intended_channel"]].rename(columns={"intended_channel": "ch"})]
    )
    p = portraits.merge(chan, on="customer_key")
    p["control"] = p["customer_key"].isin(control["customer_key"])
    for _, g in p.groupby(["ch", "churn_band", "region"], observed=True):
        want = 0.25 * len(g)
        assert math.floor(want) <= g["control"].sum() <= math.ceil(want)
    row = a.manifest["campaigns"][0]
    assert row["control"] == len(control) and row["campaign_id"] == "retain@2026-01-01"
    assert row["sms"] + row["wechat"] + row["grid_manager"] == len(treated)
    assert b.manifest["campaigns"][0]["control"] == row["control"]
    rows = {f["file"]: f["rows"] for f in a.manifest["files"]}
    assert rows["control_group.csv"] == len(control)


def test_control_group_follows_the_keyed_hash_by_hand(tmp_path):
    """One stratum per channel: the floor(share*n + v) smallest draws are held out."""
    customers, portraits = _data(n=120)
    camp = _campaigns(tmp_path, share=0.3, strata="[]")
    export_campaigns(portraits, tmp_path / "a", campaigns=camp, customers=customers)
    out = read_export(tmp_path / "a")
    control = set(out["control_group.csv"]["customer_key"])
    cid = "retain@2026-01-01"
    for ch in ("sms", "wechat", "grid_manager"):
        listed = set(out[f"retain__{ch}.csv"]["customer_key"])
        held = set(
            out["control_group.csv"].loc[
                out["control_group.csv"]["intended_channel"] == ch, "customer_key"
            ]
        )
        everyone = sorted(listed | held, key=lambda k: (_u(cid, k), k))
        quota = math.floor(0.3 * len(everyone) + _u(cid + "\x1fstratum", ch))
        assert held == set(everyone[:quota])
    assert control


def test_control_customers_never_reach_a_channel_file(tmp_path):
    customers, portraits = _data()
    export_campaigns(
        portraits, tmp_path / "a", campaigns=_campaigns(tmp_path, share=0.5), customers=customers
    )
    out = read_export(tmp_path / "a")
    control = list(out["control_group.csv"]["customer_key"])
    assert len(control) > 100
    for f in sorted((tmp_path / "a").glob("retain__*")):
        raw = f.read_bytes()
        leaked = [k for k in control if k.encode() in raw]
        assert not leaked, f"{f.name} holds control customers {leaked[:3]}"
    holdout = (tmp_path / "a" / "control_group.csv").read_bytes()
    ids = customers["customer_id"].tolist()
    assert not [i for i in ids if i.encode() in holdout]  # keys only, never a raw id
    phones = customers["phone"].dropna().tolist()
    assert not [x for x in phones if x.encode() in holdout or x[-4:].encode() + b"\r" in holdout]


def test_no_control_group_when_share_is_zero(tmp_path):
    customers, portraits = _data(n=60)
    res = export_campaigns(
        portraits, tmp_path / "a", campaigns=_campaigns(tmp_path, share=0), customers=customers
    )
    assert res.manifest["campaigns"][0]["control"] == 0
    assert len(read_export(tmp_path / "a")["control_group.csv"]) == 0
