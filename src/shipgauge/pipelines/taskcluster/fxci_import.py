"""fxci-etl's history into the store: its BigQuery tables as exported, a batch at a time.

`taskcluster import TABLE FILE…` streams each file (arrow_files), reads every batch into the
store table's rows (sources.taskcluster.fxci_tables) and upserts them on the table's primary key
by the rules every other writer keeps (a run never goes back, a task's tags are only filled in),
about `batch_rows` rows per transaction, with the dead letters of the rows that could not be
read, in bounded memory (pipelines.memory). Importing the same files again changes nothing.
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
from shipgauge.pipelines.memory import bounded_memory, write_out
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
# 200,000 rows a transaction. With no key index on tasks and task_runs (migration 9) the
# peak follows the batch, not the table: 438 / 467 MB at 1,000,000 / 10,000,000 runs, where
# 500,000-row batches took 623-800 MB (docs/taskcluster.md, Benchmark).
DEFAULT_BATCH_ROWS: Final = 200_000
# A DuckDB store writes out what it holds this often (pipelines.memory.write_out).
WRITE_OUT_ROWS: Final = 1_000_000
# A DuckDB store's memory limit while importing tasks or runs: with no key index there, nothing
# it holds must stay in memory. The worker tables keep their key indexes, which must fit: their
# imports keep DuckDB's own limit.
STORE_MEMORY_LIMIT: Final = "96MB"
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
    """Import `paths` (CSV, JSON lines or Parquet exports of `table_name`) into the store, about
    `batch_rows` rows per transaction.

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
    before = store.count(table.target)
    writer = _Writer(store, table, batch_rows, today or datetime.now(UTC).date())
    done_bytes = 0
    unindexed = not store.table(table.target).key_indexed
    with bounded_memory(store, STORE_MEMORY_LIMIT if unindexed else None):
        for path in paths:
            for batch in read_batches(path, batch_rows=batch_rows):
                writer.add(path, batch)
                if on_progress:
                    on_progress(done_bytes + batch.position, writer.stored)
            writer.flush()
            done_bytes += path.stat().st_size
    if on_progress:
        on_progress(done_bytes, writer.stored)
    return ImportResult(
        table.name,
        table.target,
        [str(p) for p in paths],
        writer.rows,
        writer.stored,
        store.count(table.target) - before,
        writer.dead_letters,
    )


Letter = tuple[str, str, bytes | str]  # key, reason, payload


class _Writer:
    """Rows read into store rows, written about `batch_rows` at a time: one transaction holds
    the rows of several small batches (CSV and JSON blocks) with their dead letters."""

    def __init__(self, store: Store, table: FxciTable, batch_rows: int, day: date) -> None:
        self._store, self._table, self._batch_rows, self._day = store, table, batch_rows, day
        self._pending: list[pa.Table] = []
        self._letters: list[Letter] = []
        self.rows = self.stored = self.dead_letters = 0
        self._unwritten = 0  # rows committed since the store last wrote out its indexes

    def add(self, path: Path, batch: FileBatch) -> None:
        data, rejected = conform_batch(self._table, batch.data, today=self._day)
        prefix = f"{self._table.name} {path.name}"
        for reject in rejected:
            record = batch.data.slice(reject.index, 1).to_pylist()[0]
            payload = json.dumps(record, default=str, ensure_ascii=False)
            where = f"row {batch.first_row + reject.index}"
            self._letters.append((f"{prefix}:{where}", reject.reason, payload))
        self._letters += [(f"{prefix}:{u.where}", u.reason, u.raw) for u in batch.unreadable]
        self.rows += batch.data.num_rows + len(batch.unreadable)
        self._pending.append(data)
        if sum(t.num_rows for t in self._pending) >= self._batch_rows:
            self.flush()

    def flush(self) -> None:
        """Write what is pending in one transaction."""
        if not self._pending and not self._letters:
            return
        data = pa.concat_tables(self._pending) if self._pending else None
        with self._store.transaction() as tx:
            if data is not None:
                _write(tx, self._table, data)
            tx.dead_letters((IMPORT_SOURCE, *letter) for letter in self._letters)
        written = data.num_rows if data is not None else 0
        self.stored += written
        self._unwritten += written
        if self._unwritten >= WRITE_OUT_ROWS:
            write_out(self._store)
            self._unwritten = 0
        self.dead_letters += len(self._letters)
        self._pending, self._letters = [], []


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
