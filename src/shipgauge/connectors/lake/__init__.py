"""Engines that run SQL over the Parquet lake: DuckDB in this process, Apache Spark anywhere."""

from shipgauge.connectors.lake.base import LakeEngine, LakeTable
from shipgauge.connectors.lake.duckdb import DuckDBLakeEngine

__all__ = ["DuckDBLakeEngine", "LakeEngine", "LakeTable"]
