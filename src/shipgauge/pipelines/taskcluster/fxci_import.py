"""fxci-etl's history into the store: its BigQuery tables as exported, a batch at a time.

`taskcluster import TABLE FILE…` streams each file (arrow_files), reads every batch into the
store table's rows (sources.taskcluster.fxci_tables) and upserts them on the table's primary key
by the rules every other writer keeps (a run never goes back, a task's tags are only filled in),
in one transaction per batch with the dead letters of the rows that could not be read. Importing
the same files again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from shipgauge.errors import SourceError
from shipgauge.pipelines.taskcluster.arrow_files import (
    FileBatch,
    file_columns,
    read_batches,
)
from shipgauge.pipelines.taskcluster.tasks import upsert_task_arrow
from shipgauge.sources.taskcluster.fxci_tables import (
    FxciTable,
    conform_batch,
    fxci_table,
    missing_columns,
)
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "IMPORT_SOURCE",
    "ImportResult",
    "import_fxci_tables",
    "retry_import_letter",
]

IMPORT_SOURCE: Final = "taskcluster.import"
DEFAULT_BATCH_ROWS: Final = 250_000
Progress = Callable[[int, int], None]  # (bytes read of all files, rows stored so far)


@dataclass(frozen=True)
class ImportResult:
    """What an import read and wrote: rows read, rows written (new or already there), rows the
    table did not hold before, and rows kept as dead letters instead."""

    table: str
    target: str
    files: list[str]
    rows: int
    stored: int
    new: int
    dead_letters: int


def import_fxci_tables(
    store: Store,
    table_name: str,
    paths: Sequence[Path],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    today: date | None = None,
    on_progress: Progress | None = None,
) -> ImportResult:
    """Import `paths` (CSV, JSON lines or Parquet exports of `table_name`) into the store.

    Every file is checked first (type, needed columns): a file that cannot be imported stops the
    import before anything is written.
    """
    table = fxci_table(table_name)
    for path in paths:
        missing = missing_columns(table, file_columns(path))
        if missing:
            raise SourceError(
                f"{path}: no column '{missing[0]}'; is this a {table.name} export?",
                field=missing[0],
            )
    day = today or datetime.now(UTC).date()
    before = store.count(table.target)
    rows = stored = letters = done_bytes = 0
    for path in paths:
        for batch in read_batches(path, batch_rows=batch_rows):
            written, dead = _store_batch(store, table, path, batch, day)
            rows += batch.data.num_rows + len(batch.unreadable)
            stored += written
            letters += dead
            if on_progress:
                on_progress(done_bytes + batch.position, stored)
        done_bytes += path.stat().st_size
    return ImportResult(
        table.name,
        table.target,
        [str(p) for p in paths],
        rows,
        stored,
        store.count(table.target) - before,
        letters,
    )


def _store_batch(
    store: Store, table: FxciTable, path: Path, batch: FileBatch, day: date
) -> tuple[int, int]:
    """One batch in one transaction: its rows and its dead letters."""
    data, rejected = conform_batch(table, batch.data, today=day)
    with store.transaction() as tx:
        _write(tx, table, data)
        for reject in rejected:
            record = batch.data.slice(reject.index, 1).to_pylist()[0]
            where = f"row {batch.first_row + reject.index}"
            tx.dead_letter(
                IMPORT_SOURCE,
                f"{table.name} {path.name}:{where}",
                reject.reason,
                json.dumps(record, default=str, ensure_ascii=False),
            )
        for bad in batch.unreadable:
            tx.dead_letter(
                IMPORT_SOURCE, f"{table.name} {path.name}:{bad.where}", bad.reason, bad.raw
            )
    return data.num_rows, len(rejected) + len(batch.unreadable)


def _write(tx: Transaction, table: FxciTable, data: pa.Table) -> None:
    if not data.num_rows:
        return
    if table.target == "tasks":
        upsert_task_arrow(tx, tasks=data, runs=None)
    elif table.target == "task_runs":
        upsert_task_arrow(tx, tasks=None, runs=data)
    else:  # worker uptime and costs: the export's values
        tx.upsert_arrow(table.target, data)


def retry_import_letter(tx: Transaction, letter: DeadLetter) -> None:
    """Read a dead-lettered row again (its key names the table) and store it."""
    table = fxci_table((letter.key or "").split(" ", 1)[0])
    try:
        record: Any = json.loads(letter.payload)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise SourceError(f"{letter.key}: not a row of {table.name}", field="payload")
    texts = {k: v if v is None or isinstance(v, str) else json.dumps(v) for k, v in record.items()}
    data, rejected = conform_batch(
        table,
        pa.table({k: pa.array([v], pa.string()) for k, v in texts.items()}),
        today=datetime.now(UTC).date(),
    )
    if rejected:
        raise SourceError(rejected[0].reason, field=rejected[0].reason.split(":")[0])
    _write(tx, table, data)
