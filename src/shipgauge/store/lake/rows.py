"""Rows of a table or model as the lake keeps them: the same Arrow types and order on both engines.

A table's types come from the catalog; a model's from DuckDB, whose dialect the models are
written in (an empty in-memory store says what each model's columns are). PostgreSQL's rows are
cast to those types, JSON is written as compact text with sorted keys (jsonb reorders keys and
adds spaces), and every file is sorted (by key, or by every column), so both engines give the
same files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.store._sql import quote_ident
from shipgauge.store.engines import TableInfo
from shipgauge.store.store import Store
from shipgauge.store.views import discover_models

__all__ = ["Shape", "conform_batch", "model_shape", "read_model", "sorted_rows", "table_shape"]


@dataclass(frozen=True)
class Shape:
    """The lake's columns of one table or model: types, JSON columns, and the sort key."""

    schema: pa.Schema
    json_columns: frozenset[str]
    sort_key: tuple[str, ...]

    def select_list(self) -> str:
        """The SELECT list that reads these columns, JSON as text (psycopg would give dicts)."""
        return ", ".join(
            f"CAST({quote_ident(n)} AS VARCHAR) AS {quote_ident(n)}"
            if n in self.json_columns
            else quote_ident(n)
            for n in self.schema.names
        )


def table_shape(info: TableInfo) -> Shape:
    json_columns = frozenset(c.name for c in info.columns if c.is_json)
    key = info.primary_key or info.column_names
    return Shape(info.arrow_schema(info.column_names), json_columns, key)


@lru_cache(maxsize=1)
def _model_shapes() -> dict[str, Shape]:
    shapes = {}
    with Store.open(":memory:") as reference, reference.session() as conn:
        for model in discover_models():
            relation = conn.sql(f"SELECT * FROM {quote_ident(model.name)}")
            types = dict(zip(relation.columns, relation.types, strict=True))
            json_columns = frozenset(n for n, t in types.items() if str(t) == "JSON")
            fields = [
                _lake_field(f, f.name in json_columns) for f in relation.to_arrow_table().schema
            ]
            shapes[model.name] = Shape(pa.schema(fields), json_columns, tuple(relation.columns))
    return shapes


def _lake_field(field: pa.Field, is_json: bool) -> pa.Field:
    if is_json:
        return pa.field(field.name, pa.string())
    if pa.types.is_timestamp(field.type) and field.type.tz:
        return pa.field(field.name, pa.timestamp("us", tz="UTC"))  # DuckDB says Etc/UTC
    return pa.field(field.name, field.type)


def model_shape(name: str) -> Shape:
    """The lake's columns of model `name`, as DuckDB types them."""
    return _model_shapes()[name]


def _canonical_json(text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_json_column(column: pa.Array) -> pa.Array:
    # Each distinct text is parsed once: JSON columns repeat (a task's tags, an event's kind).
    distinct = pc.unique(column)
    canonical = pa.array([_canonical_json(v) for v in distinct.to_pylist()], pa.string())
    return canonical.take(pc.index_in(column, distinct))


def conform_batch(batch: pa.RecordBatch, shape: Shape) -> pa.Table:
    """`batch` with the shape's columns, in its types, JSON canonical."""
    columns = []
    for field in shape.schema:
        column = batch.column(field.name)
        if field.name in shape.json_columns:
            column = _canonical_json_column(column)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=shape.schema)


def sorted_rows(table: pa.Table, shape: Shape) -> pa.Table:
    """Rows in the shape's order, so that both engines write the same file."""
    if table.num_rows < 2:
        return table
    return table.take(pc.sort_indices(table, [(k, "ascending") for k in shape.sort_key]))


def read_model(store: Store, name: str) -> pa.Table:
    """Every row of model `name` in the lake's types and order (the model is held in memory)."""
    shape = model_shape(name)
    return sorted_rows(_concat(_model_batches(store, name, shape), shape), shape)


def _model_batches(store: Store, name: str, shape: Shape) -> Iterator[pa.Table]:
    sql = f"SELECT {shape.select_list()} FROM {quote_ident(name)}"
    for batch in store.iter_batches(sql):
        yield conform_batch(batch, shape)


def _concat(tables: Iterator[pa.Table], shape: Shape) -> pa.Table:
    parts = list(tables)
    return pa.concat_tables(parts) if parts else shape.schema.empty_table()
