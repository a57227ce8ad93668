"""The data contract read from Spark DataFrames: laid out by partition, validated in tasks."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from powerprofile.exceptions import DataValidationError
from powerprofile.schema import load_tables
from powerprofile.schema import validate_folder as validate_here
from powerprofile.spark import stage_tables

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
NAMES = ("customers", "outages", "usage", "bills", "payments", "interactions", "events")


def _frames(spark, folder):
    def where(name):
        whole = folder / f"{name}.parquet"
        return str(whole if whole.exists() else folder / name)

    return {n: spark.read.parquet(where(n)) for n in NAMES}


@pytest.fixture(scope="module")
def staged(spark, tmp_path_factory):
    out = tmp_path_factory.mktemp("staged") / "data"
    folder, report = stage_tables(spark, _frames(spark, SAMPLE), out, 2, data_end="2025-12-31")
    return folder, report


def test_dataframes_are_laid_out_as_the_partitioned_folder(staged):
    folder, report = staged
    assert folder.name == "data" and len(report) == 0
    got, want = load_tables(folder), load_tables(SAMPLE)
    assert got.data_end == want.data_end
    for name in NAMES:
        g, w = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(g[list(w.columns)], w, check_like=False, obj=name)
    # each part holds the rows of the sample's own part, in its order (Spark's own
    # types: the reader converts them as it converts any Parquet file's)
    for name, time in (("usage", "date"), ("interactions", "interaction_id")):
        for p in (0, 1):
            part = f"{name}/part-{p:05d}.parquet"
            cols = ["customer_id", time]
            g = pq.read_table(folder / part, columns=cols).to_pandas().astype(str)
            w = pq.read_table(SAMPLE / part, columns=cols).to_pandas().astype(str)
            pd.testing.assert_frame_equal(g, w, obj=part)


def test_a_defect_in_a_dataframe_gives_the_readers_error(spark, sample_copy, tmp_path):
    from pyspark.sql import functions as F

    copy = sample_copy("defect-frames")
    f = copy / "usage" / "part-00001.parquet"
    df = pq.read_table(f).to_pandas()
    row = df.iloc[17]
    df.loc[17, "kwh"] = -5.0
    pq.write_table(pq.read_table(f).from_pandas(df, preserve_index=False), f)
    with pytest.raises(DataValidationError) as single:
        validate_here(copy)

    frames = {n: f for n, f in _frames(spark, SAMPLE).items() if n in ("customers", "usage")}
    hit = (F.col("customer_id") == row["customer_id"]) & (F.col("date") == row["date"].date())
    frames["usage"] = frames["usage"].withColumn(
        "kwh", F.when(hit, F.lit(-5.0)).otherwise(F.col("kwh"))
    )
    out = tmp_path / "data"
    with pytest.raises(DataValidationError) as on_spark:
        stage_tables(spark, frames, out, 2, data_end="2025-12-31")
    # the same named error (table, column, part file, row, customer), in its own folder
    assert str(on_spark.value).replace(str(out), "<data>") == str(single.value).replace(
        str(copy), "<data>"
    )
    assert row["customer_id"] in str(on_spark.value) and "part-00001" in str(on_spark.value)
