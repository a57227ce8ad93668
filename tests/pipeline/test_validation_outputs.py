"""Validation files follow the PII policy: keyed ids, no name, phone or address."""

from __future__ import annotations

import functools
import hashlib
import hmac

import pandas as pd
import pytest
from pii_scan import leaks, pii_values

from powerprofile.exceptions import PseudonymKeyError
from powerprofile.pipeline import OutputPaths, write_validation_outputs
from powerprofile.schema import validate_tables
from powerprofile.schema._defects import inject_defects

KEY = "5d7f9b1c3e5a7092b4d6f8a1c3e5f7092b4d6a8c0e2f4b6d8a1c3e5f7092b4d6"


@functools.cache
def _defective():
    from powerprofile.datasets import make_utility_data

    clean = make_utility_data(n_customers=200, seed=1)[0]
    injected = inject_defects(clean, seed=0)
    return clean, injected


def _tables():
    _clean, injected = _defective()
    return validate_tables(injected.tables, errors="quarantine", data_end=injected.data_end)


def test_report_and_quarantine_files_carry_no_pii(tmp_path):
    clean, injected = _defective()
    t = _tables()
    assert t.report["message"].str.contains("customer 'C0", regex=False).any()
    assert len(t.quarantine["customers"]) == 1 and len(t.quarantine["usage"]) > 100
    paths = OutputPaths(tmp_path)
    written = write_validation_outputs(paths, t, KEY)
    folder = tmp_path / "validation"
    assert set(written) == {"report"} | {f"quarantine/{n}" for n, q in t.quarantine.items()}
    assert sorted(p.name for p in (folder / "quarantine").iterdir()) == sorted(
        f"{n}.parquet" for n in t.quarantine
    )
    assert leaks(folder, pii_values(clean.customers)) == {}
    # the bad customer is still findable by its key, in the report and its quarantined row
    mac = hmac.new(KEY.encode(), injected.bad_customer.encode(), hashlib.sha256).hexdigest()
    bad_key = "K" + mac[:16]
    report = pd.read_csv(paths.validation)
    assert report["examples"].str.contains(bad_key).any()
    assert pd.read_parquet(folder / "quarantine" / "customers.parquet")[
        "customer_key"
    ].tolist() == [bad_key]


def test_quarantine_pii_only_when_the_config_allows_it(tmp_path):
    clean, _ = _defective()
    t = _tables()
    write_validation_outputs(OutputPaths(tmp_path), t, KEY, quarantine_pii=True)
    q = pd.read_parquet(tmp_path / "validation" / "quarantine" / "customers.parquet")
    assert {"customer_id", "name", "phone", "address", "customer_key"} <= set(q.columns)
    # the report stays keyed whatever the quarantine policy
    found = leaks(tmp_path / "validation", pii_values(clean.customers))
    assert "quarantine/customers.parquet" in found and "validation_report.csv" not in found


def test_stale_quarantine_files_are_replaced(tmp_path):
    t = _tables()
    paths = OutputPaths(tmp_path)
    write_validation_outputs(paths, t, KEY, quarantine_pii=True)
    clean_now = validate_tables(_defective()[0], errors="quarantine")
    write_validation_outputs(paths, clean_now, KEY)
    assert list((tmp_path / "validation" / "quarantine").iterdir()) == []


def test_validation_files_need_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("POWERPROFILE_PSEUDONYM_KEY")
    with pytest.raises(PseudonymKeyError, match="no pseudonymisation key"):
        write_validation_outputs(OutputPaths(tmp_path), _tables(), None)
