"""The feature outputs follow the configured windows."""

import pandas as pd

from powerprofile.pipeline import OutputPaths, write_feature_outputs


def test_catalogue_written_for_the_configured_windows(tmp_path):
    paths = OutputPaths(tmp_path)
    write_feature_outputs(paths, None, None, windows=[30, 90])
    names = set(pd.read_csv(paths.catalog, encoding="utf-8-sig")["name"])
    assert "complaints_90d" in names and "complaints_30d" in names
    assert not any(n.endswith("_365d") or n.endswith("_180d") for n in names)
