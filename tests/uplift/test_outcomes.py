"""Responses back in: joined to the export they answer, named errors otherwise."""

import numpy as np
import pandas as pd
import pytest

from powerprofile.exceptions import (
    CustomerNotInExportError,
    DataValidationError,
    UnknownCampaignError,
)
from powerprofile.export import export_campaigns
from powerprofile.privacy import pseudonymise
from powerprofile.uplift import campaign_effects, ingest_outcomes, pilot_outcomes

KEY = "3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c"
N = 200

CAMPAIGNS = """
campaigns:
  - name: keep
    select: "churn_score >= 0.5"
    channels: [sms, grid_manager]
    capacity: {sms: 40}
    control_share: 0.3
"""


@pytest.fixture
def exported(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    ids = [f"C{i:04d}" for i in range(N)]
    rng = np.random.default_rng(1)
    score = rng.random(N)
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "phone": pd.array([f"1390000{i:04d}" for i in range(N)], dtype="string"),
        }
    )
    portraits = pd.DataFrame(
        {
            "customer_key": pseudonymise(ids, KEY).to_numpy(),
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "region": pd.array(np.where(np.arange(N) % 2, "城东", "城西"), dtype="string"),
            "segment_id": (np.arange(N) % 3).astype(np.int64),
            "churn_score": score,
            "churn_band": pd.Categorical(np.where(score >= 0.8, "high", "medium")),
        }
    )
    camp = tmp_path / "c.yaml"
    camp.write_text(CAMPAIGNS, encoding="utf-8")
    res = export_campaigns(portraits, tmp_path / "exp", campaigns=camp, customers=customers)
    selected = np.flatnonzero(score >= 0.5)
    return tmp_path / "exp", res.manifest, [ids[i] for i in selected], ids


def _responses(ids, cid="keep@2026-01-01", **extra):
    n = len(ids)
    return pd.DataFrame(
        {
            "campaign_id": [cid] * n,
            "customer_id": ids,
            "retained": ["true" if i % 3 else "false" for i in range(n)],
            "complaint": ["0"] * n,
            **extra,
        }
    )


def test_responses_join_the_export_treated_and_control(exported):
    folder, manifest, selected, _ = exported
    out = ingest_outcomes(_responses(selected), folder)
    assert len(out) == len(selected)
    assert "customer_id" not in out.columns  # keys only
    control = manifest["campaigns"][0]["control"]
    assert (out["group"] == "control").sum() == control > 0
    assert set(out["channel"].dropna()) <= {"sms", "grid_manager"}
    assert out["converted_online"].isna().all()  # not in the file: unknown, not "no"
    eff = campaign_effects(out)
    assert set(eff["outcome"]) == {"retained", "complaint"}


def test_unknown_campaign_is_a_named_error(exported):
    folder, _, selected, _ = exported
    with pytest.raises(UnknownCampaignError, match=r"'keep@2025-12-01'.*keep@2026-01-01"):
        ingest_outcomes(_responses(selected[:5], cid="keep@2025-12-01"), folder)


def test_customer_outside_the_export_is_a_named_error(exported):
    folder, _, selected, ids = exported
    outsider = sorted(set(ids) - set(selected))[0]
    with pytest.raises(CustomerNotInExportError, match=rf"1 response row.*{outsider}"):
        ingest_outcomes(_responses([*selected[:5], outsider]), folder)


def test_group_that_disagrees_with_the_export_is_refused(exported):
    folder, _, selected, _ = exported
    with pytest.raises(DataValidationError, match="disagrees with the export"):
        ingest_outcomes(_responses(selected, group=["treated"] * len(selected)), folder)


def test_responses_are_validated_like_every_table(exported):
    folder, _, selected, _ = exported
    bad = _responses(selected[:3])
    bad.loc[1, "retained"] = "perhaps"
    with pytest.raises(DataValidationError, match="responses.retained"):
        ingest_outcomes(bad, folder)


def test_pilot_needs_the_group(monkeypatch):
    monkeypatch.setenv("POWERPROFILE_PSEUDONYM_KEY", KEY)
    with pytest.raises(DataValidationError, match="need a 'group'"):
        pilot_outcomes(_responses(["C1", "C2"]))
    ok = pilot_outcomes(
        _responses(["C1", "C2"], group=["treated", "control"], channel=["sms", None])
    )
    assert ok["group"].tolist() == ["treated", "control"]
