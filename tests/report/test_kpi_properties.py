"""Invariants of the channel KPIs on random tables (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import powerprofile.report as report_pkg
from powerprofile.report import channel_kpis
from powerprofile.schema._contract import (
    CHANNELS,
    CONTACT_TYPES,
    CUSTOMER_TYPES,
    EVENT_KINDS,
    PAYMENT_CHANNELS,
)


def test_all_is_complete():
    public = {n for n in dir(report_pkg) if not n.startswith("_")}
    modules = {"report_pkg"}  # submodules are private (_kpis, ...): nothing else is public
    assert public - set(report_pkg.__all__) - modules == set()
    for name in report_pkg.__all__:
        assert hasattr(report_pkg, name)


@st.composite
def random_tables(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    n_cust = draw(st.integers(1, 12))
    n_inter = draw(st.integers(0, 60))
    n_pay = draw(st.integers(0, 30))
    rng = np.random.default_rng(seed)
    ids = [f"C{i:03d}" for i in range(n_cust)]
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "customer_type": pd.Categorical(
                rng.choice(CUSTOMER_TYPES, n_cust), categories=CUSTOMER_TYPES
            ),
            "region": pd.array(rng.choice(["R1", "R2", "R3"], n_cust), dtype="string"),
            "grid_unit": pd.array(rng.choice(["G1", "G2"], n_cust), dtype="string"),
            "supply_start": pd.Timestamp("2023-06-01")
            + pd.to_timedelta(rng.integers(0, 400, n_cust), unit="D"),
        }
    )
    start = pd.Timestamp("2024-01-01")
    inter = pd.DataFrame(
        {
            "customer_id": pd.array(rng.choice(ids, n_inter), dtype="string"),
            "timestamp": start + pd.to_timedelta(rng.integers(0, 180 * 24, n_inter), unit="h"),
            "channel": pd.Categorical(rng.choice(CHANNELS, n_inter), categories=CHANNELS),
            "type": pd.Categorical(rng.choice(CONTACT_TYPES, n_inter), categories=CONTACT_TYPES),
            "satisfaction": np.where(
                rng.random(n_inter) < 0.5, np.nan, rng.integers(1, 6, n_inter).astype(float)
            ),
        }
    )
    pays = pd.DataFrame(
        {
            "customer_id": pd.array(rng.choice(ids, n_pay), dtype="string"),
            "date": start + pd.to_timedelta(rng.integers(0, 180, n_pay), unit="D"),
            "amount": rng.random(n_pay) * 100,
            "channel": pd.Categorical(
                rng.choice(PAYMENT_CHANNELS, n_pay), categories=PAYMENT_CHANNELS
            ),
        }
    )
    n_ev = draw(st.integers(0, 3))
    events = pd.DataFrame(
        {
            "customer_id": pd.array(rng.choice(ids, n_ev), dtype="string"),
            "date": start + pd.to_timedelta(rng.integers(0, 180, n_ev), unit="D"),
            "kind": pd.Categorical(rng.choice(EVENT_KINDS, n_ev), categories=EVENT_KINDS),
        }
    )
    return {"customers": customers, "interactions": inter, "payments": pays, "events": events}


@settings(
    max_examples=15, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(random_tables())
def test_channel_rows_add_up_to_month_rows(tables):
    kw = dict(start="2024-01-01", end="2024-06-30")
    mc = channel_kpis(tables, by=("month", "channel"), **kw)
    m = channel_kpis(tables, by=("month",), **kw).set_index("month")
    assert len(mc) == len(m) * len(CHANNELS) == 6 * len(CHANNELS)
    g = mc.groupby("month")
    # additive counts: the channels add up to the month
    for col in ("contacts", "complaints"):
        np.testing.assert_array_equal(g[col].sum().to_numpy(), m[col].to_numpy())
    # cell-level KPIs are repeated on every channel row
    for col in ("customers", "payments", "digital_adoption", "online_payment_share"):
        np.testing.assert_allclose(g[col].first().to_numpy(), m[col].to_numpy(), equal_nan=True)
    # the repeat rate weighted by contacts gives the month's rate
    rep = (mc["repeat_contact_rate_7d"].fillna(0) * mc["contacts"]).groupby(mc["month"]).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        want = rep.to_numpy() / m["contacts"].to_numpy()
    np.testing.assert_allclose(m["repeat_contact_rate_7d"].to_numpy(), want, equal_nan=True)
    # bounds
    assert (mc["contacting_customers"] <= mc["active_customers"]).all()
    assert (m["contacting_customers"] <= mc.groupby("month")["contacting_customers"].sum()).all()
    for col in ("digital_adoption", "online_payment_share", "repeat_contact_rate_7d"):
        v = mc[col].dropna()
        assert ((v >= 0) & (v <= 1)).all()
    s = mc["mean_satisfaction"].dropna()
    assert ((s >= 1) & (s <= 5)).all()


@settings(
    max_examples=10, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(random_tables())
def test_region_rows_add_up_and_row_order_is_irrelevant(tables):
    kw = dict(start="2024-01-01", end="2024-06-30")
    by_region = channel_kpis(tables, by=("month", "region"), **kw)
    total = channel_kpis(tables, by=("month",), **kw).set_index("month")
    g = by_region.groupby("month")
    for col in ("customers", "contacts", "complaints", "payments", "active_customers"):
        np.testing.assert_array_equal(
            g[col].sum().reindex(total.index, fill_value=0).to_numpy(), total[col].to_numpy()
        )
    shuffled = {k: v.sample(frac=1.0, random_state=1) for k, v in tables.items()}
    pd.testing.assert_frame_equal(
        channel_kpis(shuffled, by=("month", "region", "channel"), **kw),
        channel_kpis(tables, by=("month", "region", "channel"), **kw),
    )
