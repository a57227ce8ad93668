"""Fixtures of the feature tests; the table builders live in ``feature_tables.py``."""

from __future__ import annotations

import numpy as np
import pytest
from feature_tables import daily_usage, interactions_frame, make_tables, usage_frame


@pytest.fixture
def small_tables():
    """Four customers with a bit of everything, snapshot 2025-07-01."""
    rng = np.random.default_rng(0)
    rows = []
    rows += daily_usage("C1", "2024-01-01", list(rng.gamma(5, 2, 547)))
    rows += daily_usage("C2", "2025-04-01", [3.0] * 91)
    rows += daily_usage("C3", "2024-06-01", [float(v) for v in rng.integers(0, 3, 400)])
    usage = usage_frame(rows)
    inter = interactions_frame(
        [
            ("C1", "2025-06-20 10:00", "app", "complaint", 2.0),
            ("C1", "2025-06-25 09:00", "hotline_95598", "inquiry"),
            ("C2", "2025-05-01 12:00", "wechat", "outage_report", 4.0),
            ("C3", "2025-06-30 23:00", "counter", "complaint"),
            ("C3", "2025-07-02 10:00", "counter", "complaint"),
            ("C4", "2025-01-10 08:00", "grid_manager", "praise", 5.0),
        ]
    )
    return make_tables(usage=usage, interactions=inter)
