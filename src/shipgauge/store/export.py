"""Parquet export: every table as a Hive-partitioned dataset that Spark, Trino or Athena read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from shipgauge.errors import NotFound
from shipgauge.store._sql import quote_ident
from shipgauge.store.engines import TableInfo

if TYPE_CHECKING:
    from shipgauge.store.store import Store

__all__ = ["PARTITION_COLUMN", "ExportedModel", "ExportedTable", "export_models", "export_tables"]

PARTITION_COLUMN = "day"


@dataclass(frozen=True)
class ExportedTable:
    """What `export_tables` wrote for one table."""

    table: str
    rows: int
    partitioned_by: str | None
    path: Path


def export_tables(
    store: Store, folder: Path, *, tables: list[str] | None = None
) -> list[ExportedTable]:
    """Write each table to `folder/<table>/`, partitioned `day=YYYY-MM-DD` by its time column.

    Rows are streamed in record batches, so memory does not grow with the table. A name in
    `tables` that is no table is a NotFound, before anything is written.
    """
    every = store.tables()
    unknown = sorted(set(tables or ()) - {info.name for info in every})
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        raise NotFound(f"no table named {names}", field="table")
    return [
        _export_table(store, info, folder / info.name)
        for info in every
        if not tables or info.name in tables
    ]


def _export_table(store: Store, info: TableInfo, target: Path) -> ExportedTable:
    time_col = info.time_column
    # JSON columns as their text on both engines (psycopg would hand back dicts).
    select = ", ".join(
        f"CAST({quote_ident(c.name)} AS VARCHAR) AS {quote_ident(c.name)}"
        if c.is_json
        else quote_ident(c.name)
        for c in info.columns
    )
    schema = info.arrow_schema(info.column_names)
    if time_col:
        select += f", CAST({quote_ident(time_col)} AS DATE) AS {PARTITION_COLUMN}"
        schema = schema.append(pa.field(PARTITION_COLUMN, pa.date32()))
    sql = f"SELECT {select} FROM {quote_ident(info.name)}"
    rows = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in store.iter_batches(sql):
            rows += batch.num_rows
            # Cast to the catalog's types: an all-NULL PostgreSQL batch has no types of its own.
            columns = [batch.column(i).cast(field.type) for i, field in enumerate(schema)]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    partitioning = (
        ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.date32())]), flavor="hive")
        if time_col
        else None
    )
    ds.write_dataset(
        pa.RecordBatchReader.from_batches(schema, batches()),
        target,
        format="parquet",
        partitioning=partitioning,
        existing_data_behavior="delete_matching",
        basename_template="part-{i}.parquet",
    )
    return ExportedTable(info.name, rows, time_col, target)


@dataclass(frozen=True)
class ExportedModel:
    """One model written: where, and how many rows."""

    model: str
    rows: int
    path: Path


def export_models(store: Store, folder: Path, *, models: Sequence[str]) -> list[ExportedModel]:
    """Write each model to `folder/<model>.parquet` (zstd), replacing an earlier export.

    One model is held in memory at a time: PostgreSQL batches carry no column types of their
    own, so the batches' schemas are unified before writing.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for model in models:
        batches = list(store.iter_batches(f"SELECT * FROM {quote_ident(model)}"))
        if batches:
            schema = pa.unify_schemas([b.schema for b in batches], promote_options="permissive")
            table = pa.Table.from_batches([b.cast(schema) for b in batches], schema=schema)
        else:
            columns = store.query(f"SELECT * FROM {quote_ident(model)} LIMIT 0").columns
            table = pa.table({c: pa.array([], pa.null()) for c in columns})
        path = folder / f"{model}.parquet"
        pq.write_table(table, path, compression="zstd")
        written.append(ExportedModel(model, table.num_rows, path))
    return written
