"""File forms of the validation report and the quarantine: keyed ids, no PII."""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_data import DATA_END, clean_frames

from powerprofile.exceptions import PseudonymKeyError
from powerprofile.schema import (
    PII_COLUMNS,
    REPORT_COLUMNS,
    TABLES,
    redact_quarantine,
    redact_report,
    validate_tables,
)
from powerprofile.schema._defects import inject_defects

KEY = "c3a1e5f7092b4d6f8a0c2e4b6d8f1a3c5e7092b4d6f8a0c1e3f5a7b9d0c2e4f6"


def _h(value: str) -> str:
    return "K" + hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def _report_row(examples: str) -> pd.DataFrame:
    message = f"customers.phone: 1 odd value (examples: {examples})"
    row = ["customers", "phone", "odd", "error", 1, examples, "quarantined", message]
    return pd.DataFrame([row], columns=REPORT_COLUMNS)


def test_pii_list_is_the_contract_flag():
    flagged = {c.name for t in TABLES.values() for c in t.columns if c.pii}
    assert set(PII_COLUMNS) == flagged == {"customer_id", "name", "phone", "address"}


def test_report_names_customers_by_key_and_redacts_pii_cells_by_hand():
    examples = (
        "customer 'C1' phone='13812345678' name=\"O'Neil\" address='西湖区1号', "
        "row 4 customer_id=missing, customer 'C2' on 2024-03-01 kwh=-1.0"
    )
    got = redact_report(_report_row(examples), KEY)
    expected = (
        f"customer_key '{_h('C1')}' phone=<redacted> name=<redacted> address=<redacted>, "
        f"row 4 customer_id=missing, customer_key '{_h('C2')}' on 2024-03-01 kwh=-1.0"
    )
    assert got.loc[0, "examples"] == expected
    assert got.loc[0, "message"] == f"customers.phone: 1 odd value (examples: {expected})"
    assert got.loc[0, ["table", "column", "check", "n_rows"]].tolist() == [
        "customers",
        "phone",
        "odd",
        1,
    ]


def test_report_of_injected_defects_has_no_raw_id():
    t = validate_tables(
        inject_defects(clean_frames(), data_end=DATA_END, seed=3).tables,
        errors="quarantine",
        data_end=DATA_END,
    )
    raw = set(re.findall(r"customer '([^']+)'", " ".join(t.report["message"])))
    assert len(raw) >= 2
    got = redact_report(t.report, KEY)
    text = " ".join(got["examples"].fillna("")) + " ".join(got["message"])
    for cid in raw:
        assert cid not in text
        assert f"customer_key '{_h(cid)}'" in text
    assert t.report["message"].str.contains("C0000").any()  # the input is unchanged
    assert len(got) == len(t.report)


def test_report_without_key_is_refused(monkeypatch):
    monkeypatch.delenv("POWERPROFILE_PSEUDONYM_KEY")
    with pytest.raises(PseudonymKeyError, match="POWERPROFILE_PSEUDONYM_KEY"):
        redact_report(_report_row("customer 'C1'"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=12))
def test_any_customer_id_in_the_report_is_replaced(suffix):
    new = "ZQ#" + suffix
    frames = clean_frames()
    for name in ("customers", "usage", "bills", "payments", "interactions", "events"):
        df = frames[name]
        df["customer_id"] = df["customer_id"].replace("C0000001", new)
    frames["usage"].loc[frames["usage"]["customer_id"] == new, "kwh"] = -1.0
    t = validate_tables(frames, errors="quarantine", data_end=DATA_END)
    assert t.report["examples"].str.contains(repr(new), regex=False).any()
    got = redact_report(t.report, KEY)
    for col in ("examples", "message"):
        assert not got[col].fillna("").str.contains("ZQ#", regex=False).any()
    assert got["examples"].str.contains(_h(new), regex=False).any()


def _injected():
    frames = inject_defects(clean_frames(), data_end=DATA_END, seed=3)
    frames.tables["usage"]["meter_note"] = "call 13812341234"  # a column outside the contract
    t = validate_tables(frames.tables, errors="quarantine", data_end=DATA_END)
    return frames, t


def test_quarantine_replaces_ids_and_drops_pii_and_unknown_columns():
    frames, t = _injected()
    got = redact_quarantine(t.quarantine, KEY)
    assert set(got) == set(t.quarantine)
    cust = got["customers"]
    assert not set(PII_COLUMNS) & set(cust.columns)
    assert list(cust.columns[:2]) == ["_row", "customer_key"] and cust.columns[-1] == "_problem"
    assert cust["customer_key"].tolist() == [_h(frames.bad_customer)]
    usage = got["usage"]
    assert "customer_id" not in usage.columns and "meter_note" not in usage.columns
    assert "kwh" in usage.columns
    expected = [
        pd.NA if pd.isna(v) else _h(v) for v in t.quarantine["usage"]["customer_id"].astype(object)
    ]
    assert usage["customer_key"].astype(object).tolist() == expected
    assert "customer_key" not in got["outages"].columns  # outages belong to no customer
    for name, rows in got.items():
        assert len(rows) == len(t.quarantine[name])
        assert rows["_problem"].tolist() == t.quarantine[name]["_problem"].tolist()
    assert "name" in t.quarantine["customers"].columns  # the input is unchanged


def test_quarantine_keeps_pii_only_when_allowed():
    _frames, t = _injected()
    got = redact_quarantine(t.quarantine, KEY, keep_pii=True)
    assert {"customer_id", "name", "phone", "address", "customer_key"} <= set(
        got["customers"].columns
    )
    assert "meter_note" in got["usage"].columns
