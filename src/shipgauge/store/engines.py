"""The two engines behind the store: DuckDB (embedded default) and PostgreSQL (server option).

Each engine knows how to connect, run a statement, and stage a batch of rows as a relation that
an `INSERT … SELECT … ON CONFLICT` can read: DuckDB from an Arrow table, PostgreSQL through COPY.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from shipgauge.errors import StoreError
from shipgauge.store._sql import quote_ident, to_engine

__all__ = [
    "Column",
    "DuckDBEngine",
    "Engine",
    "Merge",
    "PostgresEngine",
    "TableInfo",
    "open_engine",
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
    """A base table: its columns in order and its natural (primary) key."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

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
    """What the store needs from a database engine; one connection per thread."""

    name: str

    def connect(self) -> Any: ...

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


def _catalog(fetch: Any) -> dict[str, TableInfo]:
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


class DuckDBEngine:
    """An embedded DuckDB file (or `:memory:`); one process owns it for writing."""

    name = "duckdb"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"cannot open DuckDB file {path}: folder {parent} does not exist")
        try:
            self._root = duckdb.connect(path)
        except (duckdb.Error, OSError) as exc:
            first_line = str(exc).splitlines()[0]
            raise StoreError(f"cannot open DuckDB file {path}: {first_line}") from None
        self._root.execute("SET TimeZone = 'UTC'")

    def connect(self) -> duckdb.DuckDBPyConnection:
        conn = self._root.cursor()
        conn.execute("SET TimeZone = 'UTC'")
        return conn

    def execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(sql, list(params)) if params else conn.execute(sql)

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.execute(conn, sql, params)
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall() if columns else []

    def iter_batches(self, conn: Any, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        reader = conn.sql(sql).to_arrow_reader(batch_rows)
        yield from reader

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        conn.begin()
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def stage(self, conn: Any, info: TableInfo, names: Sequence[str], table: pa.Table) -> str:
        view = f"_sg_stage_{info.name}"
        conn.register(view, table)
        return view

    def merge(self, conn: Any, merge: Merge) -> None:
        # A batch that is large next to its table merges fastest as an anti-join INSERT plus
        # an UPDATE join (vectorised hash joins, ~1.5x faster than ON CONFLICT into an empty
        # table); a small batch into a large table would scan the whole table that way, so it
        # takes ON CONFLICT's index probes. Both are safe: a DuckDB file has one writing process.
        info = merge.info
        target = quote_ident(info.name)
        table_rows = conn.execute(
            "SELECT estimated_size FROM duckdb_tables() "
            "WHERE table_name = ? AND schema_name = current_schema()",
            [info.name],
        ).fetchone()
        if table_rows and merge.rows * JOIN_MERGE_MIN_SHARE < table_rows[0]:
            _merge_on_conflict(self, conn, merge)
            return
        # New keys first: when every staged row was new (a first scan, a fresh batch of tasks)
        # the UPDATE join is skipped. Otherwise it also meets the rows just inserted, and sets
        # them to what they already hold.
        cols = ", ".join(f"excluded.{quote_ident(c)}" for c in merge.columns)
        keys = ", ".join(quote_ident(k) for k in info.primary_key)
        inserted = conn.execute(
            f"INSERT INTO {target} ({', '.join(quote_ident(c) for c in merge.columns)}) "
            f"SELECT {cols} FROM {merge.stage} AS excluded ANTI JOIN {target} USING ({keys})"
        ).fetchone()
        if not merge.update or (inserted is not None and inserted[0] == merge.rows):
            return
        on = " AND ".join(
            f"{target}.{quote_ident(k)} = excluded.{quote_ident(k)}" for k in info.primary_key
        )
        where = f" AND ({merge.update_where})" if merge.update_where else ""
        conn.execute(
            f"UPDATE {target} SET {_sets(merge.update)} FROM {merge.stage} AS excluded "
            f"WHERE {on}{where}"
        )

    def bulk_load(self, conn: Any, info: TableInfo, table: pa.Table) -> None:
        conn.register("_sg_bulk", table)
        cols = ", ".join(quote_ident(n) for n in table.column_names)
        try:
            conn.execute(
                f"INSERT INTO {quote_ident(info.name)} ({cols}) SELECT {cols} FROM _sg_bulk"
            )
        except duckdb.ConstraintException as exc:
            # (the aborted transaction refuses even an unregister: the next load replaces it)
            raise KeyConflict(f"{info.name}: {str(exc).splitlines()[0]}") from None
        conn.unregister("_sg_bulk")

    def catalog(self, conn: Any) -> dict[str, TableInfo]:
        return _catalog(lambda sql: self.fetch(conn, sql))

    def lock_schema(self, conn: Any) -> None:
        """DuckDB files have one writer process; nothing to lock."""

    def close(self) -> None:
        self._root.close()


class PostgresEngine:
    """A PostgreSQL server: what several processes (API, consumers, cron) share."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.connect().close()  # fail now, with one line, if the server refuses

    def connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url, autocommit=True, cursor_factory=psycopg.RawCursor, connect_timeout=10
            )
        except psycopg.Error as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise StoreError(f"cannot connect to PostgreSQL: {first_line}") from None
        conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def execute(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(to_engine(sql, self.name), list(params) or None)

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.execute(conn, sql, params)
        columns = [d.name for d in cur.description] if cur.description else []
        return columns, cur.fetchall() if columns else []

    def iter_batches(self, conn: Any, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        # A named (server-side) cursor keeps memory flat however large the table.
        with conn.transaction(), psycopg.ServerCursor(conn, "_sg_export") as cur:
            cur.execute(to_engine(sql, self.name))
            names = [d.name for d in cur.description or ()]
            while rows := cur.fetchmany(batch_rows):
                yield pa.RecordBatch.from_pylist([dict(zip(names, r, strict=True)) for r in rows])

    @contextlib.contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        with conn.transaction():
            yield

    def stage(self, conn: Any, info: TableInfo, names: Sequence[str], table: pa.Table) -> str:
        stage = quote_ident(f"_sg_stage_{info.name}")
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {quote_ident(info.name)})"
            if not _has_temp(conn, f"_sg_stage_{info.name}")
            else f"TRUNCATE {stage}"
        )
        self._copy(conn, stage, table)
        return stage

    def merge(self, conn: Any, merge: Merge) -> None:
        # ON CONFLICT is what keeps concurrent writers from different processes correct.
        _merge_on_conflict(self, conn, merge)

    def bulk_load(self, conn: Any, info: TableInfo, table: pa.Table) -> None:
        try:
            self._copy(conn, quote_ident(info.name), table)
        except psycopg.errors.UniqueViolation as exc:
            raise KeyConflict(f"{info.name}: {str(exc).splitlines()[0]}") from None

    @staticmethod
    def _copy(conn: Any, target: str, table: pa.Table) -> None:
        cols = ", ".join(quote_ident(n) for n in table.column_names)
        if any(pa.types.is_binary(t) for t in table.schema.types):
            # Arrow's CSV writer has no bytea text form: bytes go row by row.
            columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
            with conn.cursor().copy(f"COPY {target} ({cols}) FROM STDIN") as copy:
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
            return
        # Arrow writes the CSV in C++: strings always quoted, NULL as an unquoted empty field,
        # which is what PostgreSQL's CSV format reads back as NULL.
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
        with conn.cursor().copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(memoryview(sink.getvalue()))

    def catalog(self, conn: Any) -> dict[str, TableInfo]:
        return _catalog(lambda sql: self.fetch(conn, sql))

    def lock_schema(self, conn: Any) -> None:
        # Several processes may open the store at once; one migrates, the others wait.
        conn.execute("SELECT pg_advisory_xact_lock(7240611)")

    def close(self) -> None:
        """Connections are per thread and closed with them."""


def _merge_on_conflict(engine: Engine, conn: Any, merge: Merge) -> None:
    cols = ", ".join(quote_ident(c) for c in merge.columns)
    keys = ", ".join(quote_ident(k) for k in merge.info.primary_key)
    action = "DO NOTHING"
    if merge.update:
        action = f"DO UPDATE SET {_sets(merge.update)}"
        action += f" WHERE {merge.update_where}" if merge.update_where else ""
    engine.execute(
        conn,
        f"INSERT INTO {quote_ident(merge.info.name)} ({cols}) SELECT {cols} FROM {merge.stage} "
        f"ON CONFLICT ({keys}) {action}",
    )


def _sets(columns: Sequence[str]) -> str:
    return ", ".join(f"{quote_ident(c)} = excluded.{quote_ident(c)}" for c in columns)


def _has_temp(conn: Any, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_class WHERE relname = $1 AND relpersistence = 't'"
        " AND pg_table_is_visible(oid)",
        [name],
    ).fetchone()
    return row is not None


def open_engine(url: str) -> DuckDBEngine | PostgresEngine:
    """`postgresql://…` opens PostgreSQL; anything else is a DuckDB file path."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(url)
    return DuckDBEngine(url)
