"""The store: one schema, applied by migrations on open, on DuckDB or PostgreSQL.

Every write goes through a `Transaction`: batched upserts or insert-or-ignores on each table's
natural (primary) key, of dict rows or of Arrow tables (`upsert_arrow`, `insert_ignore_arrow`,
and `insert_arrow` for rows known to be new), checkpoints and dead letters, committed together
or not at all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pyarrow as pa

from shipgauge.errors import NotFound
from shipgauge.store import views
from shipgauge.store._arrow import arrow_of_rows, conform, unique_on_key
from shipgauge.store._sql import quote_ident, split_statements
from shipgauge.store.dead_letters import Letter, letter_rows
from shipgauge.store.engines import (
    DEFAULT_WAIT_S,
    DuckDBEngine,
    Engine,
    KeyConflict,
    Merge,
    TableInfo,
    open_engine,
)

__all__ = [
    "DELIVERY_TURN",
    "KeyConflict",
    "QueryResult",
    "Row",
    "Store",
    "Transaction",
]

Row = Mapping[str, Any]
# The `ingest_checkpoints` row every writer of delivery events takes its turn on, in the
# transaction of its write (pipelines.delivery.facts.take_turn): its position (the write's time)
# changes with every write, so readers may keep what they computed from an unchanged position.
DELIVERY_TURN = "delivery.facts"


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query with their column names."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Transaction:
    """Writes that commit together: rows, checkpoints and dead letters."""

    def __init__(self, store: Store, conn: Any) -> None:
        self._store = store
        self._conn = conn
        self._new_keys: dict[str, list[pa.Table]] = {}  # see check_new_keys
        self._held: list[threading.RLock] = []  # see hold

    def hold(self, lock: threading.RLock) -> None:
        """Hold `lock` until this transaction has committed or rolled back. Called before the
        transaction's first read, it sees everything the writers it waited for committed:
        DuckDB takes a transaction's snapshot at its first read, not at BEGIN."""
        lock.acquire()
        self._held.append(lock)

    def _release_held(self) -> None:
        while self._held:
            self._held.pop().release()

    def lock_schema(self) -> None:
        """Keep other processes from changing the schema until this transaction ends."""
        self._store.engine.lock_schema(self._conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        """Run one statement (DuckDB dialect, `?` parameters) inside the transaction."""
        return QueryResult(*self._store.engine.fetch(self._conn, sql, params))

    def upsert(
        self,
        table: str,
        rows: Sequence[Row],
        *,
        update: Sequence[str] | None = None,
        update_where: str | None = None,
    ) -> int:
        """Insert rows, or update the existing row with the same natural key.

        `update` limits which columns an existing row takes from the new one (default: every
        column not in the key); columns the rows do not carry are never updated. `update_where`
        is a condition over `{table}.col` and `excluded.col` that must hold for the update,
        e.g. to keep a final state final. Returns the number of rows given after
        de-duplication on the key (last one wins).
        """
        if not rows:
            return 0
        info = self._store.table(table)
        return self._merge(info, arrow_of_rows(info, rows), update, update_where)

    def upsert_arrow(
        self,
        table: str,
        data: pa.Table,
        *,
        update: Sequence[str] | None = None,
        update_where: str | None = None,
    ) -> int:
        """`upsert` of rows already in an Arrow table (column names as the table's; JSON
        columns as JSON text; types are cast to the catalog's): no Python objects per row."""
        if not data.num_rows:
            return 0
        info = self._store.table(table)
        return self._merge(info, conform(info, data), update, update_where)

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        """Insert rows that are all new, with no merge (the cheapest write: no join against the
        table, no de-duplication). Raises KeyConflict when a key exists or repeats; the
        transaction is then spoilt: let it roll back and write with `upsert_arrow`. Into a table
        without a key index the keys are checked when the transaction commits, which raises."""
        if not data.num_rows:
            return 0
        info = self._store.table(table)
        data = conform(info, data)
        self._store.engine.bulk_load(self._conn, info, data)
        if not info.key_indexed:
            timed = info.key_time in data.column_names
            checked = [*info.primary_key, *([info.key_time] if timed else [])]
            self._new_keys.setdefault(table, []).append(data.select(checked))
        return int(data.num_rows)

    def check_new_keys(self) -> None:
        """What a key index would have refused in `insert_arrow`: checked once per table and
        transaction (one join for the CI-cost scan's ~25 chunks a batch, not one each)."""
        engine = self._store.engine
        for table, keys in self._new_keys.items():
            assert isinstance(engine, DuckDBEngine)  # the one engine with such tables
            engine.check_new_keys(self._conn, self._store.table(table), keys)
        self._new_keys = {}

    def insert_ignore(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows whose natural key is new; existing rows are left as they are."""
        if not rows:
            return 0
        info = self._store.table(table)
        return self._merge(info, arrow_of_rows(info, rows), (), None)

    def insert_ignore_arrow(self, table: str, data: pa.Table) -> int:
        """`insert_ignore` of rows already in an Arrow table (see `upsert_arrow`)."""
        if not data.num_rows:
            return 0
        info = self._store.table(table)
        return self._merge(info, conform(info, data), (), None)

    def delete(self, table: str, where: str, params: Sequence[Any] = ()) -> None:
        """Delete the rows matching `where`, e.g. the day a re-import replaces."""
        self.execute(f"DELETE FROM {quote_ident(table)} WHERE {where}", params)

    def set_checkpoint(self, source: str, position: str | int) -> None:
        """Record how far `source` has been ingested, with the rows of this transaction."""
        self.upsert(
            "ingest_checkpoints",
            [{"source": source, "position": str(position), "updated_at": datetime.now(UTC)}],
        )

    def dead_letter(self, source: str, key: str | None, error: str, payload: bytes | str) -> int:
        """Keep input that could not be parsed, raw and byte-for-byte, with the reason."""
        (letter_id,) = self.dead_letters([(source, key, error, payload)])
        return letter_id

    def dead_letters(self, letters: Iterable[Letter]) -> list[int]:
        """`dead_letter` for many `(source, key, error, payload)` in one write (a statement
        each cost ~3 ms: a tenth of an events import refusing one line in 100)."""
        rows = letter_rows(letters, datetime.now(UTC))
        self.upsert("dead_letters", rows, update=["error"])
        return [row["id"] for row in rows]

    def _merge(
        self,
        info: TableInfo,
        table: pa.Table,
        update: Sequence[str] | None,
        update_where: str | None,
    ) -> int:
        table = unique_on_key(info, table)
        names = table.column_names
        if update is None:
            update = [c for c in names if c not in info.primary_key]
        else:
            update = [c for c in update if c in names]
        engine = self._store.engine
        stage = engine.stage(self._conn, info, names, table)
        engine.merge(self._conn, Merge(info, stage, names, update, update_where, table.num_rows))
        return int(table.num_rows)


class Store:
    """The shipgauge store. Open with `Store.open(url)`; it migrates itself on open."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._local = threading.local()
        self._tables: dict[str, TableInfo] = {}

    @classmethod
    def open(cls, url: str, *, load_models: bool = True, wait_s: float = DEFAULT_WAIT_S) -> Store:
        """Open (creating if needed) the store at `url`, apply migrations, load the models.

        A DuckDB file is shared with other processes by turns (`engines.turns`): this one waits
        at most `wait_s` seconds for each of its turns. A file nobody may write is opened
        read-only: it can be read if it is migrated and its models are current.
        """
        store = cls(open_engine(url, wait_s=wait_s), url)
        store.migrate()
        if load_models:
            views.load_models(store)
        return store

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (a DuckDB file nobody may write)."""
        return self.engine.read_only

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """This thread's connection for the block; nested sessions of a thread share it."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.session() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reading -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        """Run a read query written in DuckDB SQL with `?` parameters."""
        with self.session() as conn:
            return QueryResult(*self.engine.fetch(conn, sql, params))

    def query_text(self, sql: str, *, write: bool = False) -> QueryResult:
        """Run SQL a person typed (DuckDB dialect). Unless `write`, it must be one statement
        that only reads (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN, PRAGMA), and runs in a
        read-only transaction that is rolled back: nothing it does can change the store."""
        if write:
            return self.query(sql)
        with self.session() as conn:
            return QueryResult(*self.engine.fetch_read_only(conn, sql))

    def iter_batches(self, sql: str, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as Arrow record batches (memory stays flat).

        The batches may be pulled from another thread (Arrow's writers do), so the stream has
        a session of its own unless this thread is in one.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield from self.engine.iter_batches(conn, sql, batch_rows)
            return
        with self.engine.session() as own:
            yield from self.engine.iter_batches(own, sql, batch_rows)

    def checkpoint(self, source: str) -> str | None:
        """The last committed position of `source`, or None before its first run."""
        position = self.query(
            "SELECT position FROM ingest_checkpoints WHERE source = ?", [source]
        ).scalar()
        return None if position is None else str(position)

    def table(self, name: str) -> TableInfo:
        """The catalog entry of a base table."""
        if name not in self._tables:
            with self.session() as conn:
                self._tables = self.engine.catalog(conn)
        try:
            return self._tables[name]
        except KeyError:
            raise NotFound(f"no table named '{name}'", field="table") from None

    def tables(self) -> list[TableInfo]:
        """Every base table, by name."""
        with self.session() as conn:
            self._tables = self.engine.catalog(conn)
        return [self._tables[n] for n in sorted(self._tables)]

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {quote_ident(table)}").scalar())

    # writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction: everything written inside commits together, or rolls back."""
        with self.session() as conn:
            tx = Transaction(self, conn)
            try:
                with self.engine.transaction(conn):
                    yield tx
                    tx.check_new_keys()
            finally:
                tx._release_held()

    def bulk_load(self, table: str, data: pa.Table) -> None:
        """The engine's own fastest load of an Arrow table (no conflict handling): benchmarks."""
        info = self.table(table)
        with self.session() as conn, self.engine.transaction(conn):
            self.engine.bulk_load(conn, info, data)

    # schema --------------------------------------------------------------------------------

    def migration_level(self) -> int:
        return int(self.query("SELECT coalesce(max(version), 0) FROM schema_migrations").scalar())

    def migrate(self) -> int:
        """Apply the migrations not yet recorded in `schema_migrations`; return the level.

        A read-only store is only checked: StoreError if it lacks a migration."""
        engine = self.engine
        if engine.read_only:
            level = self.migration_level()
            if level < max(version for version, _, _ in _migrations()):
                raise views.read_only_outdated(self.url, f"is at migration {level}")
            return level
        with self.session() as conn, engine.transaction(conn):
            engine.lock_schema(conn)
            engine.execute(
                conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
            )
            _, done = engine.fetch(conn, "SELECT version FROM schema_migrations")
            applied = {v for (v,) in done}
            for version, name, script in _migrations():
                if version in applied:
                    continue
                # DuckDB runs a whole script; PostgreSQL gets each statement transpiled. A script
                # for one engine is recorded on the other too, so both count the same levels.
                if _only_for(script) not in (None, engine.name):
                    scripts = []
                elif engine.name == "duckdb":
                    scripts = [script]
                else:
                    scripts = split_statements(script)
                for statement in scripts:
                    engine.execute(conn, statement)
                engine.execute(
                    conn,
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, name, datetime.now(UTC)],
                )
        self._tables = {}
        return self.migration_level()


def _only_for(script: str) -> str | None:
    """The engine a migration is for, when its first line says so (`-- duckdb only`)."""
    first = script.partition("\n")[0]
    if first.startswith("-- ") and first.endswith(" only"):
        return first.removeprefix("-- ").removesuffix(" only")
    return None


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("shipgauge.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(version), name, entry.read_text(encoding="utf-8")))
    return sorted(found)
