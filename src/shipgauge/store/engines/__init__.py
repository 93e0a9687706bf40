"""The two engines behind the store: DuckDB (embedded default) and PostgreSQL (server option)."""

import sys

import duckdb as _duckdb
from sqlglot.errors import SqlglotError

from shipgauge.store.engines.base import Column, Engine, KeyConflict, Merge, TableInfo
from shipgauge.store.engines.duckdb import DEFAULT_WAIT_S, DuckDBEngine

__all__ = [
    "DEFAULT_WAIT_S",
    "Column",
    "DuckDBEngine",
    "Engine",
    "KeyConflict",
    "Merge",
    "TableInfo",
    "engine_errors",
    "is_postgres_url",
    "open_engine",
]


def engine_errors() -> tuple[type[Exception], ...]:
    """What the engines raise for a statement they cannot run (and sqlglot for one it cannot
    transpile): the interfaces report these as one line. psycopg's only once a PostgreSQL store
    was opened: until then none can be raised, and a DuckDB-only process never imports it
    (~12 MB)."""
    psycopg = sys.modules.get("psycopg")
    return (_duckdb.Error, SqlglotError, *((psycopg.Error,) if psycopg else ()))


def is_postgres_url(url: str) -> bool:
    """Whether the store at `url` is a PostgreSQL server (else a DuckDB file, one process at a
    time)."""
    return url.startswith(("postgresql://", "postgres://"))


def open_engine(url: str, *, wait_s: float = DEFAULT_WAIT_S) -> Engine:
    """`postgresql://…` opens PostgreSQL; anything else is a DuckDB file path, whose turns
    this process waits for at most `wait_s` seconds."""
    if is_postgres_url(url):
        from shipgauge.store.engines.postgres import PostgresEngine  # psycopg: see engine_errors

        return PostgresEngine(url)
    return DuckDBEngine(url, wait_s=wait_s)
