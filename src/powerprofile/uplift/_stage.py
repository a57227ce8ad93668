"""The job's closing-the-loop stage: responses in, effects out, next-best-channel."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..export import (
    CHANNELS,
    eligibility,
    load_campaigns,
    read_contact_list,
    write_frame,
)
from ..privacy import pseudonymise
from ._effects import campaign_effects
from ._inputs import iter_uplift_inputs, uplift_inputs
from ._metrics import saved_per_1000
from ._model import UpliftModel
from ._outcomes import campaign_members, ingest_outcomes, pilot_outcomes
from ._policy import next_best_channel, score_targeting

__all__ = ["run_uplift_stage", "simulate_export_responses"]

log = logging.getLogger("powerprofile")

EFFECTS_FILE = "campaign_effects.csv"
NBC_FILE = "next_best_channel.csv"
SIMULATED_FILE = "simulated_responses.csv"


def simulate_export_responses(export_dir, data_path, *, key, seed: int = 0) -> pd.DataFrame | None:
    """Synthetic data only: responses to an export, drawn from the generator's true effects.

    The export's treated and control customers (by ``customer_key``) are matched to the
    data folder's customer ids with the same key, then
    :func:`powerprofile.datasets.simulate_responses` draws their outcomes.

    Returns
    -------
    pandas.DataFrame or None
        ``responses`` rows keyed by ``campaign_id`` and ``customer_id`` (no ``group``:
        the export says it); None when the data folder holds no campaign truth.
    """
    from ..datasets import simulate_responses

    truth_file = Path(data_path) / "truth" / "uplift.parquet"
    if not truth_file.is_file():
        log.warning(
            "uplift.simulate_responses: %s is missing (data generated before campaign truth); "
            "no responses simulated",
            truth_file,
        )
        return None
    effects = pd.read_parquet(truth_file)
    effects["customer_id"] = effects["customer_id"].astype("string")
    members = campaign_members(export_dir)
    ids = pd.Series(
        effects["customer_id"].to_numpy(),
        index=pseudonymise(effects["customer_id"], key).to_numpy(),
    )
    members = members[members["customer_key"].isin(ids.index)]
    assignment = pd.DataFrame(
        {
            "campaign_id": members["campaign_id"].to_numpy(),
            "customer_id": ids.reindex(members["customer_key"].to_numpy()).to_numpy(),
            "group": members["group"].to_numpy(),
            "channel": members["channel"].to_numpy(),
        }
    )
    snap = members["campaign_id"].str.split("@").str[-1].iloc[0] if len(members) else None
    out = simulate_responses(effects, assignment, seed=int(seed) + 17, sent_at=snap or "2026-01-01")
    return out.drop(columns="group")


def run_uplift_stage(
    cfg, root, *, portraits: pd.DataFrame, export_dir, key, scoring=None
) -> dict | None:
    """Ingest responses to the export, measure campaign effects, choose next-best channels.

    Parameters
    ----------
    cfg : Config
    root : path-like
        The run's (staging) output folder; files go to ``root/uplift``.
    portraits : pandas.DataFrame
    export_dir : path-like
        This run's export.
    key : PseudonymKey
    scoring : pandas.DataFrame or path-like or None, default=None
        The run's scoring feature frame (its parquet file, or the streamed route's
        folder of parts), joined to the portraits as the uplift model's inputs (see
        :func:`uplift_inputs`); read part by part, only ``uplift.features``. None: the
        portrait columns only.

    Returns
    -------
    dict or None
        For the report: ``effects`` (DataFrame or None), ``nbc`` (summary dict or None),
        ``notes`` (list of str). None when the stage is disabled.
    """
    u = cfg.uplift
    if not u.enabled:
        return None
    out = Path(root) / "uplift"
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {"effects": None, "nbc": None, "notes": [], "files": []}
    responses = u.responses
    if u.simulate_responses:
        sim = simulate_export_responses(export_dir, cfg.data.path, key=key, seed=cfg.seed)
        if sim is not None:
            responses = out / SIMULATED_FILE
            write_frame(sim, responses, "csv", decimals=None)
            res["files"].append(SIMULATED_FILE)
            res["notes"].append(
                f"Responses simulated from the synthetic data's ground truth ({len(sim):,} rows, "
                f"{SIMULATED_FILE}) and ingested like a file from the channel systems."
            )
    if responses is not None:
        outcomes = ingest_outcomes(responses, export_dir, key=key)
        effects = campaign_effects(outcomes, alpha=u.alpha, min_cell=u.min_cell, costs=u.costs)
        write_frame(effects, out / EFFECTS_FILE, "csv", decimals=None)
        res["files"].append(EFFECTS_FILE)
        res["effects"] = effects
        log.info("uplift: %d responses ingested, %d effect cells", len(outcomes), len(effects))
    else:
        log.info("uplift: no responses answer this export (uplift.responses); effects not measured")
        res["notes"].append("No responses answer this export yet (set uplift.responses).")
    pilot = u.pilot_responses
    if pilot is None:
        candidate = Path(cfg.data.path) / "responses.parquet"
        pilot = candidate if candidate.is_file() else None
    if pilot is None:
        log.info("uplift: no pilot responses (data folder responses.parquet); no uplift model")
        res["notes"].append(
            "No randomised pilot responses: no uplift model and no next-best-channel choice."
        )
        return res
    res["nbc"] = _next_best(cfg, out, portraits, pilot, export_dir, key, res, scoring)
    return res


PILOT_SALT = 2
"""Mixed into the customer draw of the pilot sample (the segmenter's draw uses 1)."""


def _pilot_sample(po: pd.DataFrame, cap, seed: int, res: dict) -> pd.DataFrame:
    """The pilot rows the uplift model is fitted on: about ``cap``, whole customers."""
    if cap is None or len(po) <= int(cap):
        return po
    from ..pipeline._sample import customer_uniform

    keep = customer_uniform(po["customer_key"], seed, PILOT_SALT) < int(cap) / len(po)
    msg = (
        f"The uplift model is fitted on {int(keep.sum()):,} of the {len(po):,} pilot rows "
        f"(uplift.max_training_rows: {int(cap):,}; customers drawn by key and seed, each "
        "with all their rows)."
    )
    log.info("uplift: %s", msg)
    res["notes"].append(msg)
    return po[keep]


def _next_best(cfg, out: Path, portraits, pilot, export_dir, key, res, scoring) -> dict:
    u = cfg.uplift
    po = pilot_outcomes(pilot, key=key)
    keys = portraits["customer_key"].astype("string").to_numpy()
    row_of = pd.Series(np.arange(len(keys)), index=keys)
    n_read = len(po)
    po = po[po["customer_key"].isin(row_of.index) & po[u.outcome].notna()]
    groups = set(po["group"].dropna().unique())
    if not {"control", "treated"} <= groups:
        msg = (
            f"The pilot responses ({n_read:,} rows) hold {len(po):,} rows of customers in "
            f"the portraits with a {u.outcome!r} outcome, "
            + ("none of them" if not groups else f"only {sorted(groups)[0]!r} ones")
            + ": no uplift model and no next-best-channel choice. Check that the pilot "
            "file belongs to this data set and that the pseudonymisation key is the one its "
            "customers were keyed with."
        )
        log.warning("uplift: %s", msg)
        res["notes"].append(msg)
        return None
    po = _pilot_sample(po, u.max_training_rows, cfg.seed, res)
    pilot_rows = np.zeros(len(keys), bool)
    pilot_rows[row_of.reindex(po["customer_key"].to_numpy()).to_numpy()] = True
    inputs = dict(key=key, columns=u.features)
    X_pilot = uplift_inputs(portraits, scoring, rows=pilot_rows, **inputs)
    at = pd.Series(np.arange(len(X_pilot)), index=keys[pilot_rows])
    X = X_pilot.iloc[at.reindex(po["customer_key"].to_numpy()).to_numpy()].reset_index(drop=True)
    del X_pilot
    treatment = np.where(po["group"] == "control", "control", po["channel"].astype(str))
    # the customers a contact annoys: complaints after contact as an input of the effects
    complaint = None
    if u.outcome != "complaint" and "complaint" in po.columns and po["complaint"].notna().any():
        complaint = po["complaint"].to_numpy()
    model = UpliftModel(random_state=cfg.seed).fit(
        X,
        treatment,
        po[u.outcome].to_numpy(),
        groups=po["customer_key"].to_numpy(),
        complaint=complaint,
    )
    del X
    effects = pd.DataFrame(
        0.0, index=range(len(keys)), columns=[f"effect_{ch}" for ch in model.channels_]
    )
    for pos, part in iter_uplift_inputs(portraits, scoring, **inputs):  # one part at a time
        effects.iloc[pos] = model.predict_effect(part).to_numpy()
    contact = portraits[[f"contactable_{ch}" for ch in CHANNELS]].astype(bool)
    # a hashed look-up: np.isin compares text keys pairwise
    opted = row_of.index.isin(list(read_contact_list(cfg.export.opt_out_list, key, "opt-out")))
    dnc = row_of.index.isin(
        list(read_contact_list(cfg.export.do_not_contact_list, key, "do-not-contact"))
    )
    elig = eligibility(contact, opted, dnc)
    cset = load_campaigns(cfg.export.campaigns)
    cap = cfg.export.frequency_cap or cset.frequency_cap
    members = campaign_members(export_dir)
    used = (
        pd.Series(1, index=members["customer_key"].to_numpy())
        .groupby(level=0)
        .sum()
        .reindex(keys)
        .fillna(0)
        .to_numpy()
    )
    capacity = dict(u.capacity or cset.channel_capacity)
    chans = [ch for ch in CHANNELS if f"effect_{ch}" in effects.columns]
    choice = next_best_channel(
        effects,
        eligible=elig,
        capacity=capacity,
        budget=u.budget,
        used=used,
        frequency_cap=cap,
        keys=keys,
        channels=chans,
    )
    got = choice["channel"].notna().to_numpy(dtype=bool)
    chosen = choice["channel"].to_numpy(dtype=object)
    reasons = np.full(len(keys), "", dtype=object)
    for pos, part in iter_uplift_inputs(portraits, scoring, rows=got, **inputs):
        reasons[pos] = model.explain(part, channel=chosen[pos])["reasons"].to_numpy(dtype=object)
    table = pd.DataFrame(
        {
            "customer_key": pd.array(keys[got], dtype="string"),
            "channel": choice["channel"][got].to_numpy(),
            "rank": choice["rank"][got].to_numpy(),
            "expected_effect": choice["expected_effect"][got].to_numpy(),
            "reasons": pd.array(reasons[got], dtype="string"),
        }
    ).sort_values("rank", kind="mergesort")
    write_frame(table, out / NBC_FILE, "csv", decimals=None)
    res["files"].append(NBC_FILE)
    n = int(got.sum())
    summary = {
        "contacts": n,
        "by_channel": table["channel"]
        .value_counts()
        .reindex(chans)
        .fillna(0)
        .astype(int)
        .to_dict(),
        "expected_saved_per_1000": float(1000 * table["expected_effect"].mean()) if n else None,
        "pilot_rows": len(po),
        "examples": table.head(10).reset_index(drop=True),
    }
    # the same number of contacts by churn score, channels in the export's preference order
    if "churn_score" in portraits.columns and n:
        by_score = score_targeting(
            portraits["churn_score"].to_numpy(dtype=float, na_value=np.nan),
            eligible={ch: e & (used < cap) for ch, e in elig.items()},
            channels=chans,
            capacity=capacity,
            budget=n,
            keys=keys,
        )
        summary["score_expected_saved_per_1000"] = saved_per_1000(by_score["channel"], effects)
        truth = Path(cfg.data.path) / "truth" / "uplift.parquet"
        if truth.is_file():  # synthetic data: score both choices against the oracle
            t = pd.read_parquet(truth)
            t.index = pseudonymise(t["customer_id"], key).to_numpy()
            t = t.reindex(keys).fillna(0.0)
            summary["true_saved_per_1000"] = saved_per_1000(choice["channel"], t)
            summary["score_true_saved_per_1000"] = saved_per_1000(by_score["channel"], t)
    return summary
