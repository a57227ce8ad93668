"""The streamed reader's Arrow pre-check of usage chunks: a chunk it accepts is one the
full validation keeps whole (no problem, the same rows); anything doubtful goes to the
full validation, which words the problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.schema._files import arrow_frame
from powerprofile.schema._source import clean_usage_chunk
from powerprofile.schema._validate import PartContext, check_part

KNOWN = pd.Index(["C1", "C2", "C3"], dtype="string")  # the part's kept customers
DATA_END = pd.Timestamp("2025-06-30")
US_DAY = 86_400_000_000


def _table(ids, days, kwh, rq=None, rec_hours=None, peak=None) -> pa.Table:
    cols = {
        "customer_id": pa.array(ids, pa.string()).dictionary_encode(),
        "date": pa.array(np.asarray(days, dtype=np.int64) * US_DAY, pa.timestamp("us")),
        "kwh": pa.array(kwh, pa.float64()),
    }
    if peak is not None:
        cols["peak_kwh"] = pa.array(peak, pa.float64())
    if rq is not None:
        cols["read_quality"] = pa.array(rq, pa.string()).dictionary_encode()
    if rec_hours is not None:
        us = [
            None if h is None else (d * 24 + h) * 3_600_000_000
            for d, h in zip(days, rec_hours, strict=True)
        ]
        cols["recorded_at"] = pa.array(us, pa.timestamp("us"))
    return pa.table(cols)


def _pos(table: pa.Table) -> np.ndarray:
    ids = table.column("customer_id").to_pylist()
    return KNOWN.get_indexer(pd.Index(ids, dtype="string")).astype(np.int64)


def _full(table: pa.Table):
    ctx = PartContext(data_end=DATA_END, all_ids=KNOWN, kept_ids=KNOWN)
    return check_part("usage", arrow_frame("usage", "usage.parquet", table), ctx)


D = int(pd.Timestamp("2025-06-01").value // (US_DAY * 1000))  # a day number in range


def _clean():
    return _table(
        ["C1", "C1", "C1", "C2", "C2"],
        [D, D + 1, D + 1, D, D + 2],
        [1.0, 0.0, 2.5, 3.0, 4.0],
        rq=["actual", "estimated", "actual", "actual", "actual"],
        rec_hours=[26, 26, 30, 26, 26],  # C1's second day corrected 4 hours later
        peak=[0.5, None, 1.0, None, None],
    )


def test_a_clean_chunk_is_accepted_and_the_full_validation_agrees():
    t = _clean()
    assert clean_usage_chunk(t, _pos(t), DATA_END) is t
    res = _full(t)
    assert res.problems == [] and len(res.kept) == 5


@pytest.mark.parametrize(
    "defect",
    [
        "negative_kwh",
        "nan_kwh",
        "absurd_kwh",
        "negative_peak",
        "duplicate_key",
        "after_end",
        "year_1800",
        "bad_category",
        "null_recorded_at",
        "unknown_customer",
        "null_customer",
    ],
)
def test_each_defect_sends_the_chunk_to_the_full_validation(defect):
    ids = ["C1", "C1", "C1", "C2", "C2"]
    days = [D, D + 1, D + 1, D, D + 2]
    kwh = [1.0, 0.0, 2.5, 3.0, 4.0]
    rq = ["actual", "estimated", "actual", "actual", "actual"]
    rec = [26, 26, 30, 26, 26]
    peak = [0.5, None, 1.0, None, None]
    if defect == "negative_kwh":
        kwh[3] = -1.0
    elif defect == "nan_kwh":
        kwh[3] = float("nan")
    elif defect == "absurd_kwh":
        kwh[3] = 1e12
    elif defect == "negative_peak":
        peak[0] = -0.5
    elif defect == "duplicate_key":
        rec[2] = 26  # the same customer, day and recorded_at twice
    elif defect == "after_end":
        days[4] = D + 40  # 2025-07-11 > data_end
    elif defect == "year_1800":
        days[0] = -62_000
    elif defect == "bad_category":
        rq[3] = "guessed"
    elif defect == "null_recorded_at":
        rec[4] = None
    elif defect == "unknown_customer":
        ids[3:] = ["C9", "C9"]
    elif defect == "null_customer":
        ids[4] = None
    t = _table(ids, days, kwh, rq=rq, rec_hours=rec, peak=peak)
    assert clean_usage_chunk(t, _pos(t), DATA_END) is None
    assert any(p.severity == "error" for p in _full(t).problems)  # rightly so


def test_optional_columns_without_any_value_are_dropped_as_the_validation_does():
    t = _table(["C1", "C1"], [D, D + 1], [1.0, 2.0], peak=[None, None])
    out = clean_usage_chunk(t, _pos(t), DATA_END)
    assert out is not None and "peak_kwh" not in out.column_names
    assert _full(t).kept["peak_kwh"].isna().all()


def _rows(valid: bool):
    return st.tuples(
        st.sampled_from(["C1", "C2", "C3"] + ([] if valid else ["C9"])),
        st.integers(-3, 3),  # day offset
        st.sampled_from([0.0, 1.5, 4e6] + ([] if valid else [-1.0, float("nan"), np.inf, 6e6])),
        st.sampled_from(["actual", "estimated"] + ([] if valid else ["guessed", None])),
        st.sampled_from([26, 27] + ([] if valid else [None])),
        st.sampled_from([None, 0.5] + ([] if valid else [-0.5, float("nan")])),
    )


def _same(a, b) -> bool:
    if a is pd.NA or b is pd.NA or a is None or b is None:
        return (a is pd.NA or a is None) and (b is pd.NA or b is None)
    return a == b or (a != a and b != b)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), end_offset=st.integers(-2, 5))
def test_accepted_chunks_are_exactly_those_the_full_validation_keeps_whole(data, end_offset):
    valid = data.draw(st.booleans())
    rows = data.draw(st.lists(_rows(valid), min_size=1, max_size=12))
    if valid or data.draw(st.booleans()):  # mostly in time order, as written
        rows = sorted(rows, key=lambda r: (r[0], r[1], r[4] or 0))
    else:  # the reader checks that customers are clustered
        rows = sorted(rows, key=lambda r: r[0])
    ids, off, kwh, rq, rec, peak = (list(c) for c in zip(*rows, strict=True))
    days = [D + o for o in off]
    data_end = pd.Timestamp("2025-06-01") + pd.Timedelta(days=end_offset)
    t = _table(ids, days, kwh, rq=rq, rec_hours=rec, peak=peak)
    accepted = clean_usage_chunk(t, _pos(t), data_end)
    ctx = PartContext(data_end=data_end, all_ids=KNOWN, kept_ids=KNOWN)
    res = check_part("usage", arrow_frame("usage", "usage.parquet", t), ctx)
    if accepted is None:
        return
    assert res.problems == []
    kept = res.kept
    assert len(kept) == accepted.num_rows
    got = arrow_frame("usage", "usage.parquet", accepted)
    for c in got.columns:
        a, b = got[c].astype(object).to_numpy(), kept[c].astype(object).to_numpy()
        assert all(_same(x, y) for x, y in zip(a, b, strict=True)), c


def _rows_of(usage) -> list:
    df = usage if isinstance(usage, pd.DataFrame) else usage.to_pandas()
    return sorted(
        zip(
            df["customer_id"].astype(str),
            pd.to_datetime(df["date"]).dt.strftime("%Y-%m-%d"),
            df["kwh"].astype(float),
            strict=True,
        )
    )


def test_quarantine_mode_keeps_the_same_rows_with_or_without_the_arrow_route(tmp_path):
    import pyarrow.parquet as pq
    from schema_data import DATA_END as END
    from schema_data import clean_frames

    from powerprofile.schema import DataSource, save_tables, validate_tables

    folder = save_tables(
        validate_tables(clean_frames(), data_end=END), tmp_path / "ds", n_partitions=2
    )
    path = folder / "usage" / "part-00001.parquet"
    df = pq.read_table(path).to_pandas()
    df.loc[3, "kwh"] = -1.0  # one bad row in part 1
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)

    def run(arrow):
        calls = []
        src = DataSource(folder, errors="quarantine", quarantine=calls.append)
        chunks = {
            p: [c["usage"] for c in src.chunks(p, 2, arrow=arrow) if "usage" in c] for p in (0, 1)
        }
        return chunks, [(c.table, c.file.name, len(c.quarantine)) for c in calls]

    plain, plain_q = run(False)
    fast, fast_q = run(True)
    assert fast_q == plain_q == [("usage", "part-00001.parquet", 1)]
    assert all(isinstance(u, pa.Table) for u in fast[0])  # the clean part: no pandas
    assert all(isinstance(u, pd.DataFrame) for u in fast[1])  # validated in full
    for p in (0, 1):
        assert [_rows_of(u) for u in fast[p]] == [_rows_of(u) for u in plain[p]]


def test_chunks_are_as_few_as_the_limit_allows_and_of_even_size(tmp_path, monkeypatch):
    """22 customers, at most 8 a chunk: 3 chunks of 8, 7 and 7 (not 7, 7, 7 and 1)."""
    from powerprofile.datasets import write_utility_data
    from powerprofile.schema import DataSource

    data = write_utility_data(tmp_path / "d", n_customers=44, n_partitions=2, progress=False)
    # one usage row a batch: a chunk is cut exactly where the limit is reached
    monkeypatch.setattr("powerprofile.schema._source.BATCH_ROWS", 1)
    src = DataSource(data)
    for p in range(2):
        n = int((src._customer_parts(2) == p).sum())
        sizes = [len(c["customers"]) for c in src.chunks(p, 2, max_customers=8, arrow=True)]
        assert sum(sizes) == n
        k = -(-n // 8)  # as few chunks as 8 a chunk allows
        assert len(sizes) == k
        assert max(sizes) - min(sizes) <= 1  # of even size
