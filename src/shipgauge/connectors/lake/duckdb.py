"""DuckDB over the lake, in this process: the reference the other engines are checked against."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from shipgauge.connectors.lake.base import LakeTable

__all__ = ["DuckDBLakeEngine"]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class DuckDBLakeEngine:
    """An in-memory DuckDB whose tables are views over the lake's Parquet files."""

    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None) -> None:
        self._conn = duckdb.connect(":memory:")
        self._conn.execute("SET TimeZone = 'UTC'")  # as the store's sessions (engines/duckdb)
        if threads:
            self._conn.execute(f"SET threads = {int(threads)}")

    def register_table(self, table: LakeTable) -> None:
        files = table.files()
        if not files:  # no rows: an empty table of the lake's types
            self._conn.register(f"_sg_empty_{table.name}", table.schema.empty_table())
            source = _ident(f"_sg_empty_{table.name}")
        else:
            listed = ", ".join(_text(f) for f in files)
            source = f"read_parquet([{listed}], hive_partitioning = false)"
        columns = ", ".join(_ident(n) for n in table.schema.names)
        self._conn.execute(f"CREATE VIEW {_ident(table.name)} AS SELECT {columns} FROM {source}")

    def run_model(self, name: str, sql: str, target: Path) -> int:
        self._conn.execute(f"CREATE TABLE {_ident(name)} AS {sql}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        part = _text(target / "part-0.parquet")
        self._conn.execute(f"COPY {_ident(name)} TO {part} (FORMAT parquet, COMPRESSION zstd)")
        rows = self._conn.execute(f"SELECT count(*) FROM {_ident(name)}").fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        self._conn.close()
