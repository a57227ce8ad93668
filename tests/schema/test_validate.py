"""Validation: every defect kind in strict and lenient mode, structure errors, dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from schema_data import DATA_END, clean_frames

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import REPORT_COLUMNS, TABLE_ORDER, TABLES, Tables, validate_tables

# ---------------------------------------------------------------- defects, one per case
# Each case: (id, mutate(frames), expected message regex, {table: expected bad positions},
#             customer whose customers row breaks (its rows elsewhere follow it) or None)


def _set(table, row, column, value, as_text=False):
    def mutate(f):
        if as_text:
            f[table][column] = f[table][column].astype(str).astype(object)
        f[table][column] = f[table][column].astype(object)
        f[table].loc[row, column] = value

    return mutate


def _dup_payment(f):
    f["payments"].loc[4, "payment_id"] = "P3"


def _events_dup(f):
    f["events"] = pd.concat([f["events"], f["events"].iloc[[1]]], ignore_index=True)


def _usage_date_text(f):
    f["usage"]["date"] = f["usage"]["date"].dt.strftime("%Y-%m-%d").astype(object)
    f["usage"].loc[5, "date"] = "2024-02-30"


CASES = [
    (
        "negative_kwh",
        _set("usage", 12, "kwh", -5.0),
        r"usage\.kwh: 1 negative value \(examples: customer 'C0000002' on 2024-03-03 kwh=-5\.0\)",
        {"usage": [12]},
        None,
    ),
    (
        "absurd_kwh",
        _set("usage", 25, "kwh", 1e10),
        r"usage\.kwh: 1 absurd value above the maximum 5,000,000 \(examples: customer 'C0000003' "
        r"on 2024-03-06 kwh=10000000000\.0\)",
        {"usage": [25]},
        None,
    ),
    (
        "null_kwh",
        _set("usage", 0, "kwh", None),
        r"usage\.kwh: 1 missing value in a column that must be filled \(examples: customer "
        r"'C0000001' on 2024-03-01 kwh=missing\)",
        {"usage": [0]},
        None,
    ),
    (
        "unparseable_date",
        _usage_date_text,
        r"usage\.date: 1 value that cannot be read as a date .*\(examples: customer 'C0000001' "
        r"date='2024-02-30'\)",
        {"usage": [5]},
        None,
    ),
    (
        "unparseable_number",
        _set("bills", 1, "amount", "3l0.0"),
        r"bills\.amount: 1 value that cannot be read as a number \(examples: customer 'C0000002' "
        r"on 2024-03-05 amount='3l0\.0'\)",
        {"bills": [1]},
        None,
    ),
    (
        "unparseable_bool",
        _set("outages", 0, "planned", "perhaps"),
        r"outages\.planned: 1 value that cannot be read as a boolean .*\(examples: outage 'O1' "
        r"planned='perhaps'\)",
        {"outages": [0]},
        None,
    ),
    (
        "bad_category",
        _set("interactions", 1, "type", "complain"),
        r"interactions\.type: 1 value not among the allowed categories \('inquiry', .*'praise'\) "
        r"\(examples: customer 'C0000001' on 2024-03-03 10:00:30 type='complain'\)",
        {"interactions": [1]},
        None,
    ),
    (
        "duplicate_id",
        _dup_payment,
        r"payments\.payment_id: 2 rows share 1 duplicated key; every copy is set aside \(examples: "
        r"customer 'C0000003' on 2024-03-20 payment_id='P3', customer 'C0000001' on 2024-03-22 "
        r"payment_id='P3'\)",
        {"payments": [2, 4]},
        None,
    ),
    (
        "duplicate_event",
        _events_dup,
        r"events key \(customer_id, date, kind\): 2 rows share 1 duplicated key",
        {"events": [1, 2]},
        None,
    ),
    (
        "orphan",
        _set("events", 0, "customer_id", "C0000099"),
        r"events\.customer_id: 1 row refers to customers absent from the customers table "
        r"\(examples: customer 'C0000099' on 2024-03-15\)",
        {"events": [0]},
        None,
    ),
    (
        "after_end",
        _set("interactions", 5, "timestamp", pd.Timestamp("2024-04-01 00:00:00")),
        r"interactions\.timestamp: 1 row dated after data_end 2024-03-31 \(examples: customer "
        r"'C0000004' on 2024-04-01\)",
        {"interactions": [5]},
        None,
    ),
    (
        "end_before_start",
        _set("outages", 0, "end", pd.Timestamp("2024-03-02 07:00:00")),
        r"outages\.end: 1 outage ends before it starts \(examples: outage 'O1' "
        r"start=2024-03-02 08:00:00 end=2024-03-02 07:00:00\)",
        {"outages": [0]},
        None,
    ),
    (
        "due_before_issue",
        _set("bills", 3, "due_date", pd.Timestamp("2024-03-01")),
        r"bills\.due_date: 1 bill is due before it is issued \(examples: customer 'C0000004' on "
        r"2024-03-05 issue_date=2024-03-05 due_date=2024-03-01\)",
        {"bills": [3]},
        None,
    ),
    (
        "below_min",
        _set("interactions", 0, "satisfaction", 0.5),
        r"interactions\.satisfaction: 1 value below the minimum 1 \(examples: customer 'C0000001' "
        r"on 2024-03-02 09:15:00 satisfaction=0\.5\)",
        {"interactions": [0]},
        None,
    ),
    (
        "customer_null",
        _set("customers", 2, "region", None),
        r"customers\.region: 1 missing value in a column that must be filled \(examples: customer "
        r"'C0000003' region=missing\)",
        {"customers": [2]},
        "C0000003",
    ),
    (
        "customer_category",
        _set("customers", 0, "status", "gone"),
        r"customers\.status: 1 value not among the allowed categories \('active', 'suspended', "
        r"'closed'\) \(examples: customer 'C0000001' status='gone'\)",
        {"customers": [0]},
        "C0000001",
    ),
]


def _expected_rows(frames, direct, bad_customer):
    """Expected quarantined (table, position) pairs, from the injection itself."""
    want = {(t, r) for t, rows in direct.items() for r in rows}
    if bad_customer is not None:
        for name in TABLE_ORDER:
            if TABLES[name].customer_column is None:
                continue
            ids = frames[name]["customer_id"].astype(str).to_numpy()
            want |= {(name, int(r)) for r in np.flatnonzero(ids == bad_customer)}
    return want


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_strict_mode_names_table_column_and_example(case):
    _, mutate, pattern, _, _ = case
    frames = clean_frames()
    mutate(frames)
    with pytest.raises(DataValidationError, match=pattern) as info:
        validate_tables(frames, data_end=DATA_END)
    msg = str(info.value)
    assert msg.startswith("1 data-contract problem in 1 table")
    assert msg.rstrip().endswith("pass errors='quarantine' to set the bad rows aside.")
    problems = info.value.problems
    assert list(problems.columns) == REPORT_COLUMNS
    assert len(problems) == 1 and problems["severity"].tolist() == ["error"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lenient_mode_quarantines_exactly_the_bad_rows(case):
    name, mutate, _, direct, bad_customer = case
    frames = clean_frames()
    mutate(frames)
    n_in = {k: len(v) for k, v in frames.items()}
    t = validate_tables(frames, errors="quarantine", data_end=DATA_END)
    got = {(k, int(r)) for k, q in t.quarantine.items() for r in q["_row"]}
    assert got == _expected_rows(frames, direct, bad_customer)
    for k in TABLE_ORDER:  # nothing dropped silently
        nq = len(t.quarantine[k]) if k in t.quarantine else 0
        assert len(t[k]) + nq == n_in[k], k
        assert t.input_rows[k] == n_in[k]
    table = next(iter(direct))
    q = t.quarantine[table]
    assert q["_problem"].str.startswith(f"{table}").all()
    # the quarantine keeps the raw row; the kept table no longer has it
    assert set(q.columns) >= set(frames[table].columns) | {"_row", "_problem"}
    errors = t.report[t.report["severity"] == "error"]
    assert (errors["action"] == "quarantined").all()
    assert errors.loc[errors["table"] == table, "n_rows"].sum() == len(direct[table])


def test_clean_set_gives_empty_report(clean):
    t = validate_tables(clean, data_end=DATA_END)
    assert isinstance(t, Tables)
    assert len(t.report) == 0 and list(t.report.columns) == REPORT_COLUMNS
    assert t.quarantine == {}
    assert t.row_counts() == {k: len(v) for k, v in clean.items()}
    assert t.data_end == pd.Timestamp("2024-03-31")


def test_all_problems_listed_in_one_error(clean):
    clean["usage"].loc[[3, 4, 5], "kwh"] = [-1.0, -2.0, -3.0]
    clean["customers"].loc[1, "tariff"] = "flat_rate"
    clean["events"].loc[1, "date"] = pd.Timestamp("2024-06-01")
    with pytest.raises(DataValidationError) as info:
        validate_tables(clean, data_end=DATA_END)
    msg = str(info.value)
    assert msg.startswith("3 data-contract problems in 3 tables (customers, usage, events):")
    assert (
        "usage.kwh: 3 negative values (examples: customer 'C0000001' on 2024-03-04 kwh=-1.0, "
        "customer 'C0000001' on 2024-03-05 kwh=-2.0, customer 'C0000001' on 2024-03-06 kwh=-3.0)"
        in msg
    )
    assert "customers.tariff: 1 value not among" in msg
    assert "events.date: 1 row dated after data_end 2024-03-31" in msg
    assert info.value.problems[["table", "column", "check", "n_rows"]].values.tolist() == [
        ["customers", "tariff", "category", 1],
        ["usage", "kwh", "negative", 3],
        ["events", "date", "after_end", 1],
    ]


def test_examples_capped_at_five(clean):
    clean["usage"]["kwh"] = -1.0
    with pytest.raises(DataValidationError, match=r"usage\.kwh: 40 negative values") as info:
        validate_tables(clean)
    assert info.value.problems.loc[0, "examples"].count("customer '") == 5
    assert info.value.problems.loc[0, "examples"].endswith(", …")


def test_row_with_several_problems_is_quarantined_once(clean):
    clean["usage"]["date"] = clean["usage"]["date"].astype(object)
    clean["usage"].loc[7, ["kwh", "read_quality"]] = [-3.0, "guessed"]
    clean["usage"].loc[7, "date"] = pd.Timestamp("2024-12-01")
    t = validate_tables(clean, errors="quarantine", data_end=DATA_END)
    q = t.quarantine["usage"]
    assert q["_row"].tolist() == [7]
    assert q.loc[0, "_problem"] == (
        "usage.kwh: negative value; usage.read_quality: value not an allowed category; "
        "usage.date: dated after data_end 2024-03-31"
    )
    assert q.loc[0, "read_quality"] == "guessed"  # raw value kept
    assert len(t.usage) == 39
    assert sorted(t.report["check"]) == ["after_end", "category", "negative"]


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_missing_required_table_is_an_error_in_both_modes(clean, errors):
    del clean["usage"]
    with pytest.raises(
        DataValidationError,
        match=r"usage: required table is missing; provide "
        r"usage\.parquet, usage\.csv or a folder usage/",
    ):
        validate_tables(clean, errors=errors)


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_missing_required_column_is_an_error_in_both_modes(clean, errors):
    clean["bills"] = clean["bills"].drop(columns="due_date")
    clean["usage"].loc[0, "kwh"] = -1.0
    with pytest.raises(
        DataValidationError,
        match=r"bills\.due_date: required column is missing \(columns found: "
        r"'customer_id', 'bill_month', 'issue_date', 'amount', 'kwh', "
        r"'recorded_at'\); add it to the source",
    ) as info:
        validate_tables(clean, errors=errors)
    checks = info.value.problems["check"].tolist()
    # strict mode lists everything; lenient mode only what cannot be quarantined
    assert checks == (["missing_column", "negative"] if errors == "raise" else ["missing_column"])


def test_optional_tables_and_columns(clean):
    frames = {
        "customers": clean["customers"][
            [
                "customer_id",
                "customer_type",
                "region",
                "grid_unit",
                "transformer_area",
                "tariff",
                "tou_flag",
                "supply_start",
                "status",
            ]
        ],
        "usage": clean["usage"][["customer_id", "date", "kwh"]].assign(meter="M1"),
    }
    t = validate_tables(frames)
    assert t.report[["table", "check", "severity", "action"]].values.tolist() == [
        ["outages", "absent_table", "info", "noted"],
        ["usage", "extra_column", "info", "noted"],
        ["bills", "absent_table", "info", "noted"],
        ["payments", "absent_table", "info", "noted"],
        ["interactions", "absent_table", "info", "noted"],
        ["events", "absent_table", "info", "noted"],
    ]
    for name in ("outages", "bills", "payments", "interactions", "events"):
        assert len(t[name]) == 0 and list(t[name].columns) == list(TABLES[name].names)
    assert list(t.usage.columns) == [*TABLES["usage"].names, "meter"]
    assert t.usage["meter"].tolist() == ["M1"] * 40
    assert not t.customers[["app_user", "wechat_bound", "sms_opt_out"]].to_numpy().any()
    assert t.customers["app_user"].dtype == bool
    assert t.customers["phone"].isna().all() and t.usage["recorded_at"].isna().all()


def test_validated_dtypes_from_text(clean):
    text = {k: v.astype(str).replace({"nan": "", "None": "", "NaT": ""}) for k, v in clean.items()}
    text["customers"]["tou_flag"] = ["yes", "1", " TRUE ", "no"]
    text["payments"]["channel"] = [" app", "wechat ", "bank_withholding", "counter", "alipay"]
    t = validate_tables(text)
    assert t.customers["tou_flag"].tolist() == [True, True, True, False]
    assert t.payments["channel"].tolist() == [
        "app",
        "wechat",
        "bank_withholding",
        "counter",
        "alipay",
    ]
    for name, df in t.items():
        for col in TABLES[name].columns:
            dtype = df[col.name].dtype
            if col.kind in ("id", "text"):
                assert dtype == pd.StringDtype(na_value=pd.NA), (name, col.name)
            elif col.kind == "category":
                assert list(dtype.categories) == list(col.categories), (name, col.name)
            elif col.kind in ("date", "datetime"):
                assert dtype == np.dtype("datetime64[us]"), (name, col.name)
            elif col.kind == "float":
                assert dtype == np.dtype("float64"), (name, col.name)
            else:
                assert dtype == np.dtype(bool), (name, col.name)
    assert t.usage["kwh"].tolist() == clean["usage"]["kwh"].tolist()
    assert t.interactions["timestamp"].iloc[1] == pd.Timestamp("2024-03-03 10:00:30")
    assert t.customers["name"].isna().tolist() == [False, False, False, True]


def test_dates_are_normalised_and_units_unified(clean):
    clean["usage"]["date"] = clean["usage"]["date"].astype("datetime64[s]") + pd.Timedelta(hours=5)
    clean["outages"]["start"] = clean["outages"]["start"].astype("datetime64[ns]")
    t = validate_tables(clean)
    assert t.usage["date"].iloc[0] == pd.Timestamp("2024-03-01")
    assert t.outages["start"].dtype == np.dtype("datetime64[us]")


def test_data_end_argument_overrides_tables(clean):
    t = validate_tables(clean, data_end="2024-03-31")
    with pytest.raises(DataValidationError, match=r"dated after data_end 2024-03-05"):
        validate_tables(t, data_end="2024-03-05")
    t.data_end = pd.Timestamp("2024-03-05")
    with pytest.raises(DataValidationError, match=r"usage\.date: 20 rows dated after data_end"):
        validate_tables(t)
    assert len(validate_tables(clean).report) == 0  # no end declared, no check


def test_bad_arguments(clean):
    with pytest.raises(ValueError, match=r"errors must be 'raise' or 'quarantine', got 'ignore'"):
        validate_tables(clean, errors="ignore")
    with pytest.raises(TypeError, match=r"got 'list'"):
        validate_tables([clean["usage"]])
    with pytest.raises(ValueError, match=r"data_end must be a date"):
        validate_tables(clean, data_end="end of year")


def test_unknown_table_is_noted(clean):
    clean["meters"] = pd.DataFrame({"x": [1]})
    t = validate_tables(clean)
    assert t.report[["table", "check"]].values.tolist() == [["meters", "unknown_table"]]


def test_optional_key_column_checked_only_when_present(clean):
    clean["interactions"] = clean["interactions"].drop(columns="interaction_id")
    clean["interactions"] = pd.concat([clean["interactions"]] * 2, ignore_index=True)
    t = validate_tables(clean)
    assert len(t.interactions) == 12 and t.interactions["interaction_id"].isna().all()


def test_recorded_at_joins_the_key(clean):
    corrected = clean["usage"].iloc[[0]].assign(kwh=9.0, recorded_at=pd.Timestamp("2024-03-20"))
    clean["usage"] = pd.concat([clean["usage"], corrected], ignore_index=True)
    assert len(validate_tables(clean).usage) == 41
    clean["usage"] = clean["usage"].drop(columns="recorded_at")
    with pytest.raises(DataValidationError, match=r"usage key \(customer_id, date\): 2 rows share"):
        validate_tables(clean)


def test_index_holding_contract_columns_is_restored(clean):
    clean["customers"] = clean["customers"].set_index("customer_id")
    t = validate_tables(clean)
    assert t.customers["customer_id"].tolist() == ["C0000001", "C0000002", "C0000003", "C0000004"]


def test_categorical_input_with_other_categories(clean):
    rq = ["estimated", "actual", "guess"]
    clean["usage"]["read_quality"] = pd.Categorical(
        ["actual"] * 38 + ["guess", "estimated"], categories=rq
    )
    t = validate_tables(clean, errors="quarantine")
    assert t.quarantine["usage"]["_row"].tolist() == [38]
    assert t.usage["read_quality"].tolist() == ["actual"] * 38 + ["estimated"]
    assert list(t.usage["read_quality"].dtype.categories) == ["actual", "estimated"]


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_duplicated_column_is_an_error_in_both_modes(clean, errors):
    clean["events"] = pd.concat([clean["events"], clean["events"][["kind"]]], axis=1)
    with pytest.raises(
        DataValidationError,
        match=r"events\.kind: the column appears more than once; keep one of them",
    ):
        validate_tables(clean, errors=errors)


@pytest.mark.parametrize("repeat", [False, True])
def test_membership_against_a_large_id_set(repeat):
    from powerprofile.schema._checks import _isin

    ids = [f"C{i:07d}" for i in range(100)] + (["C0000003"] if repeat else [])
    allowed = pd.Index(ids, dtype="string")  # large and unique: the hash-table path
    values = pd.Index(["C0000003", "C9999999", "C0000099", "c0000003"], dtype="string")
    assert _isin(values, allowed).tolist() == [True, False, True, False]


@pytest.mark.parametrize("values_dtype", ["string", "str"])
def test_membership_across_the_two_string_dtypes(values_dtype):
    from powerprofile.schema._checks import _isin

    allowed = pd.Index([f"C{i:07d}" for i in range(100)], dtype="str")
    values = pd.Index(["C0000003", "C9999999", "C0000099", "c0000003"], dtype=values_dtype)
    assert _isin(values, allowed).tolist() == [True, False, True, False]


def test_customer_ids_read_as_categories_give_a_text_id_set(clean):
    """Ids read with an Arrow dictionary are checked against a text index, not categories."""
    from powerprofile.schema._coerce import STRING_DTYPE
    from powerprofile.schema._validate import check_part

    raw = clean["customers"].copy()
    raw["customer_id"] = raw["customer_id"].astype("category")
    res = check_part("customers", raw)
    assert res.ids.dtype == STRING_DTYPE  # the parts' own id dtype, not categories
    assert sorted(res.ids) == sorted(clean["customers"]["customer_id"].unique())
    # an orphan row of another table is still found against that index
    from powerprofile.schema._validate import PartContext

    usage = clean["usage"].head(3).copy()
    usage.loc[usage.index[1], "customer_id"] = "NO-SUCH-CUSTOMER"
    out = check_part("usage", usage, PartContext(lenient=True, all_ids=res.ids))
    assert [p.check for p in out.problems] == ["orphan"]
    assert out.n_bad == 1
