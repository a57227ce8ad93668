"""Loading and saving the data-set folder; round trips (hypothesis)."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_data import DATA_END, clean_frames

from powerprofile._partition import partition_of
from powerprofile.exceptions import DataValidationError
from powerprofile.schema import (
    TABLE_ORDER,
    TABLES,
    load_tables,
    save_quarantine,
    save_tables,
    validate_tables,
)


def _assert_same(a, b):
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_clean(tmp_path, clean, fmt):
    t = validate_tables(clean, data_end=DATA_END)
    save_tables(t, tmp_path, format=fmt)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(["dataset.json", *(f"{n}.{fmt}" for n in TABLE_ORDER)])
    info = json.loads((tmp_path / "dataset.json").read_text(encoding="utf-8"))
    assert info["data_end"] == "2024-03-31" and info["schema_version"] == "1.0"
    assert info["data_start"] == "2024-03-01" and info["n_customers"] == 4
    back = load_tables(tmp_path)
    assert back.data_end == pd.Timestamp("2024-03-31")
    _assert_same(t, back)
    assert len(back.report) == 0


def test_csv_is_utf8_with_bom_and_iso_dates(tmp_path, clean):
    save_tables(validate_tables(clean), tmp_path, format="csv")
    raw = (tmp_path / "customers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert '"张三"' in text and ",2015-06-01," in text and ",false,2015-06-01," in text
    usage = (tmp_path / "usage.csv").read_text(encoding="utf-8-sig").splitlines()
    assert (
        usage[0]
        == '"customer_id","date","kwh","peak_kwh","flat_kwh","valley_kwh","read_quality","recorded_at"'
    )
    assert usage[1] == '"C0000001",2024-03-01,2,,,,"actual",2024-03-02 00:00:00'
    inter = (tmp_path / "interactions.csv").read_text(encoding="utf-8-sig").splitlines()
    assert inter[1] == '"W1","C0000001",2024-03-02 09:15:00,"hotline_95598","outage_report",3'


def test_csv_without_bom_and_hand_written(tmp_path, clean):
    save_tables(validate_tables(clean), tmp_path, format="csv")
    (tmp_path / "events.csv").write_bytes(
        b"customer_id,date,kind\nC0000003,2024-03-15,suspension\nC0000004,2024/03/30,closure\n"
    )
    t = load_tables(tmp_path)
    assert t.events["date"].tolist() == [pd.Timestamp("2024-03-15"), pd.Timestamp("2024-03-30")]


def test_partitioned_parquet(tmp_path, clean):
    t = validate_tables(clean, data_end=DATA_END)
    save_tables(t, tmp_path, n_partitions=3)
    parts = sorted(p.name for p in (tmp_path / "usage").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert (tmp_path / "customers.parquet").is_file() and (tmp_path / "outages.parquet").is_file()
    for p in range(3):
        part = pd.read_parquet(tmp_path / "usage" / f"part-{p:05d}.parquet")
        assert (partition_of(part["customer_id"], 3) == p).all()
        keys = list(zip(part["customer_id"], part["date"], strict=True))
        assert keys == sorted(keys)
    back = load_tables(tmp_path)
    for name in TABLE_ORDER:  # same rows, order by partition
        cols = list(TABLES[name].key) if TABLES[name].key[0] in back[name] else None
        a = t[name].sort_values(cols or list(t[name].columns[:2])).reset_index(drop=True)
        b = back[name].sort_values(cols or list(back[name].columns[:2])).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, obj=name)
    # writing another form replaces the folder, so the layout stays unambiguous
    save_tables(t, tmp_path, format="csv")
    assert not (tmp_path / "usage").exists()
    _assert_same(t, load_tables(tmp_path))


def test_load_data_end_precedence(tmp_path, clean):
    clean["events"].loc[1, "date"] = pd.Timestamp("2024-04-02")
    save_tables(clean, tmp_path)
    info = json.loads((tmp_path / "dataset.json").read_text())
    info["data_end"] = "2024-03-31"
    (tmp_path / "dataset.json").write_text(json.dumps(info))
    with pytest.raises(
        DataValidationError,
        match=r"events\.date: 1 row dated after data_end 2024-03-31 "
        r"\(examples: customer 'C0000004' on 2024-04-02\)",
    ):
        load_tables(tmp_path)
    assert len(load_tables(tmp_path, data_end="2024-04-30").events) == 2
    (tmp_path / "dataset.json").unlink()
    t = load_tables(tmp_path)
    assert t.data_end is None and len(t.events) == 2


def test_load_missing_and_ambiguous(tmp_path, clean):
    save_tables(clean, tmp_path)
    (tmp_path / "usage.parquet").unlink()
    for errors in ("raise", "quarantine"):
        with pytest.raises(DataValidationError, match=r"usage: required table is missing"):
            load_tables(tmp_path, errors=errors)
    (tmp_path / "payments.parquet").unlink()
    (tmp_path / "payments.csv").write_text(
        "payment_id,customer_id,date,amount,channel\n", encoding="utf-8"
    )
    (tmp_path / "payments.parquet").write_bytes(b"")
    with pytest.raises(
        DataValidationError,
        match=r"table 'payments' is stored more than once .*"
        r"'payments\.parquet', 'payments\.csv'",
    ):
        load_tables(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        load_tables(tmp_path / "nowhere")


def test_load_quarantine_from_csv(tmp_path, clean):
    save_tables(validate_tables(clean), tmp_path, format="csv")
    path = tmp_path / "usage.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("2024-03-03", "03/2024/03")
    lines[4] = lines[4].replace(",6.5,", ",-6.5,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    t = load_tables(tmp_path, errors="quarantine")
    q = t.quarantine["usage"]
    assert q["_row"].tolist() == [2, 3]
    assert q["date"].tolist() == ["03/2024/03", "2024-03-04"]  # raw text as read
    assert len(t.usage) == 38


# ---------------------------------------------------------------- hypothesis round trip

TEXT = st.text(
    alphabet=st.sampled_from(
        list(string.ascii_letters + string.digits + " ,;\"'-_/\\") + list("用户画像台区网格张李王")
    ),
    min_size=0,
    max_size=8,
)
IDS = st.text(alphabet="ABC012", min_size=1, max_size=3)
DAY = st.dates(
    min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()
)
MOMENT = st.datetimes(
    min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2030-12-31").to_pydatetime(),
)
NUM = st.floats(min_value=-10.0, max_value=1e7, allow_nan=False, allow_infinity=False) | st.none()


def _value(col):
    if col.kind in ("id", "text"):
        return (TEXT | st.none()) if col.nullable or col.kind == "text" else IDS
    if col.kind == "category":
        return st.sampled_from([*col.categories, "other"]) | st.none()
    if col.kind == "bool":
        return st.booleans()
    if col.kind == "float":
        return NUM
    if col.kind == "date":
        return DAY | st.none()
    return MOMENT


@st.composite
def data_sets(draw):
    frames = {}
    ids = draw(st.lists(IDS, min_size=1, max_size=4, unique=True))
    for name in TABLE_ORDER:
        spec = TABLES[name]
        if name != "customers" and name != "usage" and draw(st.booleans()):
            continue
        n = len(ids) if name == "customers" else draw(st.integers(int(name == "usage"), 6))
        cols = {}
        for col in spec.columns:
            if not col.required and draw(st.booleans()):
                continue
            if col.name == "customer_id":
                vals = (
                    ids
                    if name == "customers"
                    else draw(st.lists(st.sampled_from([*ids, "ZZ"]), min_size=n, max_size=n))
                )
            else:
                vals = draw(st.lists(_value(col), min_size=n, max_size=n))
            cols[col.name] = pd.Series(vals, dtype=object)
        frames[name] = pd.DataFrame(cols)
    end = draw(st.none() | DAY)
    return frames, end


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=data_sets())
def test_anything_that_passes_validation_round_trips(fmt, data):
    frames, end = data
    # required tables and columns are always drawn: quarantine mode must not raise
    t = validate_tables(frames, errors="quarantine", data_end=end)
    n_in = {k: len(v) for k, v in frames.items()}
    for k in frames:
        assert len(t[k]) + (len(t.quarantine[k]) if k in t.quarantine else 0) == n_in[k]
    with tempfile.TemporaryDirectory() as d:
        save_tables(t, d, format=fmt)
        if len(t.customers) == 0 or len(t.usage) == 0:  # every row set aside: nothing to load
            with pytest.raises(DataValidationError, match=r"required table has no rows"):
                load_tables(Path(d))
            return
        back = load_tables(Path(d))
    _assert_same(t, back)
    assert back.data_end == t.data_end
    assert (back.report["severity"] == "error").sum() == 0  # kept rows pass validation


def test_round_trip_of_awkward_text(tmp_path):
    frames = clean_frames()
    frames["customers"]["name"] = ['a,"b"', "line\nbreak", "  spaced  ", "NA"]
    frames["customers"]["address"] = ["null", "None", "张\t三", "#"]
    t = validate_tables(frames)
    save_tables(t, tmp_path, format="csv")
    back = load_tables(tmp_path)
    assert back.customers["name"].tolist() == ['a,"b"', "line\nbreak", "  spaced  ", "NA"]
    _assert_same(t, back)
    np.testing.assert_array_equal(back.usage["kwh"].to_numpy(), t.usage["kwh"].to_numpy())


def test_unreadable_csv_names_the_file(tmp_path, clean):
    save_tables(validate_tables(clean), tmp_path, format="csv")
    (tmp_path / "events.csv").write_bytes(
        b"customer_id,date,kind\nC0000003,2024-03-15,suspension,x,y\n"
    )
    with pytest.raises(DataValidationError, match=r"events\.csv' is not a readable CSV file"):
        load_tables(tmp_path)
    (tmp_path / "events.csv").write_bytes(
        "customer_id,date,kind\nC0000003,2024-03-15,暂停\n".encode("gbk")
    )
    with pytest.raises(DataValidationError, match=r"save it as UTF-8 CSV"):
        load_tables(tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_save_quarantine(tmp_path, clean, fmt):
    clean["usage"]["date"] = clean["usage"]["date"].astype(object)
    clean["usage"].loc[4, "date"] = "someday"
    clean["payments"].loc[1, "amount"] = -3.0
    t = validate_tables(clean, errors="quarantine")
    files = save_quarantine(t, tmp_path / "q", format=fmt)
    assert [f.name for f in files] == [f"usage.{fmt}", f"payments.{fmt}"]
    if fmt == "csv":
        assert files[0].read_bytes().startswith(b"\xef\xbb\xbf")
        back = pd.read_csv(files[0], encoding="utf-8-sig", dtype=str)
    else:
        back = pd.read_parquet(files[0])
    assert back["_row"].astype(int).tolist() == [4]
    assert back["date"].tolist() == ["someday"]
    assert back["_problem"].tolist() == [
        "usage.date: cannot be read as a date (use ISO YYYY-MM-DD)"
    ]
    assert (
        save_quarantine(validate_tables(clean_frames(), errors="quarantine"), tmp_path / "none")
        == []
    )


def test_unwritable_column_is_named(tmp_path, clean):
    t = validate_tables(clean)
    t.events["note"] = pd.Series([1, "one"], dtype=object)
    with pytest.raises(
        ValueError, match=r"table 'events': column\(s\) \['note'\] cannot be written"
    ):
        save_tables(t, tmp_path)
    save_tables(t, tmp_path / "csv", format="csv")  # CSV takes anything
    assert load_tables(tmp_path / "csv").events["note"].tolist() == ["1", "one"]
