"""One Spark session (``local[2]``, loopback only) for every test of the Spark engine.

Its Spark logs (INFO and up) go to a file and its event log is on, so that tests can
scan both for secrets. The tests are skipped only when no Java runtime exists.
"""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

_LOG4J = """\
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d %p %c: %m%n
"""


@pytest.fixture(scope="session")
def spark_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    (root / "events").mkdir()
    return {"root": root, "log": root / "spark.log", "events": root / "events"}


@pytest.fixture(scope="session")
def spark(spark_dirs):
    from powerprofile.spark import java_runtime, spark_session
    from powerprofile.spark._session import JAVA_HINT

    if java_runtime() is None:
        pytest.skip(f"the Spark engine's tests need a Java 17+ runtime: {JAVA_HINT}")
    props = spark_dirs["root"] / "log4j2.properties"
    props.write_text(_LOG4J.format(log=spark_dirs["log"]), encoding="utf-8")
    session = spark_session(
        "local[2]",
        {
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{props}",
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": spark_dirs["events"].as_uri(),
            "spark.sql.shuffle.partitions": "2",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_copy(tmp_path_factory):
    """A private copy of the committed sample (a test may plant defects in its copy)."""

    def make(name):
        dst = tmp_path_factory.mktemp(name) / "data"
        shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns("truth"))
        return dst

    return make
