"""Governed export of portraits to the service channels."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, ExportError, PowerProfileError
from ..portraits import MARKETING_CHANNELS, PHONE_CHANNELS, contactability
from ..privacy import (
    KEY_PREFIX,
    MAX_PHONE_VISIBLE_DIGITS,
    mask_phone,
    pseudonymise,
    resolve_pseudonym_key,
)
from ..schema import PII_COLUMNS
from ._atomic import atomic_directory
from ._campaigns import CHANNELS, CampaignSet, load_campaigns
from ._control import CONTROL_FILE, CONTROL_RULE, split_control
from ._dictionary import build_dictionary, build_readme
from ._schema import canonical_types, column_type, pandas_types
from ._writers import EXTENSIONS, file_sha256, read_frame, write_frame

__all__ = [
    "BAND_RULE",
    "CHANNEL_RULE",
    "DICTIONARY_FILE",
    "EXPORT_SCHEMA_VERSION",
    "MEMBERSHIP_FILE",
    "README_FILE",
    "REASON_RULE",
    "ExportResult",
    "eligibility",
    "export_campaigns",
    "read_contact_list",
    "read_export",
]

log = logging.getLogger(__name__)

EXPORT_SCHEMA_VERSION = "1.1"
"""Version of the export folder's layout (1.1: ``K`` keys, integer ``segment_id``
everywhere, column types, campaign titles and rules in the manifest, data dictionary)."""
MEMBERSHIP_FILE = "segment_membership.parquet"
DICTIONARY_FILE = "data_dictionary.csv"
"""Every exported column and code in Chinese and English (UTF-8 with BOM for Excel)."""
README_FILE = "README.txt"
"""What the export holds and the rules behind it, in Chinese and English."""
CHANNEL_RULE = (
    "Campaigns run in priority order; a selected customer goes to the first channel in the "
    "campaign's channel order they are contactable on (contactable_<channel>), not blocked by "
    "the opt-out or do-not-contact list, with capacity left. preferred_channel is the "
    "customer's most used channel (a habit) and does not choose the list's channel."
)
"""How an export chooses a customer's channel (recorded in the manifest and README)."""
BAND_RULE = (
    "<target>_band is the portraits' band: by default high = the top 10 % of the snapshot's "
    "scores (decile 10), medium = deciles 8-9, low = the rest; score cut-offs when the "
    "portraits were built with bands={'high': p, 'medium': q}. data_dictionary.csv gives "
    "each band's share and probability range."
)
"""What the band codes mean (recorded in the manifest and README)."""
REASON_RULE = "<target>_reasons_en/_zh in exported lists keep only the reasons that raise the risk."
"""Which reasons an exported list shows."""
_DEFAULT_COLUMNS = (
    "snapshot_date",
    "customer_type",
    "region",
    "segment_id",
    "segment_name_en",
    "segment_name_zh",
)


