"""PostgreSQL, the server option: batches staged through COPY into temporary tables."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlglot

from shipgauge.errors import StoreError
from shipgauge.store._sql import quote_ident, to_engine, writing_kind
from shipgauge.store.engines.base import (
    KeyConflict,
    Merge,
    TableInfo,
    catalog,
    check_read_only,
    merge_on_conflict,
)

__all__ = ["PostgresEngine"]


class PostgresEngine:
    """A PostgreSQL server: what several processes (API, consumers, cron) share."""

    name = "postgres"
    read_only = False

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self.connect().close()  # fail now, with one line, if the server refuses

    @contextlib.contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection (opened on its first session, kept for the next ones)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self.connect()
        yield conn

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
        merge_on_conflict(self, conn, merge)

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
        return catalog(lambda sql: self.fetch(conn, sql))

    def lock_schema(self, conn: Any) -> None:
        # Several processes may open the store at once; one migrates, the others wait.
        conn.execute("SELECT pg_advisory_xact_lock(7240611)")

    def fetch_read_only(self, conn: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
        check_read_only(len(statements), writing_kind(sql) if len(statements) == 1 else None)
        # The check names the statement; the transaction is what guarantees nothing changes
        # (a data-modifying WITH, EXPLAIN ANALYZE, nextval …).
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            return self.fetch(conn, sql)

    def close(self) -> None:
        """Close this thread's connection; other threads' close with their threads."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _has_temp(conn: Any, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_class WHERE relname = $1 AND relpersistence = 't'"
        " AND pg_table_is_visible(oid)",
        [name],
    ).fetchone()
    return row is not None
