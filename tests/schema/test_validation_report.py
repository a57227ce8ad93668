"""summarize and format_report."""

from __future__ import annotations

import pandas as pd
from schema_data import DATA_END

from powerprofile.schema import format_report, summarize, validate_tables


def test_summarize_clean(clean):
    s = summarize(validate_tables(clean, data_end=DATA_END))
    assert list(s.index) == [
        "customers",
        "outages",
        "usage",
        "bills",
        "payments",
        "interactions",
        "events",
    ]
    assert s["rows"].tolist() == [4, 2, 40, 4, 5, 6, 2]
    assert s["quarantined"].tolist() == [0] * 7
    assert s["input_rows"].tolist() == [4, 2, 40, 4, 5, 6, 2]
    assert s["customers"].tolist() == [4, pd.NA, 4, 4, 4, 4, 2]
    assert s.loc["usage", "first"] == pd.Timestamp("2024-03-01")
    assert s.loc["usage", "last"] == pd.Timestamp("2024-03-10")
    assert s.loc["interactions", "last"] == pd.Timestamp("2024-03-31 23:59:59")
    assert s.loc["customers", "date_column"] == "supply_start"


def test_format_report_clean_and_defective(clean):
    text = format_report(validate_tables(clean, data_end=DATA_END))
    assert text.splitlines()[0] == "Data validation report (data_end: 2024-03-31)"
    assert (
        "usage                   40           40            0          4  2024-03-01 .. 2024-03-10"
        in text
    )
    assert text.endswith("No problems found.")
    clean["usage"].loc[[0, 1], "kwh"] = -1.0
    clean["usage"]["meter"] = "M"
    t = validate_tables(clean, errors="quarantine", data_end=DATA_END)
    text = format_report(t)
    assert "usage                   40           38            2          4" in text
    assert "Problems (1; 2 rows quarantined, see Tables.quarantine):" in text
    assert (
        "  [quarantined] usage.kwh: 2 negative values (examples: customer 'C0000001' on 2024-03-01"
        in text
    )
    assert text.endswith("Notes:\n  usage.meter: column not in the data contract; kept unchanged")
    assert summarize(t).loc["usage", ["rows", "quarantined", "input_rows"]].tolist() == [38, 2, 40]
