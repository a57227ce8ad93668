"""Responses back in: the ``responses`` table joined to the exports it answers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import CustomerNotInExportError, DataValidationError, UnknownCampaignError
from ..export import read_export
from ..privacy import pseudonymise, resolve_pseudonym_key
from ..schema import load_feedback_table

__all__ = ["OUTCOMES", "OUTCOME_COLUMNS", "campaign_members", "ingest_outcomes", "pilot_outcomes"]

log = logging.getLogger(__name__)

OUTCOMES = ("retained", "converted_online", "complaint")
"""Outcome columns of the ``responses`` table that campaign effects are measured on."""
OUTCOME_COLUMNS = (
    "campaign_id",
    "campaign",
    "customer_key",
    "group",
    "channel",
    "score_band",
    "region",
    "segment_id",
    "sent",
    "delivered",
    "responded",
    *OUTCOMES,
    "outcome_at",
)
"""Columns of an outcomes frame (no customer id: keys only)."""


def campaign_members(exports) -> pd.DataFrame:
    """Every treated and control customer of the campaigns of one or more exports.

    Parameters
    ----------
    exports : str or path-like or list of them
        Export folders (each with ``manifest.json``).

    Returns
    -------
    pandas.DataFrame
        ``campaign_id``, ``campaign``, ``customer_key``, ``group`` (``treated`` or
        ``control``), ``channel`` (the list's channel; for a control customer the
        channel they were held out of), ``score_band``, ``region``, ``segment_id``.
    """
    if isinstance(exports, str | Path):
        exports = [exports]
    frames = []
    for folder in exports:
        folder = Path(folder)
        mf = folder / "manifest.json"
        if not mf.is_file():
            raise DataValidationError(
                f"export folder {str(folder)!r} has no manifest.json; give the folder an "
                "export wrote (powerprofile export / run)."
            )
        manifest = json.loads(mf.read_text(encoding="utf-8"))
        files = read_export(folder)
        ids = {c["campaign"]: c.get("campaign_id") for c in manifest.get("campaigns", [])}
        scores = {c["campaign"]: c.get("score", "churn_score") for c in manifest["campaigns"]}
        if not any(ids.values()):
            log.warning(
                "export %s was written before campaigns had ids and control groups; its "
                "campaigns cannot be answered",
                folder,
            )
            continue
        for f in manifest["files"]:
            camp, ch = f.get("campaign"), f.get("channel")
            if camp is None or ch is None or not ids.get(camp):
                continue
            df = files[f["file"]]
            band = scores[camp].removesuffix("_score") + "_band"
            frames.append(
                pd.DataFrame(
                    {
                        "campaign_id": ids[camp],
                        "campaign": camp,
                        "customer_key": df["customer_key"].to_numpy(),
                        "group": "treated",
                        "channel": ch,
                        "score_band": _col(df, band, "string"),
                        "region": _col(df, "region", "string"),
                        "segment_id": _col(df, "segment_id", "Int64"),
                    }
                )
            )
        control = manifest.get("control_file")
        if control and control in files:
            df = files[control]
            frames.append(
                pd.DataFrame(
                    {
                        "campaign_id": df["campaign_id"].to_numpy(),
                        "campaign": df["campaign"].to_numpy(),
                        "customer_key": df["customer_key"].to_numpy(),
                        "group": "control",
                        "channel": df["intended_channel"].to_numpy(),
                        "score_band": _col(df, "score_band", "string"),
                        "region": _col(df, "region", "string"),
                        "segment_id": _col(df, "segment_id", "Int64"),
                    }
                )
            )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in OUTCOME_COLUMNS[:8]})
    out = pd.concat(frames, ignore_index=True)
    for c in (
        "campaign_id",
        "campaign",
        "customer_key",
        "group",
        "channel",
        "score_band",
        "region",
    ):
        out[c] = out[c].astype("string")
    out["segment_id"] = pd.to_numeric(out["segment_id"]).astype("Int64")
    return out


def _col(df: pd.DataFrame, col: str, dtype: str):
    if col in df.columns:
        return df[col].astype("string" if dtype == "string" else df[col].dtype).to_numpy()
    return pd.array([pd.NA] * len(df), dtype=dtype)


def _responses(responses, key) -> pd.DataFrame:
    resp = load_feedback_table(responses, "responses")
    given = set(resp.attrs.get("columns_given", resp.columns))
    missing = [c for c in OUTCOMES if c not in given]
    if len(missing) == len(OUTCOMES):
        raise DataValidationError(
            f"responses have none of the outcome columns {list(OUTCOMES)!r}; columns given: "
            f"{sorted(given)!r}. Add at least 'retained'."
        )
    resp = resp.copy()
    for c in missing:  # absent outcome: unknown, not "no"
        resp[c] = pd.array([pd.NA] * len(resp), dtype="boolean")
    resp["customer_key"] = pseudonymise(resp["customer_id"], key).to_numpy()
    resp.attrs["group_given"] = "group" in given
    return resp


def ingest_outcomes(responses, exports, *, key=None) -> pd.DataFrame:
    """Join responses to the campaign exports they answer.

    Parameters
    ----------
    responses : pandas.DataFrame or str or path-like
        The ``responses`` contract table (validated here), keyed by ``campaign_id``
        and the raw ``customer_id``, which is turned into ``customer_key`` with the
        pseudonymisation key.
    exports : str or path-like or list of them
        The export folders whose manifests hold the campaigns answered.
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key; the one the exports were made with.

    Returns
    -------
    pandas.DataFrame
        One row per response, the columns of :data:`OUTCOME_COLUMNS`; ``group`` and
        ``channel`` come from the export (the assignment), never from the response.
        Customers of the exports without a response are counted in the log.

    Raises
    ------
    DataValidationError
        The responses break the contract, or a ``group`` given disagrees with the export.
    UnknownCampaignError
        A ``campaign_id`` is in none of the manifests.
    CustomerNotInExportError
        A customer was neither treated nor control in the campaign the row names.
    """
    key = resolve_pseudonym_key(key)
    resp = _responses(responses, key)
    members = campaign_members(exports)
    known = set(members["campaign_id"].dropna())
    unknown = sorted(set(resp["campaign_id"].dropna()) - known)
    if unknown:
        n = int(resp["campaign_id"].isin(unknown).sum())
        raise UnknownCampaignError(
            f"responses name {len(unknown)} campaign id(s) no given export holds "
            f"({n} rows; first: {unknown[0]!r}); the exports hold {sorted(known)[:10]!r}. "
            "Pass the export folder whose manifest.json lists them, or fix campaign_id."
        )
    merged = resp.drop(columns=["channel"]).merge(
        members, on=["campaign_id", "customer_key"], how="left", suffixes=("_given", "")
    )
    outside = merged["campaign"].isna().to_numpy()
    if outside.any():
        first = merged.loc[outside].iloc[0]
        raise CustomerNotInExportError(
            f"{int(outside.sum())} response row(s) name a customer who was neither treated "
            f"nor control in that campaign (first: customer_id {first['customer_id']!r} in "
            f"campaign {first['campaign_id']!r}); check the campaign_id and customer_id of "
            "these rows, or that the same pseudonymisation key made the export."
        )
    if resp.attrs.get("group_given"):
        given = merged["group_given"].astype("string")
        clash = (given.notna() & (given != merged["group"])).to_numpy(dtype=bool)
        if clash.any():
            first = merged.loc[clash].iloc[0]
            raise DataValidationError(
                f"responses.group disagrees with the export for {int(clash.sum())} row(s) "
                f"(first: customer_id {first['customer_id']!r} in {first['campaign_id']!r} is "
                f"{first['group']!r} in the export, {first['group_given']!r} in the file); the "
                "export's assignment decides: fix or drop the group column."
            )
    contaminated = int(((merged["group"] == "control") & merged["sent"]).sum())
    if contaminated:
        log.warning(
            "%d control customer(s) were sent a contact anyway; they stay in the control group "
            "(intention to treat), which dilutes the measured effect",
            contaminated,
        )
    answered = members["campaign_id"].isin(set(resp["campaign_id"]))
    silent = int(answered.sum()) - len(merged)
    if silent > 0:
        log.info("%d customer(s) of the answered campaigns have no response row", silent)
    return _finish(merged)


def pilot_outcomes(responses, *, key=None) -> pd.DataFrame:
    """Outcomes of randomised campaigns run outside an export (a pilot), from the responses alone.

    Each row must say its ``group``, and every treated row its ``channel``; a control
    row's ``channel`` (if given) is the channel it was held out of.

    Parameters
    ----------
    responses : pandas.DataFrame or str or path-like
        The ``responses`` table with ``group``.
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`OUTCOME_COLUMNS` (``score_band``, ``region``,
        ``segment_id`` missing: join portraits for them).

    Raises
    ------
    DataValidationError
        No ``group`` column, or treated rows without a channel.
    """
    key = resolve_pseudonym_key(key)
    resp = _responses(responses, key)
    if not resp.attrs.get("group_given") or resp["group"].isna().any():
        raise DataValidationError(
            "responses of a pilot need a 'group' (treated/control) on every row; without an "
            "export to answer, the assignment must come from the file. Answer an export with "
            "ingest_outcomes(responses, exports=...) instead."
        )
    no_channel = (resp["group"] == "treated") & resp["channel"].isna()
    if no_channel.any():
        raise DataValidationError(
            f"{int(no_channel.sum())} treated response row(s) have no channel (first: "
            f"customer_id {resp.loc[no_channel, 'customer_id'].iloc[0]!r}); say which channel "
            "was used."
        )
    resp["campaign"] = resp["campaign_id"].str.split("@").str[0]
    resp["group"] = resp["group"].astype("string")
    for c in ("score_band", "region"):
        resp[c] = pd.array([pd.NA] * len(resp), dtype="string")
    resp["segment_id"] = pd.array([pd.NA] * len(resp), dtype="Int64")
    return _finish(resp)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[list(OUTCOME_COLUMNS)].copy()
    for c in OUTCOMES:
        out[c] = out[c].astype("boolean")
    for c in ("sent", "delivered", "responded"):
        out[c] = out[c].astype(bool)
    order = np.lexsort(
        (out["customer_key"].to_numpy(dtype=str), out["campaign_id"].to_numpy(dtype=str))
    )
    return out.iloc[order].reset_index(drop=True)
