"""The catalogue covers every feature, its templates format, and docs/features.md is current."""

from pathlib import Path

import pandas as pd
import pytest
from feature_tables import random_tables

import powerprofile.features as features_pkg
from powerprofile.features import build_features, feature_catalog
from powerprofile.features.catalog_doc import main, render_catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


@pytest.mark.parametrize("windows", [(30, 90, 180, 365), (7, 60)])
def test_catalog_names_are_exactly_the_features(windows):
    f = build_features(random_tables(3), "2025-06-01", windows=windows)
    cat = feature_catalog(windows)
    assert cat["name"].is_unique
    assert set(cat["name"]) == set(f.columns)
    assert list(cat.columns) == [
        "name",
        "description_en",
        "description_zh",
        "source",
        "window_days",
        "unit",
        "template_en",
        "template_zh",
    ]


def test_templates_are_readable_phrases():
    cat = feature_catalog().set_index("name")
    assert (
        cat.loc["complaints_90d", "template_en"].format(value=3)
        == "3 complaints in the last 90 days"
    )
    assert cat.loc["complaints_90d", "template_zh"].format(value=3) == "近90天投诉3次"
    for name, row in cat.iterrows():
        value = (
            "residential"
            if row["unit"] == "category"
            else (True if row["unit"] == "bool" else 0.25)
        )
        assert "{value" in row["template_en"] and "{value" in row["template_zh"], name
        assert row["template_en"].format(value=value) and row["template_zh"].format(value=value)
        assert row["description_zh"] and row["description_en"]
    assert cat.loc["kwh_mean_90d", "window_days"] == 90
    assert pd.isna(cat.loc["tenure_days", "window_days"])


def test_docs_features_md_is_current():
    assert DOC.exists(), "run: python -m powerprofile.features.catalog_doc docs/features.md"
    assert DOC.read_text(encoding="utf-8") == render_catalog(), (
        "docs/features.md is stale; regenerate it with `make docs` "
        "(python -m powerprofile.features.catalog_doc docs/features.md)"
    )


def test_catalog_doc_command_writes_the_file(tmp_path):
    target = tmp_path / "features.md"
    assert main([str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert "`complaints_90d`" in text and "近90天投诉次数" in text


def test_public_names_are_complete():
    public = {n for n in dir(features_pkg) if not n.startswith("_")}
    modules = {n for n in public if getattr(features_pkg, n).__class__.__name__ == "module"}
    assert set(features_pkg.__all__) == public - modules
