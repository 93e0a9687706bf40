"""The two engines behind the store: DuckDB (embedded default) and PostgreSQL (server option)."""

import duckdb as _duckdb
import psycopg as _psycopg
from sqlglot.errors import SqlglotError

from shipgauge.store.engines.base import Column, Engine, KeyConflict, Merge, TableInfo
from shipgauge.store.engines.duckdb import DuckDBEngine
from shipgauge.store.engines.postgres import PostgresEngine

__all__ = [
    "ENGINE_ERRORS",
    "Column",
    "DuckDBEngine",
    "Engine",
    "KeyConflict",
    "Merge",
    "PostgresEngine",
    "TableInfo",
    "open_engine",
]

# What the engines raise for a statement they cannot run (and sqlglot for one it cannot
# transpile): the interfaces report these as one line.
ENGINE_ERRORS: tuple[type[Exception], ...] = (_duckdb.Error, _psycopg.Error, SqlglotError)


def open_engine(url: str) -> DuckDBEngine | PostgresEngine:
    """`postgresql://…` opens PostgreSQL; anything else is a DuckDB file path."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(url)
    return DuckDBEngine(url)
