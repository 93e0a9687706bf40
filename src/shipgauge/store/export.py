"""One Parquet file per model, for a report's reader (`ci-cost export`); the lake: store/lake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from shipgauge.store.lake.rows import read_model

if TYPE_CHECKING:
    from shipgauge.store.store import Store

__all__ = ["ExportedModel", "export_models"]


@dataclass(frozen=True)
class ExportedModel:
    """One model written: where, and how many rows."""

    model: str
    rows: int
    path: Path


def export_models(store: Store, folder: Path, *, models: Sequence[str]) -> list[ExportedModel]:
    """Write each model to `folder/<model>.parquet` (zstd), replacing an earlier export.

    The columns have the lake's types on both engines (store/lake/rows.py), JSON as text; one
    model is held in memory at a time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for model in models:
        table = read_model(store, model)
        path = folder / f"{model}.parquet"
        pq.write_table(table, path, compression="zstd")
        written.append(ExportedModel(model, table.num_rows, path))
    return written
