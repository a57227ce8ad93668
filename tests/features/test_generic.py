"""Generic builders over tables outside the contract, through a column mapping."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerprofile.exceptions import DataValidationError
from powerprofile.features import event_features, reading_features

T = pd.Timestamp("2025-01-11")


def test_reading_features_sum_sub_daily_reads_per_day():
    ts = pd.date_range("2025-01-01", "2025-01-11 23:45", freq="15min")  # includes T itself
    df = pd.DataFrame({"meter": "m1", "read_at": ts, "energy": 0.25})
    df.loc[df["read_at"] >= "2025-01-06", "energy"] = 0.5  # 24 kWh/day, then 48 kWh/day
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                {"meter": ["m2"], "read_at": [pd.Timestamp("2025-01-03")], "energy": [0.0]}
            ),
        ],
        ignore_index=True,
    )
    f = reading_features(
        df, T, {"id": "meter", "time": "read_at", "value": "energy"}, windows=(5, 10), prefix="sub"
    )
    assert f.index.names == ["meter", "snapshot_date"]
    assert f.loc[("m1", T), "sub_mean_10d"] == pytest.approx((5 * 24 + 5 * 48) / 10)
    assert f.loc[("m1", T), "sub_mean_5d"] == pytest.approx(48)
    assert f.loc[("m1", T), "sub_read_days_10d"] == 10
    x = np.arange(10)
    y = np.r_[[24.0] * 5, [48.0] * 5]
    assert f.loc[("m1", T), "sub_slope_10d"] == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-6)
    assert f.loc[("m2", T), "sub_zero_days_10d"] == 1
    assert f.loc[("m2", T), "sub_days_since_last"] == 8


def test_reading_features_latest_version_recorded_before_t():
    df = pd.DataFrame(
        {
            "id": ["a", "a", "a"],
            "day": pd.to_datetime(["2025-01-09", "2025-01-09", "2025-01-10"]),
            "v": [1.0, 5.0, 7.0],
            "rec": pd.to_datetime(["2025-01-09", "2025-01-10", "2025-01-12"]),
        }
    )
    f = reading_features(
        df,
        T,
        {"id": "id", "time": "day", "value": "v", "recorded_at": "rec"},
        windows=(5,),
        prefix="r",
    )
    assert f.loc[("a", T), "r_mean_5d"] == 5.0  # corrected 01-09 value; 01-10 not known yet
    assert f.loc[("a", T), "r_read_days_5d"] == 1


def test_event_features_recency_frequency_value_and_category():
    log = pd.DataFrame(
        {
            "user": ["u1", "u1", "u1", "u2", "u1"],
            "when": pd.to_datetime(
                [
                    "2025-01-10 12:00",
                    "2025-01-02 00:00",
                    "2024-12-01 00:00",
                    "2025-01-05 00:00",
                    "2025-01-11 00:00",
                ]
            ),
            "spent": [10.0, 30.0, 5.0, np.nan, 99.0],
            "what": ["Web Shop", "store", "store", "store", "store"],
        }
    )
    f = event_features(
        log,
        T,
        {"id": "user", "time": "when", "value": "spent", "category": "what"},
        windows=(7, 30),
        prefix="buy",
    )
    r = f.loc[("u1", T)]
    assert r["buy_count_7d"] == 1 and r["buy_count_30d"] == 2  # 01-11 is at T: excluded
    assert r["buy_value_sum_30d"] == 40 and r["buy_value_mean_30d"] == 20
    assert r["buy_web_shop_count_30d"] == 1 and r["buy_store_share_30d"] == 0.5
    assert r["buy_days_since_last"] == pytest.approx(0.5)
    assert r["buy_days_since_first"] == pytest.approx(41)
    assert r["buy_days_since_last_store"] == pytest.approx(9)
    assert np.isnan(f.loc[("u2", T), "buy_value_mean_30d"])


def test_mapping_errors_name_the_problem():
    df = pd.DataFrame({"id": ["a"], "t": pd.to_datetime(["2025-01-01"])})
    with pytest.raises(ValueError, match="needs the key 'value'"):
        reading_features(df, T, {"id": "id", "time": "t"})
    with pytest.raises(ValueError, match="mapping must be a dict"):
        event_features(df, T, {"id": "id", "time": "t", "colour": "x"})
    with pytest.raises(ValueError, match="lacks column"):
        event_features(df, T, {"id": "id", "time": "when"})


# ------------------------------------------------------------------ several values, days, gaps
def _log(rows):
    """Event log from (user, time, spent, items) tuples."""
    user, when, spent, items = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user": pd.Series(user, dtype="string"),
            "when": pd.to_datetime(list(when)),
            "spent": np.array(spent, dtype=float),
            "items": np.array(items, dtype=np.int64),
        }
    )


MAP = {"id": "user", "time": "when"}


def test_event_features_several_value_columns_in_one_call():
    log = _log(
        [
            ("u1", "2025-01-02", 10.0, 1),
            ("u1", "2025-01-05", np.nan, 3),
            ("u1", "2024-11-01", 7.0, 2),  # outside the 30-day window
            ("u2", "2025-01-08", 4.0, 5),
        ]
    )
    f = event_features(log, T, {**MAP, "value": ["spent", "items"]}, windows=(30, 90), prefix="buy")
    u1 = f.loc[("u1", T)]
    assert u1["buy_spent_sum_30d"] == 10 and u1["buy_spent_mean_30d"] == 10  # NaN skipped
    assert u1["buy_items_sum_30d"] == 4 and u1["buy_items_mean_30d"] == 2
    assert u1["buy_spent_sum_90d"] == 17 and u1["buy_items_sum_90d"] == 6
    assert f.loc[("u2", T), "buy_items_mean_30d"] == 5
    assert "buy_value_sum_30d" not in f.columns  # a list names the columns after the values


def test_event_features_active_days_count_duplicated_rows_once():
    log = _log(
        [
            ("u1", "2025-01-03 09:00", 1.0, 1),
            ("u1", "2025-01-03 09:00", 1.0, 1),  # exact duplicate
            ("u1", "2025-01-03 18:30", 1.0, 1),  # same day
            ("u1", "2025-01-07 00:00", 1.0, 1),
            ("u1", "2024-12-20 23:59", 1.0, 1),  # 22 days before T: in 30d, not in 10d
        ]
    )
    f = event_features(log, T, MAP, windows=(10, 30), prefix="e")
    r = f.loc[("u1", T)]
    assert r["e_count_30d"] == 5 and r["e_active_days_30d"] == 3  # 12-20, 01-03, 01-07
    assert r["e_count_10d"] == 4 and r["e_active_days_10d"] == 2  # [01-01, 01-11)


def test_event_features_gaps_by_hand():
    # u1 active days: 01-01, 01-02 (twice), 01-05, 01-09 -> gaps 1, 3, 4
    log = _log(
        [
            ("u1", "2025-01-09 10:00", 0, 0),
            ("u1", "2025-01-01 08:00", 0, 0),
            ("u1", "2025-01-02 08:00", 0, 0),
            ("u1", "2025-01-02 20:00", 0, 0),
            ("u1", "2025-01-05 00:00", 0, 0),
            ("u2", "2025-01-04 00:00", 0, 0),  # one active day: no gap
            ("u3", "2025-01-01 00:00", 0, 0),  # two active days: one gap of 6
            ("u3", "2025-01-07 00:00", 0, 0),
        ]
    )
    f = event_features(log, T, MAP, windows=(30,), prefix="e")
    u1 = f.loc[("u1", T)]
    mean = (1 + 3 + 4) / 3
    std = np.sqrt(((1 - mean) ** 2 + (3 - mean) ** 2 + (4 - mean) ** 2) / 3)
    assert u1["e_gap_mean"] == pytest.approx(mean)
    assert u1["e_gap_std"] == pytest.approx(std, rel=1e-6)
    assert u1["e_gap_last"] == 4
    assert u1["e_days_since_last_over_mean_gap"] == pytest.approx(2 / mean)  # 01-09 -> 01-11
    u2, u3 = f.loc[("u2", T)], f.loc[("u3", T)]
    assert np.isnan(u2["e_gap_mean"]) and np.isnan(u2["e_gap_last"])
    assert np.isnan(u2["e_days_since_last_over_mean_gap"])
    assert u3["e_gap_mean"] == 6 and u3["e_gap_last"] == 6 and np.isnan(u3["e_gap_std"])
    assert u3["e_days_since_last_over_mean_gap"] == pytest.approx(4 / 6)


def test_event_features_snapshot_boundary_excludes_the_event_at_t():
    # an event exactly at T (midnight) is not known at T; one a second before is
    log = _log(
        [
            ("u1", "2025-01-11 00:00:00", 5.0, 1),
            ("u1", "2025-01-10 23:59:59", 2.0, 1),
            ("u1", "2025-01-04 00:00:00", 1.0, 1),  # exactly T - 7 days: inside [T-7d, T)
            ("u1", "2025-01-03 23:59:59", 1.0, 1),  # just outside the 7-day window
        ]
    )
    f = event_features(log, T, {**MAP, "value": "spent"}, windows=(7,), prefix="e")
    r = f.loc[("u1", T)]
    assert r["e_count_7d"] == 2 and r["e_value_sum_7d"] == 3
    assert r["e_active_days_7d"] == 2
    assert r["e_days_since_last"] == pytest.approx(1 / 86_400)
    assert r["e_gap_last"] == 6  # 01-04 -> 01-10; the event at T is no gap yet
    later = event_features(log, "2025-01-12", MAP, windows=(7,), prefix="e")
    assert later.loc[("u1", pd.Timestamp("2025-01-12")), "e_gap_last"] == 1


# ------------------------------------------------------------------ calendar windows (leap years)
def test_one_year_window_keeps_29_february():
    log = _log(
        [
            ("u1", "2023-03-01", 1.0, 1),
            ("u1", "2024-02-29", 1.0, 1),
            ("u1", "2024-03-01", 1.0, 1),
        ]
    )
    snaps = ["2024-02-29", "2024-03-01", "2025-03-01"]
    f = event_features(log, snaps, MAP, windows=(365, "1y"), prefix="e")
    count = f["e_count_1y"].droplevel("user")
    days365 = f["e_count_365d"].droplevel("user")
    # at 2024-03-01 one calendar year back is 2023-03-01 (366 days): both events are in;
    # 365 days back is 2023-03-02, which loses 2023-03-01
    assert count[pd.Timestamp("2024-03-01")] == 2 and days365[pd.Timestamp("2024-03-01")] == 1
    # at 29 February, one year back is 2023-02-28: 2023-03-01 is in
    assert count[pd.Timestamp("2024-02-29")] == 1
    # at 2025-03-01 the year is [2024-03-01, 2025-03-01): 29 February is out
    assert count[pd.Timestamp("2025-03-01")] == 1
    assert f.loc[("u1", pd.Timestamp("2024-03-01")), "e_active_days_1y"] == 2


def test_reading_features_calendar_year_counts_366_days_across_a_leap_day():
    days = pd.date_range("2022-06-01", "2025-06-01", freq="D")
    df = pd.DataFrame({"m": "m1", "d": days, "v": 1.0})
    f = reading_features(
        df,
        ["2024-03-01", "2025-03-01"],
        {"id": "m", "time": "d", "value": "v"},
        windows=("1y", 365, "3m"),
        prefix="r",
    )
    r24, r25 = f.loc[("m1", pd.Timestamp("2024-03-01"))], f.loc[("m1", pd.Timestamp("2025-03-01"))]
    assert r24["r_read_days_1y"] == 366 and r25["r_read_days_1y"] == 365
    assert r24["r_read_days_365d"] == 365 and r25["r_read_days_365d"] == 365
    assert r24["r_read_days_3m"] == 31 + 31 + 29  # Dec, Jan, Feb 2024
    assert r25["r_read_days_3m"] == 31 + 31 + 28


def test_bad_window_is_refused():
    log = _log([("u1", "2025-01-01", 1.0, 1)])
    with pytest.raises(ValueError, match=r"window '3q' is not a window.*'1y'"):
        event_features(log, T, MAP, windows=(30, "3q"))
    with pytest.raises(ValueError, match="window 0 is not a window"):
        event_features(log, T, MAP, windows=(0,))


# ------------------------------------------------------------------ partial days
def test_reading_features_count_column_scales_partial_days():
    df = pd.DataFrame(
        {
            "m": ["m1"] * 4,
            "d": pd.to_datetime(["2025-01-08", "2025-01-09", "2025-01-10", "2025-01-10"]),
            "v": [48.0, 12.0, 5.0, 7.0],
            "n": [96, 24, 0, 0],  # full day; a quarter of a day; a day without intervals
        }
    )
    mapping = {"id": "m", "time": "d", "value": "v", "count": "n"}
    f = reading_features(df, T, mapping, windows=(3,), prefix="r", full_count=96)
    r = f.loc[("m1", T)]
    assert r["r_mean_3d"] == 48  # 48 and 12 * 96 / 24 = 48; the count-0 day is missing
    assert r["r_read_days_3d"] == 2 and r["r_partial_days_3d"] == 1
    plain = reading_features(
        df, T, {"id": "m", "time": "d", "value": "v"}, windows=(3,), prefix="r"
    )
    assert plain.loc[("m1", T), "r_mean_3d"] == (48 + 12 + 12) / 3  # unscaled: a false drop
    assert "r_partial_days_3d" not in plain.columns


def test_reading_features_count_column_needs_full_count_and_non_negative_counts():
    df = pd.DataFrame({"m": ["m1"], "d": pd.to_datetime(["2025-01-08"]), "v": [1.0], "n": [-2]})
    mapping = {"id": "m", "time": "d", "value": "v", "count": "n"}
    with pytest.raises(ValueError, match="full_count must be the number of intervals"):
        reading_features(df, T, mapping)
    with pytest.raises(DataValidationError, match=r"'n'.*1 negative value\(s\) \(first: -2\)"):
        reading_features(df, T, mapping, full_count=96)


# ------------------------------------------------------------------ bad input
def test_wrong_dtypes_are_refused_with_the_column_and_a_fix():
    log = pd.DataFrame(
        {
            "user": ["u1"],
            "when": pd.to_datetime(["2025-01-01"]),
            "spent": ["12.5 yuan"],
            "epoch": [1_735_689_600],
            "text_time": ["not a date"],
        }
    )
    with pytest.raises(DataValidationError, match=r"column 'spent' .*dtype .*pd.to_numeric"):
        event_features(log, T, {**MAP, "value": "spent"})
    with pytest.raises(DataValidationError, match=r"column 'spent' .*dtype"):
        event_features(log, T, {**MAP, "value": ["epoch", "spent"]})
    with pytest.raises(DataValidationError, match=r"column 'epoch' .*not dates.*unit='s'"):
        event_features(log, T, {"id": "user", "time": "epoch"})
    with pytest.raises(DataValidationError, match=r"column 'text_time' .*not dates or times"):
        event_features(log, T, {"id": "user", "time": "text_time"})
    with pytest.raises(DataValidationError, match=r"lacks column\(s\) \['spend'\]"):
        event_features(log, T, {**MAP, "value": ["spend"]})
    with pytest.raises(ValueError, match="must name distinct columns"):
        event_features(log, T, {**MAP, "value": ["epoch", "epoch"]})
    with pytest.raises(ValueError, match="takes one value column"):
        reading_features(log, T, {**MAP, "value": ["epoch"]})
    reads = log.assign(v=["1.5"])
    with pytest.raises(DataValidationError, match=r"column 'v' .*dtype"):
        reading_features(reads, T, {**MAP, "value": "v"})


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.sampled_from(["m1", "m2"]), st.integers(-40, 5), st.integers(0, 96)),
        max_size=40,
    ),
    st.randoms(),
)
def test_reading_features_ignore_rows_from_the_snapshot_on_and_row_order(rows, rnd):
    """Rows dated at or after T (day offset >= 0) change nothing, nor does row order;
    partial days never exceed read days."""
    df = pd.DataFrame(
        {
            "m": pd.Series([r[0] for r in rows] + ["m1", "m2"], dtype="string"),
            "d": T + pd.to_timedelta([r[1] for r in rows] + [-1, -1], unit="D"),
            "v": [float(r[2]) for r in rows] + [1.0, 2.0],
            "n": [r[2] for r in rows] + [96, 48],
        }
    )
    mapping = {"id": "m", "time": "d", "value": "v", "count": "n"}
    kw = {"windows": (7, 30, "1m"), "prefix": "r", "full_count": 96}
    f = reading_features(df, T, mapping, **kw)
    before = df[df["d"] < T]
    order = list(range(len(before)))
    rnd.shuffle(order)
    g = reading_features(before.iloc[order], T, mapping, **kw)
    pd.testing.assert_frame_equal(f, g)
    assert (f["r_partial_days_30d"] <= f["r_read_days_30d"]).all()
