"""The run's closing-the-loop stage: degrades without responses, respects the export's cap."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.config import load_config
from powerprofile.export import export_campaigns
from powerprofile.privacy import pseudonymise, resolve_pseudonym_key
from powerprofile.uplift import run_uplift_stage

KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
CH = ("sms", "app_push", "wechat", "hotline_callback", "grid_manager")
N = 600


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    rng = np.random.default_rng(2)
    ids = [f"C{i:04d}" for i in range(N)]
    a = rng.random(N) < 0.5
    portraits = pd.DataFrame(
        {
            "customer_key": pseudonymise(ids, KEY).to_numpy(),
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "region": pd.array(["城东"] * N, dtype="string"),
            "churn_score": rng.random(N),
            "churn_band": pd.Categorical(["high"] * N),
            "flag": a,
            **{f"contactable_{c}": np.ones(N, dtype=bool) for c in CH},
        }
    )
    camp = tmp_path / "c.yaml"
    camp.write_text(
        'campaigns:\n  - name: top\n    select: "churn_score >= 0.9"\n    channels: [sms]\n',
        encoding="utf-8",
    )
    export_campaigns(portraits, tmp_path / "exp", campaigns=camp)
    data = tmp_path / "data"
    data.mkdir()
    cfg = load_config(
        overrides={
            "data": {"path": str(data)},
            "output_dir": str(tmp_path / "out"),
            "export": {"campaigns": str(camp)},
        }
    )
    return cfg, portraits, ids, a, tmp_path


def test_without_responses_the_stage_only_says_so(setup):
    cfg, portraits, _, _, tmp = setup
    res = run_uplift_stage(
        cfg, tmp / "out", portraits=portraits, export_dir=tmp / "exp", key=resolve_pseudonym_key()
    )
    assert res["effects"] is None and res["nbc"] is None
    assert any("No responses" in n for n in res["notes"])
    assert any("No randomised pilot" in n for n in res["notes"])


def _write_pilot(tmp, ids, a, complaint=False):
    """Six randomised waves: the visit helps customers with the flag; sms helps nobody.

    With ``complaint``, customers with the flag complain after a contact (60 % against 3 %).
    """
    rng = np.random.default_rng(5)
    rows = []
    for wave in range(6):  # the visit helps customers with the flag; sms helps nobody
        t = rng.choice(["control", "sms", "grid_manager"], N)
        p = 0.5 + np.where((t == "grid_manager") & a, 0.35, 0.0)
        frame = pd.DataFrame(
            {
                "campaign_id": f"pilot{wave}@2025-10-01",
                "customer_id": ids,
                "group": np.where(t == "control", "control", "treated"),
                "channel": pd.array(np.where(t == "control", None, t), dtype="string"),
                "retained": rng.random(N) < p,
            }
        )
        if complaint:
            frame["complaint"] = rng.random(N) < np.where((t != "control") & a, 0.6, 0.03)
        rows.append(frame)
    pd.concat(rows).to_parquet(tmp / "data" / "responses.parquet", index=False)


def test_next_best_channel_from_a_pilot_respects_the_run(setup):
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)
    res = run_uplift_stage(
        cfg, tmp / "out", portraits=portraits, export_dir=tmp / "exp", key=resolve_pseudonym_key()
    )
    table = pd.read_csv(tmp / "out" / "uplift" / "next_best_channel.csv", encoding="utf-8-sig")
    assert res["nbc"]["contacts"] == len(table) > 0
    flagged = set(portraits.loc[a, "customer_key"])
    mine = table[table["customer_key"].isin(flagged)]
    assert (mine["channel"] == "grid_manager").mean() > 0.9
    top = table.sort_values("rank").head(len(flagged) // 2)  # the largest effects first
    assert top["customer_key"].isin(flagged).mean() > 0.9
    in_export = set(portraits.loc[portraits["churn_score"] >= 0.9, "customer_key"])
    assert not set(table["customer_key"]) & in_export  # frequency cap 1: already in a campaign
    assert mine["reasons"].str.startswith("flag=").mean() > 0.8


@pytest.mark.parametrize("complaint", [False, True])
def test_complaints_after_contact_are_an_input_when_the_pilot_has_them(setup, complaint):
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a, complaint=complaint)
    portraits = portraits.drop(columns="flag")  # only the complaints tell who has the flag
    run_uplift_stage(
        cfg, tmp / "out", portraits=portraits, export_dir=tmp / "exp", key=resolve_pseudonym_key()
    )
    table = pd.read_csv(tmp / "out" / "uplift" / "next_best_channel.csv", encoding="utf-8-sig")
    named = table["reasons"].fillna("").str.contains("complaint_after_contact")
    flagged = table["customer_key"].isin(set(portraits.loc[a, "customer_key"]))
    if complaint:
        assert named[flagged].mean() > 0.8
    else:
        assert not named.any()


def test_next_best_channel_leaves_out_opted_out_and_do_not_contact_customers(setup):
    """The do-not-contact list keeps its customers out of every channel; the opt-out
    list only out of the marketing channels (a visit may still be chosen for them)."""
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)
    flagged = np.flatnonzero(a & (portraits["churn_score"].to_numpy() < 0.9))
    out_ids = [ids[i] for i in flagged[:40]]
    dnc_keys = portraits["customer_key"].to_numpy()[flagged[40:80]].tolist()
    pd.DataFrame({"customer_id": out_ids}).to_csv(tmp / "optout.csv", index=False)
    pd.DataFrame({"customer_key": dnc_keys}).to_csv(tmp / "dnc.csv", index=False)
    cfg.export.opt_out_list = str(tmp / "optout.csv")
    cfg.export.do_not_contact_list = str(tmp / "dnc.csv")
    run_uplift_stage(
        cfg, tmp / "out", portraits=portraits, export_dir=tmp / "exp", key=resolve_pseudonym_key()
    )
    table = pd.read_csv(tmp / "out" / "uplift" / "next_best_channel.csv", encoding="utf-8-sig")
    assert len(set(dnc_keys)) == 40
    assert not set(table["customer_key"]) & set(dnc_keys)
    opted = table[table["customer_key"].isin(set(pseudonymise(out_ids, KEY)))]
    assert not opted["channel"].isin(["sms", "app_push", "wechat"]).any()
    assert (opted["channel"] == "grid_manager").all() and len(opted) > 0.9 * len(out_ids)
    # the other flagged customers the visit helps are still chosen
    rest = set(portraits["customer_key"].to_numpy()[flagged[80:]])
    assert len(set(table["customer_key"]) & rest) > 0.9 * len(rest)


def test_the_model_learns_from_the_scoring_features_absent_from_the_portraits(setup):
    """The visit helps customers with past complaints: a fact of the scoring frame only."""
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)
    portraits = portraits.drop(columns="flag")
    rng = np.random.default_rng(9)
    scoring = pd.DataFrame(
        {
            "customer_id": ids,
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "complaints_90d": np.where(a, 3.0, 0.0).astype("float32"),
            "kwh_mean_30d": rng.gamma(2.0, 5.0, N).astype("float32"),
            "label_churn": rng.random(N) < 0.1,
        }
    ).set_index(["customer_id", "snapshot_date"])
    flagged = set(portraits.loc[a, "customer_key"])

    def top_flagged(**kw):
        run_uplift_stage(
            cfg,
            tmp / "out",
            portraits=portraits,
            export_dir=tmp / "exp",
            key=resolve_pseudonym_key(),
            **kw,
        )
        table = pd.read_csv(tmp / "out" / "uplift" / "next_best_channel.csv", encoding="utf-8-sig")
        top = table.sort_values("rank").head(len(flagged) // 2)
        return table, top["customer_key"].isin(flagged).mean()

    table, share = top_flagged(scoring=scoring)
    assert share > 0.9
    mine = table[table["customer_key"].isin(flagged)]
    assert (mine["channel"] == "grid_manager").mean() > 0.9
    assert mine["reasons"].str.startswith("complaints_90d=3").mean() > 0.8
    _, blind = top_flagged()  # the portraits alone do not know who complained
    assert blind < 0.75


def test_the_stage_is_deterministic_for_a_seed(setup):
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)
    tables = []
    for _ in range(2):
        run_uplift_stage(
            cfg,
            tmp / "out",
            portraits=portraits,
            export_dir=tmp / "exp",
            key=resolve_pseudonym_key(),
        )
        tables.append((tmp / "out" / "uplift" / "next_best_channel.csv").read_bytes())
    assert tables[0] == tables[1]


def test_a_large_pilot_is_sampled_by_whole_customers(setup):
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)  # 600 customers x 6 waves = 3,600 rows
    cfg.uplift.max_training_rows = 1200  # a third of the rows

    def used(seed):
        cfg.seed = seed
        res = run_uplift_stage(
            cfg,
            tmp / "out",
            portraits=portraits,
            export_dir=tmp / "exp",
            key=resolve_pseudonym_key(),
        )
        return res["nbc"]["pilot_rows"], [n for n in res["notes"] if "pilot rows" in n]

    rows, notes = used(0)
    assert rows % 6 == 0  # every drawn customer keeps all six of their rows
    # 200 customers expected of 600 (binomial sd 11.5): within 3 sd
    assert 6 * 165 <= rows <= 6 * 235
    assert notes == [
        f"The uplift model is fitted on {rows:,} of the 3,600 pilot rows "
        "(uplift.max_training_rows: 1,200; customers drawn by key and seed, "
        "each with all their rows)."
    ]
    assert used(0)[0] == rows  # the same draw for the same seed
    cfg.uplift.max_training_rows = None
    assert used(0) == (3600, [])


@pytest.mark.parametrize("case", ["no customer of the portraits", "no control rows"])
def test_a_pilot_that_does_not_match_the_portraits_is_a_note_not_a_crash(setup, case):
    cfg, portraits, ids, a, tmp = setup
    _write_pilot(tmp, ids, a)
    pilot = pd.read_parquet(tmp / "data" / "responses.parquet")
    if case == "no customer of the portraits":  # e.g. another data set's pilot
        pilot["customer_id"] = "X" + pilot["customer_id"]
    else:
        pilot = pilot[pilot["group"] == "treated"]
    pilot.to_parquet(tmp / "data" / "responses.parquet", index=False)
    res = run_uplift_stage(
        cfg, tmp / "out", portraits=portraits, export_dir=tmp / "exp", key=resolve_pseudonym_key()
    )
    assert res["nbc"] is None
    (note,) = [n for n in res["notes"] if "pilot responses" in n]
    assert f"The pilot responses ({len(pilot):,} rows) hold " in note
    assert ("hold 0 rows" in note) == (case == "no customer of the portraits")
    assert "no uplift model" in note
    assert not (tmp / "out" / "uplift" / "next_best_channel.csv").exists()
