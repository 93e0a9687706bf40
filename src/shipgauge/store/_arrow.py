"""Batches of rows as Arrow tables typed by the catalog, unique on their table's natural key.

Rows (dicts) are turned into one Arrow array per column, straight from the dicts: no per-row
copies. Arrow tables handed in directly are checked and cast to the catalog's types. Either way,
duplicates on the key are dropped in Arrow (the last one wins), since neither engine updates one
row twice in a statement.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.errors import StoreError
from shipgauge.store.engines.base import TableInfo

__all__ = ["arrow_of_rows", "conform", "unique_on_key"]

_ROW_INDEX = "_sg_row"
_UTC_TIME = pa.timestamp("us", tz="UTC")


class _NaiveTime(Exception):
    """A datetime without a zone: Arrow reads it as UTC, `timestamp()` would take local time."""


def _naive() -> float:
    raise _NaiveTime


def arrow_of_rows(info: TableInfo, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows of one shape (the first row's keys) as an Arrow table typed by the catalog.

    A later row lacking one of those keys gives NULL there; keys of later rows that the first
    row lacks are not written.
    """
    first = rows[0]
    _refuse_unknown(info, first)
    arrays, names = [], []
    for column in info.columns:
        if column.name not in first:
            continue
        values = _column_values(rows, column.name)
        if column.is_json:
            values = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
        try:
            arrays.append(_array(values, column.arrow_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise StoreError(f"column {info.name}.{column.name}: {exc}") from None
        names.append(column.name)
    return pa.Table.from_arrays(arrays, names=names)


def conform(info: TableInfo, table: pa.Table) -> pa.Table:
    """An Arrow table handed in by a caller, its columns in catalog order and catalog types.

    JSON columns must already hold JSON text (strings).
    """
    _refuse_unknown(info, table.column_names)
    names = [c.name for c in info.columns if c.name in table.column_names]
    table = table.select(names)
    schema = info.arrow_schema(names)
    if table.schema.equals(schema):
        return table
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise StoreError(f"cannot write this Arrow table to {info.name}: {exc}") from None


def unique_on_key(info: TableInfo, table: pa.Table) -> pa.Table:
    """`table` without rows whose key a later row repeats (the last one wins)."""
    if not info.primary_key:
        raise StoreError(f"table {info.name} has no primary key to write on")
    for key in info.primary_key:
        if key not in table.column_names or table.column(key).null_count:
            raise StoreError(f"a row for {info.name} lacks key column '{key}'")
    rows = table.num_rows
    if len(info.primary_key) == 1 and len(pc.unique(table.column(info.primary_key[0]))) == rows:
        return table  # (unique is twice as fast as count_distinct)
    keys = table.select(list(info.primary_key))
    numbered = keys.append_column(_ROW_INDEX, pa.array(range(rows), pa.int64()))
    last = numbered.group_by(list(info.primary_key), use_threads=False).aggregate(
        [(_ROW_INDEX, "max")]
    )
    if last.num_rows == rows:
        return table
    kept = last.column(f"{_ROW_INDEX}_max")
    return table.take(kept.take(pc.sort_indices(kept)))


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    """`values` as an Arrow array of `type_`. Aware datetimes go through their epoch seconds
    (exact to the microsecond until 2255): Arrow asks each one for its UTC offset, which takes
    twice as long."""
    if type_ != _UTC_TIME or not values or getattr(values[0], "tzinfo", None) is None:
        return pa.array(values, type=type_)
    try:
        seconds = pa.array([v.timestamp() if v.tzinfo else _naive() for v in values], pa.float64())
    except (AttributeError, _NaiveTime):  # None or a naive time among them
        return pa.array(values, type=type_)
    return pc.round(pc.multiply(seconds, 1e6)).cast(pa.int64()).cast(type_)


def _column_values(rows: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    try:
        return list(map(operator.itemgetter(name), rows))
    except KeyError:
        return [r.get(name) for r in rows]


def _refuse_unknown(info: TableInfo, names: Any) -> None:
    known = set(info.column_names)
    extra = [n for n in names if n not in known]
    if extra:
        raise StoreError(f"table {info.name} has no column '{extra[0]}'")
