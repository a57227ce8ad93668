"""Randomised control groups held out of every campaign export.

The export first selects and ranks each campaign's customers and gives each one a
channel (:func:`powerprofile.export.export_campaigns`); only then is a share of them
held out as the campaign's control group. Control customers are never written to a
channel file: they are listed, by ``customer_key`` only, in the holdout file
(:data:`CONTROL_FILE`) and counted in the manifest, so the campaign's effect can be
measured later as the difference between treated and control outcome rates
(:func:`powerprofile.uplift.campaign_effects`).

The assignment rule
-------------------
- The campaign id is ``<campaign name>@<snapshot date>`` (:func:`campaign_id`), so a
  re-run of the same snapshot names the same campaign and a new month a new one.
- Each selected customer gets a draw ``u`` in [0, 1): SHA-256 of the campaign id and
  the customer's ``customer_key`` (itself a keyed hash of the customer id, see
  :mod:`powerprofile.privacy`), first 8 bytes as a fraction. Without the
  pseudonymisation key nobody can predict it from a customer id.
- Customers are stratified by the intended channel and the campaign's
  ``control_strata`` (default: the score's band and the region). Within a stratum of
  ``n`` customers, the ``floor(share * n + v)`` customers with the smallest ``u`` form
  the control group, ``v`` in [0, 1) being the same kind of draw for the stratum
  itself; so every stratum holds out ``share * n`` customers rounded down or up, on
  average exactly ``share * n``, even when strata are small.
- The same portraits, key and campaigns give the same assignment; a customer who
  stays in a stratum of the next run of the same snapshot keeps their group.
- A control customer counts towards the frequency cap like a treated one: they are
  in the campaign (as its control) and no later campaign of the run contacts them.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

__all__ = [
    "CONTROL_COLUMNS",
    "CONTROL_FILE",
    "CONTROL_RULE",
    "assign_control",
    "campaign_id",
    "control_draw",
    "split_control",
]

log = logging.getLogger(__name__)

CONTROL_FILE = "control_group"
"""Stem of the holdout file (``control_group.<ext>``): every campaign's control customers."""
CONTROL_COLUMNS = (
    "campaign",
    "campaign_id",
    "customer_key",
    "intended_channel",
    "stratum",
    "score_band",
)
"""Text columns of the holdout file, followed by ``region`` and ``segment_id`` when the
portraits have them (keys only: no customer id, phone, score or reason)."""
CONTROL_RULE = (
    "Each campaign holds out control_share of its selected customers as a randomised control "
    "group, after the channel choice: within each stratum (intended channel, the score's band "
    "and the region unless control_strata says otherwise) the customers with the smallest "
    "SHA-256(campaign_id, customer_key) draw are held out, share x stratum size rounded down "
    "or up. Control customers are in no channel file; control_group lists them by "
    "customer_key. campaign_id is <campaign>@<snapshot date>; the same data gives the same "
    "assignment."
)
"""How the control group is drawn (recorded in the manifest and README)."""

_SEP = "\x1f"  # unit separator: cannot occur in a campaign name or a key


def campaign_id(name: str, snapshot: str | None) -> str:
    """The id of one run of a campaign: ``<name>@<snapshot date>`` (``name`` without a date).

    Parameters
    ----------
    name : str
        Campaign name.
    snapshot : str or None
        ISO date of the portraits' snapshot.

    Returns
    -------
    str
    """
    return f"{name}@{snapshot}" if snapshot else str(name)


def control_draw(keys, cid: str) -> np.ndarray:
    """Uniform draws in [0, 1) from SHA-256 of ``cid`` and each key.

    Parameters
    ----------
    keys : array-like of str
        ``customer_key`` values (or stratum labels).
    cid : str
        Campaign id.

    Returns
    -------
    numpy.ndarray of float
    """
    values = pd.Series(keys, copy=False).astype("string").fillna("").to_numpy(dtype=object)
    uniq, inverse = np.unique(values, return_inverse=True)
    prefix = f"{cid}{_SEP}".encode()
    # one hash per distinct key (a campaign's selection, not the population)
    raw = b"".join(hashlib.sha256(prefix + u.encode("utf-8")).digest()[:8] for u in uniq)
    draws = np.frombuffer(raw, dtype=">u8").astype(np.float64) / 2.0**64
    return draws[inverse] if len(values) else np.zeros(0)


def assign_control(keys, strata: pd.DataFrame, share: float, cid: str) -> np.ndarray:
    """Which rows form the control group (see the module docstring for the rule).

    Parameters
    ----------
    keys : array-like of str
        ``customer_key`` of each selected customer.
    strata : pandas.DataFrame
        One row per key: the stratifying columns (missing values are a stratum of
        their own).
    share : float
        Share held out, 0 to 1.
    cid : str
        Campaign id.

    Returns
    -------
    numpy.ndarray of bool
    """
    keys = np.asarray(pd.Series(keys, copy=False).astype(str), dtype=object)
    n = len(keys)
    if n == 0 or share <= 0:
        return np.zeros(n, dtype=bool)
    label = stratum_labels(strata, n)
    codes, uniques = pd.factorize(pd.Series(label, dtype=object), sort=True)
    u = control_draw(keys, cid)
    v = control_draw(np.asarray(uniques, dtype=object), cid + _SEP + "stratum")
    order = np.lexsort((keys, u, codes))
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[codes[order]]
    quota = np.floor(share * counts + v).astype(np.int64)
    return rank < quota[codes]


