"""Partitioned access to the contract tables for the feature builders, validated as read.

A data-set folder whose ``dataset.json`` declares ``n_partitions`` and whose
per-customer tables are folders ``<table>/part-{p:05d}.parquet`` is read part by
part, each part validated as it is read by the same per-part validation as
:func:`~powerprofile.schema.load_tables` (a usage part is streamed in chunks of whole
customers, each chunk validated). Any other folder is loaded with ``load_tables`` and
handled in memory; in-memory tables are taken as given (validate them first).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._partition import partition_of
from ..exceptions import DataValidationError
from ._checks import _DATE_HI, _DATE_LO
from ._contract import PER_CUSTOMER, TABLES
from ._files import _unreadable, arrow_frame
from ._folder import _read_files, open_folder, part_file
from ._problems import merge_problems, raise_problems, report_frame
from ._reader import (
    Part,
    _global_duplicates,
    _quarantine_writer,
    cross_part_key,
    search_duplicates,
)
from ._validate import PartContext, check_errors_argument, check_part

__all__ = ["DataSource", "clean_usage_chunk"]

DEFAULT_PARTITION_SIZE = 50_000  # customers per partition when none is given
CHUNK_CUSTOMERS = 5_000  # customers per chunk when streaming a Parquet part
BATCH_ROWS = 1 << 18  # usage rows per record batch read
_SKIP_COLUMNS = {"payment_id", "interaction_id"}  # validated, then not handed to features
# the customer columns features use (PII and contactability are never handed over)
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


def _customer_codes(column: pd.Series, index: pd.Index) -> np.ndarray:
    from ..features._time import customer_codes  # the features' owner of the mapping

    return customer_codes(column, index)


def _run_values(pos: np.ndarray) -> np.ndarray:
    """Distinct values of a clustered array (one per run)."""
    if len(pos) == 0:
        return pos
    return pos[np.r_[True, pos[1:] != pos[:-1]]]


_US_PER_DAY = 86_400_000_000


def _day_numbers(col: pa.ChunkedArray) -> np.ndarray | None:
    """Day numbers of a null-free ``date32`` or naive ``timestamp[us]`` column, else None."""
    t = col.type
    if col.null_count:
        return None
    if pa.types.is_date32(t):
        return col.cast(pa.int32()).to_numpy().astype(np.int64)
    if pa.types.is_timestamp(t) and t.tz is None and t.unit == "us":
        return col.cast(pa.int64()).to_numpy() // _US_PER_DAY
    return None


def _min_max(col: pa.ChunkedArray) -> tuple:
    """(min, max) ignoring nulls and NaN; ``(None, None)`` when nothing else is left."""
    mm = pc.min_max(col)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo is None or lo != lo:  # all null, or all NaN
        return None, None
    return lo, hi


def clean_usage_chunk(table: pa.Table, pos: np.ndarray, data_end) -> pa.Table | None:
    """The chunk as the features read it when it certainly breaks no usage check, else None.

    A conservative, vectorised pre-check on the Arrow columns (no pandas frame): every
    row's customer is one of the part's kept customers (so neither orphan, quarantined
    nor in the wrong part); the required columns are present with the types the
    writer produces and no missing value; numbers within the contract's bounds; dates
    within the plausible range and not after ``data_end``; categories among the
    allowed ones; each customer's (day, ``recorded_at``) rising strictly (so no
    duplicated key). Anything else returns None and the chunk takes the full
    validation (:func:`~._validate.check_part`), which then finds and words every
    problem; a chunk accepted here is one the full validation keeps whole, so both
    give the same rows. Optional columns with no value at all are dropped, as the
    full validation treats them as absent.

    Parameters
    ----------
    table : pyarrow.Table
        The usage rows as read (contract columns only).
    pos : numpy.ndarray of int
        Each row's position among the part's kept customers (``-1``: not one of them).
    data_end : pandas.Timestamp or None
    """
    spec = TABLES["usage"]
    names = table.column_names
    n = table.num_rows
    if n == 0 or len(set(names)) != len(names) or len(pos) != n or bool((pos < 0).any()):
        return None
    if any(c.required and c.name not in names for c in spec.columns):
        return None
    drop = []
    for c in spec.columns:
        if c.name not in names or c.name in ("customer_id", "date"):
            continue
        col = table.column(c.name)
        if not c.required and col.null_count == len(col):
            drop.append(c.name)
            continue
        if c.kind == "float":
            if not pa.types.is_float64(col.type):
                return None
            lo, hi = _min_max(col)
            if lo is None:  # nothing but NaN
                if c.required:
                    return None
                drop.append(c.name)
                continue
            if not c.nullable and (col.null_count or pc.any(pc.is_nan(col)).as_py()):
                return None
            if c.min_value is not None and lo < c.min_value:
                return None
            if c.max_value is not None and hi > c.max_value:
                return None
        elif c.kind == "category":
            if col.null_count and not c.nullable:
                return None
            if pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type):
                values = set()
                for chunk in col.chunks:
                    values.update(chunk.dictionary.to_pylist())
            elif pa.types.is_string(col.type):
                values = set(pc.unique(col).drop_null().to_pylist())
            else:
                return None
            if not values <= set(c.categories):
                return None
        elif c.kind == "datetime":
            if col.null_count or not (pa.types.is_timestamp(col.type) and col.type.unit == "us"):
                return None
            if col.type.tz is not None:
                return None
            lo, hi = _min_max(col.cast(pa.int64()))
            if lo < _DATE_LO.astype(np.int64) or hi >= _DATE_HI.astype(np.int64):
                return None
        else:
            return None
    days = _day_numbers(table.column("date"))
    if days is None:
        return None
    lo = _DATE_LO.astype("datetime64[D]").astype(np.int64)
    hi = _DATE_HI.astype("datetime64[D]").astype(np.int64)
    if data_end is not None:
        hi = min(hi, int(pd.Timestamp(data_end).normalize().value // (1000 * _US_PER_DAY)) + 1)
    if days.min() < lo or days.max() >= hi:
        return None
    same = pos[1:] == pos[:-1]
    rises = days[1:] > days[:-1]
    if "recorded_at" in names and "recorded_at" not in drop:
        rec = table.column("recorded_at").cast(pa.int64()).to_numpy()
        rises |= (days[1:] == days[:-1]) & (rec[1:] > rec[:-1])
    if not bool(np.all(rises | ~same)):
        return None
    # each customer's rows form one run (the caller checks it across the part)
    return table.drop_columns(drop) if drop else table


def _not_clustered(f) -> DataValidationError:
    return DataValidationError(
        f"usage part {str(f)!r} is not clustered by customer (a customer's rows are not contiguous); "
        "rewrite the data set with powerprofile.schema.save_tables(tables, path, n_partitions=P), "
        "which sorts each part by customer and time"
    )


class DataSource:
    """Partitioned access to the contract tables, each part validated as it is read.

    Parameters
    ----------
    tables : Tables, mapping of str to DataFrame, str or os.PathLike
        Validated tables, or a data-set folder.
    errors : {"raise", "quarantine"}, default="raise"
        For a folder: raise a :class:`~powerprofile.exceptions.DataValidationError`
        naming the table, column, file and examples at the first part with a problem,
        or set bad rows aside and go on.
    data_end : str, date or pandas.Timestamp, optional
        Overrides ``dataset.json``'s ``data_end`` (rows after it are errors).
    quarantine : str, os.PathLike or callable, optional
        Where bad rows go in quarantine mode: a folder (``<table>/<part>.parquet``)
        or a function called with each :class:`~powerprofile.schema.Part` holding
        quarantined rows.

    Attributes
    ----------
    customers : pandas.DataFrame
        The (validated) customers, with the columns features use.
    outages : pandas.DataFrame or None
    data_end : pandas.Timestamp or None
    native_partitions : int or None
        The folder's own number of hash partitions, when streamed.
    """

    def __init__(self, tables, errors: str = "raise", data_end=None, quarantine=None):
        self.path = None
        self.native_partitions = None
        self._memory = None
        self._lenient = check_errors_argument(errors)
        self._sink = _quarantine_writer(quarantine)
        self._written: dict = {}
        if isinstance(tables, str | Path):
            folder = open_folder(tables, data_end)
            srcs = folder.sources
            P = folder.declared.n_partitions
            parted = (
                P
                and "usage" in srcs
                and srcs["usage"].partitioned
                and "customers" in srcs
                and all(srcs[n].partitioned for n in PER_CUSTOMER if n in srcs)
            )
            if parted:
                self._open(folder)
            else:
                from ._reader import load_tables

                errs = "quarantine" if self._lenient else "raise"
                tables = load_tables(folder.root, errors=errs, data_end=data_end)
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

    # ------------------------------------------------------------------ folder route
    def _open(self, folder) -> None:
        self.path = folder.root
        self._folder = folder
        self.native_partitions = int(folder.declared.n_partitions)
        self.data_end = folder.data_end
        self._ctx = PartContext(lenient=self._lenient, data_end=folder.data_end)
        self._dups: dict = {}
        cust = self._whole("customers")
        src = folder.sources["customers"]
        label = src.files[0] if len(src.files) == 1 else src.path
        self._ctx = replace(self._ctx, all_ids=cust[1], kept_ids=cust[2], customers_file=str(label))
        frame = cust[0]
        self.customers = frame[[c for c in CUSTOMER_COLUMNS if c in frame.columns]]
        self.outages = self._whole("outages")[0] if "outages" in folder.sources else None

    def _whole(self, name: str):
        src = self._folder.sources[name]
        label = src.files[0] if len(src.files) == 1 else src.path
        raw = _read_files(src, src.files)
        res = check_part(name, raw, replace(self._ctx, file=str(label)))
        self._done(name, Path(label), None, res)
        return res.kept, res.ids, res.kept_ids

    def _done(self, name: str, file: Path, p, res, n_keys=None):
        """Raise (strict) or hand quarantined rows over; return the kept rows."""
        problems = merge_problems([res.problems], {name: n_keys} if n_keys is not None else None)
        raise_problems(problems, self._lenient)
        if self._sink is not None and res.quarantine is not None and len(res.quarantine):
            k = self._written.get((name, file), 0)
            self._written[(name, file)] = k + 1
            part = Part(
                name,
                file if k == 0 else file.with_name(f"{file.stem}-{k}{file.suffix}"),
                p,
                res.kept,
                res.quarantine,
                report_frame(problems, self._lenient),
                res.n_rows,
            )
            self._sink(part)
        return res.kept

    def _part_context(self, name: str, p: int):
        src = self._folder.sources[name]
        n_keys = None
        dup = None
        column = cross_part_key(name, src)
        if column is not None:
            if name not in self._dups:
                self._dups[name] = _global_duplicates(src, column)
            dup, n_keys = self._dups[name]
        offset = int(sum(r or 0 for r in src.rows[:p]))
        f = part_file(src.path, p)
        ctx = replace(
            self._ctx,
            offset=offset,
            file=str(f),
            partition=(p, self.native_partitions),
            duplicated=dup,
            categorical_ids=True,
        )
        return ctx, f, n_keys

    def search_duplicates(self, mapper) -> dict:
        """Search every table's cross-part duplicate keys now, one ``mapper`` task a table.

        For the engines that hand the folder's partitions to other processes: the
        result goes to each task (:func:`~powerprofile.schema._reader.remember_duplicates`),
        which then reads its parts without searching every part of those tables
        again. ``{}`` for tables in memory.
        """
        if self.path is None:
            return {}
        return search_duplicates(self._folder, mapper, PER_CUSTOMER)

    def _columns(self, name, schema_names):
        return [c for c in TABLES[name].names if c in schema_names]

    def _read_part(self, name: str, p: int) -> pd.DataFrame | None:
        src = self._folder.sources.get(name)
        if src is None:
            return None
        ctx, f, n_keys = self._part_context(name, p)
        raw = _read_files(src, [f], columns=TABLES[name].names)
        kept = self._done(name, f, p, check_part(name, raw, ctx), n_keys)
        return kept.drop(columns=[c for c in _SKIP_COLUMNS if c in kept.columns])

    # ------------------------------------------------------------------ partitions
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
                out[name] = None if full is None else full[self._rows_of(name, full, P) == p]
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
            codes = _customer_codes(df["customer_id"], ids)
            parts = self._customer_parts(P)
            self._row_parts[key] = np.where(codes >= 0, parts[np.maximum(codes, 0)], -1)
        return self._row_parts[key]

    def _read_all(self, name: str) -> pd.DataFrame | None:
        if name not in self._full:
            self._full[name] = self._read_all_uncached(name)
        return self._full[name]

    def _read_all_uncached(self, name: str) -> pd.DataFrame | None:
        if name not in self._folder.sources:
            return None
        frames = [self._read_part(name, p) for p in range(self.native_partitions)]
        for f in frames:
            if isinstance(f["customer_id"].dtype, pd.CategoricalDtype):
                f["customer_id"] = f["customer_id"].astype("string")
        return pd.concat(frames, ignore_index=True) if frames else None

    # ------------------------------------------------------------------ streaming chunks
    def chunks(self, p: int, P: int, max_customers: int | None = None, *, arrow: bool = False):
        """Yield partition ``p``'s rows as groups of at most ~``max_customers`` customers.

        The groups are of about even size (as few as ``max_customers`` allows, each
        about the part's customers divided by their number), so the largest one, which
        sets the memory peak, is no larger than it needs to be.

        For a folder read with its own partitioning, the usage part is streamed in
        record batches (rows are clustered by customer), and each chunk of whole
        customers is validated as it is read, so memory is bounded by the chunk, not
        the part; the smaller per-customer tables are read (and validated) once per
        part and split. Otherwise the whole partition is one chunk.

        With ``arrow=True`` a usage chunk that certainly passes every check (see
        :func:`clean_usage_chunk`) is handed over as the ``pyarrow.Table`` read,
        without a pandas round trip; other chunks are validated in full and handed
        over as the validated ``pandas.DataFrame``. The rows are the same either way.

        Raises
        ------
        DataValidationError
            When a usage part is not clustered by customer (the data-set layout
            requires each customer's rows to be contiguous in its part), or (strict
            mode) when a chunk breaks the data contract.
        """
        if self.path is None or P != self.native_partitions:
            yield self.partition(p, P)
            return
        yield from self._stream(p, max_customers or CHUNK_CUSTOMERS, arrow)

    def _usage_chunk(self, batches, ctx, f, p, offset: int, pos, arrow: bool):
        table = pa.Table.from_batches(batches)
        if arrow:
            clean = clean_usage_chunk(table, pos, ctx.data_end)
            if clean is not None:
                return clean
        raw = arrow_frame("usage", f, table)
        del table
        res = check_part("usage", raw, replace(ctx, offset=offset))
        return self._done("usage", f, p, res)

    def _stream(self, p: int, max_customers: int, arrow: bool = False):
        cust = self.customers[self._customer_parts(self.native_partitions) == p].reset_index(
            drop=True
        )
        index = pd.Index(cust["customer_id"].astype("string"))
        n = len(index)
        # as many chunks as max_customers needs, of even size: the largest chunk (the
        # memory peak) is no larger than it must be (15,600 customers: 4 x 3,900,
        # not 3 x 5,000 + 600). A chunk is cut when the count reaches the limit, the
        # customer that reached it going on into the next: hence the + 1.
        if n > max_customers:
            max_customers = -(-n // -(-n // max_customers)) + 1
        others = {name: self._read_part(name, p) for name in PER_CUSTOMER if name != "usage"}
        codes = {
            k: (None if v is None else _customer_codes(v["customer_id"], index))
            for k, v in others.items()
        }
        done = np.zeros(n, dtype=bool)

        def emit(usage, positions):
            sel = np.zeros(n, dtype=bool)
            sel[positions] = True
            if not sel.any():
                return None
            done[sel] = True
            out = {"customers": cust[sel].reset_index(drop=True), "outages": self.outages}
            if usage is not None:
                out["usage"] = usage
            for name, df in others.items():
                out[name] = (
                    None if df is None else df[sel[np.maximum(codes[name], 0)] & (codes[name] >= 0)]
                )
            return out

        src = self._folder.sources["usage"]
        ctx, f, _ = self._part_context("usage", p)
        offset = ctx.offset
        try:
            pf = pq.ParquetFile(f, read_dictionary=["customer_id"])
            cols = self._columns("usage", pf.schema_arrow.names)
            # one thread: partitions are what runs in parallel, and decoding threads
            # cost more CPU time than they save wall time on a busy machine
            batches_in = pf.iter_batches(batch_size=BATCH_ROWS, columns=cols, use_threads=False)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - named like any unreadable file
            raise _unreadable("usage", f, exc) from exc
        if "customer_id" not in cols:
            raw = _read_files(src, [f], columns=TABLES["usage"].names)
            check = check_part("usage", raw, ctx)  # raises the missing column
            self._done("usage", f, p, check)
        id_col = cols.index("customer_id")
        ended = np.zeros(n, dtype=bool)  # customers whose run of rows is over
        buf, buf_pos, n_cust, last = [], [], 0, -1

        def flush(batches, pos_list):
            nonlocal offset
            rows = int(sum(b.num_rows for b in batches))
            pos = np.concatenate(pos_list) if pos_list else np.zeros(0, dtype=np.int64)
            usage = self._usage_chunk(batches, ctx, f, p, offset, pos, arrow)
            offset += rows
            return emit(usage, _run_values(pos[pos >= 0]))

        while True:
            try:
                batch = next(batches_in, None)
                if batch is not None:
                    # bytes that decode but are not valid (text that is not UTF-8 after
                    # a flipped bit) would fail later, unnamed, when turned into objects
                    batch.validate(full=True)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - corrupt pages: name the file
                raise _unreadable("usage", f, exc) from exc
            if batch is None:
                break
            if len(batch) == 0:
                continue
            ids = batch.column(id_col)
            if pa.types.is_dictionary(ids.type):
                dpos = index.get_indexer(pd.Index(ids.dictionary.to_numpy(zero_copy_only=False)))
                idx = ids.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
                pos = np.where(idx >= 0, dpos[np.maximum(idx, 0)], -1)
            else:
                pos = index.get_indexer(pd.Index(ids.to_pandas().astype("string")))
            # rows of customers not in this part travel with their neighbours: the
            # chunk's validation names them (orphan, wrong partition)
            rows_known = np.flatnonzero(pos >= 0)
            kp = pos[rows_known]
            if len(kp) == 0:
                buf.append(batch)
                buf_pos.append(pos)
                continue
            change = np.r_[True, kp[1:] != kp[:-1]]
            runs = kp[change]
            run_rows = rows_known[change]
            if runs[0] == last:  # the open customer goes on
                runs, run_rows = runs[1:], run_rows[1:]
            elif last >= 0:
                ended[last] = True
            if ended[runs].any() or len(np.unique(runs)) < len(runs):
                raise _not_clustered(f)
            if len(runs):
                ended[runs[:-1]] = True
                last = int(runs[-1])
            n_cust += len(runs)
            buf.append(batch)
            buf_pos.append(pos)
            if n_cust >= max_customers and len(runs):
                tail = int(run_rows[-1])
                if tail == 0 and len(buf) == 1:
                    continue  # one customer fills the batch: keep reading
                head_batches = buf[:-1] + ([batch.slice(0, tail)] if tail else [])
                head_pos = buf_pos[:-1] + [pos[:tail]]
                chunk = flush(head_batches, head_pos)
                if chunk is not None:
                    yield chunk
                buf, buf_pos = [batch.slice(tail)], [pos[tail:]]
                n_cust = 1
        if buf:
            chunk = flush(buf, buf_pos)
            if chunk is not None:
                yield chunk
        rest = np.flatnonzero(~done)  # customers without usage rows
        for i in range(0, len(rest), max_customers):
            chunk = emit(None, rest[i : i + max_customers])
            if chunk is not None:
                yield chunk
