"""Fixtures of the schema tests: a small clean data set built by hand."""

from __future__ import annotations

import pytest
from schema_data import clean_frames


@pytest.fixture
def clean():
    """A fresh copy of the hand-built clean data set."""
    return clean_frames()
