"""The Spark session of a job: loopback-only for local masters, workers on this Python."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings

from ..exceptions import ConfigError

__all__ = ["LOOPBACK", "java_runtime", "local_defaults", "spark_session"]

log = logging.getLogger("powerprofile")

LOOPBACK = "127.0.0.1"

JAVA_HINT = (
    "install a Java 17+ runtime (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) "
    "or set JAVA_HOME to one"
)
"""How to get the Java runtime Spark needs (said by every message about a missing one)."""


def java_runtime() -> str | None:
    """The ``java`` executable Spark would start (``JAVA_HOME`` first, then ``PATH``), or None."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = os.path.join(home, "bin", "java")
        if os.access(exe, os.X_OK):
            return exe
    return shutil.which("java")


def is_local(master) -> bool:
    """Whether a master runs its executors on the driver's machine.

    ``local``, ``local[N]``, ``local[*]``, ``local[N,F]`` and ``local-cluster[...]``;
    not ``yarn``, ``k8s://...`` or ``spark://...``.
    """
    return str(master or "").startswith("local")


def local_defaults(master: str) -> dict[str, str]:
    """Spark properties set for a ``local`` master unless the config sets them.

    The driver binds and advertises the loopback address only and the web UI is off:
    a job on one machine opens no port beyond it.
    """
    if not is_local(master):
        return {}
    return {
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }


def spark_session(master: str = "local[*]", conf: dict | None = None, app_name="powerprofile"):
    """A Spark session for the job: the active one when there is one, else a new one.

    Parameters
    ----------
    master : str, default="local[*]"
        Spark master URL. Ignored when a session is already active (a notebook's
        ``spark``), which is returned as it is, and under ``spark-submit``, whose
        master and properties stand (``conf`` is added to them).
    conf : dict, optional
        Extra Spark properties, over :func:`local_defaults`.
    app_name : str, default="powerprofile"

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    ConfigError
        PySpark is not installed, or no Java runtime is found.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "engine 'spark' needs PySpark, which is not installed; "
            "install it with `pip install 'powerprofile[spark]'` or set engine: local"
        ) from exc
    # pandas 3 is what this library runs on; the tests of this package prove the
    # pandas <-> Arrow conversions it uses, so PySpark's general caution is not repeated
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if java_runtime() is None:
        raise ConfigError(f"engine 'spark' needs a Java runtime and none was found; {JAVA_HINT}")
    # under spark-submit the JVM is already up with the submitted master and properties
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if not submitted:  # Python workers run this interpreter (its packages, this powerprofile)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    defaults = {} if submitted else local_defaults(master)
    props = {**defaults, **{str(k): str(v) for k, v in (conf or {}).items()}}
    if defaults:
        os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
    builder = SparkSession.builder.appName(app_name)
    if not submitted:
        builder = builder.master(master)
    for k, v in props.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    log.info("spark session on %s (Spark %s)", master, spark.version)
    return spark
