"""The models over the Parquet lake, on an engine other than the store (Spark, DuckDB)."""

from shipgauge.pipelines.lake.run import ModelRun, lake_engine, run_models

__all__ = ["ModelRun", "lake_engine", "run_models"]
