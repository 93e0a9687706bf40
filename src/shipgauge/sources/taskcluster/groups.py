"""Taskcluster index and `listTaskGroup` answers, and the push → task group state machine.

Formats read (all JSON from the Taskcluster REST API):
- index `findTask` (`GET /api/index/v1/task/<path>`): `{namespace, taskId, rank, data, expires}`;
- queue `task` (`GET /api/queue/v1/task/<taskId>`): a task definition with `taskGroupId`;
- queue `listTaskGroup` (`GET /api/queue/v1/task-group/<id>/list`): `{taskGroupId, tasks:
  [{status, task}], continuationToken?}`, paged by continuation token. Pages are read from their
  bytes with typed msgspec decoders: of each task definition only `tags` is read, kept as the JSON
  text it came in (stored as such), and every other field is skipped without being decoded.

The rules a push's task group follows (upstream.md §A.6-A.8, and the
bugs Q3, Q7 and Q12 it lists) live here as data and pure functions, so the scan only wires them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import msgspec
import pyarrow as pa

from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster import TaskRow, TaskRunRow, rows_from_task_status

__all__ = [
    "FINAL",
    "NEVER",
    "NON_FINAL",
    "NOT_FOUND_YET",
    "RETRIED_STATES",
    "UNFINISHED_TASK_STATES",
    "GroupListing",
    "TaskGroupPage",
    "group_state",
    "index_path",
    "lookup_state",
    "parse_indexed_task",
    "parse_task_group_id",
    "parse_task_group_page",
    "rows_from_entries",
    "short_project",
]

# States of push_task_groups (store/migrations/0006_ci_cost.sql explains each).
NOT_FOUND_YET: Final = "not_found_yet"
NEVER: Final = "never"
NON_FINAL: Final = "non_final"
FINAL: Final = "final"
# The states a later scan looks at again.
RETRIED_STATES: Final = (NOT_FOUND_YET, NON_FINAL)
# A group holding a task in one of these is not done; its runs may still change (quirk Q7).
UNFINISHED_TASK_STATES: Final = ("unscheduled", "pending", "running")


def short_project(repo: str) -> str:
    """The index's project name: the last part of the repository path.

    >>> short_project("integration/autoland")
    'autoland'
    """
    return repo.rstrip("/").rpartition("/")[2]


def index_path(template: str, *, repo: str, revision: str, product: str) -> str:
    """The index path of a push from a route template.

    >>> index_path("gecko.v2.{project}.revision.{revision}.taskgraph.decision",
    ...            repo="integration/autoland", revision="ab" * 20, product="firefox")[:31]
    'gecko.v2.autoland.revision.abab'
    """
    try:
        return template.format(
            project=short_project(repo), repo=repo, revision=revision, product=product
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise SourceError(
            f"route template {template!r}: unknown placeholder {exc}; "
            "use {project}, {repo}, {revision} and {product}",
            field="route",
        ) from None


def parse_indexed_task(doc: Any, *, path: str) -> str:
    """The `taskId` of an index `findTask` answer."""
    task_id = doc.get("taskId") if isinstance(doc, Mapping) else None
    if not isinstance(task_id, str) or not task_id:
        raise SourceError(f"index answer for {path} has no taskId", field="taskId")
    return task_id


def parse_task_group_id(doc: Any, *, task_id: str) -> str:
    """The `taskGroupId` of a queue task definition."""
    group = doc.get("taskGroupId") if isinstance(doc, Mapping) else None
    if not isinstance(group, str) or not group:
        raise SourceError(f"task {task_id} has no taskGroupId", field="taskGroupId")
    return group


@dataclass(frozen=True)
class TaskGroupPage:
    """One `listTaskGroup` page: its entries (each the raw JSON of one `{status, task}`) and the
    token of the next page, if any."""

    task_group_id: str
    entries: list[bytes]
    continuation_token: str | None


class _PageDoc(msgspec.Struct, rename="camel"):
    tasks: list[msgspec.Raw]
    task_group_id: str | None = None
    continuation_token: str | None = None


class _Definition(msgspec.Struct):
    # The one field of a task definition the rows need; payload, metadata, extra… are skipped.
    tags: msgspec.Raw = msgspec.Raw(b"null")


class _EntryDoc(msgspec.Struct):
    status: dict[str, Any]
    task: _Definition | None = None


_PAGE = msgspec.json.Decoder(_PageDoc)
_ENTRY = msgspec.json.Decoder(_EntryDoc)
_TAGS = msgspec.json.Decoder(dict[str, Any] | None)


def parse_task_group_page(body: bytes, *, task_group_id: str) -> TaskGroupPage:
    """A `listTaskGroup` answer; entries are checked one by one later (`rows_from_entries`)."""
    try:
        doc = _PAGE.decode(body)
    except msgspec.ValidationError as exc:
        raise SourceError(
            f"task group {task_group_id}: page has no tasks list ({exc})", field="tasks"
        ) from None
    except msgspec.DecodeError:
        raise SourceError(f"task group {task_group_id}: page is not JSON", field="tasks") from None
    return TaskGroupPage(
        doc.task_group_id or task_group_id,
        [bytes(raw) for raw in doc.tasks],
        doc.continuation_token or None,
    )


@dataclass
class GroupListing:
    """What every page of one task group gave: rows, rejected entries and task states.

    Pages read whole (`sources/taskcluster/group_pages.py`) add Arrow tables; pages read entry
    by entry
    add rows (`rows_from_entries`)."""

    task_group_id: str
    tasks: list[TaskRow] = field(default_factory=list)
    runs: list[TaskRunRow] = field(default_factory=list)
    task_tables: list[pa.Table] = field(default_factory=list)
    run_tables: list[pa.Table] = field(default_factory=list)
    rejects: list[tuple[str, str, bytes]] = field(default_factory=list)
    task_states: dict[str, str] = field(default_factory=dict)
    pages: int = 0

    @property
    def task_count(self) -> int:
        return len(self.tasks) + sum(int(t.num_rows) for t in self.task_tables)

    @property
    def run_count(self) -> int:
        return len(self.runs) + sum(int(t.num_rows) for t in self.run_tables)

    @property
    def unfinished(self) -> int:
        """Tasks still unscheduled, pending or running."""
        return sum(s in UNFINISHED_TASK_STATES for s in self.task_states.values())


def _entry_rows(raw: bytes, submitted: date) -> tuple[TaskRow, list[TaskRunRow], str]:
    try:
        entry = _ENTRY.decode(raw)
    except msgspec.DecodeError as exc:
        raise SourceError(f"entry has no status object ({exc})", field="status") from None
    status = entry.status
    raw_tags = None if entry.task is None else entry.task.tags
    try:
        tags = None if raw_tags is None else _TAGS.decode(raw_tags)
    except msgspec.DecodeError:
        raise SourceError(f"task {status.get('taskId', '?')}: tags is not an object") from None
    row, runs = rows_from_task_status(
        status, None if raw_tags is None else {"tags": tags}, submitted=submitted
    )
    if raw_tags is not None and tags is not None:
        row["tags"] = bytes(raw_tags).decode()  # as it came: never decoded and dumped again
    state = status.get("state")
    if not isinstance(state, str):
        raise SourceError(f"task {row['task_id']}: status has no state", field="state")
    return row, runs, state


def rows_from_entries(listing: GroupListing, entries: Iterable[bytes], *, submitted: date) -> None:
    """Add a page's `{status, task}` entries (raw JSON each) to `listing`; a bad entry becomes a
    reject `(key, error, payload)` holding its bytes, instead of stopping the group."""
    for raw in entries:
        try:
            task, runs, state = _entry_rows(raw, submitted)
        except SourceError as exc:
            try:
                task_id = str(_ENTRY.decode(raw).status.get("taskId", "?"))
            except msgspec.DecodeError:
                task_id = "?"
            listing.rejects.append((f"{listing.task_group_id}/{task_id}", exc.message, raw))
            continue
        listing.tasks.append(task)
        listing.runs.extend(runs)
        listing.task_states[task["task_id"]] = state


def lookup_state(
    *, push_age: timedelta, give_up_after: timedelta, missing: str = "decision task not indexed"
) -> tuple[str, str]:
    """State and reason of a push whose decision task (or group) cannot be found.

    The index is written minutes after the push, so a miss is retried (measuring_ci stored it
    as "" for good, quirk Q3) until the push is older than `give_up_after`.
    """
    if push_age >= give_up_after:
        return NEVER, f"{missing} {_hours(give_up_after)} after the push"
    return NOT_FOUND_YET, f"{missing} yet"


def group_state(
    listing: GroupListing, *, push_age: timedelta, final_after: timedelta
) -> tuple[str, str]:
    """State and reason of a listed group: final once no task can still run, or by age.

    Replaces measuring_ci's "24 hours after the push is finished" (quirk Q12) with the group's
    own task states; the age cut-off only ends groups whose tasks never resolve.
    """
    unfinished = listing.unfinished
    if not listing.task_states:
        state = FINAL if push_age >= final_after else NON_FINAL
        return state, "group has no tasks"
    if unfinished == 0:
        return FINAL, f"all {len(listing.task_states)} tasks finished"
    if push_age >= final_after:
        return FINAL, f"{unfinished} tasks unfinished {_hours(final_after)} after the push"
    return NON_FINAL, f"{unfinished} of {len(listing.task_states)} tasks unfinished"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"
