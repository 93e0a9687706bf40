"""Writing resolved pushes in batches: rows, dead letters, push_task_groups and the checkpoint.

A batch commits once it holds `batch_pushes` pushes (setting `ci_cost_write_batch_pushes`,
1,000) or `WRITE_BATCH_ROWS` task + run rows, whichever comes first: big enough that DuckDB
writes each table's rows straight to the database file, a row group (122,880 rows) or more,
rather than to the write-ahead log and again at each checkpoint (measured on 200-task pushes:
2.0 ms of store CPU per push in batches of 100,000 rows, 0.9 ms in batches of 400,000), and
bounded so that a killed scan loses little. Its tasks and runs go into its open transaction in
chunks of `WRITE_CHUNK_ROWS` as they come, so that the scan holds a chunk, not a batch: the
batch of 1,000 pushes held 250 MB of listings while it filled, and a copy of them to write.

Tasks and runs are first inserted as new rows (`Transaction.insert_arrow`: no join against the
stored rows, no de-duplication: ~15 % less store CPU per push); a batch that meets a stored key
rolls back and is written again, like the rest of the scan, with merges. To write it again
without holding it, the chunks it inserted are kept as LZ4-compressed Arrow IPC streams until it
commits (17 kB per push of 200 tasks against ~250 kB decoded; 0.04 ms of CPU per push). Merges
go a chunk at a time, so a task listed twice in one batch follows the Taskcluster rules from one
listing to the next, as it does across batches. A chunk's tables are made contiguous first:
DuckDB read the 200-row chunks of one table per page as 200-row vectors.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa

from shipgauge.pipelines.ci_cost.groups import ANSWER_DEAD_LETTER_SOURCE, PushOutcome
from shipgauge.pipelines.taskcluster.tasks import RUN_TRANSITION_RULE, TASK_TAGS_RULE
from shipgauge.sources.taskcluster.group_pages import RUN_SCHEMA, TASK_SCHEMA, run_table, task_table
from shipgauge.sources.taskcluster.groups import GroupListing
from shipgauge.store import KeyConflict, Store, Transaction

__all__ = ["DEAD_LETTER_SOURCE", "GROUP_FIELDS", "BatchWriter", "write_listings"]

DEAD_LETTER_SOURCE: Final = "ci_cost.task_group"
WRITE_BATCH_ROWS: Final = 400_000
# Task + run rows held before they are written into the batch's open transaction (~50 pushes
# of 200 tasks): DuckDB still writes each table's rows of a batch to the file as row groups.
WRITE_CHUNK_ROWS: Final = 20_000
# On the writer's thread: compressing a chunk's buffers on Arrow's pool cost more CPU than it saved.
_PACKING: Final = pa.ipc.IpcWriteOptions(compression="lz4", use_threads=False)
# push_task_groups beyond its key; first_seen_at is kept from the first scan.
GROUP_FIELDS: Final = (
    "revision",
    "index_path",
    "decision_task_id",
    "task_group_id",
    "state",
    "reason",
    "tasks",
    "unfinished_tasks",
    "lookups",
    "listings",
    "first_seen_at",
    "checked_at",
)
_GROUP_UPDATE: Final = [c for c in GROUP_FIELDS if c != "first_seen_at"]
# As pipelines/taskcluster/tasks.py writes them: keys and submission_date never change.
_TASK_UPDATE: Final = [c for c in TASK_SCHEMA.names if c not in ("task_id", "submission_date")]
_RUN_UPDATE: Final = [c for c in RUN_SCHEMA.names[2:] if c != "submission_date"]


def write_listings(tx: Transaction, listings: Sequence[GroupListing], *, new: bool = False) -> None:
    """Store the tasks and runs of `listings` in `tx` under the Taskcluster rules (a task only
    gains tags, a run never goes back); a key listed twice keeps its last row.

    `new`: the rows are expected to be new, and are inserted without a merge; KeyConflict when
    one is not (then the transaction rolls back and the caller writes again without `new`)."""
    if listings:
        _write_tables(tx, _tables(listings), new=new)


def _tables(listings: Sequence[GroupListing]) -> tuple[pa.Table, pa.Table]:
    tasks = pa.concat_tables([task_table(listing) for listing in listings]).combine_chunks()
    runs = pa.concat_tables([run_table(listing) for listing in listings]).combine_chunks()
    return tasks, runs


def _write_tables(tx: Transaction, tables: tuple[pa.Table, pa.Table], *, new: bool) -> None:
    tasks, runs = tables
    if new:
        tx.insert_arrow("tasks", tasks)
        tx.insert_arrow("task_runs", runs)
        return
    tx.upsert_arrow("tasks", tasks, update=_TASK_UPDATE, update_where=TASK_TAGS_RULE)
    tx.upsert_arrow("task_runs", runs, update=_RUN_UPDATE, update_where=RUN_TRANSITION_RULE)


def _packed(tables: tuple[pa.Table, pa.Table]) -> tuple[pa.Buffer, pa.Buffer]:
    """Both tables as LZ4-compressed Arrow IPC streams."""
    packed = []
    for table in tables:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema, options=_PACKING) as stream:
            stream.write_table(table)
        packed.append(sink.getvalue())
    return packed[0], packed[1]


def _unpacked(packed: tuple[pa.Buffer, pa.Buffer]) -> tuple[pa.Table, pa.Table]:
    tasks, runs = (pa.ipc.open_stream(buffer).read_all() for buffer in packed)
    return tasks, runs


class BatchWriter:
    """Writes outcomes in push order, a batch per transaction with the checkpoint `checkpoint`.

    A batch's tasks and runs go into its open transaction `WRITE_CHUNK_ROWS` at a time as they
    come; its push_task_groups rows, dead letters and the checkpoint are written when it
    commits. `position` is the last push committed; since outcomes arrive in push order, every
    push up to it has its row. Use it as a context manager: a batch still open when the block
    ends in an error rolls back.
    """

    def __init__(
        self, store: Store, checkpoint: str, position: int | None, *, batch_pushes: int
    ) -> None:
        self.store = store
        self.checkpoint = checkpoint
        self.position = position
        self.batch_pushes = max(batch_pushes, 1)
        self.states: Counter[str] = Counter()
        self.pushes = self.groups = self.tasks = self.runs = self.dead_letters = 0
        self._open = contextlib.ExitStack()
        self._tx: Transaction | None = None
        self._batch = _Batch()
        self._chunk: list[GroupListing] = []
        self._chunk_rows = 0
        # Tasks and runs are inserted as new rows until a batch meets one already stored (a
        # group listed again, tasks the Taskcluster ETL wrote): that batch rolls back, and it
        # and the rest of the scan are written with merges.
        self._inserting = True

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: Any
    ) -> None:
        if error is not None:
            self._roll_back(error)
        self._batch, self._chunk, self._chunk_rows = _Batch(), [], 0

    def add(self, outcome: PushOutcome) -> None:
        """Take one outcome; write the chunk or commit the batch when it is full."""
        self._batch.outcomes.append((outcome.row, outcome.letter))
        listing = outcome.listing
        if listing is not None:
            rows = listing.task_count + listing.run_count
            self._batch.count(listing, rows)
            self._chunk.append(listing)
            self._chunk_rows += rows
            if self._chunk_rows >= WRITE_CHUNK_ROWS:
                self._write_chunk()
        if len(self._batch.outcomes) >= self.batch_pushes or self._batch.rows >= WRITE_BATCH_ROWS:
            self.flush()

    def flush(self, *, covered: int | None = None) -> None:
        """Commit what is held; `covered` (the pushlog's end, once every push is resolved) moves
        the checkpoint past pushes that needed no row."""
        batch, position = self._batch, self.position
        for mark in (max((row["push_id"] for row, _ in batch.outcomes), default=None), covered):
            if mark is not None:
                position = max(position or 0, mark)
        if not batch.outcomes and position == self.position:
            return
        self._write_chunk()
        rejects = batch.rejects + [
            (ANSWER_DEAD_LETTER_SOURCE, *letter) for _, letter in batch.outcomes if letter
        ]
        try:
            self._commit(rejects, position)
        except KeyConflict:  # a table without a key index checks the inserted keys at commit
            self._write_again_with_merges()
            self._commit(rejects, position)
        self._batch, self.position = _Batch(), position
        self.states.update(row["state"] for row, _ in batch.outcomes)
        self.pushes += len(batch.outcomes)
        self.groups += batch.groups
        self.tasks += batch.tasks
        self.runs += batch.runs
        self.dead_letters += len(rejects)

    def _commit(self, rejects: list[tuple[str, str, str, bytes]], position: int | None) -> None:
        """Write the batch's push_task_groups rows, dead letters and checkpoint, and commit."""
        tx, outcomes = self._transaction(), self._batch.outcomes
        tx.dead_letters(rejects)
        tx.upsert("push_task_groups", [row for row, _ in outcomes], update=_GROUP_UPDATE)
        if position is not None:
            tx.set_checkpoint(self.checkpoint, position)
        self._tx = None
        self._open.close()  # commits

    def _write_again_with_merges(self) -> None:
        """After a KeyConflict rolled the batch back: the chunks it had inserted, with merges,
        and merges for the rest of the scan."""
        self._inserting = False
        for packed in self._batch.inserted:
            _write_tables(self._transaction(), _unpacked(packed), new=False)
        self._batch.inserted = []

    def _transaction(self) -> Transaction:
        if self._tx is None:
            self._tx = self._open.enter_context(self.store.transaction())
        return self._tx

    def _write_chunk(self) -> None:
        chunk, self._chunk, self._chunk_rows = self._chunk, [], 0
        if not chunk:
            return
        tables = _tables(chunk)
        if not self._inserting:
            _write_tables(self._transaction(), tables, new=False)
            return
        try:
            _write_tables(self._transaction(), tables, new=True)
        except KeyConflict as conflict:
            self._roll_back(conflict)
            self._write_again_with_merges()
            _write_tables(self._transaction(), tables, new=False)
            return
        self._batch.inserted.append(_packed(tables))

    def _roll_back(self, error: BaseException) -> None:
        """End the open transaction in `error`, which rolls it back."""
        if self._tx is not None:
            self._tx = None
            self._open.__exit__(type(error), error, error.__traceback__)


@dataclass
class _Batch:
    """What a batch's commit writes besides its tasks and runs (each push's push_task_groups
    row and unreadable answer, the listings' rejects), the chunks it inserted (packed, to write
    them again with merges), and what it counts."""

    outcomes: list[tuple[dict[str, Any], tuple[str, str, bytes] | None]] = field(
        default_factory=list
    )
    rejects: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    inserted: list[tuple[pa.Buffer, pa.Buffer]] = field(default_factory=list)
    rows: int = 0
    groups: int = 0
    tasks: int = 0
    runs: int = 0

    def count(self, listing: GroupListing, rows: int) -> None:
        self.rejects += [(DEAD_LETTER_SOURCE, *r) for r in listing.rejects]
        self.rows += rows
        self.groups += 1
        self.tasks += listing.task_count
        self.runs += listing.run_count
