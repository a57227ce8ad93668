"""The report's channel KPIs as a Spark aggregation equal the single-machine KPIs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from powerprofile.report import REPORT_GROUPINGS, channel_kpis, payment_channel_mix
from powerprofile.schema import load_tables
from powerprofile.spark import spark_kpis

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
COUNTS = ("customers", "active_customers", "contacting_customers", "contacts", "payments")


def test_spark_kpis_equal_the_single_machine_kpis(spark, tmp_path):
    from powerprofile.config import load_config
    from powerprofile.pipeline._stream import read_customers

    cfg_file = tmp_path / "job.yaml"
    cfg_file.write_text(
        f"extends: {ROOT / 'configs' / 'default.yaml'}\ndata:\n  path: {SAMPLE}\n",
        encoding="utf-8",
    )
    cfg = load_config(cfg_file)
    tables = load_tables(SAMPLE)
    # two months before the first contact: counted again from the first active month
    start = "2023-11-01"
    assert json.loads((SAMPLE / "dataset.json").read_text())["data_start"] > start
    agg = spark_kpis(spark, cfg, read_customers(cfg), data_start=start, data_end=tables.data_end)
    for by in REPORT_GROUPINGS:
        want, got = channel_kpis(tables, by=by), channel_kpis(agg, by=by)
        assert list(got.columns) == list(want.columns)
        rates = [c for c in want.columns if pd.api.types.is_float_dtype(want[c])]
        assert not set(rates) & set(COUNTS)
        pd.testing.assert_frame_equal(got.drop(columns=rates), want.drop(columns=rates))
        for c in rates:
            np.testing.assert_allclose(got[c], want[c], rtol=1e-12, atol=0, err_msg=f"{by} {c}")
    want, got = payment_channel_mix(tables), payment_channel_mix(agg)
    pd.testing.assert_frame_equal(got.drop(columns="amount"), want.drop(columns="amount"))
    np.testing.assert_allclose(got["amount"], want["amount"], rtol=1e-12)
    rows = dict(agg.items())
    assert {k: len(v) for k, v in rows.items()} == {
        "customers": len(tables.customers),
        "interactions": len(tables.interactions),
        "payments": len(tables.payments),
        "events": len(tables.events),
    }