@dataclass
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        The published folder.
    manifest : dict
        Content of ``manifest.json``.
    files : pandas.DataFrame
        One row per file: ``file, campaign, channel, rows, sha256``.
    """

    out_dir: Path
    manifest: dict
    files: pd.DataFrame = field(repr=False)


def _flat(portraits: pd.DataFrame) -> pd.DataFrame:
    frame = portraits
    if not isinstance(frame.index, pd.RangeIndex):
        names = [n for n in frame.index.names if n is not None]
        frame = frame.reset_index(names) if names else frame.reset_index(drop=True)
    if "customer_key" not in frame.columns:
        raise ExportError(
            "portraits have no 'customer_key' column; build them with build_portraits "
            "(which pseudonymises customer ids) before exporting."
        )
    if "snapshot_date" in frame.columns and frame["snapshot_date"].nunique() > 1:
        last = frame["snapshot_date"].max()
        log.info(
            "portraits hold %d snapshots; exporting the latest, %s",
            frame["snapshot_date"].nunique(),
            last,
        )
        frame = frame[frame["snapshot_date"] == last]
    if frame["customer_key"].duplicated().any():
        dup = frame.loc[frame["customer_key"].duplicated(), "customer_key"].iloc[0]
        raise ExportError(f"portraits repeat customer_key {dup!r}; export one row per customer.")
    frame = frame.drop(columns=[c for c in PII_COLUMNS if c in frame.columns])
    return frame.reset_index(drop=True)


def _aligned_customers(
    frame: pd.DataFrame, customers: pd.DataFrame | None, key
) -> pd.DataFrame | None:
    """The customers table row of each portrait row (joined on the keyed customer id)."""
    if customers is None:
        return None
    cust = customers.copy()
    cust["customer_key"] = pseudonymise(cust["customer_id"], key).to_numpy()
    cust = cust.drop_duplicates("customer_key").set_index("customer_key")
    aligned = cust.reindex(frame["customer_key"].to_numpy())
    aligned.index = frame.index
    return aligned


def _contactable(frame: pd.DataFrame, aligned: pd.DataFrame | None) -> pd.DataFrame:
    """The portrait's ``contactable_<channel>`` columns (one rule, owned by the portraits).

    Portraits built without a customers table lack them; then the same rule
    (:func:`powerprofile.portraits.contactability`) is applied to the customers table.
    """
    cols = [f"contactable_{ch}" for ch in CHANNELS]
    present = [c for c in cols if c in frame.columns]
    if present:
        if len(present) < len(cols):
            missing = sorted(set(cols) - set(present))
            raise ExportError(
                f"portraits carry some contactability columns but not {missing!r}; rebuild "
                "them with build_portraits(customers=...)."
            )
        return pd.DataFrame(
            {c: frame[c].astype("boolean").fillna(False).to_numpy(dtype=bool) for c in cols},
            index=frame.index,
        )
    if aligned is None:
        raise ExportError(
            "portraits carry no contactable_<channel> columns and no customers table was "
            "given; build the portraits with build_portraits(customers=...) or pass customers=."
        )
    log.info("portraits carry no contactable_<channel> columns; derived from the customers table")
    return contactability(aligned)[cols]


def _phones(frame: pd.DataFrame, aligned: pd.DataFrame | None) -> pd.Series:
    """Raw phone per portrait row, for the phone channels' files (missing without customers)."""
    if aligned is None or "phone" not in aligned.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    phone = aligned["phone"].astype("string")
    return phone.where(phone.str.strip().str.len() > 0)


def eligibility(
    contactable: pd.DataFrame, opted_out: np.ndarray, do_not_contact: np.ndarray
) -> dict[str, np.ndarray]:
    """Channel eligibility per row.

    Parameters
    ----------
    contactable : pandas.DataFrame
        The portrait's ``contactable_<channel>`` columns (see
        :func:`powerprofile.portraits.contactability`).
    opted_out : numpy.ndarray of bool
        On the marketing opt-out list (blocks SMS, app push and WeChat).
    do_not_contact : numpy.ndarray of bool
        On the do-not-contact list (blocks every channel).

    Returns
    -------
    dict of str to numpy.ndarray of bool
        A channel is eligible where the portrait says the customer is contactable on
        it, and no list blocks it.
    """
    out = {}
    for ch in CHANNELS:
        ok = contactable[f"contactable_{ch}"].to_numpy(dtype=bool) & ~do_not_contact
        out[ch] = ok & ~opted_out if ch in MARKETING_CHANNELS else ok
    return out


def _read_list(path, key, what: str) -> set[str]:
    if path is None:
        return set()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"{what} list {str(p)!r} does not exist; fix export.{what.replace('-', '_')}_list."
        )
    try:
        df = (
            pd.read_parquet(p)
            if p.suffix == ".parquet"
            else pd.read_csv(p, dtype=str, encoding="utf-8-sig")
        )
    except ValueError as exc:  # empty, not CSV/Parquet, not UTF-8 ...
        raise ConfigError(
            f"{what} list {str(p)!r} cannot be read ({type(exc).__name__}: {str(exc)[:200]}); "
            "give a UTF-8 CSV or a Parquet file with a 'customer_id' or 'customer_key' column "
            f"(fix export.{what.replace('-', '_')}_list)."
        ) from None
    if "customer_key" in df.columns:
        keys = df["customer_key"].dropna().astype("string").str.strip()
        # keys written before the K prefix (export schema 1.0) still match
        bare = keys.str.fullmatch(r"[0-9a-f]{16}").fillna(False)
        return set(keys.mask(bare, KEY_PREFIX + keys).astype(str))
    if "customer_id" in df.columns:
        return set(pseudonymise(df["customer_id"].dropna().astype(str), key).astype(str))
    raise ConfigError(
        f"{what} list {str(p)!r} needs a 'customer_id' or 'customer_key' column; it has {list(df.columns)!r}."
    )


