"""The organisation table: contract rows, and the tree checks naming unit and problem."""

from __future__ import annotations

import pandas as pd
import pytest

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import check_hierarchy, org_paths, read_org_units

GOOD = [
    ("P", None, "province"),
    ("C1", "P", "city"),
    ("X1", "C1", "county"),
    ("X2", "C1", "county"),
    ("S1", "X1", "service_centre"),
    ("S2", "X2", "service_centre"),
    ("G1", "S1", "grid_unit"),
    ("G2", "S2", "grid_unit"),
]


def org_frame(rows) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["unit_id", "parent_id", "level"])
    f["name_zh"] = "单位" + f["unit_id"]
    f["name_en"] = "Unit " + f["unit_id"]
    return f.astype({c: "string" for c in f.columns})


def test_a_good_tree_passes_and_gives_each_grid_its_chain():
    check_hierarchy(org_frame(GOOD), pd.DataFrame({"grid_unit": ["G1", "G2", "G2"]}))
    paths = org_paths(org_frame(GOOD)).set_index("grid_unit")
    assert paths.loc["G2"].to_dict() == {
        "province": "P",
        "city": "C1",
        "county": "X2",
        "service_centre": "S2",
    }


def test_an_orphan_is_named_with_its_missing_parent():
    rows = [*GOOD, ("G3", "S9", "grid_unit")]
    with pytest.raises(DataValidationError, match=r"unit 'G3' is an orphan: its parent 'S9'"):
        check_hierarchy(org_frame(rows))


def test_a_cycle_is_named():
    rows = [r for r in GOOD if r[0] != "S1"] + [("S1", "G1", "service_centre")]
    with pytest.raises(DataValidationError, match=r"is its own ancestor \(cycle "):
        check_hierarchy(org_frame(rows))


def test_an_unknown_customer_grid_unit_is_named_with_its_customers():
    customers = pd.DataFrame({"grid_unit": ["G1", "G7", "G7"]})
    with pytest.raises(
        DataValidationError, match=r"1 unknown grid unit\(s\) \(2 customers; first: \['G7'\]"
    ):
        check_hierarchy(org_frame(GOOD), customers)


def test_a_second_root_and_a_skipped_level_are_named():
    rows = [*GOOD, ("P2", None, "province"), ("G9", "X1", "grid_unit")]
    with pytest.raises(DataValidationError) as err:
        check_hierarchy(org_frame(rows))
    msg = str(err.value)
    assert "2 roots" in msg and "'P2'" in msg
    assert "unit 'G9' (grid_unit) has parent 'X1' at level 'county'" in msg


def test_read_org_units_validates_rows_and_is_none_when_absent(tmp_path):
    assert read_org_units(tmp_path) is None
    org = org_frame(GOOD)
    org.to_parquet(tmp_path / "org_units.parquet", index=False)
    got = read_org_units(tmp_path, pd.DataFrame({"grid_unit": ["G1"]}))
    assert list(got["unit_id"]) == [r[0] for r in GOOD]
    assert isinstance(got["level"].dtype, pd.CategoricalDtype)
    org.loc[0, "level"] = "country"
    org.to_parquet(tmp_path / "org_units.parquet", index=False)
    with pytest.raises(DataValidationError, match=r"org_units\.level"):
        read_org_units(tmp_path)
