"""The segment profile written for people is rounded, and only rounded."""

import dataclasses
import re
import warnings

import numpy as np

from powerprofile.config import Config
from powerprofile.datasets import make_utility_data
from powerprofile.pipeline import build_feature_frames, segment_customers


def test_segment_profile_rounded_for_reading(tmp_path):
    tables, _ = make_utility_data(200, "2024-01-01", "2024-12-31", seed=2)
    cfg = Config()
    cfg = dataclasses.replace(
        cfg, features=dataclasses.replace(cfg.features, windows=[30, 90], n_training_snapshots=1)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, score = build_feature_frames(cfg, tables, training=False)
    seg, _labels, profile = segment_customers(cfg, score)
    exact = seg.profile(score)  # what the segmenter computes, unrounded
    assert list(profile.columns) == list(exact.columns)
    path = tmp_path / "segment_profile.csv"
    profile.to_csv(path)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{5,}", text), text[:500]
    for col in exact.columns:
        if exact[col].dtype.kind != "f":
            assert (profile[col] == exact[col]).all()
            continue
        a, b = profile[col].to_numpy(float), exact[col].to_numpy(float)
        if col.startswith("median_"):  # 4 significant digits
            assert np.allclose(a, b, rtol=5e-4, atol=0, equal_nan=True), col
        else:  # shares and rates: 4 decimals
            assert np.allclose(a, b, rtol=0, atol=5e-5, equal_nan=True), col
    assert (profile["share"] == exact["share"].round(4)).all()
