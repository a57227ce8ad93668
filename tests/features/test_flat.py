"""Generic labels (``event_label``) and one-snapshot flat frames (``flat_frame``)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerprofile.features import event_features, event_label, flat_frame

T = pd.Timestamp("2025-03-01")
MAP = {"id": "user", "time": "at"}


def _events(rows) -> pd.DataFrame:
    user, at, kind = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user": pd.Series(user, dtype="string"),
            "at": pd.to_datetime(list(at)),
            "kind": pd.Series(kind, dtype="string"),
        }
    )


EV = _events(
    [
        ("at_t", "2025-03-01 00:00:00", "closure"),  # exactly the snapshot: a label input
        ("before", "2025-02-28 23:59:59", "closure"),  # known at T: a feature, not a label
        ("last_day", "2025-03-30 23:59:59", "closure"),  # last second of [T, T + 30 days)
        ("at_end", "2025-03-31 00:00:00", "closure"),  # T + 30 days: outside the horizon
        ("other", "2025-03-10 00:00:00", "inquiry"),
    ]
)


def test_event_label_uses_only_the_horizon_after_the_snapshot():
    y = event_label(EV, T, 30, MAP).droplevel("snapshot_date")
    assert y.dtype == np.int8 and y.name == "label"
    assert y.to_dict() == {"at_end": 0, "at_t": 1, "before": 0, "last_day": 1, "other": 1}


def test_the_event_at_the_snapshot_is_a_label_and_never_a_feature():
    x = event_features(EV, T, MAP, windows=(30,), prefix="ev")
    y = event_label(EV, T, 30, MAP)
    assert x.loc[("at_t", T), "ev_count_30d"] == 0 and y.loc[("at_t", T)] == 1
    assert x.loc[("before", T), "ev_count_30d"] == 1 and y.loc[("before", T)] == 0


def test_event_label_where_as_expression_mask_or_function():
    expected = {"at_end": 0, "at_t": 1, "before": 0, "last_day": 1, "other": 0}
    for where in (
        "kind == 'closure'",
        (EV["kind"] == "closure").to_numpy(),
        EV["kind"] == "closure",
        lambda t: t["kind"] == "closure",
    ):
        y = event_label(EV, T, 30, MAP, where=where).droplevel("snapshot_date")
        assert y.to_dict() == expected
    with pytest.raises(ValueError, match="where must be an expression"):
        event_label(EV, T, 30, MAP, where=[True, False])
    with pytest.raises(ValueError, match="unknown|not a column|colour"):
        event_label(EV, T, 30, MAP, where="colour == 'red'")


def test_event_label_calendar_horizon_and_customers():
    ev = _events([("a", "2024-02-29 12:00", "x"), ("b", "2024-03-01 00:00", "x")])
    y = event_label(ev, "2024-02-01", "1m", MAP, customers=["a", "b", "c"], name="y")
    # one calendar month from 2024-02-01 is [02-01, 03-01): 29 February is in, 1 March out
    assert y.droplevel("snapshot_date").to_dict() == {"a": 1, "b": 0, "c": 0}
    two = event_label(ev, ["2024-02-01", "2024-02-15"], 15, MAP)
    assert two.loc[("a", pd.Timestamp("2024-02-15"))] == 1
    assert two.loc[("a", pd.Timestamp("2024-02-01"))] == 0  # [02-01, 02-16)


def test_event_label_bad_input():
    with pytest.raises(ValueError, match="needs the key 'time'"):
        event_label(EV, T, 30, {"id": "user"})
    with pytest.raises(ValueError, match="window '30 days' is not a window"):
        event_label(EV, T, "30 days", MAP)
    with pytest.raises(ValueError, match="horizon must be one span"):
        event_label(EV, T, (30, 60), MAP)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(-20 * 24, 40 * 24)), max_size=30),
    st.integers(1, 30),
)
def test_event_label_matches_a_hand_computation(rows, horizon):
    ev = pd.DataFrame(
        {
            "user": pd.Series([r[0] for r in rows], dtype="string"),
            "at": T + pd.to_timedelta([r[1] for r in rows], unit="h"),
        }
    )
    y = event_label(ev, T, horizon, MAP, customers=list("abc"))
    end = T + pd.Timedelta(days=horizon)
    for u in "abc":
        t = ev.loc[ev["user"] == u, "at"]
        assert y.loc[(u, T)] == int(((t >= T) & (t < end)).any())


def test_flat_frame_gives_one_row_per_id_for_one_snapshot():
    ev = _events(
        [
            ("a", "2025-01-05", "x"),
            ("a", "2025-03-02", "x"),
            ("b", "2025-02-20", "x"),
            ("b", "2025-02-21", "x"),
        ]
    )
    snaps = ["2025-02-01", "2025-03-01"]
    x = event_features(ev, snaps, MAP, windows=(30,), prefix="ev")
    y = event_label(ev, snaps, 30, MAP, name="churn")
    flat = flat_frame(x[["ev_count_30d", "ev_active_days_30d"]], y, snapshot="2025-03-01")
    assert flat.index.name == "user" and list(flat.index) == ["a", "b"]
    assert flat.loc["a"].to_dict() == {"ev_count_30d": 0, "ev_active_days_30d": 0, "churn": 1}
    assert flat.loc["b"].to_dict() == {"ev_count_30d": 2, "ev_active_days_30d": 2, "churn": 0}
    one = flat_frame(event_features(ev, "2025-03-01", MAP, windows=(30,), prefix="ev"))
    assert len(one) == 2 and "snapshot_date" not in one.index.names


def test_flat_frame_bad_input():
    ev = _events([("a", "2025-01-05", "x")])
    x = event_features(ev, ["2025-02-01", "2025-03-01"], MAP, windows=(30,), prefix="ev")
    with pytest.raises(ValueError, match=r"hold 2 snapshots .*pass snapshot="):
        flat_frame(x)
    with pytest.raises(ValueError, match="snapshot '2025-04-01' is not in the frames"):
        flat_frame(x, snapshot="2025-04-01")
    with pytest.raises(ValueError, match=r"columns \['ev_count_30d'\] appear in several"):
        flat_frame(x, x[["ev_count_30d"]], snapshot="2025-03-01")
    with pytest.raises(ValueError, match="indexed by"):
        flat_frame(x.reset_index("snapshot_date"))
    with pytest.raises(ValueError, match="at least one frame"):
        flat_frame()
