"""The export of portraits held in part files, one part in memory at a time.

:func:`export_campaigns_streamed` writes the same bytes as :func:`export_campaigns`
over the concatenated parts, without holding every portrait:

1. Each part is read once. Per campaign and channel it keeps the first
   ``N = t + T`` rows (in the campaign's ranking order, ties by ``customer_key``) that
   the campaign selects and the channel may reach, where ``t`` is the most the pair
   can take (its capacity, bounded by the channel's capacity across campaigns) and
   ``T`` the sum of ``t`` over every pair that runs before it (earlier channels of the
   campaign, every channel of earlier campaigns). Only rows taken before can push a
   row the in-memory rule takes further down that list (the frequency cap and the
   one-channel-per-campaign rule exclude only rows already taken), so the kept rows
   hold every row the in-memory rule takes. A pair without a capacity keeps all its
   rows, and so does every pair after it.
2. The kept rows of every part (at most parts x the sum of the ``N``) go through the
   in-memory selection itself; on a subset holding every taken row in the same
   relative order it takes the same rows in the same order. The counts of selected
   customers in the manifest add the rows outside the kept set, which no earlier
   campaign took.
3. The segment membership (every customer's key and segment, sorted by key) is
   spilled per part into key-range buckets and written bucket by bucket into one
   Parquet file in row groups of the size pandas writes, so its bytes equal the
   in-memory file; the data dictionary and the manifest use facts summed over parts.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..privacy import MAX_PHONE_VISIBLE_DIGITS, pseudonymise, resolve_pseudonym_key
from ._campaigns import CampaignSet, load_campaigns
from ._dictionary import dictionary_facts, merge_dictionary_facts
from ._export import (
    ExportResult,
    _channel_inputs,
    _export,
    _flat,
    _read_lists,
    _segment_changes,
    campaign_base,
)
from ._schema import canonical_types

__all__ = ["candidate_limits", "export_campaigns_streamed"]

log = logging.getLogger(__name__)

ROW_GROUP = 1024 * 1024
"""Rows per Parquet row group when pandas/pyarrow write a frame in one call."""


def candidate_limits(cset: CampaignSet) -> dict[tuple[str, str], float]:
    """Rows each (campaign, channel) keeps per part: its most taken plus all taken before.

    Parameters
    ----------
    cset : CampaignSet

    Returns
    -------
    dict of (str, str) to float
        ``inf`` where the pair, or one before it, has no capacity.
    """
    out, before = {}, 0.0
    for camp in cset.ordered():
        for ch in camp.channels:
            t = float("inf")
            if camp.capacity_of(ch) is not None:
                t = float(camp.capacity_of(ch))
            if ch in cset.channel_capacity:
                t = min(t, float(cset.channel_capacity[ch]))
            out[(camp.name, ch)] = t + before
            before += t
    return out


class _Population:
    """Facts of the whole population gathered part by part (see :func:`_export`)."""

    def __init__(self, work: Path, n_buckets: int):
        self.work = work
        self.n = 0
        self.base: dict[str, int] = {}
        self.matched = {"opt-out": False, "do-not-contact": False}
        self.snapshot = None
        self.has_membership = False
        self.n_members = 0
        self.facts_parts: list[dict] = []
        self.versions_parts: list[pd.DataFrame] = []
        self.names_parts: list[pd.DataFrame] = []
        # key-range buckets: keys are "K" + hex, spread evenly over the first hex digits
        self.bounds = np.array(
            [f"K{(i * 0x10000) // n_buckets:04x}" for i in range(1, n_buckets)], dtype=object
        )
        self.spills: dict[int, list[Path]] = {b: [] for b in range(n_buckets)}

    def add(self, frame: pd.DataFrame, part: int) -> None:
        self.n += len(frame)
        self.facts_parts.append(dictionary_facts(frame))
        versions = [c for c in frame.columns if c.endswith("model_version")]
        if versions:
            self.versions_parts.append(frame[versions].drop_duplicates())
        if "segment_id" not in frame.columns:
            return
        self.has_membership = True
        membership = canonical_types(
            pd.DataFrame(
                {
                    "customer_key": pd.Series(
                        frame["customer_key"].astype(str).to_numpy(), dtype="string"
                    ),
                    "segment_id": frame["segment_id"].to_numpy(),
                }
            )
        )
        names = [c for c in ("segment_name_en", "segment_name_zh") if c in frame.columns]
        if names:
            self.names_parts.append(
                canonical_types(frame[["segment_id", *names]]).drop_duplicates("segment_id")
            )
        bucket = np.searchsorted(
            self.bounds, membership["customer_key"].to_numpy(dtype=object), side="right"
        )
        for b in np.unique(bucket):
            f = self.work / f"member-{b:05d}-{part:05d}.parquet"
            membership[bucket == b].to_parquet(f, index=False)
            self.spills[int(b)].append(f)
            self.n_members += int((bucket == b).sum())

    @property
    def facts(self) -> dict:
        return merge_dictionary_facts(self.facts_parts)

    @property
    def versions(self) -> pd.DataFrame:
        return pd.concat(self.versions_parts) if self.versions_parts else pd.DataFrame()

    @property
    def segment_names(self) -> pd.DataFrame:
        if not self.names_parts:
            return pd.DataFrame()
        return (
            pd.concat(self.names_parts)
            .drop_duplicates("segment_id")
            .sort_values("segment_id")
            .reset_index(drop=True)
        )

    def buckets(self):
        """Each key-range bucket's membership, sorted by key, in key order."""
        for b in sorted(self.spills):
            if not self.spills[b]:
                continue
            frame = pd.concat([pd.read_parquet(f) for f in self.spills[b]], ignore_index=True)
            yield frame.sort_values("customer_key", kind="mergesort").reset_index(drop=True)

    def write_membership(self, path: Path) -> pd.DataFrame:
        """Write the sorted membership; returns an empty frame with its columns and types."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ._writers import _prepare

        writer, buffer, head = None, [], None
        try:
            for frame in self.buckets():
                frame = _prepare(frame)  # as write_frame prepares a frame
                head = frame.iloc[:0] if head is None else head
                buffer.append(frame)
                if sum(len(f) for f in buffer) >= ROW_GROUP:  # whole row groups out
                    whole = pd.concat(buffer, ignore_index=True)
                    n_full = len(whole) // ROW_GROUP * ROW_GROUP
                    writer = self._write(writer, whole.iloc[:n_full], path, pa, pq)
                    buffer = [whole.iloc[n_full:].reset_index(drop=True)]
            rest = [f for f in buffer if len(f)]
            if rest or writer is None:
                whole = pd.concat(rest, ignore_index=True) if rest else head
                writer = self._write(writer, whole, path, pa, pq)
        finally:
            if writer is not None:
                writer.close()
        return head

    @staticmethod
    def _write(writer, frame: pd.DataFrame, path: Path, pa, pq):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=ROW_GROUP)
        return writer

    def previous_found(self, previous: Path, incremental: bool) -> bool:
        return bool(incremental and self.has_membership and previous.is_file())

    def segment_changes(self, previous: Path, names: pd.DataFrame) -> pd.DataFrame:
        """Who entered or left each segment, compared bucket by bucket with ``previous``."""
        if not previous.is_file():
            return _segment_changes(None, pd.DataFrame(), names)
        import pyarrow.parquet as pq

        prev_spills: dict[int, list[Path]] = {b: [] for b in self.spills}
        for i, batch in enumerate(pq.ParquetFile(previous).iter_batches(batch_size=ROW_GROUP)):
            prev = batch.to_pandas()
            # exports before schema 1.1 wrote segment_id as text
            prev["segment_id"] = pd.to_numeric(prev["segment_id"]).astype("Int64")
            bucket = np.searchsorted(
                self.bounds, prev["customer_key"].astype(str).to_numpy(dtype=object), side="right"
            )
            for b in np.unique(bucket):
                f = self.work / f"previous-{b:05d}-{i:05d}.parquet"
                prev[bucket == b].to_parquet(f, index=False)
                prev_spills[int(b)].append(f)
        changes = []
        for b in sorted(self.spills):
            if not self.spills[b] and not prev_spills[b]:
                continue
            cur = _read_all(self.spills[b])
            old = _read_all(prev_spills[b])
            cur = old.iloc[:0] if cur is None else cur
            old = cur.iloc[:0] if old is None else old
            changes.append(_segment_changes(old, cur, pd.DataFrame()))
        if not changes:
            return _segment_changes(None, pd.DataFrame(), names)
        out = pd.concat(changes, ignore_index=True)
        out = out.sort_values(["segment_id", "change", "customer_key"], kind="mergesort")
        out = out.reset_index(drop=True)
        return out.merge(names, on="segment_id", how="left") if len(names) else out


def _read_all(files) -> pd.DataFrame | None:
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else None


def export_campaigns_streamed(
    parts,
    out_dir,
    *,
    campaigns,
    columns=None,
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
    work=None,
) -> ExportResult:
    """:func:`export_campaigns` over portraits held in Parquet part files, part by part.

    Writes the same files, byte for byte, as :func:`export_campaigns` on the
    concatenated parts, holding one part plus each campaign's candidates (see the
    module docstring for why the candidates are enough).

    Parameters
    ----------
    parts : list of path-like
        Portrait part files (one row per customer; a customer in one part only).
    out_dir : str or path-like
        Export folder, as for :func:`export_campaigns`.
    campaigns : CampaignSet or str or path-like
    columns : callable or list of str or None, default=None
        Columns read of each part (a callable takes the part's path); None: all.
    work : path-like or None, default=None
        Folder for the spilled membership buckets (default: a temporary folder next
        to ``out_dir``); removed at the end.
    **others
        As for :func:`export_campaigns`.

    Returns
    -------
    ExportResult
    """
    from ._folders import check_output_path

    key = resolve_pseudonym_key(key)
    check_output_path(out_dir, what="export folder")  # before any work
    cset = campaigns if isinstance(campaigns, CampaignSet) else load_campaigns(campaigns)
    lists = _read_lists(opt_out_list, do_not_contact_list, key)
    parts = [Path(p) for p in parts]
    cap = int(frequency_cap if frequency_cap is not None else cset.frequency_cap)
    limits = candidate_limits(cset)

    def read(p: Path) -> pd.DataFrame:
        cols = columns(p) if callable(columns) else columns
        return pd.read_parquet(p, columns=cols)

    # customers keyed once; each part (and the candidates) gets only its own rows
    cust_keys = None
    if customers is not None:
        cust_keys = pd.Index(pseudonymise(customers["customer_id"], key).astype(str).to_numpy())

    def customers_of(frame: pd.DataFrame):
        if customers is None:
            return None
        # a hashed look-up: np.isin on text compares every pair (minutes at 100k)
        return customers[cust_keys.isin(frame["customer_key"].astype(str).to_numpy())]

    # the latest snapshot of every part (the export takes the population's latest)
    import pyarrow.parquet as pq

    latest = None
    for p in parts:
        if "snapshot_date" in pq.ParquetFile(p).schema_arrow.names:
            s = pd.read_parquet(p, columns=["snapshot_date"])["snapshot_date"]
            if len(s):
                latest = s.max() if latest is None else max(latest, s.max())
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(work) if work is not None else Path(out_dir).parent
    tmp.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix=".powerprofile-export-", dir=tmp))
    try:
        pop = _Population(spill, max(len(parts), 1))
        pop.snapshot = latest
        kept = []
        for i, p in enumerate(parts):
            frame = read(p)
            if latest is not None and "snapshot_date" in frame.columns:
                frame = frame[frame["snapshot_date"] == latest]
            frame = _flat(frame)
            pop.add(frame, i)
            _aligned, _keys, masks, elig = _channel_inputs(frame, customers_of(frame), key, lists)
            for what, m in masks.items():
                pop.matched[what] |= bool(m.any())
            keep = np.zeros(len(frame), dtype=bool)
            for camp in cset.ordered():
                base, order = campaign_base(camp, frame)
                pop.base[camp.name] = pop.base.get(camp.name, 0) + int(base.sum())
                for ch in camp.channels:
                    cand = order[base[order] & elig[ch][order]]
                    n_keep = limits[(camp.name, ch)]
                    keep[cand if np.isinf(n_keep) else cand[: int(n_keep)]] = True
            kept.append(frame[keep])
            del frame
        if kept:
            candidates = pd.concat(kept, ignore_index=True)
        else:
            candidates = pd.DataFrame({"customer_key": pd.Series(dtype="string")})
        log.info(
            "streamed export: %d candidate rows of %d customers in %d parts",
            len(candidates),
            pop.n,
            len(parts),
        )
        return _export(
            candidates,
            out_dir,
            cset=cset,
            customers=customers_of(candidates),
            key=key,
            lists=lists,
            format=format,
            frequency_cap=cap,
            incremental=incremental,
            allow_raw_phone=allow_raw_phone,
            raw_phone_channels=raw_phone_channels,
            phone_visible_digits=phone_visible_digits,
            snapshot_date=snapshot_date,
            model_versions=model_versions,
            config_hash=config_hash,
            previous_dir=previous_dir,
            population=pop,
        )
    finally:
        shutil.rmtree(spill, ignore_errors=True)
