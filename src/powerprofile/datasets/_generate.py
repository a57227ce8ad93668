"""Public entry points of the generator: in memory and chunked to a folder."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from powerprofile._partition import partition_of
from powerprofile.schema._contract import EVENT_KINDS, SCHEMA_VERSION, TABLE_ORDER
from powerprofile.schema._tables import Tables

from ._archetypes import ARCHETYPES
from ._frames import PER_CUSTOMER, Chunk, coerce_contract, generate_chunk, to_arrow
from ._org import assemble_org, chunk_org_rows, plan_org, plant_service
from ._simulate import DRIVER_NAMES
from ._truth import GroundTruth, _Block, save_block, write_meta
from ._uplift import write_campaign_truth

__all__ = ["make_utility_data", "write_sample", "write_utility_data"]

GENERATOR = "powerprofile.datasets"
_DRIVER_LABELS = np.array([*DRIVER_NAMES, "baseline"], dtype=object)
_SEG = np.array([a["name"] for a in ARCHETYPES], dtype=object)
_SEG_ZH = np.array([a["name_zh"] for a in ARCHETYPES], dtype=object)


def _check(n_customers, start, end, chunk_customers):
    if int(n_customers) < 1:
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    if int(chunk_customers) < 1:
        raise ValueError(f"chunk_customers must be a positive integer, got {chunk_customers!r}")
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if (e - s).days < 180:
        raise ValueError(
            f"the period {s.date()}..{e.date()} is too short; give at least 180 days (e.g. two years)"
        )
    if s.year < 2023 or e.year > 2027:
        raise ValueError(
            f"the calendar (Spring Festival dates) covers 2023-2027; got {s.date()}..{e.date()}"
        )
    return s, e


def _chunks(n_customers: int, chunk_customers: int):
    n_chunks = math.ceil(n_customers / chunk_customers)
    for c in range(n_chunks):
        lo = c * chunk_customers
        yield c, lo + 1, min(chunk_customers, n_customers - lo)


def _generate_chunk(seed, c, first, n, s, e) -> tuple[Chunk, pd.DataFrame, pd.DataFrame]:
    """One chunk with its planted service quality, and its part of ``org_units``."""
    chunk = generate_chunk(seed, c, first, n, s, e)
    plan = plan_org(seed, c, chunk.pop)
    chunk.tables["interactions"] = plant_service(
        seed, c, chunk.pop, chunk.tables["interactions"], chunk.cal, plan, chunk.result.churn_day
    )
    org, truth = chunk_org_rows(c, chunk.pop, plan)
    return chunk, org, truth


def _truth_frames(chunk: Chunk) -> tuple[pd.DataFrame, pd.DataFrame]:
    pop, res, cal = chunk.pop, chunk.result, chunk.cal
    start = np.datetime64(cal.start.date(), "D")
    ids = pop.ids.to_numpy(zero_copy_only=False)
    churn = res.churn_day >= 0
    churn_date = np.where(
        churn, start + res.churn_day.astype("timedelta64[D]"), np.datetime64("NaT")
    )
    kinds = np.asarray(EVENT_KINDS, dtype=object)[np.maximum(res.churn_kind, 0)]
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "segment": pd.array(_SEG[pop.arch], dtype="string"),
            "segment_zh": pd.array(_SEG_ZH[pop.arch], dtype="string"),
            "supply_start": (start + pop.supply_start.astype("timedelta64[D]")).astype(
                "datetime64[us]"
            ),
            "churn_date": churn_date.astype("datetime64[us]"),
            "churn_kind": pd.array(np.where(churn, kinds, None), dtype="string"),
        }
    )
    d = res.drivers
    drivers = pd.DataFrame(
        {
            "customer_id": pd.array(ids[d["cust"]], dtype="string"),
            "date": (start + d["day"].astype("timedelta64[D]")).astype("datetime64[us]"),
            "target": pd.array(np.where(d["target"] == 0, "churn", "complaint"), dtype="string"),
            "driver": pd.array(_DRIVER_LABELS[d["driver"]], dtype="string"),
        }
    )
    drivers = drivers.sort_values(
        ["customer_id", "date", "target"], kind="stable", ignore_index=True
    )
    return customers, drivers


def make_utility_data(
    n_customers: int = 2000,
    start="2024-01-01",
    end="2025-12-31",
    seed: int = 0,
    *,
    chunk_customers: int = 50_000,
) -> tuple[Tables, GroundTruth]:
    """Generate a synthetic utility population in memory, with its ground truth.

    Parameters
    ----------
    n_customers : int, default=2000
        Number of customers (ids ``C0000001`` ...).
    start, end : str or pandas.Timestamp, default="2024-01-01", "2025-12-31"
        First and last day of the data (inclusive).
    seed : int, default=0
        Seed; the same seed (and ``chunk_customers``) gives identical tables.
    chunk_customers : int, default=50_000
        Customers are generated in independent chunks of this size, each seeded from
        ``(seed, chunk number)``; :func:`write_utility_data` with the same value writes
        exactly these tables.

    Returns
    -------
    tables : powerprofile.schema.Tables
        The seven contract tables with contract dtypes; ``data_end`` is ``end``;
        ``tables.org_units`` is the organisation (``org_units``).
    truth : GroundTruth
        Latent segments, true churn and complaint probabilities, event drivers;
        ``truth.org_units`` the planted service quality of the units
        (see :func:`load_org_truth`).

    Examples
    --------
    >>> from powerprofile.datasets import make_utility_data
    >>> tables, truth = make_utility_data(300, seed=1)  # doctest: +SKIP
    >>> truth.churn_probability("2025-06-01", horizon_days=90).describe()  # doctest: +SKIP
    """
    s, e = _check(n_customers, start, end, chunk_customers)
    parts: dict[str, list] = {name: [] for name in TABLE_ORDER}
    t_customers, t_drivers, blocks, orgs, org_truths = [], [], [], [], []
    row = 0
    n_days = 0
    for c, first, n in _chunks(int(n_customers), int(chunk_customers)):
        chunk, org, org_truth = _generate_chunk(seed, c, first, n, s, e)
        orgs.append(org)
        org_truths.append(org_truth)
        n_days = chunk.cal.n_days
        for name in TABLE_ORDER:
            parts[name].append(to_arrow(chunk, name))
        tc, td = _truth_frames(chunk)
        t_customers.append(tc)
        t_drivers.append(td)
        blocks.append(_Block(row, row + n, chunk.result.q_churn, chunk.result.q_complaint))
        row += n
        del chunk
    frames = {
        name: coerce_contract(pa.concat_tables(parts[name]).to_pandas(), name)
        for name in TABLE_ORDER
    }
    tables = Tables(**frames, data_end=e)
    truth = GroundTruth(
        pd.concat(t_customers, ignore_index=True),
        pd.concat(t_drivers, ignore_index=True),
        blocks,
        s,
        n_days,
    )
    tables.org_units, truth.org_units = assemble_org(orgs, org_truths)
    return tables, truth


def _parquet_kwargs(level: int) -> dict:
    return {"compression": "zstd", "compression_level": level, "use_dictionary": True}


def write_utility_data(
    out,
    n_customers: int = 2000,
    start="2024-01-01",
    end="2025-12-31",
    seed: int = 0,
    n_partitions: int | None = None,
    chunk_customers: int = 50_000,
    progress: bool = True,
    *,
    compression_level: int = 3,
    overwrite: bool = True,
) -> Path:
    """Generate a population chunk by chunk and write it as a data set folder.

    Memory is bounded by one chunk. Layout (see the data contract)::

        out/dataset.json  out/customers.parquet  out/outages.parquet  out/org_units.parquet
        out/<table>/part-XXXXX.parquet   for usage, bills, payments, interactions, events
        out/truth/...                   ground truth (see load_ground_truth)
        out/responses.parquet            randomised pilot campaigns' responses
        out/truth/uplift.parquet         true effect of each channel per customer

    Part ``p`` holds exactly the customers with ``partition_of(id, n_partitions) == p``,
    rows sorted by customer id then time (clustered by customer). ``dataset.json``
    declares ``n_partitions``, the rows of every table (``row_counts``) and of every
    part (``part_rows``), which the reader checks against the files.

    Parameters
    ----------
    out : str or pathlib.Path
        Folder to write (replaced if it exists and ``overwrite``).
    n_customers : int, default=2000
    start, end : str or pandas.Timestamp, default="2024-01-01", "2025-12-31"
    seed : int, default=0
    n_partitions : int or None, default=None
        Number of hash partitions; by default one per 25,000 customers (at least 1).
    chunk_customers : int, default=50_000
        Customers generated at a time (bounds memory; part of the seed derivation, so
        keep it equal to :func:`make_utility_data`'s to get identical data).
    progress : bool, default=True
        Show a progress bar over chunks.
    compression_level : int, default=3
        zstd level of the Parquet files.
    overwrite : bool, default=True
        Replace an existing folder.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    s, e = _check(n_customers, start, end, chunk_customers)
    n_customers = int(n_customers)
    P = int(n_partitions) if n_partitions is not None else max(1, math.ceil(n_customers / 25_000))
    if P < 1:
        raise ValueError(f"n_partitions must be >= 1, got {n_partitions!r}")
    out = Path(out)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{str(out)!r} exists; pass overwrite=True to replace it")
        shutil.rmtree(out)
    (out / "truth" / "hazards").mkdir(parents=True)
    for name in PER_CUSTOMER:
        (out / name).mkdir()
    kw = _parquet_kwargs(compression_level)
    writers: dict = {}
    schemas: dict = {}

    def write(key, path, table):
        if key not in writers:
            writers[key] = pq.ParquetWriter(path, table.schema, **kw)
            schemas[key[0]] = table.schema
        writers[key].write_table(table, row_group_size=1 << 20)

    chunks = list(_chunks(n_customers, int(chunk_customers)))
    it = chunks
    if progress:
        from .._progress import progress_bar

        it = progress_bar(chunks, progress=progress, desc="generating", unit="chunk")
    rows = {name: 0 for name in TABLE_ORDER}
    part_rows = {name: [0] * P for name in PER_CUSTOMER}
    block_meta = []
    n_days = 0
    t_writer = {}
    orgs, org_truths = [], []
    for c, first, n in it:
        chunk, org, org_truth = _generate_chunk(seed, c, first, n, s, e)
        orgs.append(org)
        org_truths.append(org_truth)
        n_days = chunk.cal.n_days
        for name in ("customers", "outages"):
            tb = to_arrow(chunk, name)
            write((name, None), out / f"{name}.parquet", tb)
            rows[name] += tb.num_rows
        part_of_cust = partition_of(chunk.pop.ids.to_numpy(zero_copy_only=False), P)
        for name in PER_CUSTOMER:
            cust = chunk.tables[name]["cust"]
            prow = part_of_cust[cust].astype(np.int16)
            order = np.argsort(prow, kind="stable")
            bounds = np.r_[0, np.cumsum(np.bincount(prow, minlength=P))]
            for p in range(P):
                lo, hi = bounds[p], bounds[p + 1]
                if hi > lo:
                    tb = to_arrow(chunk, name, rows=order[lo:hi])
                    write((name, p), out / name / f"part-{p:05d}.parquet", tb)
                    rows[name] += tb.num_rows
                    part_rows[name][p] += tb.num_rows
            del order, prow
        tc, td = _truth_frames(chunk)
        for key, df in (("customers", tc), ("drivers", td)):
            tb = pa.Table.from_pandas(df, preserve_index=False)
            if key not in t_writer:
                t_writer[key] = pq.ParquetWriter(out / "truth" / f"{key}.parquet", tb.schema, **kw)
            t_writer[key].write_table(tb)
        f = out / "truth" / "hazards" / f"block-{c:05d}.npz"
        save_block(f, chunk.result.q_churn, chunk.result.q_complaint)
        block_meta.append({"file": f"hazards/{f.name}", "start": first - 1, "stop": first - 1 + n})
        del chunk
    for w in [*writers.values(), *t_writer.values()]:
        w.close()
    # every part exists, even when no customer of this size of population falls into it
    for name in PER_CUSTOMER:
        for p in range(P):
            f = out / name / f"part-{p:05d}.parquet"
            if not f.exists() and name in schemas:
                pq.write_table(schemas[name].empty_table(), f, **kw)
    write_meta(out / "truth", s, n_days, block_meta)
    org, org_truth = assemble_org(orgs, org_truths)
    pq.write_table(pa.Table.from_pandas(org, preserve_index=False), out / "org_units.parquet", **kw)
    pq.write_table(
        pa.Table.from_pandas(org_truth, preserve_index=False),
        out / "truth" / "org_units.parquet",
        **kw,
    )
    rows["org_units"] = len(org)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "data_start": s.date().isoformat(),
        "data_end": e.date().isoformat(),
        "n_customers": n_customers,
        "seed": int(seed),
        "n_partitions": P,
        "chunk_customers": int(chunk_customers),
        "generator": GENERATOR,
        "row_counts": rows,
        "part_rows": part_rows,
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=1))
    write_campaign_truth(out, int(seed))  # own random streams: the tables above are unchanged
    return out


def write_sample(
    out="data/sample",
    n_customers: int = 2000,
    seed: int = 0,
    start="2024-01-01",
    end="2025-12-31",
    n_partitions: int = 2,
    progress: bool = False,
) -> Path:
    """Write the committed sample data set (small enough for git) with its ground truth.

    Parameters
    ----------
    out : str or pathlib.Path, default="data/sample"
    n_customers : int, default=2000
    seed : int, default=0
    start, end : str, default="2024-01-01", "2025-12-31"
    n_partitions : int, default=2
    progress : bool, default=False

    Returns
    -------
    pathlib.Path
    """
    return write_utility_data(
        out,
        n_customers,
        start,
        end,
        seed,
        n_partitions=n_partitions,
        progress=progress,
        compression_level=19,
    )
