"""The two engines behind the store: DuckDB (embedded default) and PostgreSQL (server option)."""

from shipgauge.store.engines.base import Column, Engine, KeyConflict, Merge, TableInfo
from shipgauge.store.engines.duckdb import DuckDBEngine
from shipgauge.store.engines.postgres import PostgresEngine

__all__ = [
    "Column",
    "DuckDBEngine",
    "Engine",
    "KeyConflict",
    "Merge",
    "PostgresEngine",
    "TableInfo",
    "open_engine",
]


def open_engine(url: str) -> DuckDBEngine | PostgresEngine:
    """`postgresql://…` opens PostgreSQL; anything else is a DuckDB file path."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(url)
    return DuckDBEngine(url)
