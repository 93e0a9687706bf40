"""DuckDB, the embedded default: one file, Arrow batches staged as relations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shipgauge.errors import StoreError
from shipgauge.store._sql import quote_ident
from shipgauge.store.engines.base import (
    JOIN_MERGE_MIN_SHARE,
    KeyConflict,
    Merge,
    TableInfo,
    catalog,
    check_read_only,
    merge_on_conflict,
    set_excluded,
)
from shipgauge.store.engines.duckdb_file import release_database, shared_database

__all__ = ["DEFAULT_WAIT_S", "DuckDBEngine"]

# How long a process waits for its turn on a DuckDB file another process has.
DEFAULT_WAIT_S = 30.0

# How far from its batch's values a stored row's `key_time` may lie and still be read (migration
# 0010). Sources agree on these times to the microsecond; a day also covers a zone read wrongly.
KEY_TIME_SLACK = timedelta(days=1)

# DESCRIBE, SHOW, SUMMARIZE and FROM-first queries are SELECTs to DuckDB's parser.
_READS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA)


class DuckDBEngine:
    """An embedded DuckDB file (or `:memory:`), shared with other processes by turns."""

    name = "duckdb"

    def __init__(self, path: str, *, wait_s: float = DEFAULT_WAIT_S) -> None:
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"cannot open DuckDB file {path}: folder {parent} does not exist")
        self._file = shared_database(path, wait_s=wait_s)
        self._closed = False

    @property
    def read_only(self) -> bool:
        """Whether the file was opened read-only (`duckdb_file.read_only_file`)."""
        return self._file.read_only

    def session(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A cursor during this process's turn on the file (see `duckdb_file`)."""
        return self._file.session()

    def set_options(self, options: dict[str, str]) -> None:
        """DuckDB settings kept while this process has the file, across turns; {} resets."""
        self._file.set_options(options)

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
        # takes ON CONFLICT's index probes. Both are safe: a DuckDB file has one writer at a time.
        # A table without a key index (TableInfo.key_indexed) always takes the joins.
        info = merge.info
        target = quote_ident(info.name)
        if info.key_indexed and _small_next_to_table(conn, info, merge.rows):
            merge_on_conflict(self, conn, merge)
            return
        # New keys first: when every staged row was new (a first scan, a fresh batch of tasks)
        # the UPDATE join is skipped. Otherwise it also meets the rows just inserted, and sets
        # them to what they already hold.
        near = _time_window(conn, info, merge.stage, merge.columns)
        inserted = _insert_new_keys(conn, info, merge.stage, merge.columns, near)
        if not merge.update or inserted == merge.rows:
            return
        on = " AND ".join(
            f"{target}.{quote_ident(k)} = excluded.{quote_ident(k)}" for k in info.primary_key
        )
        where = f" AND ({merge.update_where})" if merge.update_where else ""
        where += f" AND {near}" if near else ""
        conn.execute(
            f"UPDATE {target} SET {set_excluded(merge.update)} FROM {merge.stage} AS excluded "
            f"WHERE {on}{where}"
        )

    def bulk_load(self, conn: Any, info: TableInfo, table: pa.Table) -> None:
        # Handed over as a stream of batches: a registered table stays referenced by the open
        # transaction until it commits, so a transaction of many loads held all their tables
        # (measured: 125 MB more RSS per 200,000 task + run rows loaded in one transaction).
        conn.register(
            "_sg_bulk", pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
        )
        cols = ", ".join(quote_ident(n) for n in table.column_names)
        try:
            conn.execute(
                f"INSERT INTO {quote_ident(info.name)} ({cols}) SELECT {cols} FROM _sg_bulk"
            )
        except duckdb.ConstraintException as exc:
            # (the aborted transaction refuses even an unregister: the next load replaces it)
            raise KeyConflict(f"{info.name}: {str(exc).splitlines()[0]}") from None
        conn.unregister("_sg_bulk")

    def check_new_keys(self, conn: Any, info: TableInfo, loaded: Sequence[pa.Table]) -> None:
        """KeyConflict unless the keys `loaded` in this transaction into a table without a key
        index (each with its `key_time` where it had one) repeat neither each other nor a row
        the table held before."""
        # A part without the key time gets NULLs there: its keys are checked against every row.
        keys = pa.concat_tables(loaded, promote_options="default")
        conn.register("_sg_new_keys", keys)
        near = _time_window(conn, info, "_sg_new_keys", keys.column_names)
        # The loaded rows are in the table now, so each key loaded once and held nowhere else
        # meets exactly its own row: a key loaded a times and held b times in all meets a * b,
        # and the join's size is the number of keys loaded only when every a and b is 1 (as long
        # as no loaded row is deleted in its own transaction: no writer does). One join instead
        # of a group-by for repeats and a semi-join for stored keys.
        ((met,),) = conn.execute(
            f"SELECT count(*) FROM {_rows_where(info, near)} JOIN _sg_new_keys "
            f"USING ({', '.join(quote_ident(k) for k in info.primary_key)})"
        ).fetchall()
        conn.unregister("_sg_new_keys")
        if met != keys.num_rows:
            raise KeyConflict(f"{info.name}: a key loaded repeats, or is already stored")

    def catalog(self, conn: Any) -> dict[str, TableInfo]:
        # `table_keys` and `table_key_times` are this engine's bookkeeping (migrations 0009 and
        # 0010), not tables of the store.
        tables = catalog(lambda sql: self.fetch(conn, sql))
        if tables.pop("table_keys", None) is None:
            return tables
        _, declared = self.fetch(
            conn, "SELECT table_name, column_name FROM table_keys ORDER BY table_name, position"
        )
        times: dict[str, str] = {}
        if tables.pop("table_key_times", None) is not None:
            times = dict(self.fetch(conn, "SELECT table_name, column_name FROM table_key_times")[1])
        for name in {t for t, _ in declared} & tables.keys():
            key = tuple(c for t, c in declared if t == name)
            tables[name] = replace(
                tables[name], primary_key=key, key_indexed=False, key_time=times.get(name)
            )
        return tables

    def lock_schema(self, conn: Any) -> None:
        """DuckDB files have one writer process; nothing to lock."""

    def fetch_read_only(self, conn: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        # DuckDB's own parser says what each statement is: COPY … TO, ATTACH or SET write
        # outside the database, where a read-only transaction would not stop them.
        statements = conn.extract_statements(sql)
        kinds = [s.type for s in statements]
        writes = [k.name for k in kinds if k not in _READS]
        check_read_only(len(kinds), writes[0] if writes else None)
        conn.execute("BEGIN TRANSACTION READ ONLY")
        try:
            return self.fetch(conn, sql)
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_database(self._file)


def _small_next_to_table(conn: Any, info: TableInfo, rows: int) -> bool:
    """Whether `rows` are under 1/JOIN_MERGE_MIN_SHARE of what `info`'s table holds."""
    table_rows = conn.execute(
        "SELECT estimated_size FROM duckdb_tables() "
        "WHERE table_name = ? AND schema_name = current_schema()",
        [info.name],
    ).fetchone()
    return bool(table_rows) and rows * JOIN_MERGE_MIN_SHARE < table_rows[0]


def _insert_new_keys(
    conn: Any, info: TableInfo, source: str, columns: Sequence[str], near: str | None
) -> int:
    """Insert the rows of `source` whose key `info`'s table (its rows where `near` holds, see
    `_time_window`) lacks; the number inserted."""
    cols = ", ".join(f"excluded.{quote_ident(c)}" for c in columns)
    keys = ", ".join(quote_ident(k) for k in info.primary_key)
    target = quote_ident(info.name)
    ((inserted,),) = conn.execute(
        f"INSERT INTO {target} ({', '.join(quote_ident(c) for c in columns)}) "
        f"SELECT {cols} FROM {source} AS excluded "
        f"ANTI JOIN {_rows_where(info, near)} USING ({keys})"
    ).fetchall()
    return int(inserted)


def _rows_where(info: TableInfo, near: str | None) -> str:
    """`info`'s table as a join reads it: its keys where `near` holds, or the whole table."""
    target = quote_ident(info.name)
    if near is None:
        return target
    keys = ", ".join(quote_ident(k) for k in info.primary_key)
    return f"(SELECT {keys} FROM {target} WHERE {near})"


def _time_window(conn: Any, info: TableInfo, source: str, columns: Sequence[str]) -> str | None:
    """A condition on `info`'s table that keeps every row which may share a key with a row of
    `source`, when the table has a `key_time` (migration 0010) that each row of `source` holds:
    those whose value is NULL or within KEY_TIME_SLACK of the batch's. Constant bounds, so
    DuckDB skips row groups by their zone maps. None: every row may."""
    if info.key_time is None or info.key_time not in columns:
        return None
    column = quote_ident(info.key_time)
    ((first, last, missing),) = conn.execute(
        f"SELECT min({column}), max({column}), count(*) - count({column}) FROM {source}"
    ).fetchall()
    try:
        since, until = first - KEY_TIME_SLACK, last + KEY_TIME_SLACK
    except (TypeError, OverflowError):  # no time, or past Python's dates (DuckDB gives text)
        return None
    if missing:
        return None
    held = f"{quote_ident(info.name)}.{column}"
    return f"({held} IS NULL OR {held} BETWEEN {_time_literal(since)} AND {_time_literal(until)})"


def _time_literal(value: date) -> str:
    # A value the store itself returned, never input text.
    if isinstance(value, datetime):
        return f"{'TIMESTAMPTZ' if value.tzinfo else 'TIMESTAMP'} '{value.isoformat()}'"
    return f"DATE '{value.isoformat()}'"
