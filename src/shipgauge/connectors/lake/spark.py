"""Apache Spark over the lake, through PySpark (the optional extra `shipgauge[spark]`).

Only Spark SQL and Parquet reads and writes run here: no Python runs on the executors, so a
cluster's workers need Java and Spark, not shipgauge.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipgauge.connectors.lake.base import LakeTable
from shipgauge.errors import ConfigError, UpstreamError

__all__ = ["DEFAULT_SPARK_CONF", "FIXED_SPARK_CONF", "SparkLakeEngine", "spark_session"]

# Defaults for a small local run, which settings override.
DEFAULT_SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}
# What the models' semantics need, whatever the settings say: DuckDB's timestamps are shown in
# UTC (dialects.py relies on it), and a division by zero or a bad cast is NULL, not an error.
# Timestamps are written as UTC instants in microseconds, the store's own type (Spark's default,
# the deprecated INT96, reads back elsewhere as a timestamp without a zone).
FIXED_SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.interval.enabled": "true",
}


def spark_session(*, master: str | None, conf: Mapping[str, str]) -> Any:
    """A SparkSession on `master` (None: the one `spark-submit` gives) with `conf`."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "the Spark engine needs PySpark: pip install 'shipgauge[spark]' (and Java 17)",
            field="--engine",
        ) from None
    builder = SparkSession.builder.appName("shipgauge lake run")
    if master:
        builder = builder.master(master)
    for key, value in {**DEFAULT_SPARK_CONF, **conf, **FIXED_SPARK_CONF}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # PySpark raises its own errors, and RuntimeError without Java
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UpstreamError(
            f"Spark did not start on {master or 'the spark-submit master'}: {first} "
            "(is Java 17 installed, and JAVA_HOME set?)"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkLakeEngine:
    """A SparkSession whose temporary views are the lake's tables and the models run so far."""

    dialect = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session

    def register_table(self, table: LakeTable) -> None:
        columns = ", ".join(f"`{name}` {type_}" for name, type_ in table.spark_types)
        if not table.files():
            frame = self.session.createDataFrame([], schema=columns)
        else:
            if table.partition_column:  # Spark reads it from the day=… folder names
                columns += f", `{table.partition_column}` DATE"
            reader = self.session.read.schema(columns).option("basePath", str(table.folder))
            frame = reader.parquet(str(table.folder)).select(*table.schema.names)
        frame.createOrReplaceTempView(table.name)

    def run_model(self, name: str, sql: str, target: Path) -> int:
        try:
            self.session.sql(sql).write.mode("overwrite").parquet(str(target))
        except Exception as exc:  # AnalysisException and the like: one line, with the model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UpstreamError(f"model {name} on Spark: {first}") from None
        written = self.session.read.parquet(str(target))
        written.createOrReplaceTempView(name)
        return int(written.count())

    def close(self) -> None:
        """Leave the session to its owner (a test session, or spark-submit) to stop."""
