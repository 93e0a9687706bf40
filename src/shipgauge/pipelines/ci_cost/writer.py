"""Writing resolved pushes in batches: rows, dead letters, push_task_groups and the checkpoint.

A batch is written once it holds `batch_pushes` pushes (setting `ci_cost_write_batch_pushes`,
1,000) or `WRITE_BATCH_ROWS` task + run rows, whichever comes first: big enough that DuckDB
writes each table's insert straight to the database file, a row group (122,880 rows) or more,
rather than to the write-ahead log and again at each checkpoint (measured on 200-task pushes:
2.0 ms of store CPU per push in batches of 100,000 rows, 0.9 ms in batches of 400,000), and
bounded so that memory stays flat and a killed scan loses little.

Tasks and runs are first inserted as new rows (`Transaction.insert_arrow`: no join against the
stored rows, no de-duplication: ~15 % less store CPU per push); a batch that meets a stored key
rolls back and is written again with merges, as is the rest of the scan. A batch's tables are
made contiguous first: DuckDB read the 200-row chunks of one table per page as 200-row vectors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from shipgauge.pipelines.ci_cost.groups import ANSWER_DEAD_LETTER_SOURCE, PushOutcome
from shipgauge.pipelines.taskcluster.tasks import RUN_TRANSITION_RULE, TASK_TAGS_RULE
from shipgauge.sources.taskcluster.group_pages import RUN_SCHEMA, TASK_SCHEMA, run_table, task_table
from shipgauge.sources.taskcluster.groups import GroupListing
from shipgauge.store import KeyConflict, Store, Transaction

__all__ = ["DEAD_LETTER_SOURCE", "GROUP_FIELDS", "BatchWriter", "write_listings"]

DEAD_LETTER_SOURCE: Final = "ci_cost.task_group"
WRITE_BATCH_ROWS: Final = 400_000
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
    if not listings:
        return
    tasks = pa.concat_tables([task_table(listing) for listing in listings]).combine_chunks()
    runs = pa.concat_tables([run_table(listing) for listing in listings]).combine_chunks()
    if new:
        tx.insert_arrow("tasks", tasks)
        tx.insert_arrow("task_runs", runs)
        return
    tx.upsert_arrow("tasks", tasks, update=_TASK_UPDATE, update_where=TASK_TAGS_RULE)
    tx.upsert_arrow("task_runs", runs, update=_RUN_UPDATE, update_where=RUN_TRANSITION_RULE)


class BatchWriter:
    """Collects outcomes in push order and commits them with the checkpoint `checkpoint`.

    `position` is the last push written; since outcomes arrive in push order, every push up to
    the last one of a committed batch has its row.
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
        self._batch: list[PushOutcome] = []
        self._rows = 0
        # Tasks and runs are inserted as new rows until a batch meets one already stored (a
        # group listed again, tasks the Taskcluster ETL wrote): that batch is written again,
        # and the rest of the scan, with merges.
        self._inserting = True

    def add(self, outcome: PushOutcome) -> None:
        """Hold one outcome; write the batch when it is full."""
        self._batch.append(outcome)
        if outcome.listing is not None:
            self._rows += outcome.listing.task_count + outcome.listing.run_count
        if len(self._batch) >= self.batch_pushes or self._rows >= WRITE_BATCH_ROWS:
            self.flush()

    def flush(self, *, covered: int | None = None) -> None:
        """Write what is held; `covered` (the pushlog's end, once every push is resolved) moves
        the checkpoint past pushes that needed no row."""
        batch, self._batch, self._rows = self._batch, [], 0
        before = self.position
        for mark in (max((o.row["push_id"] for o in batch), default=None), covered):
            if mark is not None:
                self.position = max(self.position or 0, mark)
        if not batch and self.position == before:
            return
        listings = [o.listing for o in batch if o.listing is not None]
        rejects = [(DEAD_LETTER_SOURCE, *r) for listing in listings for r in listing.rejects]
        rejects += [(ANSWER_DEAD_LETTER_SOURCE, *o.letter) for o in batch if o.letter is not None]
        if self._inserting:
            try:
                self._commit(batch, listings, rejects, new=True)
            except KeyConflict:
                self._inserting = False
        if not self._inserting:
            self._commit(batch, listings, rejects, new=False)
        self.states.update(o.row["state"] for o in batch)
        self.pushes += len(batch)
        self.groups += len(listings)
        self.tasks += sum(listing.task_count for listing in listings)
        self.runs += sum(listing.run_count for listing in listings)
        self.dead_letters += len(rejects)

    def _commit(
        self,
        batch: list[PushOutcome],
        listings: list[GroupListing],
        rejects: list[tuple[str, str, str, bytes]],
        *,
        new: bool,
    ) -> None:
        with self.store.transaction() as tx:
            write_listings(tx, listings, new=new)
            for source, key, error, payload in rejects:
                tx.dead_letter(source, key, error, payload)
            tx.upsert("push_task_groups", [o.row for o in batch], update=_GROUP_UPDATE)
            if self.position is not None:
                tx.set_checkpoint(self.checkpoint, self.position)
