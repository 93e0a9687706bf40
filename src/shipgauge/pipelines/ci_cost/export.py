"""`ci-cost export`: the CI cost models as Parquet files, for Spark, Trino, Athena or BigQuery.

`shipgauge export` writes the tables; this writes the models over them (one file per model),
so a lake holds the computed costs as measuring_ci's Parquet on S3 did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from shipgauge.store import Store
from shipgauge.store._sql import quote_ident

__all__ = ["CI_COST_MODELS", "ExportedModel", "export_models"]

CI_COST_MODELS: Final = (
    "push_costs",
    "push_task_runs",
    "cost_by_repo_day",
    "cost_by_worker_pool_month",
    "costliest_tasks",
    "unpriced_worker_pools",
    "cost_per_shipped_change",
    "cost_by_review_system",
)


@dataclass(frozen=True)
class ExportedModel:
    """One model written: where, and how many rows."""

    model: str
    rows: int
    path: Path


def export_models(
    store: Store, folder: Path, *, models: tuple[str, ...] = CI_COST_MODELS
) -> list[ExportedModel]:
    """Write each model to `folder/<model>.parquet` (zstd), replacing an earlier export.

    One model is held in memory at a time: PostgreSQL batches carry no column types of their
    own, so the batches' schemas are unified before writing.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for model in models:
        batches = list(store.iter_batches(f"SELECT * FROM {quote_ident(model)}"))
        if batches:
            schema = pa.unify_schemas([b.schema for b in batches], promote_options="permissive")
            table = pa.Table.from_batches([b.cast(schema) for b in batches], schema=schema)
        else:
            columns = store.query(f"SELECT * FROM {quote_ident(model)} LIMIT 0").columns
            table = pa.table({c: pa.array([], pa.null()) for c in columns})
        path = folder / f"{model}.parquet"
        pq.write_table(table, path, compression="zstd")
        written.append(ExportedModel(model, table.num_rows, path))
    return written
