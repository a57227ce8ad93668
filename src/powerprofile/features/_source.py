"""Where a partition's rows come from: in-memory ``Tables`` or a data-set folder.

A data-set folder written with ``n_partitions`` in ``dataset.json`` and per-customer
tables as ``<table>/part-{p:05d}.parquet`` is streamed part by part straight from
Parquet (``customer_id`` read dictionary-encoded, so ids cost per distinct customer,
not per row). Any other folder is loaded and validated with
:func:`powerprofile.schema.load_tables` and handled in memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._partition import partition_of
from ..exceptions import DataValidationError
from ..schema._contract import TABLES
from ._partition import PER_CUSTOMER
from ._time import customer_codes

__all__ = ["DataSource"]

DEFAULT_PARTITION_SIZE = 50_000  # customers per partition when none is given
CHUNK_CUSTOMERS = 5_000  # customers per chunk when streaming a Parquet part
BATCH_ROWS = 1 << 18  # usage rows per record batch read
_SKIP_COLUMNS = {"payment_id", "interaction_id"}
# the customer columns features use (PII and contactability are never read)
CUSTOMER_COLUMNS = (
    "customer_id",
    "customer_type",
    "region",
    "grid_unit",
    "transformer_area",
    "tariff",
    "tou_flag",
    "supply_start",
)


def _run_values(pos: np.ndarray) -> np.ndarray:
    """Distinct values of a clustered array (one per run)."""
    if len(pos) == 0:
        return pos
    return pos[np.r_[True, pos[1:] != pos[:-1]]]


def _not_clustered(f) -> DataValidationError:
    return DataValidationError(
        f"usage part {str(f)!r} is not clustered by customer (a customer's rows are not contiguous); "
        "rewrite the data set with powerprofile.schema.save_tables(tables, path, n_partitions=P), "
        "which sorts each part by customer and time"
    )


class DataSource:
    """Partitioned access to the contract tables.

    Parameters
    ----------
    tables : Tables, mapping of str to DataFrame, str or os.PathLike
        Validated tables, or a data-set folder.
    """

    def __init__(self, tables):
        self.path = None
        self.native_partitions = None
        self._memory = None
        if isinstance(tables, str | Path):
            path = Path(tables)
            meta = path / "dataset.json"
            info = json.loads(meta.read_text()) if meta.exists() else {}
            parted = (
                info.get("n_partitions")
                and all(
                    (path / name).is_dir() or not any(path.glob(f"{name}.*"))
                    for name in PER_CUSTOMER
                )
                and (path / "usage").is_dir()
                and (path / "customers.parquet").exists()
            )
            if parted:
                self.path = path
                self.native_partitions = int(info["n_partitions"])
                names = pq.read_schema(path / "customers.parquet").names
                self.customers = pq.read_table(
                    path / "customers.parquet", columns=[c for c in CUSTOMER_COLUMNS if c in names]
                ).to_pandas()
                out = path / "outages.parquet"
                self.outages = pq.read_table(out).to_pandas() if out.exists() else None
                self.data_end = pd.Timestamp(info["data_end"]) if info.get("data_end") else None
            else:
                from ..schema import load_tables

                tables = load_tables(path)
        if self.path is None:
            get = tables.get if isinstance(tables, dict) else (lambda k: getattr(tables, k, None))
            self._memory = {k: get(k) for k in (*PER_CUSTOMER, "customers", "outages")}
            if self._memory["customers"] is None:
                raise ValueError("tables has no 'customers' table; features need the customer list")
            self.customers = self._memory["customers"]
            self.outages = self._memory["outages"]
            self.data_end = getattr(tables, "data_end", None)
        self._row_parts: dict = {}
        self._cust_part: dict = {}
        self._full: dict = {}

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.customers)

    def default_partitions(self) -> int:
        """The folder's own partitioning, or about 50,000 customers per partition."""
        if self.native_partitions:
            return self.native_partitions
        return max(1, int(np.ceil(self.n_customers / DEFAULT_PARTITION_SIZE)))

    def region_categories(self) -> tuple:
        """Sorted regions over the whole data set."""
        return tuple(sorted(self.customers["region"].astype("string").dropna().unique()))

    def _customer_parts(self, P: int) -> np.ndarray:
        if P not in self._cust_part:
            self._cust_part[P] = partition_of(self.customers["customer_id"], P)
        return self._cust_part[P]

    def partition(self, p: int, P: int, tables=PER_CUSTOMER) -> dict:
        """The rows of partition ``p`` of ``P`` for the per-customer ``tables`` and customers."""
        cust_mask = self._customer_parts(P) == p
        out = {
            "customers": self.customers[cust_mask].reset_index(drop=True),
            "outages": self.outages,
        }
        for name in tables:
            if self.path is not None and P == self.native_partitions:
                out[name] = self._read_part(name, p)
            elif self.path is not None:
                full = self._read_all(name)
                out[name] = full[self._rows_of(name, full, P) == p]
            else:
                df = self._memory.get(name)
                if df is None:
                    out[name] = None
                elif P == 1:
                    out[name] = df
                else:
                    out[name] = df[self._rows_of(name, df, P) == p]
        return out

    def _rows_of(self, name, df, P):
        key = (name, P)
        if key not in self._row_parts:
            ids = pd.Index(self.customers["customer_id"].astype("string"))
            codes = customer_codes(df["customer_id"], ids)
            parts = self._customer_parts(P)
            self._row_parts[key] = np.where(codes >= 0, parts[np.maximum(codes, 0)], -1)
        return self._row_parts[key]

    def _columns(self, name, schema_names):
        return [c for c in TABLES[name].names if c in schema_names and c not in _SKIP_COLUMNS]

    def _read_part(self, name: str, p: int) -> pd.DataFrame | None:
        f = self.path / name / f"part-{p:05d}.parquet"
        if not f.exists():
            return None
        cols = self._columns(name, pq.read_schema(f).names)
        table = pq.read_table(f, columns=cols, read_dictionary=["customer_id"])
        return table.to_pandas(date_as_object=False)

    def _read_all(self, name: str) -> pd.DataFrame | None:
        if name not in self._full:
            self._full[name] = self._read_all_uncached(name)
        return self._full[name]

    def _read_all_uncached(self, name: str) -> pd.DataFrame | None:
        folder = self.path / name
        if not folder.is_dir():
            return None
        n = self.native_partitions
        frames = [self._read_part(name, p) for p in range(n)]
        frames = [f for f in frames if f is not None]
        for f in frames:
            if isinstance(f["customer_id"].dtype, pd.CategoricalDtype):
                f["customer_id"] = f["customer_id"].astype("string")
        return pd.concat(frames, ignore_index=True) if frames else None

    # ------------------------------------------------------------------ streaming chunks
    def chunks(self, p: int, P: int, max_customers: int | None = None):
        """Yield partition ``p``'s rows as groups of at most ~``max_customers`` customers.

        For a folder read with its own partitioning, the usage part is streamed in
        record batches (rows are clustered by customer), so memory is bounded by the
        chunk, not the part; the smaller per-customer tables are read once per part
        and split. Otherwise the whole partition is one chunk.

        Raises
        ------
        DataValidationError
            When a usage part is not clustered by customer (the data-set layout
            requires each customer's rows to be contiguous in its part).
        """
        if self.path is None or P != self.native_partitions:
            yield self.partition(p, P)
            return
        yield from self._stream(p, max_customers or CHUNK_CUSTOMERS)

    def _stream(self, p: int, max_customers: int):
        cust = self.customers[self._customer_parts(self.native_partitions) == p].reset_index(
            drop=True
        )
        index = pd.Index(cust["customer_id"].astype("string"))
        n = len(index)
        others = {name: self._read_part(name, p) for name in PER_CUSTOMER if name != "usage"}
        codes = {
            k: (None if v is None else customer_codes(v["customer_id"], index))
            for k, v in others.items()
        }
        done = np.zeros(n, dtype=bool)

        def emit(batches, positions):
            sel = np.zeros(n, dtype=bool)
            sel[positions] = True
            if not sel.any():
                return None
            done[sel] = True
            out = {"customers": cust[sel].reset_index(drop=True), "outages": self.outages}
            if batches is not None:
                out["usage"] = pa.Table.from_batches(
                    batches
                )  # Arrow: the usage builder reads it directly
            for name, df in others.items():
                out[name] = (
                    None if df is None else df[sel[np.maximum(codes[name], 0)] & (codes[name] >= 0)]
                )
            return out

        f = self.path / "usage" / f"part-{p:05d}.parquet"
        if f.exists():
            pf = pq.ParquetFile(f, read_dictionary=["customer_id"])
            cols = self._columns("usage", pf.schema_arrow.names)
            id_col = cols.index("customer_id")
            buf, buf_pos, n_cust, last = [], [], 0, -1
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=cols):
                ids = batch.column(id_col)
                dpos = index.get_indexer(pd.Index(ids.dictionary.to_numpy(zero_copy_only=False)))
                pos = dpos[ids.indices.to_numpy(zero_copy_only=False)]
                if len(pos) == 0:
                    continue
                if (pos < 0).any():  # ids missing from customers (orphans) have no features
                    keep = pos >= 0
                    batch, pos = batch.filter(pa.array(keep)), pos[keep]
                    if len(pos) == 0:
                        continue
                if done[pos].any():
                    raise _not_clustered(f)
                starts = np.r_[pos[0] != last, pos[1:] != pos[:-1]]
                n_cust += int(starts.sum())
                last = int(pos[-1])
                buf.append(batch)
                buf_pos.append(pos)
                if n_cust >= max_customers:
                    tail = int(np.flatnonzero(starts)[-1]) if starts.any() else 0
                    if tail == 0 and len(buf) == 1:
                        continue  # one customer fills the batch: keep reading
                    head_batches = buf[:-1] + ([batch.slice(0, tail)] if tail else [])
                    head_pos = np.concatenate(buf_pos[:-1] + [pos[:tail]])
                    if (head_pos == pos[-1]).any():
                        raise _not_clustered(f)
                    chunk = emit(head_batches, _run_values(head_pos))
                    if chunk is not None:
                        yield chunk
                    buf, buf_pos = [batch.slice(tail)], [pos[tail:]]
                    n_cust = 1
            if buf:
                chunk = emit(buf, _run_values(np.concatenate(buf_pos)))
                if chunk is not None:
                    yield chunk
        rest = np.flatnonzero(~done)  # customers without usage rows
        for i in range(0, len(rest), max_customers):
            chunk = emit(None, rest[i : i + max_customers])
            if chunk is not None:
                yield chunk
