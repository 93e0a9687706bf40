"""What both engines share: the catalog types, the `Engine` protocol, and the merge statement.

Each engine knows how to connect, run a statement, and stage a batch of rows as a relation that
an `INSERT … SELECT … ON CONFLICT` can read: DuckDB from an Arrow table, PostgreSQL through COPY.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from shipgauge.errors import BadRequest, StoreError
from shipgauge.store._sql import quote_ident

__all__ = [
    "JOIN_MERGE_MIN_SHARE",
    "Column",
    "Engine",
    "KeyConflict",
    "Merge",
    "TableInfo",
    "catalog",
    "check_read_only",
    "merge_on_conflict",
    "set_excluded",
]

# Both engines' catalog type names, folded to one Arrow type each.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "varchar": pa.string(),
    "text": pa.string(),
    "character varying": pa.string(),
    "json": pa.string(),
    "jsonb": pa.string(),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "double": pa.float64(),
    "double precision": pa.float64(),
    "real": pa.float32(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "blob": pa.binary(),
    "bytea": pa.binary(),
}
# The join merge is used while a batch is at least 1/JOIN_MERGE_MIN_SHARE of its table's rows.
JOIN_MERGE_MIN_SHARE = 20
_TIME_TYPES = ("timestamp with time zone", "timestamp", "timestamp without time zone", "date")


@dataclass(frozen=True)
class Column:
    """A table column as the catalog reports it (type name lower-cased)."""

    name: str
    type: str

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES.get(self.type, pa.string())

    @property
    def is_json(self) -> bool:
        return self.type in ("json", "jsonb")


@dataclass(frozen=True)
class TableInfo:
    """A base table: its columns in order and its natural (primary) key; `key_indexed` False
    for a DuckDB table whose key is declared but not indexed (migration 0009), and `key_time`
    a column its rows of one key all hold the same value of, or NULL (migration 0010)."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    key_indexed: bool = True
    key_time: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def time_column(self) -> str | None:
        """The first timestamp or date column: what `export` partitions the table by."""
        return next((c.name for c in self.columns if c.type in _TIME_TYPES), None)

    def arrow_schema(self, names: Sequence[str]) -> pa.Schema:
        by_name = {c.name: c for c in self.columns}
        return pa.schema([(n, by_name[n].arrow_type) for n in names])


class KeyConflict(StoreError):
    """A plain insert met a key that its table (or the insert itself) already holds; the
    transaction is spoilt and rolls back."""


@dataclass(frozen=True)
class Merge:
    """Staged rows to merge into their table on its primary key.

    `update` are the columns an existing row takes from the staged one (none: insert-or-ignore),
    where `update_where` (over `<table>.col` and `excluded.col`) holds.
    """

    info: TableInfo
    stage: str
    columns: Sequence[str]
    update: Sequence[str]
    update_where: str | None
    rows: int


_CATALOG_COLUMNS = """
SELECT table_name, column_name, lower(data_type)
FROM information_schema.columns
WHERE table_schema = current_schema()
ORDER BY table_name, ordinal_position
"""
_CATALOG_KEYS = """
SELECT tc.table_name, kcu.column_name
FROM information_schema.table_constraints AS tc
JOIN information_schema.key_column_usage AS kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.constraint_schema = tc.constraint_schema
 AND kcu.table_name = tc.table_name
WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()
ORDER BY tc.table_name, kcu.ordinal_position
"""
_CATALOG_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
"""


class Engine(Protocol):
    """What the store needs from a database engine: sessions, statements, staged merges."""

    name: str

    @property
    def read_only(self) -> bool:
        """Whether nothing may be written: migrations are then checked, not applied."""
        ...

    def session(self) -> contextlib.AbstractContextManager[Any]:
        """A connection for the duration of a block (the store nests them per thread)."""
        ...

    def execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def iter_batches(self, conn: Any, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]: ...

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        yield  # pragma: no cover - protocol

    def stage(self, conn: Any, info: TableInfo, names: Sequence[str], table: pa.Table) -> str: ...

    def merge(self, conn: Any, merge: Merge) -> None:
        """Insert the staged rows whose key is new; update the others as `merge` says."""

    def bulk_load(self, conn: Any, info: TableInfo, table: pa.Table) -> None: ...

    def catalog(self, conn: Any) -> dict[str, TableInfo]: ...

    def lock_schema(self, conn: Any) -> None: ...

    def close(self) -> None: ...

    def fetch_read_only(self, conn: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement that only reads, in a read-only transaction rolled back after it;
        a statement that writes is refused by `check_read_only` before it runs."""
        ...


def check_read_only(statements: int, kind: str | None) -> None:
    """A BadRequest unless the text holds exactly one statement, and one that only reads."""
    if statements != 1:
        raise BadRequest(f"give one SQL statement, not {statements}", field="sql")
    if kind is not None:
        raise BadRequest(
            f"query is read-only: {kind} changes the store (add --write to run it)", field="sql"
        )


def catalog(fetch: Any) -> dict[str, TableInfo]:
    _, tables = fetch(_CATALOG_TABLES)
    _, cols = fetch(_CATALOG_COLUMNS)
    _, keys = fetch(_CATALOG_KEYS)
    names = {t for (t,) in tables}
    return {
        name: TableInfo(
            name=name,
            columns=tuple(Column(c, ty) for t, c, ty in cols if t == name),
            primary_key=tuple(c for t, c in keys if t == name),
        )
        for name in names
    }


def merge_on_conflict(engine: Engine, conn: Any, merge: Merge) -> None:
    cols = ", ".join(quote_ident(c) for c in merge.columns)
    keys = ", ".join(quote_ident(k) for k in merge.info.primary_key)
    action = "DO NOTHING"
    if merge.update:
        action = f"DO UPDATE SET {set_excluded(merge.update)}"
        action += f" WHERE {merge.update_where}" if merge.update_where else ""
    engine.execute(
        conn,
        f"INSERT INTO {quote_ident(merge.info.name)} ({cols}) SELECT {cols} FROM {merge.stage} "
        f"ON CONFLICT ({keys}) {action}",
    )


def set_excluded(columns: Sequence[str]) -> str:
    return ", ".join(f"{quote_ident(c)} = excluded.{quote_ident(c)}" for c in columns)
