"""One of each defect injected into a clean data set (hand-built and the sample)."""

from __future__ import annotations

import functools
import re

import pandas as pd
import pytest
from schema_data import DATA_END, SAMPLE, clean_frames

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import TABLE_ORDER, load_tables, validate_tables
from powerprofile.schema._defects import inject_defects


@functools.cache
def _generated():
    from powerprofile.datasets import make_utility_data

    return make_utility_data(n_customers=200, seed=1)[0]


@pytest.fixture(scope="module", params=["hand_built", "sample"])
def injected(request):
    if request.param == "hand_built":
        return inject_defects(clean_frames(), data_end=DATA_END, seed=3)
    if not (SAMPLE / "dataset.json").exists():
        pytest.skip("data/sample is not there")
    clean = load_tables(SAMPLE)
    assert len(clean.report) == 0  # the sample itself is clean
    return inject_defects(clean, seed=0)


def test_strict_error_names_every_table_column_and_an_example(injected):
    with pytest.raises(DataValidationError) as info:
        validate_tables(injected.tables, data_end=injected.data_end)
    msg = str(info.value)
    problems = info.value.problems
    exp = injected.expected
    direct = exp[exp["check"] != "customer_quarantined"]
    # strict mode does not cascade: every injected defect is one line of the message
    assert sorted(zip(problems["table"], problems["check"], strict=True)) == sorted(
        {(t, c) for t, c in zip(direct["table"], direct["check"], strict=True)}
    )
    for table, column, check in direct[["table", "column", "check"]].itertuples(index=False):
        if check == "duplicate_key":
            assert re.search(
                rf"\n  - {table} key \(customer_id, date(, recorded_at)?\): 2 rows share "
                r"1 duplicated key; every copy is set aside \(examples: customer '",
                msg,
            )
            continue
        line = next(
            x
            for x in msg.splitlines()
            if x.startswith(f"  - {table}.{column}: ")
            and check
            in problems.loc[
                (problems["table"] == table) & (problems["column"] == column), "check"
            ].tolist()
        )
        assert "(examples: customer '" in line or "(examples: outage '" in line
    assert "customer 'X9999999'" in msg
    assert "customer_type='household'" in msg and "tou_flag='maybe'" in msg
    assert "amount='12,5O'" in msg and "date='2024-02-30'" in msg and "kind='moved_abroad'" in msg


def test_lenient_mode_quarantines_exactly_the_injected_rows(injected):
    t = validate_tables(injected.tables, errors="quarantine", data_end=injected.data_end)
    got = {(k, int(r)) for k, q in t.quarantine.items() for r in q["_row"]}
    want = set(zip(injected.expected["table"], injected.expected["row"], strict=True))
    assert got == want
    for name in TABLE_ORDER:
        nq = len(t.quarantine[name]) if name in t.quarantine else 0
        assert len(t[name]) + nq == len(injected.tables[name])
    # counts per check match the injection
    errors = t.report[t.report["severity"] == "error"]
    got_counts = errors.groupby(["table", "check"])["n_rows"].sum().to_dict()
    want_counts = (
        injected.expected.drop_duplicates(["table", "row", "check"])
        .groupby(["table", "check"])
        .size()
        .to_dict()
    )
    assert got_counts == want_counts
    # the bad customer's row lists both of its problems, once
    q = t.quarantine["customers"]
    assert len(q) == 1 and q.loc[0, "customer_id"] == injected.bad_customer
    assert q.loc[0, "_problem"] == (
        "customers.customer_type: value not an allowed category; "
        "customers.tou_flag: cannot be read as a boolean (true/false, 1/0, yes/no)"
    )
    assert injected.bad_customer not in set(t.usage["customer_id"])


def test_generated_data_is_valid_and_a_fixed_point():
    tables = _generated()
    checked = validate_tables(tables)
    assert len(checked.report) == 0 and checked.data_end == tables.data_end
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(checked[name], tables[name].reset_index(drop=True), obj=name)
