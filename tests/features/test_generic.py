"""Generic builders over tables outside the contract, through a column mapping."""

import numpy as np
import pandas as pd
import pytest

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
