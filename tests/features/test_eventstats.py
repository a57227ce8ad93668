"""Active days and inter-event gaps of the generic event builder: properties against a
hand computation, point-in-time and order independence."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerprofile.features import event_features

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
START = pd.Timestamp("2025-01-01")
IDS = ["a", "b", "c"]
WINDOWS = (7, 30, "1m")
MAP = {"id": "user", "time": "at"}

events = st.lists(
    st.tuples(st.sampled_from(IDS), st.integers(0, 60 * 24 * 6)),  # ids, 10-minute steps
    min_size=0,
    max_size=40,
).map(
    lambda rows: rows + rows[: len(rows) // 3]  # duplicated rows, as in real logs
)
snapshot = st.integers(3, 62).map(lambda d: START + pd.Timedelta(days=d))


def _log(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": pd.Series([r[0] for r in rows], dtype="string"),
            "at": START + pd.to_timedelta([10 * r[1] for r in rows], unit="min"),
        }
    )


def _hand(log: pd.DataFrame, user: str, T: pd.Timestamp) -> dict:
    """Gap statistics of one user at T, computed the slow, obvious way."""
    seen = log[(log["user"] == user) & (log["at"] < T)]
    days = sorted({t.normalize() for t in seen["at"]})
    gaps = [(b - a).days for a, b in zip(days[:-1], days[1:], strict=True)]
    out = {"gap_mean": np.nan, "gap_std": np.nan, "gap_last": np.nan, "ratio": np.nan}
    if gaps:
        mean = sum(gaps) / len(gaps)
        out.update(gap_mean=mean, gap_last=gaps[-1], ratio=(T - days[-1]).days / mean)
    if len(gaps) >= 2:
        out["gap_std"] = float(np.sqrt(sum((g - out["gap_mean"]) ** 2 for g in gaps) / len(gaps)))
    return out


@SETTINGS
@given(events, snapshot)
def test_active_days_at_most_rows_and_gaps_match_a_hand_computation(rows, T):
    log = _log(rows)
    f = event_features(log, T, MAP, windows=WINDOWS, prefix="e", customers=IDS)
    for w in ("7d", "30d", "1m"):
        assert (f[f"e_active_days_{w}"] <= f[f"e_count_{w}"]).all()
    for user in IDS:
        r = f.loc[(user, T)]
        seen = log[(log["user"] == user) & (log["at"] < T)]
        in30 = seen[seen["at"] >= T - pd.Timedelta(days=30)]
        assert r["e_active_days_30d"] == in30["at"].dt.normalize().nunique()
        hand = _hand(log, user, T)
        got = [r["e_gap_mean"], r["e_gap_std"], r["e_gap_last"]]
        got.append(r["e_days_since_last_over_mean_gap"])
        want = [hand["gap_mean"], hand["gap_std"], hand["gap_last"], hand["ratio"]]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(events, snapshot, st.lists(st.integers(0, 60 * 24 * 3), max_size=10), st.randoms())
def test_rows_at_or_after_the_snapshot_and_row_order_change_nothing(rows, T, later, rnd):
    log = _log(rows)
    f = event_features(log, T, MAP, windows=WINDOWS, prefix="e", customers=IDS)
    future = pd.DataFrame(
        {
            "user": pd.Series([IDS[i % 3] for i in range(len(later))], dtype="string"),
            "at": T + pd.to_timedelta(later, unit="min"),  # minute 0 is exactly T
        }
    )
    mixed = pd.concat([log, future], ignore_index=True)
    order = list(range(len(mixed)))
    rnd.shuffle(order)
    g = event_features(mixed.iloc[order], T, MAP, windows=WINDOWS, prefix="e", customers=IDS)
    pd.testing.assert_frame_equal(f, g)
