"""File writers: spreadsheet-safe CSV, exact text in every format, one CSV writer."""

import csv
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from powerprofile.export import FORMULA_TRIGGERS, export_campaigns, read_frame, write_frame

from .conftest import make_data

ROOT = Path(__file__).resolve().parents[2]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_records(path) -> list[list[str]]:
    """The records a standard CSV reader sees (header included)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_formula_cells_neutralised_by_hand(tmp_path):
    frame = pd.DataFrame(
        {
            "name": pd.array(
                [
                    "=1+1",
                    "+86 138",
                    "-x",
                    "@SUM(A1)",
                    "\tTAB",
                    "\rCR",
                    "'=already",
                    "'plain",
                    "a,b",
                    'say "hi"',
                    None,
                ],
                dtype="string",
            ),
            "amount": [-1.5, 2.0, -3.0, 0.0, 1.0, -0.25, 4.0, 5.0, 6.0, 7.0, np.nan],
            "count": np.array([-1, 2, -3, 0, 1, -2, 4, 5, 6, 7, 8], dtype=np.int64),
            "=header": pd.Categorical(["-a"] * 11),
        }
    )
    write_frame(frame, tmp_path / "f.csv", "csv")
    raw = (tmp_path / "f.csv").read_bytes().decode("utf-8")
    assert raw == (
        "\ufeffname,amount,count,'=header\r\n"
        "'=1+1,-1.5,-1,'-a\r\n"
        "'+86 138,2.0,2,'-a\r\n"
        "'-x,-3.0,-3,'-a\r\n"
        "'@SUM(A1),0.0,0,'-a\r\n"
        "'\tTAB,1.0,1,'-a\r\n"
        "\"'\rCR\",-0.25,-2,'-a\r\n"
        "''=already,4.0,4,'-a\r\n"
        "'plain,5.0,5,'-a\r\n"
        '"a,b",6.0,6,\'-a\r\n'
        '"say ""hi""",7.0,7,\'-a\r\n'
        ",,8,'-a\r\n"
    )
    # and read_frame gives back exactly what was written
    back = read_frame(tmp_path / "f.csv")
    assert back.columns.tolist() == ["name", "amount", "count", "=header"]
    assert back["name"].tolist()[:10] == frame["name"].tolist()[:10]
    assert back["name"].isna().tolist()[10]
    assert back["amount"].tolist()[:10] == frame["amount"].tolist()[:10]
    assert back["count"].tolist() == frame["count"].tolist()
    assert (back["=header"] == "-a").all()


def test_mixed_object_column_only_text_cells_prefixed(tmp_path):
    frame = pd.DataFrame({"v": ["+1", -2, None, "-", 3.5]})
    write_frame(frame, tmp_path / "f.csv", "csv")
    assert csv_records(tmp_path / "f.csv") == [["v"], ["'+1"], ["-2"], [""], ["'-"], ["3.5"]]


def test_lone_cr_value_round_trips_as_one_row(tmp_path):
    frame = pd.DataFrame(
        {"a": pd.array(["x\ry", "p\nq", "r\r\ns"], dtype="string"), "n": [1, 2, 3]}
    )
    write_frame(frame, tmp_path / "f.csv", "csv")
    records = csv_records(tmp_path / "f.csv")
    assert records == [["a", "n"], ["x\ry", "1"], ["p\nq", "2"], ["r\r\ns", "3"]]
    back = pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig")
    assert back["a"].tolist() == ["x\ry", "p\nq", "r\r\ns"]


def test_export_manifest_rows_equal_what_a_csv_reader_reads(tmp_path, campaigns_file):
    customers, portraits = make_data()
    portraits["region"] = np.where(
        np.arange(len(portraits)) % 2 == 0, "东\r区", "=cmd|' /C calc'!A0"
    )
    res = export_campaigns(
        portraits, tmp_path / "exp", campaigns=campaigns_file, customers=customers
    )
    for f in res.manifest["files"]:
        if f["file"].endswith(".csv"):
            records = csv_records(tmp_path / "exp" / f["file"])
            assert len(records) - 1 == f["rows"], f["file"]
            assert len(read_frame(tmp_path / "exp" / f["file"])) == f["rows"]
    records = csv_records(tmp_path / "exp" / "retention__sms.csv")
    region = records[0].index("region")
    assert {r[region] for r in records[1:]} <= {"东\r区", "'=cmd|' /C calc'!A0"}


# ------------------------------------------------------------------ properties

# any text, control characters included, with the characters that matter most up front
TEXT = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "'", "'=", "''", '"', ",", "中文"]),
        st.text(max_size=8),
    ),
)
VALUES = st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=12)


def _prefixed(value: str) -> bool:
    """The documented rule: a trigger first, or a ``'`` before a trigger or a ``'``."""
    return value[:1] in TRIGGERS or (value[:1] == "'" and value[1:2] in (*TRIGGERS, "'"))


