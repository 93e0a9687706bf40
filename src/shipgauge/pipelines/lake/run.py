"""`lake run`: the SQL models over the lake's tables, in dependency order, each written as Parquet.

The lake is what `lake export` wrote: each table's folder with its `_schema.json`. Each model is
transpiled for the engine (store/dialects.py), run, written to `<out>/<model>/`, and read back
from there by the models after it, so a model is computed once however many read it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from shipgauge.config import Settings
from shipgauge.connectors.lake import DuckDBLakeEngine, LakeEngine, LakeTable
from shipgauge.errors import NotFound
from shipgauge.store.dialects import get_model_or_raise, model_sql
from shipgauge.store.lake.files import SCHEMA_FILE, read_manifest, read_schema
from shipgauge.store.views import Model, discover_models, model_order

__all__ = ["LakeEngineName", "ModelRun", "lake_engine", "lake_tables", "run_models"]

LakeEngineName = Literal["spark", "duckdb"]


@dataclass(frozen=True)
class ModelRun:
    """One model run over the lake: its rows, how long it took, where it was written."""

    model: str
    rows: int
    seconds: float
    path: Path
    requested: bool  # False: run because a requested model reads it


def lake_engine(
    name: LakeEngineName, settings: Settings, *, master: str | None = None
) -> LakeEngine:
    """The engine called `name`, built from the settings (`master` overrides `spark_master`;
    under spark-submit pass "" to take spark-submit's own)."""
    if name == "duckdb":
        return DuckDBLakeEngine()
    from shipgauge.connectors.lake.spark import SparkLakeEngine, spark_session

    chosen = settings.spark_master if master is None else master
    return SparkLakeEngine(spark_session(master=chosen or None, conf=settings.spark_conf))


def lake_tables(lake: Path) -> dict[str, LakeTable]:
    """The tables of the lake at `lake`, by name, as their `_schema.json` describe them."""
    found = {}
    for folder in sorted(lake.iterdir()) if lake.is_dir() else ():
        if (folder / SCHEMA_FILE).is_file():
            schema = read_schema(folder)
            if schema.kind == "table":
                spark = tuple((c["name"], c["spark"]) for c in schema.to_json()["columns"])
                partition = schema.to_json()["partition_column"]
                found[schema.name] = LakeTable(schema.name, folder, schema.schema, spark, partition)
    if not found:
        raise NotFound(
            f"{lake} holds no table of a shipgauge lake: run `shipgauge lake export {lake}` first",
            field="DIR",
        )
    return found


def _with_inputs(names: Sequence[str]) -> list[tuple[Model, bool]]:
    """The models to run, in dependency order: those named (all when none) and those they read."""
    every = {m.name: m for m in discover_models()}
    requested = {get_model_or_raise(n).name for n in names} or set(every)
    needed, pending = set(requested), list(requested)
    while pending:
        for ref in every[pending.pop()].references() & every.keys():
            if ref not in needed:
                needed.add(ref)
                pending.append(ref)
    return [(m, m.name in requested) for m in model_order(list(every.values())) if m.name in needed]


def run_models(
    lake: Path,
    out: Path,
    *,
    engine: LakeEngine,
    models: Sequence[str] = (),
    now: datetime | None = None,
) -> list[ModelRun]:
    """Run `models` (default: all) and the models they read over the lake at `lake` on `engine`,
    writing each to `out/<model>/`. A model that reads the clock takes `now`, by default the
    time of the lake's last export, so a run over a snapshot always gives the same rows."""
    tables = lake_tables(lake)
    chosen = _with_inputs(models)
    # (a table function such as generate_series reads as a table without a name)
    needed = set().union(*(m.references() for m, _ in chosen)) - {m.name for m, _ in chosen}
    needed.discard("")
    missing = sorted(needed - tables.keys())
    if missing:
        raise NotFound(f"the lake at {lake} has no table '{missing[0]}'", field="DIR")
    for name in sorted(needed):
        engine.register_table(tables[name])
    if now is None:
        exported_at = read_manifest(lake)[0].get("exported_at")
        now = datetime.fromisoformat(exported_at) if exported_at else None
    runs = []
    for model, requested in chosen:
        started = time.perf_counter()
        target = out / model.name
        rows = engine.run_model(model.name, model_sql(model, engine.dialect, now=now), target)
        runs.append(ModelRun(model.name, rows, time.perf_counter() - started, target, requested))
    return runs
