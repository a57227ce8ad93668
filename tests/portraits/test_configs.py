"""The shipped rule files use real feature names and evaluate on a frame of every type."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerprofile.features import feature_catalog
from powerprofile.portraits import load_rules

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def catalog():
    return feature_catalog()


@pytest.fixture(scope="module")
def frame(catalog):
    """One column per catalogue feature, of the catalogue's kind, with some gaps."""
    rng = np.random.default_rng(0)
    n = 50
    cols = {}
    for name, unit in zip(catalog["name"], catalog["unit"], strict=True):
        if unit == "category":
            cols[name] = pd.Categorical(rng.choice(["residential", "commercial", "x"], n))
        elif unit == "bool":
            cols[name] = rng.random(n) < 0.5
        else:
            v = rng.gamma(1.0, 1.0, n)
            v[rng.random(n) < 0.1] = np.nan
            cols[name] = v
    return pd.DataFrame(cols)


@pytest.mark.parametrize(("file", "kind"), [("tags.yaml", "tags"), ("risk_rules.yaml", "risk")])
def test_shipped_rules_reference_catalogue_features(catalog, frame, file, kind):
    rules = load_rules(CONFIGS / file, features=catalog["name"])
    assert rules.kind == kind and len(rules) >= 5
    hits = rules.evaluate(frame)
    assert list(hits.columns) == list(rules.names) and hits.dtypes.eq(bool).all()
    for r in rules:
        assert r.label_en and r.label_zh
        if kind == "risk":
            assert r.severity in ("low", "medium", "high") and r.reason_en and r.reason_zh


def test_all_is_complete():
    import powerprofile.portraits as portraits
    import powerprofile.segmentation as segmentation

    for mod in (portraits, segmentation):
        public = {n for n in vars(mod) if not n.startswith("_")} - {"annotations"}
        public = {n for n in public if not isinstance(getattr(mod, n), type(mod))}  # submodules
        assert public == set(mod.__all__), mod.__name__
        for n in mod.__all__:
            assert hasattr(mod, n)
