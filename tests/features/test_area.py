"""Area features: neighbours' complaint rate (excluding the customer) and outages."""

import numpy as np
import pandas as pd
import pytest
from feature_tables import _dt, events_frame, interactions_frame, make_tables

from powerprofile.features import area_partial, build_features, combine_area_partials

T = pd.Timestamp("2025-07-01")
# conftest customers: C1, C2, C3 in transformer area A1 (grid G1); C4 alone in A2 (grid G2)
INTER = interactions_frame(
    [
        ("C1", "2025-06-20 10:00", "app", "complaint"),
        ("C3", "2025-06-30 23:00", "counter", "complaint"),
        (
            "C3",
            "2025-06-29 23:00",
            "counter",
            "complaint",
        ),  # a second complaint: still one complainer
        ("C4", "2025-06-10 10:00", "counter", "complaint"),
    ]
)


def outages():
    return pd.DataFrame(
        {
            "outage_id": pd.Series(["o1", "o2", "o3", "o4", "o5"], dtype="string"),
            "transformer_area": pd.Series(["A1", "A1", "A1", "A1", "A9"], dtype="string"),
            "start": _dt(
                [
                    "2025-06-10 08:00",
                    "2025-06-30 22:00",
                    "2025-07-01 05:00",
                    "2025-02-01 10:00",
                    "2025-06-01 00:00",
                ]
            ),
            "end": _dt(
                [
                    "2025-06-10 10:00",
                    "2025-07-01 02:00",
                    "2025-07-01 06:00",
                    "2025-02-01 11:00",
                    "2025-06-02 00:00",
                ]
            ),
            "planned": np.array([False, True, False, True, False]),
        }
    )


def at(f, cid, col):
    return float(f.loc[(cid, T), col])


def test_neighbour_complaint_rate_excludes_the_customer():
    f = build_features(make_tables(interactions=INTER, outages=outages()), T)
    assert at(f, "C1", "neighbour_complaint_rate_30d") == pytest.approx(1 / 2)  # C2 no, C3 yes
    assert at(f, "C2", "neighbour_complaint_rate_30d") == pytest.approx(2 / 2)
    assert at(f, "C3", "neighbour_complaint_rate_30d") == pytest.approx(1 / 2)
    assert np.isnan(at(f, "C4", "neighbour_complaint_rate_30d"))  # no neighbours
    assert at(f, "C2", "grid_complaint_rate_30d") == pytest.approx(1.0)
    assert np.isnan(at(f, "C4", "grid_complaint_rate_30d"))


def test_churned_neighbours_do_not_count():
    ev = events_frame([("C2", "2025-05-01", "closure")])
    f = build_features(make_tables(interactions=INTER, events=ev), T)
    assert ("C2", T) not in f.index
    assert at(f, "C1", "neighbour_complaint_rate_30d") == pytest.approx(1.0)  # only C3 left


def test_outages_counted_until_the_snapshot():
    f = build_features(make_tables(outages=outages()), T)
    assert at(f, "C1", "outage_count_30d") == 2
    assert at(f, "C1", "outage_minutes_30d") == pytest.approx(120 + 120)  # o2 capped at T
    assert at(f, "C1", "planned_outages_30d") == 1 and at(f, "C1", "unplanned_outages_30d") == 1
    assert at(f, "C1", "outage_count_180d") == 3
    assert at(f, "C1", "outage_minutes_180d") == pytest.approx(300)
    assert at(f, "C1", "days_since_last_outage") == pytest.approx(2 / 24, rel=1e-5)
    assert at(f, "C4", "outage_count_365d") == 0
    assert np.isnan(at(f, "C4", "days_since_last_outage"))


def test_area_partials_add_up_over_any_split():
    t = make_tables(interactions=INTER)
    sd = np.array([T.value // 86_400_000_000_000])
    whole = combine_area_partials(
        [area_partial(t.customers, t.interactions, t.events, sd, (30,), ("closure",))]
    )
    halves = [
        area_partial(t.customers.iloc[i::2], t.interactions, t.events, sd, (30,), ("closure",))
        for i in range(2)
    ]
    pd.testing.assert_frame_equal(whole, combine_area_partials(halves))
    a1 = whole[(whole["level"] == "transformer_area") & (whole["area"] == "A1")].iloc[0]
    assert a1["n_active"] == 3 and a1["complainers_30d"] == 2
