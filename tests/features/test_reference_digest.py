"""The feature values on the committed sample are pinned by digests taken before any
speed work on the engine: a faster read or build must give the very same frame.

The digest covers the index (customer ids, snapshot dates), every column's name and
dtype, and every value bit for bit (NaN counted as one value), so any change of a
single feature value, a dtype, a column's order or a row fails the test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerprofile.features import build_features, build_training_frame, leakage_report
from powerprofile.schema import load_tables

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

# sha256 of frame_digest(...) on data/sample, recorded with the engine before it was
# made faster (commit 715eba3)
DIGESTS = {
    "scoring-2026-01-01": "37e5095db764927e7b68b3707d695a56cf54c5f193ffebbc1992b9d5639fcfbd",
    "features-2025-03-15": "cb12b14b0b22e07a7441d78c8130d1611dd36262a9a51b4ec2afcd4886ad5014",
    "training-2": "ef46f6e015a3059262eaa0b8644d267ef3667f90b7bb8b1a9939ec662e0f5f28",
}


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 over the index, column names, dtypes and values (bitwise; NaN as one value)."""
    h = hashlib.sha256()
    ids = frame.index.get_level_values("customer_id").astype(str)
    h.update("\n".join(ids).encode())
    h.update(frame.index.get_level_values("snapshot_date").asi8.tobytes())
    for name in frame.columns:
        col = frame[name]
        h.update(f"|{name}:{col.dtype}|".encode())
        if isinstance(col.dtype, pd.CategoricalDtype):
            h.update("\n".join(map(str, col.cat.categories)).encode())
            h.update(col.cat.codes.to_numpy().tobytes())
            continue
        v = col.to_numpy()
        if v.dtype.kind == "f":
            v = np.where(np.isnan(v), np.array(-12345.0, dtype=v.dtype), v)
        h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def frames():
    return {
        "scoring-2026-01-01": build_features(SAMPLE, "2026-01-01"),
        "features-2025-03-15": build_features(SAMPLE, "2025-03-15"),
        "training-2": build_training_frame(
            SAMPLE,
            ["2025-01-01", "2025-07-01"],
            90,
            churn_usage_collapse=True,
        ),
    }


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_folder_route_matches_the_recorded_digest(frames, name):
    assert frame_digest(frames[name]) == DIGESTS[name]


def test_in_memory_route_matches_the_recorded_digest():
    tables = load_tables(SAMPLE)
    frame = build_features(tables, "2025-03-15")
    assert frame_digest(frame) == DIGESTS["features-2025-03-15"]


def test_leakage_report_unchanged(frames):
    rep = leakage_report(frames["training-2"]).set_index(["snapshot_date", "table"])
    usage = rep.xs("usage", level="table")
    # recorded with the engine before it was made faster
    assert usage["rows_used"].tolist() == [664260, 1006179]
    assert usage["latest_time_used"].tolist() == [
        pd.Timestamp("2024-12-30"),
        pd.Timestamp("2025-06-29"),
    ]
    assert usage["latest_recorded_at_used"].tolist() == [
        pd.Timestamp("2024-12-31 02:00"),
        pd.Timestamp("2025-06-30 02:00"),
    ]
    assert rep["ok"].all()
