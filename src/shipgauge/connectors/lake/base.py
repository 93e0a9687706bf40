"""What `lake run` needs of an engine: read the lake's tables, run a model, write its result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa

__all__ = ["LakeEngine", "LakeTable"]


@dataclass(frozen=True)
class LakeTable:
    """A table of the lake: its folder, its columns (with their Spark types, as its
    `_schema.json` gives them), and the Hive partition column if any."""

    name: str
    folder: Path
    schema: pa.Schema
    spark_types: tuple[tuple[str, str], ...]
    partition_column: str | None

    def files(self) -> list[Path]:
        """Its Parquet files (none for an empty table: the folder holds only its schema)."""
        return sorted(p for p in self.folder.rglob("*.parquet") if not p.name.startswith("."))


class LakeEngine(Protocol):
    """An engine over the lake. Tables are registered first; each model, run in dependency
    order, is written as Parquet to its folder, then read back by the models after it."""

    dialect: str

    def register_table(self, table: LakeTable) -> None: ...

    def run_model(self, name: str, sql: str, target: Path) -> int:
        """Run `sql`, write its rows to the folder `target` (replaced), make `name` read them
        back for the models after it; return the number of rows."""
        ...

    def close(self) -> None: ...
