"""The lake tests' shared pieces: one SparkSession for the run, the demo store and its lake.

Spark needs PySpark (the `spark` extra, which the `test` extra installs) and Java 17. Without
them these tests skip, except under CI=true, where they fail as a missing service does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipgauge.demo import run_demo
from shipgauge.store import Store
from shipgauge.store.lake import export_lake
from tests.conftest import unavailable

# Small and quiet: two local cores, few shuffle partitions, no UI (CI runs on two cores).
TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "2g",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one SparkSession of the test run (local[2])."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("PySpark is not installed: pip install -e '.[test]' (it has the spark extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("Spark needs Java 17: no `java` on PATH and no JAVA_HOME")
    from shipgauge.connectors.lake.spark import spark_session

    session = spark_session(master="local[2]", conf=TEST_SPARK_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB store after `shipgauge demo` (closed: copy it, or open it again)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store.open(str(path)) as store:
        run_demo(store)
        store.query("CHECKPOINT")  # everything in the file itself, none in its WAL
    return path


@pytest.fixture(scope="session")
def demo_lake(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store's lake (tables and models)."""
    folder = tmp_path_factory.mktemp("demo_lake") / "lake"
    with Store.open(str(demo_db)) as store:
        export_lake(store, folder)
    return folder
