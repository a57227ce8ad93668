"""Channel KPIs on the hand-built tables of ``conftest.py``; every value worked out by hand."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import powerprofile
from powerprofile.exceptions import DataValidationError
from powerprofile.report import KPI_COLUMNS, channel_kpis, contact_type_mix, payment_channel_mix

NAN = np.nan
JAN, FEB = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")


def _row(df, **keys):
    mask = np.ones(len(df), dtype=bool)
    for k, v in keys.items():
        mask &= (df[k] == v).to_numpy()
    assert mask.sum() == 1, keys
    return df[mask].iloc[0]


def _check(row, expected):
    for col, want in expected.items():
        got = row[col]
        if isinstance(want, float) and np.isnan(want):
            assert pd.isna(got), (col, got)
        else:
            assert got == pytest.approx(want), (col, got, want)


def test_public_name_and_columns(tiny_tables):
    assert powerprofile.channel_kpis is channel_kpis
    out = channel_kpis(tiny_tables)
    assert list(out.columns) == ["month", "channel", *KPI_COLUMNS]
    # 2 months x 5 channels, every channel present even without contacts
    assert len(out) == 10
    assert list(out["channel"].cat.categories) == [
        "hotline_95598",
        "app",
        "wechat",
        "counter",
        "grid_manager",
    ]
    assert pd.api.types.is_datetime64_any_dtype(out["month"])


# (month, channel) -> expected KPIs. In service: January C1, C3, C4 (C2 starts in
# February), February C1, C2, C4 (C3 closed on 2024-01-20): 3 customers each month.
# digital adoption January: C1 3 of 4 online (adopted), C3 0 of 2 -> 1/2;
# February: C1 1/1 yes, C2 1/2 (not strictly more than half), C4 1/1 yes -> 2/3.
# online payments January: app, counter, bank withholding -> 2/3; February alipay,
# counter, counter -> 1/3.
BY_MONTH_CHANNEL = {
    (JAN, "hotline_95598"): dict(
        customers=3,
        active_customers=1,
        contacting_customers=1,
        contacts=1,
        contacts_per_1000=1000 / 3,
        complaints=1,
        complaints_per_10000=10000 / 3,
        repeat_contact_rate_7d=1.0,
        mean_satisfaction=2.0,
        digital_adoption=0.5,
        payments=3,
        online_payment_share=2 / 3,
    ),
    (JAN, "app"): dict(
        customers=3,
        active_customers=1,
        contacting_customers=1,
        contacts=2,
        contacts_per_1000=2000 / 3,
        complaints=0,
        complaints_per_10000=0.0,
        repeat_contact_rate_7d=0.0,
        mean_satisfaction=4.0,
        digital_adoption=0.5,
    ),
    (JAN, "wechat"): dict(
        active_customers=1,
        contacts=1,
        repeat_contact_rate_7d=0.0,
        mean_satisfaction=NAN,
    ),
    (JAN, "counter"): dict(
        active_customers=1,
        contacting_customers=1,
        contacts=2,
        complaints=1,
        complaints_per_10000=10000 / 3,
        repeat_contact_rate_7d=0.5,
        mean_satisfaction=5.0,
    ),
    (JAN, "grid_manager"): dict(
        customers=3,
        active_customers=0,
        contacting_customers=0,
        contacts=0,
        contacts_per_1000=0.0,
        complaints=0,
        repeat_contact_rate_7d=NAN,
        mean_satisfaction=NAN,
    ),
    (FEB, "hotline_95598"): dict(
        customers=3,
        active_customers=1,
        contacts=1,
        repeat_contact_rate_7d=0.0,
        mean_satisfaction=3.0,
        digital_adoption=2 / 3,
        payments=3,
        online_payment_share=1 / 3,
    ),
    (FEB, "app"): dict(
        active_customers=2,
        contacting_customers=2,
        contacts=2,
        contacts_per_1000=2000 / 3,
        repeat_contact_rate_7d=0.5,
        mean_satisfaction=5.0,
    ),
    # the repeat's previous contact (2024-01-29) lies in January
    (FEB, "wechat"): dict(contacts=1, repeat_contact_rate_7d=1.0, mean_satisfaction=NAN),
    # counter in February: no contact, but C2 and C4 paid at the counter -> active 2
    (FEB, "counter"): dict(
        active_customers=2,
        contacting_customers=0,
        contacts=0,
        contacts_per_1000=0.0,
        repeat_contact_rate_7d=NAN,
    ),
}


@pytest.mark.parametrize("key", list(BY_MONTH_CHANNEL), ids=lambda k: f"{k[0]:%m}-{k[1]}")
def test_by_month_and_channel(tiny_tables, key):
    out = channel_kpis(tiny_tables, by=("month", "channel"))
    _check(_row(out, month=key[0], channel=key[1]), BY_MONTH_CHANNEL[key])


def test_by_month(tiny_tables):
    out = channel_kpis(tiny_tables, by=("month",))
    assert list(out["month"]) == [JAN, FEB]
    # January: contacts 1-6, complaints #2 and #5, repeats #2 and #5, satisfaction 4, 2, 5;
    # active: C1 and C3 contacted, C4 paid by bank withholding -> 3
    _check(
        out.iloc[0],
        dict(
            customers=3,
            active_customers=3,
            contacting_customers=2,
            contacts=6,
            contacts_per_1000=2000.0,
            digital_adoption=0.5,
            payments=3,
            online_payment_share=2 / 3,
            complaints=2,
            complaints_per_10000=20000 / 3,
            repeat_contact_rate_7d=2 / 6,
            mean_satisfaction=11 / 3,
        ),
    )
    # February: 4 contacts, repeats #7 and #9, satisfaction 3, 5, 5
    _check(
        out.iloc[1],
        dict(
            customers=3,
            active_customers=3,
            contacting_customers=3,
            contacts=4,
            contacts_per_1000=4000 / 3,
            digital_adoption=2 / 3,
            payments=3,
            online_payment_share=1 / 3,
            complaints=0,
            complaints_per_10000=0.0,
            repeat_contact_rate_7d=0.5,
            mean_satisfaction=13 / 3,
        ),
    )


def test_by_region_whole_period(tiny_tables):
    out = channel_kpis(tiny_tables, by="region")
    assert list(out["region"]) == ["R1", "R2"]
    # R1: C1 (5 contacts, 4 online: adopted) and C2 (1 of 2: not); repeats #2, #7, #9
    _check(
        _row(out, region="R1"),
        dict(
            customers=2,
            active_customers=2,
            contacts=7,
            contacts_per_1000=3500.0,
            digital_adoption=0.5,
            payments=3,
            online_payment_share=2 / 3,
            complaints=1,
            complaints_per_10000=5000.0,
            repeat_contact_rate_7d=3 / 7,
            mean_satisfaction=3.5,
        ),
    )
    # R2: C3 (counter only: not adopted) and C4 (app: adopted)
    _check(
        _row(out, region="R2"),
        dict(
            customers=2,
            active_customers=2,
            contacts=3,
            contacts_per_1000=1500.0,
            digital_adoption=0.5,
            payments=3,
            online_payment_share=1 / 3,
            complaints=1,
            complaints_per_10000=5000.0,
            repeat_contact_rate_7d=1 / 3,
            mean_satisfaction=5.0,
        ),
    )


def test_by_month_and_customer_type(tiny_tables):
    out = channel_kpis(tiny_tables, by=("month", "customer_type"))
    _check(
        _row(out, month=JAN, customer_type="residential"),
        dict(
            customers=2,
            contacts=4,
            contacts_per_1000=2000.0,
            digital_adoption=1.0,
            online_payment_share=1.0,
            complaints_per_10000=5000.0,
        ),
    )
    _check(
        _row(out, month=JAN, customer_type="commercial"),
        dict(
            customers=1,
            contacts=2,
            digital_adoption=0.0,
            online_payment_share=0.0,
            complaints_per_10000=10000.0,
        ),
    )
    # C3 closed in January: nobody in service in February, rates undefined
    _check(
        _row(out, month=FEB, customer_type="commercial"),
        dict(customers=0, contacts=0, contacts_per_1000=NAN, digital_adoption=NAN),
    )
    assert "agricultural" not in set(out["customer_type"].astype(str))


def test_by_grid_unit_and_total(tiny_tables):
    out = channel_kpis(tiny_tables, by=("grid_unit", "channel"))
    _check(_row(out, grid_unit="G2", channel="counter"), dict(contacts=2, active_customers=2))
    total = channel_kpis(tiny_tables, by=())
    assert len(total) == 1
    _check(
        total.iloc[0],
        dict(
            customers=4,
            active_customers=4,
            contacts=10,
            contacts_per_1000=2500.0,
            digital_adoption=0.5,
            online_payment_share=0.5,
            repeat_contact_rate_7d=0.4,
            mean_satisfaction=4.0,
            complaints_per_10000=5000.0,
        ),
    )


def test_mostly_online_threshold(tiny_tables):
    # at 0.4, C2's 1 of 2 online contacts counts: February becomes 3 of 3
    out = channel_kpis(tiny_tables, by="month", mostly_online=0.4)
    assert out["digital_adoption"].tolist() == pytest.approx([0.5, 1.0])


def test_repeat_window(tiny_tables):
    # a 3-day window keeps only #2 (2 days) in January and nothing in February
    out = channel_kpis(tiny_tables, by="month", repeat_window_days=3)
    assert out["repeat_contact_rate_7d"].tolist() == pytest.approx([1 / 6, 0.0])


def test_start_end_and_no_exit(tiny_tables):
    out = channel_kpis(tiny_tables, by="month", start="2024-02-05", exit_kinds=())
    assert list(out["month"]) == [FEB]
    assert out["customers"].tolist() == [4]  # C3 no longer leaves


def test_accepts_plain_mapping(tiny_tables):
    mapping = {name: frame for name, frame in tiny_tables.items()}
    out = channel_kpis(mapping, by="month")
    # without data_end the range ends with the last contact or payment (February)
    assert out["contacts"].tolist() == [6, 4]


def test_errors(tiny_tables):
    with pytest.raises(ValueError, match="'week'"):
        channel_kpis(tiny_tables, by=("week",))
    bad = {name: frame for name, frame in tiny_tables.items()}
    bad["interactions"] = bad["interactions"].drop(columns="channel")
    with pytest.raises(DataValidationError, match="'interactions'.*'channel'"):
        channel_kpis(bad)


def test_payment_channel_mix(tiny_tables):
    out = payment_channel_mix(tiny_tables, by="month")
    jan = out[out["month"] == JAN].set_index("payment_channel")
    assert jan.loc["app", "payments"] == 1
    assert jan.loc["counter", "amount"] == 200.0
    assert jan.loc["bank_withholding", "share"] == pytest.approx(1 / 3)
    feb = out[out["month"] == FEB].set_index("payment_channel")
    assert feb.loc["counter", "share"] == pytest.approx(2 / 3)
    assert feb.loc["wechat", "payments"] == 0


def test_contact_type_mix(tiny_tables):
    out = contact_type_mix(tiny_tables, by="channel").set_index(["channel", "type"])
    assert out.loc[("app", "inquiry"), "contacts"] == 3
    assert out.loc[("app", "inquiry"), "share"] == pytest.approx(3 / 4)
    assert out.loc[("counter", "complaint"), "share"] == pytest.approx(1 / 2)
    assert np.isnan(out.loc[("grid_manager", "praise"), "share"])


def test_order_independent(tiny_tables):
    shuffled = {name: frame for name, frame in tiny_tables.items()}
    shuffled["customers"] = shuffled["customers"].iloc[::-1].reset_index(drop=True)
    shuffled["payments"] = shuffled["payments"].iloc[::-1].reset_index(drop=True)
    shuffled["interactions"] = shuffled["interactions"].iloc[::-1].reset_index(drop=True)
    a = channel_kpis(tiny_tables, by=("month", "region", "channel"), end="2024-02-29")
    b = channel_kpis(shuffled, by=("month", "region", "channel"), end="2024-02-29")
    pd.testing.assert_frame_equal(a, b)


def test_simultaneous_contacts_tie_break(tiny_tables):
    # C4 also calls the hotline at the very time of its app contact (2024-02-25 18:00):
    # hotline comes first in the contract's channel order, so the app contact is the repeat
    tables = {name: frame for name, frame in tiny_tables.items()}
    inter = tables["interactions"]
    extra = inter[inter["customer_id"] == "C4"].assign(
        channel=pd.Categorical(["hotline_95598"], categories=inter["channel"].cat.categories),
        interaction_id=pd.array(["X1"], dtype="string"),
    )
    for frame in (pd.concat([inter, extra]), pd.concat([extra, inter])):
        tables["interactions"] = frame.reset_index(drop=True)
        out = channel_kpis(tables, by=("month", "channel"))
        # February app: #9 (repeat) and C4's app contact (now a repeat) -> 2 of 2
        assert _row(out, month=FEB, channel="app")["repeat_contact_rate_7d"] == 1.0
        # February hotline: #8 (not) and C4's hotline contact (first of the pair) -> 0 of 2
        assert _row(out, month=FEB, channel="hotline_95598")["repeat_contact_rate_7d"] == 0.0


def test_repeat_rate_ties_by_channel_by_hand(tiny_tables):
    """The one repeat-contact rule: simultaneous contacts ordered by channel, then type."""
    from powerprofile.features import repeat_contact_flags
    from powerprofile.report import _kpis
    from powerprofile.schema import CHANNELS, CONTACT_TYPES

    assert _kpis.repeat_contact_flags is repeat_contact_flags  # one rule, imported
    rows = [
        ("C1", "2024-01-10 10:00", "app", "inquiry"),  # repeat: after the hotline call
        ("C1", "2024-01-10 10:00", "hotline_95598", "complaint"),  # first of the tie
        ("C1", "2024-01-10 10:00", "app", "complaint"),  # repeat: after the app inquiry
        ("C1", "2024-01-17 10:00", "wechat", "inquiry"),  # repeat: exactly 7 days
        ("C1", "2024-01-25 10:00", "counter", "inquiry"),  # 8 days: not
        ("C4", "2024-01-10 10:00", "app", "inquiry"),  # another customer: not
        ("C4", "2024-01-16 10:00", "counter", "complaint"),  # 6 days: repeat
    ]
    inter = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "type"])
    inter = inter.iloc[::-1].reset_index(drop=True)  # row order must not matter
    tables = dataclasses.replace(
        tiny_tables,
        interactions=inter.assign(
            customer_id=pd.array(inter["customer_id"], dtype="string"),
            timestamp=pd.to_datetime(inter["timestamp"]),
            channel=pd.Categorical(inter["channel"], categories=CHANNELS),
            type=pd.Categorical(inter["type"], categories=CONTACT_TYPES),
        ),
    )
    out = channel_kpis(tables, by=("channel",), start="2024-01-01", end="2024-01-31")
    got = dict(zip(out["channel"].astype(str), out["repeat_contact_rate_7d"], strict=True))
    assert got["hotline_95598"] == 0.0
    assert got["app"] == pytest.approx(2 / 3)
    assert got["wechat"] == 1.0
    assert got["counter"] == pytest.approx(1 / 2)
    assert np.isnan(got["grid_manager"])


def test_aggregates_from_counts_summed_elsewhere_equal_the_kpis_of_the_whole(tiny_tables):
    """Per-part counts summed outside the class (as a Spark groupBy does) give the KPIs."""
    from powerprofile.report import REPORT_GROUPINGS, KpiAggregates

    t = tiny_tables
    kw = {"start": JAN, "end": t.data_end, "data_end": t.data_end}
    parts = []
    for ids in (["C1", "C4"], ["C2", "C3"]):
        tables = {
            n: getattr(t, n)[getattr(t, n)["customer_id"].isin(ids)].reset_index(drop=True)
            for n in ("customers", "interactions", "payments", "events")
        }
        agg = KpiAggregates(REPORT_GROUPINGS, customers=tables["customers"], **kw)
        agg.add(tables)
        parts.append(agg)

    def summed(frames, keys):
        df = pd.concat(frames, ignore_index=True)
        return df.groupby(list(keys), observed=True).sum().reset_index()

    counts = {by: summed([a.counts(by) for a in parts], by) for by in REPORT_GROUPINGS}
    pay = summed([a.payment_counts() for a in parts], ("month", "payment_channel"))
    pay["payment_channel"] = pay["payment_channel"].astype(str)  # as Spark hands it back
    whole = KpiAggregates.from_counts(counts, pay, customers=t.customers, **kw)
    for by in REPORT_GROUPINGS:
        pd.testing.assert_frame_equal(channel_kpis(whole, by=by), channel_kpis(t, by=by))
    pd.testing.assert_frame_equal(payment_channel_mix(whole), payment_channel_mix(t))
    with pytest.raises(ValueError, match="were not counted"):
        whole.counts(("channel",))
