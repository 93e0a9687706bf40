"""The Parquet lake: tables and models as Hive-partitioned Parquet for Spark, Trino, Athena."""

from shipgauge.store.lake.export import LakeWrite, export_lake
from shipgauge.store.lake.files import LakeSchema, read_schema

__all__ = ["LakeSchema", "LakeWrite", "export_lake", "read_schema"]