def _same_text(got, want, *, empty_is_missing: bool) -> None:
    got = [
        None if (g is None or g is pd.NA or (isinstance(g, float) and np.isnan(g))) else g
        for g in got
    ]
    if empty_is_missing:  # in CSV an empty text and a missing value are both an empty cell
        want = [None if w == "" else w for w in want]
    assert got == want


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=VALUES, numbers=st.lists(st.floats(-1e6, 1e6), min_size=12, max_size=12))
@example(  # always tried: line and paragraph separators, NUL, the values pandas reads as NA
    values=["a\rb", "\r", "x\u2028y", "n\x00ul", "\x85", "NA", "null", "1", "-1", "'", "", None],
    numbers=[-1.0] * 12,
)
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_any_text_round_trips_through_every_format(fmt, values, numbers):
    n = len(values)
    frame = pd.DataFrame(
        {"text": pd.array(values, dtype="string"), "number": np.round(numbers[:n], 3)}
    )
    with tempfile.TemporaryDirectory() as d:
        path = write_frame(frame, Path(d) / f"f.{fmt}", fmt)
        back = read_frame(path, dtype={"text": "string"})
        assert len(back) == n
        _same_text(back["text"].tolist(), values, empty_is_missing=fmt == "csv")
        np.testing.assert_allclose(back["number"].to_numpy(dtype=float), frame["number"])
        if fmt == "csv":
            records = csv_records(path)
            assert len(records) == n + 1
            for (cell, _num), want in zip(records[1:], values, strict=True):
                assert not cell.startswith(TRIGGERS), repr(cell)
                assert cell == ("" if want is None else "'" + want if _prefixed(want) else want)
            # negative numbers stay numbers
            assert all(not num.startswith("'") for _cell, num in records[1:])


ANY_TEXT_CAMPAIGNS = """
schema_version: "1.0"
frequency_cap: 1
campaigns:
  - name: everyone
    select: "churn_score >= 0"
    channels: [grid_manager]
    score: churn_score
    capacity: null
    priority: 1
    control_share: 0
"""


@pytest.fixture(scope="module")
def export_base(tmp_path_factory):
    path = tmp_path_factory.mktemp("campaigns") / "campaigns.yaml"
    path.write_text(ANY_TEXT_CAMPAIGNS, encoding="utf-8")
    return (*make_data(n=24, seed=3), path)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(regions=st.lists(st.one_of(st.none(), TEXT), min_size=24, max_size=24))
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_any_text_through_export_matches_manifest(fmt, regions, export_base):
    customers, portraits, campaigns = export_base
    portraits = portraits.assign(region=pd.array(regions, dtype="string"))
    want = dict(zip(portraits["customer_key"], regions, strict=True))
    with tempfile.TemporaryDirectory() as d:
        res = export_campaigns(
            portraits,
            Path(d) / "exp",
            campaigns=campaigns,
            customers=customers,
            format=fmt,
            incremental=False,
        )
        for f in res.manifest["files"]:
            path = Path(d) / "exp" / f["file"]
            if f["campaign"] is None:
                continue
            assert f["rows"] == len(portraits)  # everyone is selected, a visit needs nothing
            back = read_frame(path, dtype={"region": "string"})
            assert len(back) == f["rows"], f["file"]
            if f["rows"] == 0:
                continue
            expected = [want[k] for k in back["customer_key"]]
            # exports write empty text as missing in every format (one type per column)
            _same_text(back["region"].tolist(), expected, empty_is_missing=True)
            if fmt == "csv":
                records = csv_records(path)
                assert len(records) - 1 == f["rows"]
                assert not any(c.startswith(TRIGGERS) for r in records for c in r)


def test_documented_triggers_are_the_owasp_set():
    assert tuple(FORMULA_TRIGGERS) == TRIGGERS


def test_every_csv_for_people_goes_through_the_one_writer():
    # pandas' to_csv would skip the formula and quoting rules: only the writer calls it
    offenders = []
    for folder in ("cli", "export", "pipeline", "portraits", "report", "segmentation"):
        for py in sorted((ROOT / "src" / "powerprofile" / folder).rglob("*.py")):
            if py.name == "_writers.py":
                continue
            if re.search(r"\.to_csv\(", py.read_text(encoding="utf-8")):
                offenders.append(str(py.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_frame_without_rows_reads_back_as_no_records(tmp_path, fmt):
    # a JSON Lines file of 0 rows used to hold one empty line (a record to many readers)
    empty = pd.DataFrame({"customer_key": pd.Series([], dtype="string"), "x": []})
    path = write_frame(empty, tmp_path / f"e.{fmt}", fmt)
    if fmt == "jsonl":
        assert path.read_bytes() == b""
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            assert len(list(csv.reader(fh))) == 1  # the header only
    assert len(read_frame(path)) == 0
