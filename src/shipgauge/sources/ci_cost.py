"""Taskcluster index and `listTaskGroup` answers, and the push → task group state machine.

Formats read (all JSON from the Taskcluster REST API):
- index `findTask` (`GET /api/index/v1/task/<path>`): `{namespace, taskId, rank, data, expires}`;
- queue `task` (`GET /api/queue/v1/task/<taskId>`): a task definition with `taskGroupId`;
- queue `listTaskGroup` (`GET /api/queue/v1/task-group/<id>/list`): `{taskGroupId, tasks:
  [{status, task}], continuationToken?}`, paged by continuation token.

The rules a push's task group follows (research/seed-hgpush-measuring-ci.md §A.6-A.8, and the
bugs Q3, Q7 and Q12 it lists) live here as data and pure functions, so the scan only wires them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

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
    """One `listTaskGroup` page: its entries and the token of the next page, if any."""

    task_group_id: str
    entries: list[Any]
    continuation_token: str | None


def parse_task_group_page(doc: Any, *, task_group_id: str) -> TaskGroupPage:
    """A `listTaskGroup` answer; entries are checked one by one later (`rows_from_entries`)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("tasks"), list):
        raise SourceError(f"task group {task_group_id}: page has no tasks list", field="tasks")
    token = doc.get("continuationToken")
    return TaskGroupPage(
        str(doc.get("taskGroupId") or task_group_id),
        doc["tasks"],
        token if isinstance(token, str) and token else None,
    )


@dataclass
class GroupListing:
    """What every page of one task group gave: rows, rejected entries and task states."""

    task_group_id: str
    tasks: list[TaskRow] = field(default_factory=list)
    runs: list[TaskRunRow] = field(default_factory=list)
    rejects: list[tuple[str, str, bytes]] = field(default_factory=list)
    task_states: dict[str, str] = field(default_factory=dict)
    pages: int = 0

    @property
    def unfinished(self) -> int:
        """Tasks still unscheduled, pending or running."""
        return sum(s in UNFINISHED_TASK_STATES for s in self.task_states.values())


def rows_from_entries(listing: GroupListing, entries: Iterable[Any], *, submitted: date) -> None:
    """Add a page's `{status, task}` entries to `listing`; a bad entry becomes a reject
    `(key, error, payload)` instead of stopping the group."""
    for entry in entries:
        try:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("status"), Mapping):
                raise SourceError("entry has no status object", field="status")
            status = entry["status"]
            task, runs = rows_from_task_status(status, entry.get("task"), submitted=submitted)
            state = status.get("state")
            if not isinstance(state, str):
                raise SourceError(f"task {task['task_id']}: status has no state", field="state")
        except SourceError as exc:
            task_id = (
                entry.get("status", {}).get("taskId", "?") if isinstance(entry, Mapping) else "?"
            )
            key = f"{listing.task_group_id}/{task_id}"
            listing.rejects.append((key, exc.message, json.dumps(entry).encode()))
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
