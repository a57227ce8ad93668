"""Feature frames save to Parquet, Feather and CSV like pandas frames and load back equal."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feature_tables import random_tables
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from powerprofile.exceptions import FeatureMismatchError
from powerprofile.features import (
    build_features,
    build_training_frame,
    leakage_report,
    partition_features,
    restore_dtypes,
)

SNAPSHOTS = ["2025-01-01", "2025-03-15", "2025-06-01"]


def _frame(kind, seed, snaps, windows):
    t = random_tables(seed, n_customers=8)
    if kind == "features":
        return build_features(t, snaps, windows=windows)
    if kind == "training":
        return build_training_frame(t, snaps, 60, windows=windows)
    return partition_features(t.__dict__, snaps)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["features", "training", "partition"]),
    seed=st.integers(0, 10_000),
    snaps=st.lists(st.sampled_from(SNAPSHOTS), min_size=1, max_size=3, unique=True),
    windows=st.sampled_from([(30,), (30, 90), (30, 90, 180, 365)]),
)
def test_library_frames_round_trip_through_files(kind, seed, snaps, windows):
    frame = _frame(kind, seed, sorted(snaps), windows)
    # what the library promises about its frames, so the round trip covers every kind
    dtypes = set(map(str, frame.dtypes))
    assert {"float32", "category", "bool"} <= dtypes
    assert frame.isna().to_numpy().any()
    report = leakage_report(frame)
    assert json.loads(json.dumps(frame.attrs)) == frame.attrs  # plain values only
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame.to_parquet(tmp / "f.parquet")
        frame.to_feather(tmp / "f.feather")
        frame.to_csv(tmp / "f.csv")
        for back in (pd.read_parquet(tmp / "f.parquet"), pd.read_feather(tmp / "f.feather")):
            # exact: values, column dtypes (categories included), index values; and the
            # leakage report comes back with the frame
            pd.testing.assert_frame_equal(back, frame, check_exact=True, check_index_type=False)
            assert back.dtypes.equals(frame.dtypes)
            pd.testing.assert_frame_equal(leakage_report(back), report)
            # pyarrow gives a text index level back as pandas' default ``str``, a
            # StringDtype like the frame's ``string``; restore_dtypes makes it identical
            assert isinstance(back.index.dtypes["customer_id"], pd.StringDtype)
            assert back.index.dtypes["snapshot_date"] == frame.index.dtypes["snapshot_date"]
            exact = restore_dtypes(back, like=frame.head(0))
            pd.testing.assert_frame_equal(exact, frame, check_exact=True)
            assert exact.index.dtypes.equals(frame.index.dtypes)
        text = pd.read_csv(tmp / "f.csv")
        back = restore_dtypes(text, like=frame.head(0))
        pd.testing.assert_frame_equal(back, frame, check_exact=True)
        assert back.index.dtypes.equals(frame.index.dtypes)
        with pytest.raises(ValueError, match="carries no leakage report"):
            leakage_report(text)


def test_leakage_report_values_survive_the_attrs_form():
    frame = build_training_frame(random_tables(3, n_customers=8), SNAPSHOTS, 60)
    report = leakage_report(frame)
    # the same report as computed from the data, typed as documented
    pd.testing.assert_frame_equal(
        report, leakage_report(random_tables(3, n_customers=8), SNAPSHOTS)
    )
    assert list(report.columns) == [
        "snapshot_date",
        "table",
        "rows_used",
        "latest_time_used",
        "latest_recorded_at_used",
        "ok",
    ]
    assert report["snapshot_date"].dtype == "datetime64[ns]"
    assert report["rows_used"].dtype == np.int64 and report["ok"].dtype == bool
    assert len(report) == len(SNAPSHOTS) * 6  # six source tables per snapshot


def test_restore_dtypes_names_the_difference():
    frame = build_features(random_tables(5, n_customers=6), SNAPSHOTS[-1], windows=(30,))
    text = frame.drop(columns="tenure_days").reset_index().assign(extra=1)
    with pytest.raises(FeatureMismatchError, match=r"\['tenure_days'\].*\['extra'\]"):
        restore_dtypes(text, like=frame)


def test_leakage_report_of_tables_needs_snapshots():
    with pytest.raises(ValueError, match="needs the snapshot dates"):
        leakage_report(random_tables(5, n_customers=6))