def read_contact_list(path, key=None, what: str = "opt-out") -> set[str]:
    """The ``customer_key`` values of an opt-out or do-not-contact list, as the export reads it.

    Parameters
    ----------
    path : str or path-like or None
        CSV (UTF-8) or Parquet file with a ``customer_id`` or ``customer_key`` column;
        None gives an empty set.
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key (for ``customer_id`` lists).
    what : {"opt-out", "do-not-contact"}, default="opt-out"
        Named in messages.

    Returns
    -------
    set of str
    """
    return _read_list(path, None if path is None else resolve_pseudonym_key(key), what)


def _model_versions(frame: pd.DataFrame, given) -> dict:
    if given:
        return {str(k): str(v) for k, v in dict(given).items()}
    out = {}
    for col in sorted(c for c in frame.columns if c.endswith("model_version")):
        vals = sorted(frame[col].dropna().astype(str).unique())
        if vals:
            out[col.removesuffix("_model_version").removesuffix("_") or col] = ";".join(vals)
    return out


def _iso(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date().isoformat()


def _segment_changes(
    previous: pd.DataFrame | None, current: pd.DataFrame, names: pd.DataFrame
) -> pd.DataFrame:
    cols = ["segment_id", "change", "customer_key", "previous_segment_id", "current_segment_id"]
    if previous is None:
        empty = {
            c: pd.Series(dtype="Int64" if c.endswith("segment_id") else "string") for c in cols
        }
        # the same columns as a file with changes, so every run documents alike
        return (
            pd.DataFrame(empty).merge(names, on="segment_id", how="left")
            if len(names)
            else (pd.DataFrame(empty))
        )
    merged = previous.merge(current, on="customer_key", how="outer", suffixes=("_prev", "_cur"))
    prev, cur = merged["segment_id_prev"], merged["segment_id_cur"]
    moved = (prev != cur).fillna(True) & ~(prev.isna() & cur.isna())
    m = merged[moved]
    entered = pd.DataFrame(
        {
            "segment_id": m["segment_id_cur"],
            "change": "entered",
            "customer_key": m["customer_key"],
            "previous_segment_id": m["segment_id_prev"],
            "current_segment_id": m["segment_id_cur"],
        }
    )[m["segment_id_cur"].notna()]
    left = pd.DataFrame(
        {
            "segment_id": m["segment_id_prev"],
            "change": "left",
            "customer_key": m["customer_key"],
            "previous_segment_id": m["segment_id_prev"],
            "current_segment_id": m["segment_id_cur"],
        }
    )[m["segment_id_prev"].notna()]
    out = pd.concat([entered, left], ignore_index=True)
    for c in ("segment_id", "previous_segment_id", "current_segment_id"):
        out[c] = out[c].astype("Int64")
    out = canonical_types(out)
    if len(names):
        out = out.merge(names, on="segment_id", how="left")
    return out.sort_values(["segment_id", "change", "customer_key"], kind="mergesort").reset_index(
        drop=True
    )


_REASON_SEPARATORS = {"en": "; ", "zh": "；"}  # as the portraits join them


def _raising_reasons(rows: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``rows[cols]`` with each ``<target>_reasons_<lang>`` rebuilt from its risk-raising reasons.

    A list is for acting on a risk, so its reason columns keep only the reasons whose
    ``<target>_reason_<i>_direction`` is ``increase``, in their order; the per-reason
    columns of the portrait must be present (they are whenever reasons are).
    """
    out = rows[cols].copy()
    for col in cols:
        target, sep, lang = col.rpartition("_reasons_")
        if not sep or lang not in _REASON_SEPARATORS:
            continue
        i, texts = 1, []
        while f"{target}_reason_{i}_direction" in rows.columns:
            text = rows.get(f"{target}_reason_{i}_text_{lang}")
            if text is None:
                break
            up = (rows[f"{target}_reason_{i}_direction"].astype("string") == "increase").fillna(
                False
            )
            texts.append(text.astype("string").where(up.to_numpy(dtype=bool)))
            i += 1
        if not texts:
            log.warning("%s: no per-reason columns in the portraits; reasons left as given", col)
            continue
        joined = pd.Series("", index=rows.index, dtype="string")
        for text in texts:  # a few reasons, vectorised over rows
            glue = joined.where(joined == "", joined + _REASON_SEPARATORS[lang])
            joined = joined.mask(text.notna(), glue + text)
        out[col] = joined.to_numpy()
    return out


def export_campaigns(
    portraits: pd.DataFrame,
    out_dir,
    *,
    campaigns,
    customers: pd.DataFrame | None = None,
    key=None,
    format: str | None = None,
    frequency_cap: int | None = None,
    incremental: bool = True,
    opt_out_list=None,
    do_not_contact_list=None,
    allow_raw_phone: bool = False,
    raw_phone_channels=(),
    phone_visible_digits: int = MAX_PHONE_VISIBLE_DIGITS,
    snapshot_date=None,
    model_versions=None,
    config_hash: str | None = None,
    previous_dir=None,
) -> ExportResult:
    """Select, rank and write campaign lists per channel, atomically, with a manifest.

    Parameters
    ----------
    portraits : pandas.DataFrame
        One row per customer with ``customer_key`` and the columns the campaigns read
        (scores such as ``churn_score``, bands, segments, tags, ...). When several
        snapshots are present the latest is exported. Raw PII columns are never written.
    out_dir : str or path-like
        Export folder: missing, empty, or written by powerprofile before (see
        :func:`output_folder`). The previous export's files are replaced; files the job
        did not write are left alone.
    campaigns : CampaignSet or str or path-like
        Campaign definitions or their YAML file.
    customers : pandas.DataFrame or None, default=None
        The ``customers`` table, joined on the keyed hash of ``customer_id``: the
        phones written to the SMS and call-back files. Who is contactable on which
        channel is read from the portrait's ``contactable_<channel>`` columns; only
        portraits built without a customers table take it from here, by the same rule
        (:func:`powerprofile.portraits.contactability`).
    key : str or bytes or PseudonymKey or None, default=None
        Pseudonymisation key, checked before anything is written (see
        :func:`powerprofile.privacy.resolve_pseudonym_key`); None reads
        ``POWERPROFILE_PSEUDONYM_KEY``. The manifest records its fingerprint and
        whether it was a development or demo key, never the key.
    format : {"csv", "parquet", "jsonl"} or None, default=None
        Overrides every campaign's format.
    frequency_cap : int or None, default=None
        Overrides the campaign file's cap (campaigns per customer per run).
    incremental : bool, default=True
        Write ``segment_changes`` (who entered or left each segment since the
        previous export in ``out_dir``).
    opt_out_list, do_not_contact_list : str or path-like or None, default=None
        CSV/Parquet lists with ``customer_id`` or ``customer_key``.
    allow_raw_phone : bool, default=False
        With ``raw_phone_channels``, write unmasked phones to those channels only.
    raw_phone_channels : iterable of str, default=()
        Channels that may receive raw phones.
    phone_visible_digits : int, default=4
        Last digits left visible in masked phones, 0 to 4 (see
        :func:`powerprofile.privacy.mask_phone`).
    snapshot_date : date-like or None, default=None
        Recorded in the manifest (default: the portraits' ``snapshot_date``).
    model_versions : dict or None, default=None
        Recorded in the manifest (default: the portraits' ``*_model_version`` columns).
    config_hash : str or None, default=None
        Recorded in the manifest (default: hash of the campaign set and policy).
    previous_dir : str or path-like or None, default=None
        The previous export compared against in incremental mode (default ``out_dir``).

    Returns
    -------
    ExportResult

    Raises
    ------
    PseudonymKeyError
        No key, or a weak key (a subclass of ``ConfigError``).
    ConfigError
        Bad campaign file or a selection naming a missing column.
    ExportError
        Writing failed; the previous export in ``out_dir`` is untouched.
    OutputDirError
        ``out_dir`` is unsafe or not empty and not created by powerprofile;
        :class:`~powerprofile.exceptions.OutputDirBusyError` when another job writes it.
    """
    from ._folders import check_output_path

    key = resolve_pseudonym_key(key)
    check_output_path(out_dir, what="export folder")  # before any work
    cset = campaigns if isinstance(campaigns, CampaignSet) else load_campaigns(campaigns)
    frame = _flat(portraits)
    lists = _read_lists(opt_out_list, do_not_contact_list, key)
    return _export(
        frame,
        out_dir,
        cset=cset,
        customers=customers,
        key=key,
        lists=lists,
        format=format,
        frequency_cap=frequency_cap,
        incremental=incremental,
        allow_raw_phone=allow_raw_phone,
        raw_phone_channels=raw_phone_channels,
        phone_visible_digits=phone_visible_digits,
        snapshot_date=snapshot_date,
        model_versions=model_versions,
        config_hash=config_hash,
        previous_dir=previous_dir,
    )


def _read_lists(opt_out_list, do_not_contact_list, key) -> dict:
    """The opt-out and do-not-contact lists as key sets, with their paths (read once)."""
    return {
        what: (path, _read_list(path, key, what))
        for what, path in (("opt-out", opt_out_list), ("do-not-contact", do_not_contact_list))
    }


def _channel_inputs(frame: pd.DataFrame, customers, key, lists: dict):
    """Aligned customers, keys, list matches and channel eligibility of portrait rows."""
    aligned = _aligned_customers(frame, customers, key)
    contactable = _contactable(frame, aligned)
    keys = frame["customer_key"].astype(str).to_numpy()
    index = pd.Index(keys)  # hashed look-ups: np.isin on text compares every pair
    masks = {what: index.isin(list(listed)) for what, (_path, listed) in lists.items()}
    elig = eligibility(contactable, masks["opt-out"], masks["do-not-contact"])
    return aligned, keys, masks, elig


def _warn_unmatched(lists: dict, matched: dict, n: int) -> None:
    for what, (path, listed) in lists.items():
        if listed and n and not matched[what]:  # ids of another form: nobody is blocked
            log.warning(
                "%s list %r: none of its %d entries is a customer of these portraits, so it "
                "blocks nobody; check that it holds this data's customer_id values (or "
                "customer_key values made with the same key).",
                what,
                str(path),
                len(listed),
            )


def _check_score(camp, frame: pd.DataFrame) -> np.ndarray:
    if camp.score not in frame.columns:
        raise ConfigError(
            f"campaign {camp.name!r} ranks by {camp.score!r}, which the portraits do not have; "
            f"score columns present: {[c for c in frame.columns if c.endswith('_score')]!r}."
        )
    return pd.to_numeric(frame[camp.score], errors="coerce").to_numpy(dtype=float)


def campaign_base(camp, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows a campaign may select before the frequency cap, and its ranking order.

    Parameters
    ----------
    camp : Campaign
    frame : pandas.DataFrame
        Flat portrait rows (see :func:`export_campaigns`).

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of int)
        Selected by the expression, with a score, at least ``min_score``; and the row
        positions in ranking order (``rank_by`` highest first, ties by ``customer_key``).
    """
    score = _check_score(camp, frame)
    base = camp.selection.evaluate(frame).to_numpy(dtype=bool) & ~np.isnan(score)
    if camp.min_score is not None:
        base &= score >= camp.min_score
    keys = frame["customer_key"].astype(str).to_numpy()
    ranks = [-np.nan_to_num(r, nan=-np.inf) for r in reversed(camp.rank_values(frame))]
    return base, np.lexsort((keys, *ranks))


def _export(
    frame: pd.DataFrame,
    out_dir,
    *,
    cset: CampaignSet,
    customers,
    key,
    lists: dict,
    format,
    frequency_cap,
    incremental,
    allow_raw_phone,
    raw_phone_channels,
    phone_visible_digits,
    snapshot_date,
    model_versions,
    config_hash,
    previous_dir,
    population=None,
) -> ExportResult:
    """Select and write the export of the flat portrait rows ``frame``.

    ``population`` gives the whole population's facts when ``frame`` holds only the
    candidate rows of a streamed export (see :mod:`powerprofile.export._streamed`).
    """
    from ..config import config_hash as _hash

    n = len(frame) if population is None else population.n
    raw_phone_channels = tuple(raw_phone_channels or ())
    bad = sorted(set(raw_phone_channels) - set(CHANNELS))
    if bad:
        raise ConfigError(
            f"raw_phone_channels names unknown channel(s) {bad!r}; channels are {CHANNELS!r}."
        )
    cap = int(frequency_cap if frequency_cap is not None else cset.frequency_cap)
    aligned, keys, masks, elig = _channel_inputs(frame, customers, key, lists)
    phones = _phones(frame, aligned)
    matched = (
        {w: bool(m.any()) for w, m in masks.items()} if population is None else population.matched
    )
    _warn_unmatched(lists, matched, n)

    # choose rows: campaigns in priority order, channels in preference order
    used = np.zeros(len(frame), dtype=np.int64)
    channel_used = dict.fromkeys(CHANNELS, 0)
    outputs = []  # (campaign, channel, frame, fmt)
    summary = []
    for camp in cset.ordered():
        score = _check_score(camp, frame)
        base, order = campaign_base(camp, frame)
        mask = base & (used < cap)
        assigned = np.zeros(len(frame), dtype=bool)
        # rows outside a streamed export's candidates are unused (used == 0 < cap)
        outside = 0 if population is None else population.base[camp.name] - int(base.sum())
        row = {"campaign": camp.name, "selected": int(mask.sum()) + outside}
        for ch in camp.channels:
            cand = order[mask[order] & elig[ch][order] & ~assigned[order]]
            limits = [len(cand)]
            if camp.capacity_of(ch) is not None:
                limits.append(camp.capacity_of(ch))
            if ch in cset.channel_capacity:
                limits.append(max(cset.channel_capacity[ch] - channel_used[ch], 0))
            take = cand[: min(limits)]
            assigned[take] = True
            channel_used[ch] += len(take)
            row[ch] = len(take)
            outputs.append((camp, ch, take, score[take]))
        row["not_eligible"] = row["selected"] - int(assigned.sum())
        used[assigned] += 1
        summary.append(row)

    snap = (
        _iso(snapshot_date)
        if snapshot_date is not None
        else (
            _iso(frame["snapshot_date"].max()) if "snapshot_date" in frame.columns and n else None
        )
        if population is None
        else _iso(population.snapshot)
    )
    # randomised control groups, held out after the selection (see _control.py)
    outputs, holdout, control_counts = split_control(outputs, frame, keys, snap)
    for row in summary:
        row.update(control_counts.get(row["campaign"], {}))
        for ch, k in row.get("control_by_channel", {}).items():
            row[ch] -= k

    phone_policy = {
        ch: ("raw" if allow_raw_phone and ch in raw_phone_channels else "masked")
        for ch in PHONE_CHANNELS
    }
    try:
        masked_phone = mask_phone(phones, phone_visible_digits).to_numpy(dtype=object)
    except ValueError as exc:
        raise ConfigError(f"phone_visible_digits: {exc}") from None
    raw_phone = phones.to_numpy(dtype=object)

    def build(camp, ch, take, scores) -> pd.DataFrame:
        cols = [c for c in _DEFAULT_COLUMNS if c in frame.columns]
        band = camp.score.removesuffix("_score") + "_band"
        if band in frame.columns:
            cols.append(band)
        cols += [c for c in camp.ranking if c not in cols and c != camp.score]
        for c in camp.columns:
            if c not in frame.columns:
                raise ConfigError(
                    f"campaign {camp.name!r} asks for column {c!r}, which the portraits do not have."
                )
            if c not in cols and c != camp.score:
                cols.append(c)
        out = pd.DataFrame(
            {
                "campaign": pd.Series([camp.name] * len(take), dtype="string"),
                "channel": pd.Series([ch] * len(take), dtype="string"),
                "rank": np.arange(1, len(take) + 1, dtype=np.int64),
                "customer_key": pd.Series(keys[take], dtype="string"),
                camp.score: scores.astype(float),
            }
        )
        sub = _raising_reasons(frame.iloc[take].reset_index(drop=True), cols)
        out = pd.concat([out, sub], axis=1)
        if ch in PHONE_CHANNELS:
            src = raw_phone if phone_policy[ch] == "raw" else masked_phone
            out["phone"] = pd.Series(src[take], dtype="string")
        return canonical_types(out)

    fmt_all = format
    membership = None
    seg_names = pd.DataFrame()
    if population is not None:
        seg_names = population.segment_names
    elif "segment_id" in frame.columns:
        membership = (
            pd.DataFrame(
                {
                    "customer_key": pd.Series(keys, dtype="string"),
                    "segment_id": frame["segment_id"].to_numpy(),
                }
            )
            .pipe(canonical_types)
            .sort_values("customer_key", kind="mergesort")
            .reset_index(drop=True)
        )
        name_cols = [c for c in ("segment_name_en", "segment_name_zh") if c in frame.columns]
        if name_cols:
            seg_names = (
                canonical_types(frame[["segment_id", *name_cols]])
                .drop_duplicates("segment_id")
                .sort_values("segment_id")
                .reset_index(drop=True)
            )
    out_dir = Path(out_dir)
    previous = None
    prev_dir = Path(previous_dir) if previous_dir is not None else out_dir
    has_membership = membership is not None or (
        population is not None and population.has_membership
    )
    if population is not None:
        pass  # the streamed membership compares with the previous one bucket by bucket
    elif incremental and membership is not None and (prev_dir / MEMBERSHIP_FILE).is_file():
        previous = pd.read_parquet(prev_dir / MEMBERSHIP_FILE)
        # exports before schema 1.1 wrote segment_id as text
        previous["segment_id"] = pd.to_numeric(previous["segment_id"]).astype("Int64")

    policy = {
        "keys": "HMAC-SHA256 pseudonym (customer_key)",
        "phone": phone_policy,
        "phone_visible_digits": int(phone_visible_digits),
        "names_and_addresses": "never exported",
    }
    chash = config_hash or _hash(
        {
            "campaigns": cset,
            "format": fmt_all,
            "frequency_cap": cap,
            "incremental": incremental,
            "allow_raw_phone": allow_raw_phone,
            "raw_phone_channels": list(raw_phone_channels),
            "phone_visible_digits": phone_visible_digits,
        }
    )
    files = []
    frames: dict[str, pd.DataFrame] = {}
    by_name = {c.name: c for c in cset.campaigns}
    try:
        with atomic_directory(out_dir, producer="export", what="export folder") as tmp:
            for camp, ch, take, scores in outputs:
                fmt = fmt_all or camp.format
                name = f"{camp.name}__{ch}{EXTENSIONS[fmt]}"
                df = build(camp, ch, take, scores)
                write_frame(df, tmp / name, fmt)
                frames[name] = df
                files.append(
                    {
                        "file": name,
                        "campaign": camp.name,
                        "channel": ch,
                        "format": fmt,
                        "rows": len(df),
                    }
                )
            fmt = fmt_all or "csv"
            name = name_control = f"{CONTROL_FILE}{EXTENSIONS[fmt]}"
            write_frame(canonical_types(holdout), tmp / name, fmt)
            frames[name] = holdout
            files.append(
                {
                    "file": name,
                    "campaign": None,
                    "channel": None,
                    "format": fmt,
                    "rows": len(holdout),
                }
            )
            if has_membership:
                if population is None:
                    write_frame(membership, tmp / MEMBERSHIP_FILE, "parquet")
                    frames[MEMBERSHIP_FILE] = membership
                else:
                    frames[MEMBERSHIP_FILE] = population.write_membership(tmp / MEMBERSHIP_FILE)
                    n_members = population.n_members
                files.append(
                    {
                        "file": MEMBERSHIP_FILE,
                        "campaign": None,
                        "channel": None,
                        "format": "parquet",
                        "rows": len(membership) if population is None else n_members,
                    }
                )
                if incremental:
                    fmt = fmt_all or "csv"
                    changes = (
                        _segment_changes(previous, membership, seg_names)
                        if population is None
                        else population.segment_changes(prev_dir / MEMBERSHIP_FILE, seg_names)
                    )
                    name = f"segment_changes{EXTENSIONS[fmt]}"
                    write_frame(changes, tmp / name, fmt)
                    frames[name] = changes
                    files.append(
                        {
                            "file": name,
                            "campaign": None,
                            "channel": None,
                            "format": fmt,
                            "rows": len(changes),
                        }
                    )
            for f in files:
                f["sha256"] = file_sha256(tmp / f["file"])
                f["columns"] = [str(c) for c in frames[f["file"]].columns]
                camp = by_name.get(f["campaign"])
                if camp is not None:
                    f["title_en"], f["title_zh"] = camp.title_en, camp.title_zh
            schema, files_of = _schema_of(frames)
            for row in summary:
                camp = by_name[row["campaign"]]
                row.update(
                    title_en=camp.title_en,
                    title_zh=camp.title_zh,
                    purpose_en=camp.purpose_en,
                    purpose_zh=camp.purpose_zh,
                    select=camp.select,
                    score=camp.score,
                    rank_by=camp.ranking,
                    channels=list(camp.channels),
                )
            manifest = {
                "export_schema_version": EXPORT_SCHEMA_VERSION,
                "data_schema_version": _data_schema_version(),
                "snapshot_date": snap,
                "config_hash": chash,
                "model_versions": _model_versions(
                    frame if population is None else population.versions, model_versions
                ),
                "n_customers": int(n),
                "frequency_cap": cap,
                "incremental": bool(incremental),
                "previous_export_found": previous is not None
                if population is None
                else population.previous_found(prev_dir / MEMBERSHIP_FILE, incremental),
                "pii_policy": policy,
                "pseudonym_key": key.manifest(),
                "campaigns": summary,
                "files": sorted(files, key=lambda f: f["file"]),
                "columns": schema,
                "channel_rule": CHANNEL_RULE,
                "bands": BAND_RULE,
                "reasons": REASON_RULE,
                "control_rule": CONTROL_RULE,
                "control_file": name_control,
            }
            dictionary = build_dictionary(
                frame,
                schema,
                files_of,
                cset.ordered(),
                facts=None if population is None else population.facts,
            )
            write_frame(dictionary, tmp / DICTIONARY_FILE, "csv")
            readme = build_readme(manifest, cset.ordered(), manifest["files"])
            (tmp / README_FILE).write_bytes(readme.encode("utf-8-sig"))
            manifest["documentation"] = [
                {"file": name, "sha256": file_sha256(tmp / name)}
                for name in (README_FILE, DICTIONARY_FILE)
            ]
            text = (
                json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str)
                + "\n"
            )
            (tmp / "manifest.json").write_text(text, encoding="utf-8")
    except PowerProfileError:
        raise
    except Exception as exc:
        raise ExportError(
            f"export to {str(out_dir)!r} failed ({type(exc).__name__}: {exc}); the previous export, "
            "if any, is untouched."
        ) from exc
    log.debug("export written to %s (%d files)", out_dir, len(files) + 1)
    return ExportResult(out_dir=out_dir, manifest=manifest, files=pd.DataFrame(manifest["files"]))


def _schema_of(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Column -> export type over every written frame, and column -> the files holding it."""
    schema: dict[str, str] = {}
    files_of: dict[str, list[str]] = {}
    for name in sorted(frames):
        for col in frames[name].columns:
            typ = column_type(frames[name][col])
            if schema.setdefault(str(col), typ) != typ:
                raise ExportError(
                    f"column {col!r} is {typ!r} in {name!r} but {schema[str(col)]!r} in "
                    f"{files_of[str(col)][0]!r}; an exported column must have one type."
                )
            files_of.setdefault(str(col), []).append(name)
    return schema, files_of


def _data_schema_version() -> str:
    from ..schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def read_export(out_dir) -> dict[str, pd.DataFrame]:
    """Read every file of an export back (``manifest.json`` excluded).

    Parameters
    ----------
    out_dir : str or path-like
        An export folder.

    Returns
    -------
    dict of str to pandas.DataFrame
        Each column with the pandas type of its type in the manifest's ``columns``
        (see :mod:`powerprofile.export._schema`), so every format reads back alike.
    """
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    types = pandas_types(manifest.get("columns") or {})
    out = {}
    for f in manifest["files"]:
        df = read_frame(out_dir / f["file"], dtype=types)
        if not len(df.columns) and f.get("columns"):  # an empty JSON Lines file
            df = pd.DataFrame({c: pd.Series(dtype=types.get(c, "string")) for c in f["columns"]})
        out[f["file"]] = df.astype({c: t for c, t in types.items() if c in df.columns})
    return out