def stratum_labels(strata: pd.DataFrame, n: int) -> np.ndarray:
    """One text label per row joining the stratifying columns with ``|`` (``NA`` for missing)."""
    if strata is None or strata.shape[1] == 0:
        return np.full(n, "all", dtype=object)
    parts = [strata[c].astype("string").fillna("NA").to_numpy(dtype=object) for c in strata.columns]
    label = parts[0]
    for p in parts[1:]:
        label = label + "|" + p
    return label


def strata_columns(camp, frame: pd.DataFrame) -> list[str]:
    """The portrait columns stratifying ``camp``'s control group (present ones only)."""
    wanted = (
        list(camp.control_strata)
        if camp.control_strata is not None
        else [camp.score.removesuffix("_score") + "_band", "region"]
    )
    present = [c for c in wanted if c in frame.columns]
    if len(present) < len(wanted):
        log.info(
            "campaign %r: control strata %r not in the portraits; stratified by %r and the channel",
            camp.name,
            sorted(set(wanted) - set(present)),
            present,
        )
    return present


def split_control(outputs: list, frame: pd.DataFrame, keys: np.ndarray, snapshot: str | None):
    """Hold each campaign's control group out of its channel lists.

    Parameters
    ----------
    outputs : list of tuple
        ``(campaign, channel, rows, scores)`` per channel list, as the selection chose
        them (``rows`` index ``frame``).
    frame : pandas.DataFrame
        The portraits exported.
    keys : numpy.ndarray of str
        ``customer_key`` per row of ``frame``.
    snapshot : str or None
        ISO snapshot date (part of the campaign id).

    Returns
    -------
    treated : list of tuple
        ``outputs`` without the control customers (ranks close up).
    holdout : pandas.DataFrame
        The columns of :data:`CONTROL_COLUMNS`, sorted by campaign and key.
    counts : dict of str to dict
        Per campaign: ``campaign_id``, ``control_share``, ``control`` (total) and
        ``control_by_channel``.
    """
    treated, pieces, counts = [], [], {}
    by_campaign: dict[str, list[int]] = {}
    for i, (camp, _ch, _take, _scores) in enumerate(outputs):
        by_campaign.setdefault(camp.name, []).append(i)
    for idx in by_campaign.values():
        camp = outputs[idx[0]][0]
        cid = campaign_id(camp.name, snapshot)
        rows = np.concatenate([outputs[i][2] for i in idx]).astype(np.int64)
        channels = np.concatenate([np.full(len(outputs[i][2]), outputs[i][1]) for i in idx])
        cols = strata_columns(camp, frame)
        strata = frame.iloc[rows][cols].reset_index(drop=True)
        strata.insert(0, "intended_channel", channels)
        control = assign_control(keys[rows], strata, float(camp.control_share), cid)
        at = 0
        by_channel = {}
        for i in idx:
            _, ch, take, scores = outputs[i]
            mine = control[at : at + len(take)]
            at += len(take)
            treated.append((camp, ch, take[~mine], scores[~mine]))
            by_channel[ch] = int(mine.sum())
        labels = stratum_labels(strata, len(rows))
        piece = pd.DataFrame(
            {
                "campaign": camp.name,
                "campaign_id": cid,
                "customer_key": keys[rows][control],
                "intended_channel": channels[control],
                "stratum": labels[control],
            }
        )
        held = frame.iloc[rows[control]].reset_index(drop=True)
        band = camp.score.removesuffix("_score") + "_band"
        piece["score_band"] = (
            held[band].astype("string").to_numpy() if band in held.columns else pd.NA
        )
        for col in ("region", "segment_id"):  # what campaign effects are broken down by
            if col in held.columns:
                piece[col] = held[col].to_numpy()
        pieces.append(piece)
        counts[camp.name] = {
            "campaign_id": cid,
            "control_share": float(camp.control_share),
            "control": int(control.sum()),
            "control_by_channel": by_channel,
            "control_strata": ["intended_channel", *cols],
        }
    holdout = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame({c: pd.Series(dtype="string") for c in CONTROL_COLUMNS})
    )
    holdout = holdout.astype(dict.fromkeys(CONTROL_COLUMNS, "string"))
    if "segment_id" in holdout.columns:
        holdout["segment_id"] = pd.to_numeric(holdout["segment_id"]).astype("Int64")
    holdout = holdout.sort_values(["campaign", "customer_key"], kind="mergesort")
    return treated, holdout.reset_index(drop=True), counts
