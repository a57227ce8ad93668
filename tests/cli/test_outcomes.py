"""``powerprofile outcomes``: responses in, campaign effects out, named errors."""

from pathlib import Path

import numpy as np
import pandas as pd

from powerprofile.cli import main
from powerprofile.export import export_campaigns
from powerprofile.privacy import pseudonymise

ROOT = Path(__file__).resolve().parents[2]
KEY = "51b7b27f5b033332ade522c12c90d1e4cc45bd1b38f29d763a85622401c8d9c4"


def _setup(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    n = 120
    ids = [f"C{i:04d}" for i in range(n)]
    portraits = pd.DataFrame(
        {
            "customer_key": pseudonymise(ids, KEY).to_numpy(),
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "region": pd.array(["城东"] * n, dtype="string"),
            "churn_score": np.linspace(0, 1, n),
            "churn_band": pd.Categorical(["high"] * n),
            "contactable_sms": False,
            "contactable_app_push": False,
            "contactable_wechat": False,
            "contactable_hotline_callback": False,
            "contactable_grid_manager": True,
        }
    )
    camp = tmp_path / "c.yaml"
    camp.write_text(
        'campaigns:\n  - name: visit\n    select: "churn_score >= 0"\n'
        "    channels: [grid_manager]\n    control_share: 0.25\n",
        encoding="utf-8",
    )
    export_campaigns(portraits, tmp_path / "exp", campaigns=camp)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"extends: {ROOT / 'configs' / 'default.yaml'}\noutput_dir: {tmp_path / 'out'}\n",
        encoding="utf-8",
    )
    responses = pd.DataFrame(
        {
            "campaign_id": "visit@2026-01-01",
            "customer_id": ids,
            "retained": np.arange(n) % 4 != 0,
        }
    )
    return cfg, responses


def test_outcomes_writes_effects(tmp_path, monkeypatch, capsys):
    cfg, responses = _setup(tmp_path, monkeypatch)
    responses.to_csv(tmp_path / "r.csv", index=False)
    rc = main(
        [
            "outcomes",
            "--config",
            str(cfg),
            "--responses",
            str(tmp_path / "r.csv"),
            "--export",
            str(tmp_path / "exp"),
            "-q",
        ]
    )
    assert rc == 0
    effects = pd.read_csv(tmp_path / "out" / "uplift" / "campaign_effects.csv")
    overall = effects[(effects["breakdown"] == "all") & (effects["outcome"] == "retained")]
    assert overall["n_treated"].iloc[0] + overall["n_control"].iloc[0] == 120
    assert overall["n_control"].iloc[0] == 30  # one stratum of 120, a quarter held out


def test_outcomes_unknown_campaign_exits_with_the_named_error(tmp_path, monkeypatch, capsys):
    cfg, responses = _setup(tmp_path, monkeypatch)
    responses["campaign_id"] = "visit@2025-01-01"
    responses.to_csv(tmp_path / "r.csv", index=False)
    rc = main(
        [
            "outcomes",
            "--config",
            str(cfg),
            "--responses",
            str(tmp_path / "r.csv"),
            "--export",
            str(tmp_path / "exp"),
            "-q",
        ]
    )
    assert rc != 0
    assert "'visit@2025-01-01'" in capsys.readouterr().err
