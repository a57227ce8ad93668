"""Usage features against values computed by hand from the input rows."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import daily_usage, make_tables, usage_frame

from powerprofile.features import build_features

T = pd.Timestamp("2025-07-01")
WINDOWS = (7, 30, 365)


@pytest.fixture(scope="module")
def feats():
    rows = []
    # C1: June 1..30, kWh = 1 + 0.5 i (a clean trend), TOU split 50/30/20
    c1 = [1 + 0.5 * i for i in range(30)]
    rows += daily_usage("C1", "2025-06-01", c1)
    # C2: June 21..29 with zeros; June 30 missing
    c2 = [0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 4.0, 4.0, 0.0]
    rows += daily_usage("C2", "2025-06-21", c2)
    # C4: a year-ago block, then 10 kWh/day Mar 3..May 31 2025 and 2 kWh/day in June
    rows += daily_usage("C4", "2024-04-02", [5.0] * 90)
    rows += daily_usage("C4", "2025-03-03", [10.0] * 90 + [2.0] * 30)
    usage = usage_frame(rows)
    usage["peak_kwh"] = np.where(usage["customer_id"] == "C1", usage["kwh"] * 0.5, np.nan)
    usage["flat_kwh"] = np.where(usage["customer_id"] == "C1", usage["kwh"] * 0.3, np.nan)
    usage["valley_kwh"] = np.where(usage["customer_id"] == "C1", usage["kwh"] * 0.2, np.nan)
    # C3: 14 days June 17..30, weekend 10 kWh, weekday 5 kWh, 2 estimated reads
    days = pd.date_range("2025-06-17", "2025-06-30")
    c3 = [10.0 if d.day_of_week >= 5 else 5.0 for d in days]
    q = ["estimated" if i in (0, 5) else "actual" for i in range(14)]
    u3 = usage_frame(daily_usage("C3", "2025-06-17", c3, q))
    usage["read_quality"] = pd.Categorical(
        ["actual"] * len(usage), categories=["actual", "estimated"]
    )
    usage = pd.concat([usage, u3], ignore_index=True)
    # rows on or after T must be ignored
    usage = pd.concat(
        [usage, usage_frame([("C1", "2025-07-01", 999.0), ("C3", "2025-07-05", 999.0)])],
        ignore_index=True,
    )
    return build_features(make_tables(usage=usage), T, windows=WINDOWS)


def at(f, cid, col):
    return float(f.loc[(cid, T), col])


def test_level_trend_volatility(feats):
    c1 = np.array([1 + 0.5 * i for i in range(30)])
    assert at(feats, "C1", "kwh_mean_30d") == pytest.approx(c1.mean(), rel=1e-6)
    assert at(feats, "C1", "kwh_mean_7d") == pytest.approx(c1[-7:].mean(), rel=1e-6)
    assert at(feats, "C1", "kwh_slope_30d") == pytest.approx(0.5, rel=1e-5)
    assert at(feats, "C1", "kwh_cv_30d") == pytest.approx(c1.std() / c1.mean(), rel=1e-5)
    assert at(feats, "C1", "kwh_read_days_365d") == 30
    # C2 has a missing day: slope = least squares on the days present
    x = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8])
    y = np.array([0, 0, 0, 4, 0, 0, 4, 4, 0.0])
    assert at(feats, "C2", "kwh_slope_30d") == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-5)
    assert at(feats, "C2", "kwh_mean_30d") == pytest.approx(12 / 9, rel=1e-6)


def test_zeros_and_runs(feats):
    assert at(feats, "C2", "kwh_zero_days_30d") == 6
    assert at(feats, "C2", "kwh_longest_zero_run_30d") == 3
    # the 7-day window [Jun 24, Jul 1) sees 4,0,0,4,4,0 and a missing day: run of 2
    assert at(feats, "C2", "kwh_zero_days_7d") == 3
    assert at(feats, "C2", "kwh_longest_zero_run_7d") == 2
    assert at(feats, "C2", "kwh_read_days_7d") == 6
    assert at(feats, "C2", "days_since_last_read") == 2  # last read Jun 29


def test_weekend_estimated_tou(feats):
    assert at(feats, "C3", "kwh_weekend_ratio_30d") == pytest.approx(2.0)
    assert at(feats, "C3", "estimated_read_share_30d") == pytest.approx(2 / 14)
    assert at(feats, "C1", "estimated_read_share_30d") == 0
    assert at(feats, "C1", "peak_share_30d") == pytest.approx(0.5, rel=1e-6)
    assert at(feats, "C1", "flat_share_30d") == pytest.approx(0.3, rel=1e-6)
    assert at(feats, "C1", "valley_share_30d") == pytest.approx(0.2, rel=1e-6)
    assert np.isnan(at(feats, "C3", "peak_share_30d"))


def test_drop_yoy_season(feats):
    assert at(feats, "C4", "usage_drop_ratio") == pytest.approx(2 / 10)
    recent = (60 * 10 + 30 * 2) / 90  # Apr 2 .. Jun 30 2025
    assert at(feats, "C4", "kwh_yoy_change") == pytest.approx(recent / 5 - 1, rel=1e-6)
    assert at(feats, "C4", "kwh_summer_ratio") == pytest.approx(2 / 10)
    assert np.isnan(at(feats, "C4", "kwh_winter_ratio"))


def test_missing_history_gives_nan_counts_and_flag():
    usage = usage_frame(
        daily_usage("C1", "2025-06-01", [1.0] * 30) + daily_usage("C2", "2025-01-01", [2.0] * 181)
    )
    f = build_features(make_tables(usage=usage), T, min_history_days=60)
    assert np.isnan(at(f, "C3", "kwh_mean_90d")) and at(f, "C3", "kwh_read_days_90d") == 0
    assert np.isnan(at(f, "C3", "kwh_slope_365d")) and np.isnan(at(f, "C3", "days_since_last_read"))
    assert bool(f.loc[("C3", T), "short_history"]) and bool(f.loc[("C1", T), "short_history"])
    assert not bool(f.loc[("C2", T), "short_history"])
    assert at(f, "C1", "kwh_cv_90d") == 0  # constant usage
    assert np.isnan(at(f, "C3", "kwh_cv_90d"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_snapshot_matrices_equal_a_rebuild_per_snapshot(seed):
    """Matrices brought forward from snapshot to snapshot (re-reads recorded later, and
    snapshots far apart that start afresh) give exactly the features of matrices
    rebuilt from the visible rows at each snapshot."""
    from feature_tables import random_tables

    from powerprofile.features._generic import lookback_days
    from powerprofile.features._time import as_snapshots, snapshot_days
    from powerprofile.features._usage import UsageRows, _from_matrices, usage_features

    tables = random_tables(seed, n_customers=12)
    index = pd.Index(tables.customers["customer_id"].astype("string"))
    snaps = ["2024-08-01", "2025-01-15", "2025-02-01", "2025-03-01", "2025-10-01", "2027-06-01"]
    sd = snapshot_days(as_snapshots(snaps))
    windows, L = (30, 90, 365), lookback_days((30, 90, 365))
    got = usage_features(UsageRows(tables.usage, index), index, sd, windows)
    ref_rows = UsageRows(tables.usage, index)
    for s, t in enumerate(sd):  # the reference: every snapshot's own visible rows
        t = int(t)
        mats = ref_rows.matrices(ref_rows.rows(t), t - L, L)
        ref = _from_matrices(mats, t - L, [t], windows, 60)
        for name, v in ref.items():
            np.testing.assert_array_equal(got[name][s], v[0], err_msg=f"{name} at {t}")
