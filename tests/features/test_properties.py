"""Property tests: no leakage, order independence, partition independence, customer independence."""

import numpy as np
import pandas as pd
from feature_tables import random_tables
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from powerprofile.features import build_features, build_training_frame, leakage_report
from powerprofile.schema import Tables

SETTINGS = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
SNAPSHOTS = ["2025-01-01", "2025-03-15", "2025-06-01"]


def assert_same(a, b, exact=False):
    pd.testing.assert_frame_equal(a, b, check_exact=exact, rtol=1e-6, atol=1e-9)


def _replace(t: Tables, **frames) -> Tables:
    d = {
        k: getattr(t, k)
        for k in ("customers", "outages", "usage", "bills", "payments", "interactions", "events")
    }
    d.update(frames)
    return Tables(**d, data_end=t.data_end)


def _after(t: Tables, T: pd.Timestamp, rng) -> Tables:
    """Append rows that are not known before T: dated at/after T, or recorded at/after T."""
    ids = t.customers["customer_id"].to_numpy()
    k = 30

    def when(unit="D", maxi=200):
        return (T + pd.to_timedelta(rng.integers(0, maxi, k), unit=unit)).astype("datetime64[us]")

    def pick():
        return pd.Series(rng.choice(ids, k), dtype="string")

    u = t.usage.sample(n=k, replace=True, random_state=int(rng.integers(1 << 30))).copy()
    late = u.copy()  # corrections of past reads that arrive at or after T
    late["kwh"] = late["kwh"] * 5 + 7
    late["recorded_at"] = when("h", 24 * 100)
    late = late.drop_duplicates(["customer_id", "date", "recorded_at"])
    fut = u.copy()
    fut["date"] = when()
    fut["recorded_at"] = fut["date"]
    usage = pd.concat([t.usage, late, fut], ignore_index=True)
    usage = usage.drop_duplicates(["customer_id", "date", "recorded_at"], keep="first")
    b = t.bills.sample(n=k, replace=True, random_state=int(rng.integers(1 << 30))).copy()
    rebill = b.copy()
    rebill["amount"] = rebill["amount"] * 3
    rebill["recorded_at"] = when("h", 24 * 100)
    fb = b.copy()
    fb["issue_date"] = when()
    fb["recorded_at"] = fb["issue_date"]
    fb["bill_month"] = (fb["issue_date"] + pd.Timedelta(days=400)).astype("datetime64[us]")
    bills = pd.concat([t.bills, rebill, fb], ignore_index=True).drop_duplicates(
        ["customer_id", "bill_month", "recorded_at"]
    )
    payments = pd.concat(
        [
            t.payments,
            pd.DataFrame(
                {
                    "customer_id": pick(),
                    "date": when(),
                    "amount": rng.gamma(3, 50, k),
                    "channel": pd.Categorical(
                        rng.choice(list(t.payments["channel"].cat.categories), k),
                        categories=t.payments["channel"].cat.categories,
                    ),
                }
            ),
        ],
        ignore_index=True,
    )
    inter = pd.concat(
        [
            t.interactions,
            pd.DataFrame(
                {
                    "customer_id": pick(),
                    "timestamp": when("min", 60 * 24 * 200),
                    "channel": pd.Categorical(
                        rng.choice(list(t.interactions["channel"].cat.categories), k),
                        categories=t.interactions["channel"].cat.categories,
                    ),
                    "type": pd.Categorical(
                        ["complaint"] * k, categories=t.interactions["type"].cat.categories
                    ),
                    "satisfaction": np.ones(k),
                }
            ),
        ],
        ignore_index=True,
    )
    events = pd.concat(
        [
            t.events,
            pd.DataFrame(
                {
                    "customer_id": pick(),
                    "date": when(),
                    "kind": pd.Categorical(
                        ["closure"] * k, categories=t.events["kind"].cat.categories
                    ),
                }
            ),
        ],
        ignore_index=True,
    ).drop_duplicates(["customer_id", "date", "kind"])
    start = when("min", 60 * 24 * 200)
    outages = pd.concat(
        [
            t.outages,
            pd.DataFrame(
                {
                    "outage_id": pd.Series([f"X{i}" for i in range(k)], dtype="string"),
                    "transformer_area": pd.Series(
                        rng.choice(["a1", "a2", "a3"], k), dtype="string"
                    ),
                    "start": start,
                    "end": (start + pd.Timedelta(hours=3)).astype("datetime64[us]"),
                    "planned": rng.random(k) < 0.5,
                }
            ),
        ],
        ignore_index=True,
    )
    return _replace(
        t,
        usage=usage,
        bills=bills,
        payments=payments,
        interactions=inter,
        events=events,
        outages=outages,
    )


@SETTINGS
@given(seed=st.integers(0, 10_000), snap=st.sampled_from(SNAPSHOTS))
def test_rows_at_or_after_snapshot_never_change_its_features(seed, snap):
    t = random_tables(seed)
    T = pd.Timestamp(snap)
    before = build_features(t, T)
    after = build_features(_after(t, T, np.random.default_rng(seed)), T)
    assert_same(before, after, exact=True)


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_any_row_permutation_gives_the_same_features(seed):
    t = random_tables(seed)
    rng = np.random.default_rng(seed + 1)
    shuffled = _replace(
        t,
        **{
            k: getattr(t, k).sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
            for k in (
                "customers",
                "usage",
                "bills",
                "payments",
                "interactions",
                "events",
                "outages",
            )
        },
    )
    assert_same(
        build_training_frame(t, SNAPSHOTS[:2], 60),
        build_training_frame(shuffled, SNAPSHOTS[:2], 60),
    )


@SETTINGS
@given(seed=st.integers(0, 10_000), n_partitions=st.integers(2, 6))
def test_any_number_of_partitions_gives_the_same_features(seed, n_partitions):
    t = random_tables(seed, n_customers=10)
    one = build_training_frame(t, SNAPSHOTS[1:], 60, n_partitions=1)
    many = build_training_frame(t, SNAPSHOTS[1:], 60, n_partitions=n_partitions)
    assert_same(one, many)
    pd.testing.assert_frame_equal(leakage_report(one), leakage_report(many))


AREA = ("neighbour_", "grid_")


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_a_customers_features_never_depend_on_other_customers_rows(seed):
    t = random_tables(seed)
    other = random_tables(seed + 7919)
    full = build_features(t, SNAPSHOTS[2])
    me = full.index.get_level_values("customer_id")[0]
    mixed = {}
    for k in ("usage", "bills", "payments", "interactions", "events"):
        mine = getattr(t, k)[getattr(t, k)["customer_id"] == me]
        theirs = getattr(other, k)[getattr(other, k)["customer_id"] != me]
        mixed[k] = pd.concat([mine, theirs], ignore_index=True)
    a = full.xs(me, level="customer_id", drop_level=False)
    b = build_features(_replace(t, **mixed), SNAPSHOTS[2]).xs(
        me, level="customer_id", drop_level=False
    )
    own = [
        c for c in a.columns if not c.startswith(AREA)
    ]  # area rates describe the neighbours by design
    assert_same(a[own], b[own], exact=True)
