"""The two engines behind the store: DuckDB (embedded default) and PostgreSQL (server option)."""

import duckdb as _duckdb
import psycopg as _psycopg
from sqlglot.errors import SqlglotError

from shipgauge.store.engines.base import Column, Engine, KeyConflict, Merge, TableInfo
from shipgauge.store.engines.duckdb import DEFAULT_WAIT_S, DuckDBEngine
from shipgauge.store.engines.postgres import PostgresEngine

__all__ = [
    "DEFAULT_WAIT_S",
    "ENGINE_ERRORS",
    "Column",
    "DuckDBEngine",
    "Engine",
    "KeyConflict",
    "Merge",
    "PostgresEngine",
    "TableInfo",
    "is_postgres_url",
    "open_engine",
]

# What the engines raise for a statement they cannot run (and sqlglot for one it cannot
# transpile): the interfaces report these as one line.
ENGINE_ERRORS: tuple[type[Exception], ...] = (_duckdb.Error, _psycopg.Error, SqlglotError)


def is_postgres_url(url: str) -> bool:
    """Whether the store at `url` is a PostgreSQL server (else a DuckDB file, one process at a
    time)."""
    return url.startswith(("postgresql://", "postgres://"))


def open_engine(url: str, *, wait_s: float = DEFAULT_WAIT_S) -> DuckDBEngine | PostgresEngine:
    """`postgresql://…` opens PostgreSQL; anything else is a DuckDB file path, whose turns
    this process waits for at most `wait_s` seconds."""
    if is_postgres_url(url):
        return PostgresEngine(url)
    return DuckDBEngine(url, wait_s=wait_s)
