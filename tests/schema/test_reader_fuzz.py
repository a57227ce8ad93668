"""Fuzz of the reader: whatever is done to a valid partitioned folder, reading it either
succeeds or raises a DataValidationError that names the file (hypothesis)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_data import DATA_END, clean_frames

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import DataSource, load_tables, save_tables, validate_tables

P = 2
KINDS = (
    "truncate",
    "flip",
    "zero",
    "csv_bytes",
    "retype",
    "tz_date",
    "odd_date",
    "dataset_json",
    "delete",
)
ODD_JSON = st.sampled_from(
    ["", "NaT", "soon", -5, 0, 1.5, None, True, [], {}, "2.0", "1.0", "2024-13-01", 10**12]
)
JSON_KEYS = (
    "data_end",
    "data_start",
    "n_partitions",
    "n_customers",
    "schema_version",
    "row_counts",
    "part_rows",
    "row_counts.usage",
    "part_rows.bills",
)


@pytest.fixture(scope="module")
def valid_folder(tmp_path_factory):
    tables = validate_tables(clean_frames(), data_end=DATA_END)
    return save_tables(tables, tmp_path_factory.mktemp("fuzz") / "clean", n_partitions=P)


def _parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def _read(f: Path) -> pd.DataFrame:
    return pq.read_table(f).to_pandas(date_as_object=False)


def _write(df: pd.DataFrame, f: Path) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), f)


def _mutate(root: Path, data) -> tuple[str, Path]:
    """Apply one random mutation; return its kind and the file it touched."""
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    files = _parquet_files(root)
    f = data.draw(st.sampled_from(files), label="file")
    blob = f.read_bytes()
    if kind == "truncate":
        f.write_bytes(blob[: data.draw(st.integers(0, len(blob) - 1), label="offset")])
    elif kind == "flip":
        raw = bytearray(blob)
        for i in data.draw(
            st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8), label="at"
        ):
            raw[i] ^= data.draw(st.integers(1, 255), label="mask")
        f.write_bytes(bytes(raw))
    elif kind == "zero":
        f.write_bytes(b"")
    elif kind == "csv_bytes":
        df = _read(f)
        f.write_bytes(df.to_csv(index=False).encode("utf-8"))
    elif kind == "retype":
        df = _read(f)
        col = data.draw(st.sampled_from(list(df.columns)), label="column")
        to = data.draw(st.sampled_from(["str", "int", "bool", "time", "null"]), label="type")
        if to == "str":
            df[col] = df[col].astype(str)
        elif to == "int":
            df[col] = np.arange(len(df), dtype=np.int64) - 3
        elif to == "bool":
            df[col] = np.arange(len(df)) % 2 == 0
        elif to == "time":
            df[col] = pd.Timestamp("2024-03-01") + pd.to_timedelta(np.arange(len(df)), "h")
        else:
            df[col] = pd.Series([None] * len(df), dtype=object)
        _write(df, f)
    elif kind in ("tz_date", "odd_date"):
        df = _read(f)
        times = [c for c in df.columns if df[c].dtype.kind == "M"]
        if not times or not len(df):
            return kind, f
        col = data.draw(st.sampled_from(times), label="column")
        row = data.draw(st.integers(0, len(df) - 1), label="row")
        text = df[col].dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
        if kind == "tz_date":
            text.iloc[row] = text.iloc[row] + data.draw(st.sampled_from(["+08:00", "Z", "-05:30"]))
        else:
            text.iloc[row] = data.draw(
                st.sampled_from(["-5", "0001-01-01", "9999-12-31", "March", "1e9", "2024-02-30"])
            )
        df[col] = text
        _write(df, f)
    elif kind == "dataset_json":
        f = root / "dataset.json"
        info = json.loads(f.read_text(encoding="utf-8"))
        key = data.draw(st.sampled_from(JSON_KEYS), label="key")
        value = data.draw(ODD_JSON, label="value")
        if "." in key:
            outer, inner = key.split(".")
            if isinstance(info.get(outer), dict):
                info[outer][inner] = value
        else:
            info[key] = value
        f.write_text(json.dumps(info), encoding="utf-8")
    else:  # delete
        f.unlink()
    return kind, f


def _named(err: DataValidationError, f: Path) -> bool:
    """The message names the file: ``usage/part-00001.parquet``, ``customers.parquet`` ..."""
    rel = f.name if f.parent.name == "ds" else f"{f.parent.name}/{f.name}"
    return rel in str(err)


@settings(
    max_examples=80,
    derandomize=True,  # the same 80 mutations in CI; explore more by hand with a seed
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_failure_is_a_named_data_validation_error(valid_folder, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        shutil.copytree(valid_folder, root)
        kind, f = _mutate(root, data)
        for errors in ("raise", "quarantine"):
            try:
                t = load_tables(root, errors=errors)
            except DataValidationError as err:
                assert _named(err, f), (kind, f.name, str(err))
            else:  # kept + quarantined = read, whatever was set aside
                for name, df in t.items():
                    q = t.quarantine.get(name)
                    assert len(df) + (0 if q is None else len(q)) == t.input_rows[name]
            for arrow in (False, True):
                try:
                    src = DataSource(root, errors=errors)
                    for p in range(src.default_partitions()):
                        for _ in src.chunks(p, src.default_partitions(), arrow=arrow):
                            pass
                except DataValidationError as err:
                    assert _named(err, f), (kind, f.name, str(err))


_IDS = st.one_of(st.none(), st.sampled_from(["", "a", "b", "c", "P-1", "P-2", "支付-3"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.lists(_IDS, max_size=12), min_size=1, max_size=5), collide=st.booleans())
def test_cross_part_duplicates_equal_an_exact_count(parts, collide):
    """The spilled-hash search finds exactly the ids seen more than once over all parts.

    Repeats inside one part, across parts, nulls and empty texts; with ``collide``
    every id hashes to the same 64 bits, so only the exact counts can tell them apart.
    """
    import tempfile
    from collections import Counter
    from types import SimpleNamespace

    from powerprofile.schema import _reader

    counts = Counter(v for part in parts for v in part if v)
    want = sorted(v for v, n in counts.items() if n > 1)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, part in enumerate(parts):
            f = Path(tmp) / f"part-{i:05d}.parquet"
            pq.write_table(pa.table({"payment_id": pa.array(part, pa.string())}), f)
            files.append(f)
        src = SimpleNamespace(name="payments", files=files)
        hashes = _reader._hash_ids
        if collide:
            _reader._hash_ids = lambda values: np.zeros(len(values), dtype=np.uint64)
        try:
            found, n = _reader._find_duplicates(src, "payment_id")
        finally:
            _reader._hash_ids = hashes
    assert sorted(found.tolist()) == want
    assert n == len(want)
