"""The streaming reader: named errors for broken files, dataset.json checks, strict and
quarantine validation part by part, and the same problems as validation in memory."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from schema_data import DATA_END, clean_frames

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import (
    TABLE_ORDER,
    DataSource,
    load_tables,
    partition_of,
    read_parts,
    save_tables,
    validate_folder,
    validate_tables,
)
from powerprofile.schema._defects import inject_defects

# the hand-built customers by hash partition of 2: part 0 holds C0000001 and C0000004
PART_OF = {"C0000001": 0, "C0000002": 1, "C0000003": 1, "C0000004": 0}


@pytest.fixture
def folder(tmp_path):
    """The hand-built clean data set as a folder of 2 hash partitions."""
    return save_tables(
        validate_tables(clean_frames(), data_end=DATA_END), tmp_path / "ds", n_partitions=2
    )


def _part(folder, table="usage", p=1):
    return folder / table / f"part-{p:05d}.parquet"


def _info(folder) -> dict:
    return json.loads((folder / "dataset.json").read_text(encoding="utf-8"))


def _write_info(folder, info) -> None:
    (folder / "dataset.json").write_text(json.dumps(info), encoding="utf-8")


def _rewrite(path, fn):
    """Read a Parquet file, change it with ``fn`` (a DataFrame function), write it back."""
    df = pq.read_table(path).to_pandas(date_as_object=False)
    pq.write_table(pa.Table.from_pandas(fn(df), preserve_index=False), path)


def _all_routes_raise(folder, match, errors=("raise", "quarantine")):
    """load_tables, validate_folder, read_parts and DataSource all raise ``match``."""
    for e in errors:
        with pytest.raises(DataValidationError, match=match):
            load_tables(folder, errors=e)
        with pytest.raises(DataValidationError, match=match):
            validate_folder(folder, errors=e)
        with pytest.raises(DataValidationError, match=match):
            for _ in read_parts(folder, errors=e):
                pass
        for arrow in (False, True):
            with pytest.raises(DataValidationError, match=match):
                src = DataSource(folder, errors=e)
                for p in range(2):
                    for _ in src.chunks(p, 2, arrow=arrow):
                        pass


def test_the_fixture_reads_clean_part_by_part(folder):
    assert pq.read_metadata(_part(folder, p=0)).num_rows == 20  # two customers per part
    parts = list(read_parts(folder))
    assert [(p.table, p.partition) for p in parts] == [
        ("customers", None),
        ("outages", None),
        *[(t, p) for t in ("usage", "bills", "payments", "interactions", "events") for p in (0, 1)],
    ]
    usage = [p for p in parts if p.table == "usage"]
    assert [p.file.name for p in usage] == ["part-00000.parquet", "part-00001.parquet"]
    assert [sorted(set(p.rows["customer_id"])) for p in usage] == [
        ["C0000001", "C0000004"],
        ["C0000002", "C0000003"],
    ]
    assert all(len(p.report) == 0 and p.quarantine is None for p in parts)
    assert len(validate_folder(folder)) == 0


# ---------------------------------------------------------------- broken files


def test_truncated_parquet_names_the_file(folder):
    f = _part(folder)
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    _all_routes_raise(folder, r"usage: '.*usage/part-00001\.parquet' cannot be read")


def test_zero_byte_parquet_names_the_file(folder):
    _part(folder, "bills", 0).write_bytes(b"")
    _all_routes_raise(
        folder,
        r"bills: '.*bills/part-00000\.parquet' cannot be read \(ValueError: the file is empty",
    )


def test_corrupt_compressed_page_names_the_file_and_column(folder):
    f = _part(folder)
    pq.write_table(pq.read_table(f), f, compression="snappy", use_dictionary=False)
    data = bytearray(f.read_bytes())
    meta = pq.read_metadata(f)
    col = meta.schema.to_arrow_schema().get_field_index("kwh")
    chunk = meta.row_group(0).column(col)
    start = chunk.data_page_offset
    for i in range(start + 20, start + chunk.total_compressed_size - 4):
        data[i] ^= 0x5A  # scramble the compressed page body, keep the header readable
    f.write_bytes(bytes(data))
    with pytest.raises(
        DataValidationError, match=r"usage\.kwh: '.*usage/part-00001\.parquet' cannot be read"
    ):
        load_tables(folder)


def test_text_that_is_not_utf8_names_the_file(folder):
    # a flipped bit inside an uncompressed text page decodes, but is not UTF-8: every
    # route must name the file instead of failing later when the text becomes objects
    f = _part(folder)
    table = pq.read_table(f)
    pq.write_table(table, f, compression="none", use_dictionary=False)
    data = bytearray(f.read_bytes())
    text = str(table.column("customer_id")[0]).encode("utf-8")
    spots = [i for i in range(len(data)) if bytes(data[i : i + len(text)]) == text]
    assert spots  # in the page's values (and in its min/max statistics)
    for at in spots:
        data[at] = 0xFF  # never valid in UTF-8
    f.write_bytes(bytes(data))
    _all_routes_raise(folder, r"usage.*'.*usage/part-00001\.parquet' cannot be read")


def test_csv_renamed_parquet_names_the_file(folder):
    _part(folder, "events", 1).write_bytes(b"customer_id,date,kind\nC0000002,2024-03-15,closure\n")
    _all_routes_raise(folder, r"events: '.*events/part-00001\.parquet' cannot be read \(.*magic")


def test_zero_byte_csv_names_the_file(folder):
    save_tables(validate_tables(clean_frames()), folder, format="csv")
    (folder / "events.csv").write_bytes(b"")
    with pytest.raises(
        DataValidationError, match=r"events: '.*events\.csv' is empty \(no header row\)"
    ):
        load_tables(folder)


def test_parts_with_different_types_name_the_column_and_files(folder):
    _rewrite(_part(folder), lambda df: df.assign(kwh=df["kwh"].astype(str)))
    _all_routes_raise(
        folder,
        r"usage\.kwh: the parts store the column with different types \(double in "
        r"'.*part-00000\.parquet', (large_)?string in '.*part-00001\.parquet'\)",
    )


def test_widths_and_units_may_differ_between_parts(folder):
    _rewrite(_part(folder), lambda df: df.assign(date=df["date"].astype("datetime64[ms]")))
    _rewrite(_part(folder, "bills"), lambda df: df.assign(amount=df["amount"].astype("float32")))
    t = load_tables(folder)
    assert len(t.report) == 0 and len(t.usage) == 40


def test_time_zone_offset_on_one_row_is_a_named_row_error(folder):
    save_tables(validate_tables(clean_frames()), folder, format="csv")
    f = folder / "events.csv"
    lines = f.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace("2024-03-15", "2024-03-15 08:00:00+08:00")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        DataValidationError,
        match=r"events\.date: 1 value that cannot be read as a date .* "
        r"date='2024-03-15 08:00:00\+08:00'\) in '.*events\.csv'",
    ):
        load_tables(folder)
    t = load_tables(folder, errors="quarantine")
    assert t.quarantine["events"]["_row"].tolist() == [0] and len(t.events) == 1


@pytest.mark.parametrize("value", ["", "NaT", "soon", -5, "0001-01-01", "9999-12-31", 20251231])
def test_bad_data_end_in_dataset_json_is_named(folder, value):
    info = _info(folder)
    info["data_end"] = value
    _write_info(folder, info)
    _all_routes_raise(
        folder, rf"dataset\.json': 'data_end' is {value!r}; write the day as 'YYYY-MM-DD'"
    )


@pytest.mark.parametrize(
    "value, shown",
    [("-5", "-005-01-01"), ("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31")],
)
def test_implausible_dates_are_out_of_range(folder, value, shown):
    _rewrite(_part(folder, "events", 0), lambda df: df.assign(date=[value] * len(df)))
    _rewrite(
        _part(folder, "events", 1), lambda df: df.assign(date=df["date"].dt.strftime("%Y-%m-%d"))
    )
    with pytest.raises(
        DataValidationError,
        match=rf"events\.date: 1 date outside the plausible range 1900-01-01 \.\. 2100-12-31 "
        rf"\(examples: .*date={shown}\) in '.*events/part-00000\.parquet'",
    ):
        load_tables(folder)


def test_repeated_csv_header_is_a_duplicate_column(folder):
    save_tables(validate_tables(clean_frames()), folder, format="csv")
    f = folder / "customers.csv"
    lines = f.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    lines = [lines[0] + "," + header[1]] + [line + ",residential" for line in lines[1:]]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for errors in ("raise", "quarantine"):
        with pytest.raises(
            DataValidationError,
            match=r"customers\.customer_type: the column appears more than once; keep one of them",
        ) as info:
            load_tables(folder, errors=errors)
        assert "customer_type.1" not in str(info.value)
        assert info.value.problems["check"].tolist() == ["duplicate_column"]


def test_empty_usage_is_an_error(folder):
    for p in range(2):
        _rewrite(_part(folder, p=p), lambda df: df.iloc[:0])
    info = _info(folder)
    info["row_counts"]["usage"] = 0
    info["part_rows"]["usage"] = [0, 0]
    _write_info(folder, info)
    _all_routes_raise(folder, r"usage: required table has no rows in '.*usage'")
    with pytest.raises(DataValidationError, match=r"usage: required table has no rows"):
        validate_tables({**clean_frames(), "usage": clean_frames()["usage"].iloc[:0]})


def test_deleted_partition_file_is_named(folder):
    _part(folder).unlink()
    _all_routes_raise(
        folder,
        r"usage: partition file '.*usage/part-00001\.parquet' is missing \(2 parts are declared "
        r"by dataset\.json's 'n_partitions'\)",
    )


def test_deleted_part_is_caught_by_row_counts_without_part_rows(folder):
    info = _info(folder)
    del info["part_rows"]
    _write_info(folder, info)
    _rewrite(_part(folder), lambda df: df.iloc[:3])  # a part replaced by a shorter one
    _all_routes_raise(folder, r"usage: '.*usage' holds 23 rows but dataset\.json declares 40")


def test_replaced_part_is_named_by_its_row_count(folder):
    _rewrite(_part(folder, "bills", 0), lambda df: df.iloc[:1])
    _all_routes_raise(
        folder, r"bills: '.*bills/part-00000\.parquet' holds 1 rows but dataset\.json declares 2"
    )


def test_extra_part_and_n_customers_and_schema_version(folder):
    shutil.copy(_part(folder, p=0), folder / "usage" / "part-00002.parquet")
    info = _info(folder)
    info["n_customers"] = 5
    info["schema_version"] = "2.0"
    _write_info(folder, info)
    with pytest.raises(DataValidationError) as err:
        load_tables(folder, errors="quarantine")
    msg = str(err.value)
    assert "'schema_version' is '2.0'; this version of powerprofile reads schema '1.0'" in msg
    assert "customers: " in msg and "holds 4 customers but dataset.json declares 5" in msg
    assert "'.*part-00002.parquet'"[3:] not in msg or "is not one of the 2 parts declared" in msg
    assert set(err.value.problems["check"]) == {"dataset_json", "row_count", "extra_part"}


def test_old_dataset_json_without_the_new_fields_is_read(folder):
    info = _info(folder)
    for key in ("row_counts", "part_rows", "n_customers", "schema_version"):
        info.pop(key)
    _write_info(folder, info)
    t = load_tables(folder)
    assert len(t.report) == 0 and len(t.usage) == 40
    (folder / "dataset.json").unlink()
    assert len(load_tables(folder).usage) == 40  # no declared partitions: whole tables


def test_rows_in_the_wrong_part_are_named(folder):
    both = [pd.read_parquet(_part(folder, p=p)) for p in range(2)]
    moved = both[0][both[0]["customer_id"] == "C0000004"]
    pq.write_table(
        pa.Table.from_pandas(both[0].drop(moved.index), preserve_index=False), _part(folder, p=0)
    )
    pq.write_table(
        pa.Table.from_pandas(pd.concat([both[1], moved]), preserve_index=False), _part(folder)
    )
    info = _info(folder)
    info.pop("part_rows")
    _write_info(folder, info)
    with pytest.raises(
        DataValidationError,
        match=r"usage\.customer_id: 10 rows stored in the wrong part \(by "
        r"powerprofile\.partition_of\(customer_id, 2\) their customers belong to other parts\)"
        r" \(examples: customer 'C0000004' on 2024-03-01.*\) in '.*usage/part-00001\.parquet'",
    ):
        load_tables(folder)


# ---------------------------------------------------------------- defects in two parts


def _plant_two_parts(folder):
    """A negative kWh in part 0 (C0000001) and an unknown read quality in part 1 (C0000003)."""

    def neg(df):
        df = df.copy()
        df.loc[(df["customer_id"] == "C0000001") & (df["date"] == "2024-03-04"), "kwh"] = -4.0
        return df

    def cat(df):
        df = df.copy()
        df["read_quality"] = df["read_quality"].astype(str)
        df.loc[(df["customer_id"] == "C0000003") & (df["date"] == "2024-03-07"), "read_quality"] = (
            "guessed"
        )
        return df

    _rewrite(_part(folder, p=0), neg)
    _rewrite(_part(folder, p=1), cat)


def test_strict_validation_names_both_parts(folder):
    _plant_two_parts(folder)
    with pytest.raises(DataValidationError) as err:
        load_tables(folder)
    msg = str(err.value)
    assert msg.startswith("2 data-contract problems in 1 table (usage):")
    assert (
        "usage.kwh: 1 negative value (examples: customer 'C0000001' on 2024-03-04 kwh=-4.0) in "
        f"{str(_part(folder, p=0))!r}" in msg
    )
    assert (
        "usage.read_quality: 1 value not among the allowed categories ('actual', 'estimated') "
        "(examples: customer 'C0000003' on 2024-03-07 read_quality='guessed') in "
        f"{str(_part(folder, p=1))!r}" in msg
    )
    with pytest.raises(DataValidationError) as err2:
        validate_folder(folder)
    assert str(err2.value) == msg
    # streaming stops at the first bad part, naming only it
    seen = []
    with pytest.raises(DataValidationError, match=r"usage\.kwh: 1 negative value") as err3:
        for part in read_parts(folder, tables=["usage"]):
            seen.append(part.file.name)
    assert seen == [] and "part-00001" not in str(err3.value)
    with pytest.raises(DataValidationError, match=r"usage\.kwh: 1 negative value .*part-00000"):
        src = DataSource(folder)
        for _ in src.chunks(0, 2):
            pass


def test_quarantine_validation_goes_on_and_writes_each_part(folder, tmp_path):
    _plant_two_parts(folder)
    qdir = tmp_path / "quarantine"
    seen = []
    parts = list(read_parts(folder, tables=["usage"], errors="quarantine", quarantine=qdir))
    for part in parts:
        seen.append((part.file.name, len(part.rows), part.n_input))
    assert seen == [
        ("part-00000.parquet", 19, 20),
        ("part-00001.parquet", 19, 20),
    ]
    assert sorted(p.relative_to(qdir).as_posix() for p in qdir.rglob("*.parquet")) == [
        "usage/part-00000.parquet",
        "usage/part-00001.parquet",
    ]
    q0 = pd.read_parquet(qdir / "usage" / "part-00000.parquet")
    q1 = pd.read_parquet(qdir / "usage" / "part-00001.parquet")
    assert q0["_problem"].tolist() == ["usage.kwh: negative value"]
    assert q1["_problem"].tolist() == ["usage.read_quality: value not an allowed category"]
    # _row numbers the rows of the whole table (part 0 first): C0000001's 4th day, C0000003's 7th
    assert q0["_row"].tolist() == [3] and q1["_row"].tolist() == [20 + 10 + 6]
    t = load_tables(folder, errors="quarantine")
    assert t.quarantine["usage"]["_row"].tolist() == [3, 36] and len(t.usage) == 38
    assert t.report[["column", "check", "n_rows", "action"]].values.tolist() == [
        ["kwh", "negative", 1, "quarantined"],
        ["read_quality", "category", 1, "quarantined"],
    ]
    pd.testing.assert_frame_equal(t.report, validate_folder(folder, errors="quarantine"))
    calls = []
    src = DataSource(folder, errors="quarantine", quarantine=calls.append)
    kept = [len(c["usage"]) for p in range(2) for c in src.chunks(p, 2) if "usage" in c]
    assert kept == [19, 19] and [len(c.quarantine) for c in calls] == [1, 1]


# ---------------------------------------------------------------- same problems both routes


@pytest.mark.parametrize("n_partitions", [1, 3])
def test_streamed_and_in_memory_find_the_same_problems(tmp_path, n_partitions):
    inj = inject_defects(clean_frames(), data_end=DATA_END, seed=3)
    d = save_tables(inj.tables, tmp_path / "ds", n_partitions=n_partitions)
    info = _info(d)
    info["data_end"] = DATA_END
    _write_info(d, info)
    cols = ["table", "column", "check", "severity", "n_rows", "action"]
    for errors in ("raise", "quarantine"):
        if errors == "raise":
            with pytest.raises(DataValidationError) as a:
                validate_tables(inj.tables, data_end=DATA_END)
            with pytest.raises(DataValidationError) as b:
                load_tables(d)
            mem, disk = a.value.problems, b.value.problems
        else:
            mem = validate_tables(inj.tables, errors="quarantine", data_end=DATA_END).report
            disk = validate_folder(d, errors="quarantine")
        key = ["table", "column", "check"]
        mem = mem[cols].sort_values(key).reset_index(drop=True)
        disk = disk[cols].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(mem, disk)
    exp = inj.expected
    got = validate_folder(d, errors="quarantine")
    errs = got[got["severity"] == "error"]
    want = exp.groupby(["table", "check"]).size()
    assert errs.groupby(["table", "check"])["n_rows"].sum().sort_index().to_dict() == want.to_dict()


def test_generated_folder_streamed_equals_in_memory_on_injected_defects(tmp_path):
    from powerprofile.datasets import make_utility_data

    tables, _ = make_utility_data(150, seed=4)
    inj = inject_defects(tables, seed=1)
    d = save_tables(inj.tables, tmp_path / "ds", n_partitions=4)
    mem = validate_tables(inj.tables, errors="quarantine", data_end=inj.data_end)
    disk = load_tables(d, errors="quarantine", data_end=inj.data_end)
    cols = ["table", "column", "check", "severity", "n_rows", "action"]
    pd.testing.assert_frame_equal(
        mem.report[cols].sort_values(cols[:3]).reset_index(drop=True),
        disk.report[cols].sort_values(cols[:3]).reset_index(drop=True),
    )
    for name in TABLE_ORDER:  # the same rows kept (parts come in partition order)
        key = [c for c in mem[name].columns[:3]]
        a = mem[name].sort_values(key).reset_index(drop=True)
        b = disk[name].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, obj=name)
        assert len(mem.quarantine.get(name, [])) == len(disk.quarantine.get(name, []))


def _plant_cross_part_payment(folder) -> str:
    """Part 1's first payment takes the id of part 0's first: one key in two parts."""
    pay = [pd.read_parquet(_part(folder, "payments", p)) for p in range(2)]
    other = pay[1].copy()
    planted = pay[0]["payment_id"].iloc[0]
    other.loc[other.index[0], "payment_id"] = planted
    pq.write_table(pa.Table.from_pandas(other, preserve_index=False), _part(folder, "payments"))
    return planted


def test_payment_id_duplicated_across_parts_is_found(folder):
    _plant_cross_part_payment(folder)
    with pytest.raises(
        DataValidationError,
        match=r"payments\.payment_id: 2 rows share 1 duplicated key; every copy",
    ) as err:
        load_tables(folder)
    assert "part-00000.parquet' (1 row), '" in str(err.value)
    t = load_tables(folder, errors="quarantine")
    assert len(t.quarantine["payments"]) == 2


def _collide(values):
    """Every id hashes to the same 64 bits: the exact second pass must sort them out."""
    return np.zeros(len(values), dtype=np.uint64)


def test_hash_collisions_are_never_reported_as_duplicates(folder, monkeypatch):
    monkeypatch.setattr("powerprofile.schema._reader._hash_ids", _collide)
    t = load_tables(folder)  # every payment id collides with every other: none is a duplicate
    assert len(t.payments) == 5 and t.quarantine.get("payments") is None


def test_duplicates_across_parts_found_exactly_among_colliding_hashes(folder, monkeypatch):
    planted = _plant_cross_part_payment(folder)
    monkeypatch.setattr("powerprofile.schema._reader._hash_ids", _collide)
    t = load_tables(folder, errors="quarantine")
    assert sorted(t.quarantine["payments"]["payment_id"]) == [planted, planted]
    with pytest.raises(DataValidationError, match=r"payments\.payment_id: 2 rows share 1 dup"):
        validate_folder(folder)


def test_cross_part_duplicates_are_searched_once_for_unchanged_files(folder, monkeypatch):
    from powerprofile.schema import _reader

    validate_folder(folder)  # finds the (no) duplicates of payments and interactions
    found = _reader.known_duplicates()
    assert {k[0] for k in found if str(folder) in k[2][0][0]} == {"payments", "interactions"}

    def again(src, column):
        raise AssertionError(f"{src.name}.{column} searched again")

    monkeypatch.setattr(_reader, "_find_duplicates", again)
    _reader._DUPLICATES.clear()
    _reader.remember_duplicates(found)  # as a worker process is handed them
    assert len(DataSource(folder).partition(0, 2, tables=("payments",))["payments"]) > 0
    # a rewritten part is searched again
    pay = pd.read_parquet(_part(folder, "payments", 1))
    pq.write_table(pa.Table.from_pandas(pay, preserve_index=False), _part(folder, "payments"))
    with pytest.raises(AssertionError, match="payments.payment_id searched again"):
        DataSource(folder).partition(1, 2, tables=("payments",))


def test_a_mapper_searches_each_table_once_side_by_side(folder, monkeypatch):
    """Validation with a mapper runs one search task per table, before the part checks."""
    from powerprofile.schema import _reader

    monkeypatch.setattr(_reader, "_DUPLICATES", {})
    _plant_cross_part_payment(folder)
    calls = []

    def mapper(fn, n):
        calls.append((type(fn).__name__, n))
        return [fn(i) for i in range(n)]

    dup = r"payments\.payment_id: 2 rows share 1 duplicated key"
    with pytest.raises(DataValidationError, match=dup):
        validate_folder(folder, mapper=mapper)
    assert calls[0] == ("_DuplicateSearch", 2)  # payments and interactions, one task each
    assert [name for name, _ in calls[1:]] == ["_PartCheck"] * (len(calls) - 1)
    calls.clear()

    def again(src, column):
        raise AssertionError(f"{src.name}.{column} searched again")

    monkeypatch.setattr(_reader, "_find_duplicates", again)
    with pytest.raises(DataValidationError, match=dup):  # remembered for unchanged files
        validate_folder(folder, mapper=mapper)
    assert "_DuplicateSearch" not in [name for name, _ in calls]


def test_a_search_task_that_fails_leaves_the_search_to_the_tables_turn(folder, monkeypatch):
    """A failed search task is not an error of its own: the table is searched in its turn."""
    from powerprofile.schema import _reader

    monkeypatch.setattr(_reader, "_DUPLICATES", {})
    _plant_cross_part_payment(folder)

    def broken(src, column):
        raise OSError(f"{src.name} cannot be read just now")

    def mapper(fn, n):
        if type(fn).__name__ != "_DuplicateSearch":
            return [fn(i) for i in range(n)]
        with monkeypatch.context() as m:
            m.setattr(_reader, "_find_duplicates", broken)
            found = [fn(i) for i in range(n)]
        assert found == [((), None)] * n
        return found

    with pytest.raises(DataValidationError, match=r"payments\.payment_id: 2 rows share 1 dup"):
        validate_folder(folder, mapper=mapper)


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_exits_3_on_a_deleted_part(folder, tmp_path, command, monkeypatch):
    from schema_data import SAMPLE

    from powerprofile.cli import main

    monkeypatch.chdir(SAMPLE.parents[1])  # the configs the default job names
    _part(folder).unlink()
    args = [command, "--data", str(folder), "--out", str(tmp_path / "out"), "-q"]
    code = main(args + (["--no-tracking"] if command == "run" else []))
    assert code == 3


def test_partition_of_is_public():
    import powerprofile

    ids = pd.Series(list(PART_OF))
    assert powerprofile.partition_of is partition_of
    assert partition_of(ids, 2).tolist() == list(PART_OF.values())
    assert np.array_equal(partition_of(ids[::-1], 2), partition_of(ids, 2)[::-1])
