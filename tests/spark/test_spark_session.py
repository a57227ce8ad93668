"""The session binds to loopback only; the engine refuses what it cannot run, by name."""

import json
import shutil
from pathlib import Path

import pytest

from powerprofile.config import load_config
from powerprofile.exceptions import ConfigError
from powerprofile.spark._session import local_defaults

ROOT = Path(__file__).resolve().parents[2]


def test_local_masters_bind_loopback_with_the_ui_off():
    d = local_defaults("local[2]")
    assert d["spark.driver.bindAddress"] == "127.0.0.1"
    assert d["spark.driver.host"] == "127.0.0.1"
    assert d["spark.ui.enabled"] == "false"
    assert local_defaults("yarn") == {}  # a cluster's own settings stand


def test_the_test_session_runs_on_loopback_and_this_python(spark):
    import os
    import sys

    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    # a task reports the interpreter it runs on
    (exe,) = spark.range(1).rdd.map(lambda _: __import__("sys").executable).collect()
    assert exe == sys.executable


def test_engine_and_spark_keys_are_typed_config():
    cfg = load_config(
        None, [("engine", "spark"), ("spark.master", "local[2]"), ("spark.conf", {"a.b": "1"})]
    )
    assert (cfg.engine, cfg.spark.master, cfg.spark.conf) == ("spark", "local[2]", {"a.b": "1"})
    with pytest.raises(ConfigError, match="engine"):
        load_config(None, [("engine", "dask")])


def test_spark_engine_refuses_an_unpartitioned_folder(tmp_path, capfd):
    from powerprofile.cli import main

    data = tmp_path / "flat"
    shutil.copytree(ROOT / "data" / "sample", data, ignore=shutil.ignore_patterns("truth"))
    info = json.loads((data / "dataset.json").read_text())
    info.pop("n_partitions")
    (data / "dataset.json").write_text(json.dumps(info))
    code = main(
        ["run", "--data", str(data), "--out", str(tmp_path / "out"), "--engine", "spark",
         "--no-tracking", "-q"]
    )  # fmt: skip
    assert code == 2  # a configuration error, before any work
    err = capfd.readouterr().err
    assert "engine 'spark' needs a partitioned data-set folder" in err
    assert "n_partitions" in err and "engine: local" in err
    assert not (tmp_path / "out" / "portraits").exists()
