"""Writing `tasks` and `task_runs` rows: idempotent, and a run's state never goes back.

Used by the Pulse drain, the definitions fetch, dead-letter retries and the CI-cost
capability's task-group scan (`listTaskGroup` entries through `rows_from_task_status`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Sequence
from typing import Final, TypeVar

import pyarrow as pa

from shipgauge.sources.taskcluster import FINAL_RUN_STATES, RUN_STATES, TaskRow, TaskRunRow
from shipgauge.store import Transaction

__all__ = ["RUN_TRANSITION_RULE", "TASK_TAGS_RULE", "upsert_task_arrow", "upsert_task_rows"]

R = TypeVar("R")


def _state_rank(column: str) -> str:
    # pending 0, running 1, every final state 2
    last = len(RUN_STATES) - len(FINAL_RUN_STATES)
    ranks = " ".join(f"WHEN '{s}' THEN {min(i, last)}" for i, s in enumerate(RUN_STATES))
    return f"(CASE {column} {ranks} ELSE -1 END)"


# The one place the run transition rule lives: an existing run is updated only while it is not
# final, and only by a state at least as far along (pending < running < completed|failed|
# exception). A redelivered or late message therefore never undoes a newer one.
RUN_TRANSITION_RULE: Final = (
    f"task_runs.state NOT IN ({', '.join(repr(s) for s in FINAL_RUN_STATES)})"
    f" AND {_state_rank('excluded.state')} >= {_state_rank('task_runs.state')}"
)
# A task's fields never change; an existing row only gains the tags a later message (or the
# fetched definition) carries when the first message had none.
TASK_TAGS_RULE: Final = "tasks.tags IS NULL AND excluded.tags IS NOT NULL"
# Keys, and submission_date: it stays the day the row was first stored, so a replay changes nothing.
_TASK_UPDATE: Final = [
    c for c in TaskRow.__annotations__ if c not in ("task_id", "submission_date")
]
_TASK_ID: Final = operator.itemgetter("task_id")
_RUN_KEY: Final = operator.itemgetter("task_id", "run_id")
_RUN_UPDATE: Final = [
    c for c in TaskRunRow.__annotations__ if c not in ("task_id", "run_id", "submission_date")
]


def _waves(rows: Sequence[R], key: Callable[[R], Hashable]) -> list[list[R]]:
    """Rows split so that no wave repeats a key, in arrival order: the n-th message about a
    key goes in wave n. Each wave is one upsert, so the rule above sees messages in order."""
    if len(set(map(key, rows))) == len(rows):  # no key twice (a task group's listing): one wave
        return [list(rows)]
    waves: list[list[R]] = []
    seen: dict[Hashable, int] = {}
    for row in rows:
        k = key(row)
        n = seen.get(k, 0)
        seen[k] = n + 1
        if n == len(waves):
            waves.append([])
        waves[n].append(row)
    return waves


def _first_with_tags(tasks: Sequence[TaskRow]) -> list[TaskRow]:
    """One row per task: what TASK_TAGS_RULE leaves after applying `tasks` in order (the
    first row, or the first that carries tags when the ones before it had none). Saves a
    second upsert for the task-defined + resolved pairs that share most batches."""
    if len(set(map(_TASK_ID, tasks))) == len(tasks):
        return list(tasks)
    chosen: dict[str, TaskRow] = {}
    for row in tasks:
        held = chosen.get(row["task_id"])
        if held is None or (held["tags"] is None and row["tags"] is not None):
            chosen[row["task_id"]] = row
    return list(chosen.values())


def upsert_task_rows(tx: Transaction, tasks: Sequence[TaskRow], runs: Sequence[TaskRunRow]) -> None:
    """Store task and run rows in `tx`, in the order given; re-applying them changes nothing."""
    tx.upsert("tasks", _first_with_tags(tasks), update=_TASK_UPDATE, update_where=TASK_TAGS_RULE)
    for wave in _waves(runs, _RUN_KEY):
        tx.upsert("task_runs", wave, update=_RUN_UPDATE, update_where=RUN_TRANSITION_RULE)


def upsert_task_arrow(tx: Transaction, *, tasks: pa.Table | None, runs: pa.Table | None) -> None:
    """`upsert_task_rows` of rows already in Arrow tables (fxci-etl's exported history), by the
    same rules: one upsert each, a key repeated within a table keeps its last row."""
    if tasks is not None:
        tx.upsert_arrow("tasks", tasks, update=_TASK_UPDATE, update_where=TASK_TAGS_RULE)
    if runs is not None:
        tx.upsert_arrow("task_runs", runs, update=_RUN_UPDATE, update_where=RUN_TRANSITION_RULE)
