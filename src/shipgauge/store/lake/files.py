"""The lake's folder: one folder per table or model, its schema beside the data, and a manifest.

```
DIR/_lake.json                         what the last export wrote (partitions, fingerprints)
DIR/<name>/_schema.json                columns with their Arrow and Spark types, key, partitioning
DIR/<name>/day=YYYY-MM-DD/part-0.parquet    a table with a time column, one file per day
DIR/<name>/part-0.parquet              a table without one, and every model
```

Readers (Spark, Trino, Athena, pyarrow, DuckDB) skip names starting with `_` or `.`. A
partition is one file, replaced by a rename, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shipgauge.errors import NotFound

__all__ = [
    "MANIFEST_FILE",
    "NULL_PARTITION",
    "PARTITION_COLUMN",
    "SCHEMA_FILE",
    "LakeSchema",
    "partition_folder",
    "read_manifest",
    "read_schema",
    "remove_partition",
    "spark_type",
    "write_json",
    "write_partition",
]

PARTITION_COLUMN = "day"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # Hive's (and Spark's) name for a NULL value
SCHEMA_FILE = "_schema.json"
MANIFEST_FILE = "_lake.json"
_FILE = "part-0.parquet"


@dataclass(frozen=True)
class LakeSchema:
    """What `_schema.json` says of one table or model of the lake."""

    name: str
    kind: str  # "table" or "model"
    schema: pa.Schema
    primary_key: tuple[str, ...] = ()
    partitioned_by: str | None = None  # the time column `day` is taken from
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "columns": [
                {"name": f.name, "arrow": str(f.type), "spark": spark_type(f.type)}
                for f in self.schema
            ],
            "primary_key": list(self.primary_key),
            "partitioned_by": self.partitioned_by,
            "partition_column": PARTITION_COLUMN if self.partitioned_by else None,
            **self.extra,
        }


def spark_type(type_: pa.DataType) -> str:
    """The Spark SQL type a Parquet column of this Arrow type is read as."""
    if pa.types.is_timestamp(type_):
        return "TIMESTAMP" if type_.tz else "TIMESTAMP_NTZ"
    if pa.types.is_decimal(type_):
        return f"DECIMAL({type_.precision},{type_.scale})"
    names = {
        pa.string(): "STRING",
        pa.large_string(): "STRING",
        pa.int64(): "BIGINT",
        pa.int32(): "INT",
        pa.int16(): "SMALLINT",
        pa.float64(): "DOUBLE",
        pa.float32(): "FLOAT",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        pa.binary(): "BINARY",
        pa.null(): "STRING",
    }
    return names.get(type_, "STRING")


def _arrow_type(text: str) -> pa.DataType:
    if text.startswith("timestamp[us"):
        return pa.timestamp("us", tz="UTC" if "tz=" in text else None)
    if text.startswith("decimal128("):
        precision, scale = text.removeprefix("decimal128(").rstrip(")").split(",")
        return pa.decimal128(int(precision), int(scale))
    return pa.type_for_alias({"date32[day]": "date32"}.get(text, text))


def read_schema(folder: Path) -> LakeSchema:
    """The `_schema.json` of one table or model folder."""
    path = folder / SCHEMA_FILE
    if not path.is_file():
        raise NotFound(f"{folder} has no {SCHEMA_FILE}: not a table of a shipgauge lake")
    doc = json.loads(path.read_text(encoding="utf-8"))
    schema = pa.schema([(c["name"], _arrow_type(c["arrow"])) for c in doc["columns"]])
    return LakeSchema(
        doc["name"], doc["kind"], schema, tuple(doc["primary_key"]), doc["partitioned_by"]
    )


def read_manifest(lake: Path) -> tuple[dict[str, Any], str]:
    """`_lake.json` of the lake and its text, or ({}, "") before the lake's first export."""
    path = lake / MANIFEST_FILE
    if not path.is_file():
        return {}, ""
    text = path.read_text(encoding="utf-8")
    manifest: dict[str, Any] = json.loads(text)
    return manifest, text


def write_json(path: Path, doc: Mapping[str, Any]) -> str:
    """Write `doc` to `path` by a rename (readers never see half a file); return the text."""
    text = json.dumps(doc, indent=1, sort_keys=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return text


def partition_folder(folder: Path, partition: str | None) -> Path:
    return folder if partition is None else folder / f"{PARTITION_COLUMN}={partition}"


def write_partition(folder: Path, partition: str | None, table: pa.Table) -> Path:
    """Replace one partition (`None`: the whole unpartitioned folder) with `table`, atomically.

    The file is written under a hidden name, then renamed over the old one; other Parquet
    files left in the partition by an earlier writer are removed after.
    """
    target = partition_folder(folder, partition)
    target.mkdir(parents=True, exist_ok=True)
    temporary = target / f".{_FILE}.{uuid.uuid4().hex}"
    pq.write_table(table, temporary, compression="zstd")
    temporary.replace(target / _FILE)
    for stale in target.glob("*.parquet"):
        if stale.name != _FILE:
            stale.unlink()
    return target / _FILE


def remove_partition(folder: Path, partition: str | None) -> None:
    """Delete a partition whose rows are all gone from the store."""
    if partition is None:
        (folder / _FILE).unlink(missing_ok=True)
    else:
        shutil.rmtree(partition_folder(folder, partition), ignore_errors=True)
