"""Taskcluster task status and task definitions → `tasks`, `task_runs`, `task_definitions` rows.

The inputs are the Queue's own shapes (`task-status.json`, `task.json`): the `status` and `task`
of a Pulse message, or an entry `{status, task}` of `listTaskGroup`. Everything here is pure: the
day of processing (`submitted`) comes in as an argument.

Rows are TypedDicts rather than dataclasses: the store writes dicts, and the drain builds a
million of them, so the conversion step would cost more than the parse (see docs/taskcluster.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Final, TypedDict

import msgspec

from shipgauge.errors import SourceError

__all__ = [
    "FINAL_RUN_STATES",
    "KNOWN_TAGS",
    "RUN_STATES",
    "TaskDefinitionRow",
    "TaskRow",
    "TaskRunRow",
    "definition_row",
    "known_tags",
    "normalize_tag_key",
    "parse_time",
    "rows_from_task_status",
    "task_row_from_definition",
]

# The tag columns of fxci_derived.tasks_v2, in its order (upstream.md A.6 step 5, A.8).
KNOWN_TAGS: Final = (
    "created_for_user",
    "kind",
    "label",
    "os",
    "owned_by",
    "project",
    "trust_domain",
    "worker_implementation",
    "test_suite",
    "test_platform",
    "test_variant",
)
# A run only moves forward: pending < running < one of the final states.
RUN_STATES: Final = ("pending", "running", "completed", "failed", "exception")
FINAL_RUN_STATES: Final = ("completed", "failed", "exception")

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")
_encode_json = msgspec.json.Encoder().encode


class TaskRow(TypedDict):
    """One row of `tasks`: what every message about a task says about the task itself."""

    task_id: str
    task_group_id: str
    scheduler_id: str
    task_queue_id: str
    provisioner_id: str
    worker_type: str
    project_id: str | None
    priority: str | None
    deadline: datetime | None
    expires: datetime | None
    created_for_user: str | None
    kind: str | None
    label: str | None
    os: str | None
    owned_by: str | None
    project: str | None
    trust_domain: str | None
    worker_implementation: str | None
    test_suite: str | None
    test_platform: str | None
    test_variant: str | None
    tags: dict[str, str] | str | None  # JSON text here (the store writes it as it is)
    submission_date: date


class TaskRunRow(TypedDict):
    """One row of `task_runs`: one run of a task as the latest message saw it."""

    task_id: str
    run_id: int
    state: str
    reason_created: str | None
    reason_resolved: str | None
    worker_group: str | None
    worker_id: str | None
    scheduled: datetime | None
    started: datetime | None
    resolved: datetime | None
    taken_until: datetime | None
    submission_date: date


class TaskDefinitionRow(TypedDict):
    """One row of `task_definitions`: the full definition the Queue returns for a task."""

    task_id: str
    task_group_id: str | None
    scheduler_id: str | None
    task_queue_id: str | None
    provisioner_id: str | None
    worker_type: str | None
    project_id: str | None
    priority: str | None
    retries: int | None
    requires: str | None
    created: datetime | None
    deadline: datetime | None
    expires: datetime | None
    dependencies: list[str] | None
    routes: list[str] | None
    scopes: list[str] | None
    tags: dict[str, str] | None
    metadata: dict[str, Any] | None
    payload: dict[str, Any] | None
    extra: dict[str, Any] | None
    submission_date: date


@lru_cache(maxsize=4096)  # a few dozen distinct keys recur in every message
def normalize_tag_key(key: str) -> str:
    """A tag key as fxci-etl names its column: `-` and space to `_`, camelCase to snake_case.

    >>> [normalize_tag_key(k) for k in ("createdForUser", "owned by", "worker-implementation")]
    ['created_for_user', 'owned_by', 'worker_implementation']
    """
    return _CAPITAL.sub("_", key.replace("-", "_").replace(" ", "_")).lower()


def known_tags(tags: Mapping[str, str] | None) -> dict[str, str | None]:
    """The known-tag columns of a task; tags outside the known set stay only in `tags`."""
    columns: dict[str, str | None] = dict.fromkeys(KNOWN_TAGS)
    for key, value in (tags or {}).items():
        name = normalize_tag_key(key)
        if name in columns:
            columns[name] = value
    return columns


def parse_time(value: object, *, field: str) -> datetime | None:
    """An ISO 8601 time, epoch seconds or a datetime, as an aware UTC datetime (naive = UTC).

    Accepts the Queue's form and BigQuery's CSV form (`2024-08-01 00:00:00 UTC`).

    >>> parse_time("2019-06-26T19:36:10.521Z", field="resolved")
    datetime.datetime(2019, 6, 26, 19, 36, 10, 521000, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    parsed: datetime | None = None
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.removesuffix(" UTC"))
        elif isinstance(value, datetime):
            parsed = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        parsed = None
    if parsed is None:
        raise SourceError(f"{field}: {value!r} is not an ISO 8601 time", field=field)
    if parsed.tzinfo is UTC:
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _task_queue(status: Mapping[str, Any]) -> tuple[str, str, str]:
    # taskQueueId = provisionerId/workerType. Messages before 2020 have only the pair (legacy
    # format, fixtures PROVENANCE.md); upstream's test status has only taskQueueId.
    queue: str | None = status.get("taskQueueId")
    if queue is None:
        queue = f"{status['provisionerId']}/{status['workerType']}"
    provisioner, _, worker_type = queue.partition("/")
    return queue, status.get("provisionerId", provisioner), status.get("workerType", worker_type)


def _task_row(
    status: Mapping[str, Any], tags: Mapping[str, str] | None, submitted: date
) -> TaskRow:
    queue, provisioner, worker_type = _task_queue(status)
    return {
        "task_id": status["taskId"],
        "task_group_id": status["taskGroupId"],
        "scheduler_id": status["schedulerId"],
        "task_queue_id": queue,
        "provisioner_id": provisioner,
        "worker_type": worker_type,
        "project_id": status.get("projectId"),
        "priority": status.get("priority"),
        "deadline": parse_time(status.get("deadline"), field="deadline"),
        "expires": parse_time(status.get("expires"), field="expires"),
        **known_tags(tags),  # type: ignore[typeddict-item]
        "tags": None if tags is None else _encode_json(tags).decode(),
        "submission_date": submitted,
    }


def _run_row(task_id: str, run_id: int, run: Mapping[str, Any], submitted: date) -> TaskRunRow:
    return {
        "task_id": task_id,
        "run_id": run_id,  # the Queue keeps runs[i].runId == i
        "state": run["state"],
        "reason_created": run.get("reasonCreated"),
        "reason_resolved": run.get("reasonResolved"),
        "worker_group": run.get("workerGroup"),
        "worker_id": run.get("workerId"),
        "scheduled": parse_time(run.get("scheduled"), field="scheduled"),
        "started": parse_time(run.get("started"), field="started"),
        "resolved": parse_time(run.get("resolved"), field="resolved"),
        "taken_until": parse_time(run.get("takenUntil"), field="takenUntil"),
        "submission_date": submitted,
    }


def rows_from_task_status(
    status: Mapping[str, Any],
    task: Mapping[str, Any] | None = None,
    *,
    submitted: date,
    run_ids: Iterable[int] | None = None,
) -> tuple[TaskRow, list[TaskRunRow]]:
    """The `tasks` row and the `task_runs` rows of a task status.

    `task` is the message's `{tags}` subset or a full definition (a `listTaskGroup` entry is
    `{status, task}`); without it the tags are unknown (NULL). `run_ids` picks runs (a Pulse
    message concerns one); by default every run in `status.runs` is returned.
    Raises SourceError when a required field is missing or a time is malformed.
    """
    tags = None if task is None else task.get("tags")
    try:
        row = _task_row(status, tags, submitted)
        runs = status["runs"]
        picked = range(len(runs)) if run_ids is None else run_ids
        run_rows = []
        for run_id in picked:
            if not 0 <= run_id < len(runs):
                raise SourceError(
                    f"task {row['task_id']}: runId {run_id} is not in status.runs "
                    f"({len(runs)} runs)",
                    field="runId",
                )
            run_rows.append(_run_row(row["task_id"], run_id, runs[run_id], submitted))
    except KeyError as exc:
        task_id = status.get("taskId", "?") if isinstance(status, Mapping) else "?"
        raise SourceError(
            f"task {task_id}: status lacks {exc.args[0]}", field=exc.args[0]
        ) from None
    except (TypeError, AttributeError) as exc:
        raise SourceError(f"task status has the wrong shape: {exc}", field="status") from None
    return row, run_rows


def definition_row(task_id: str, task: Mapping[str, Any], *, submitted: date) -> TaskDefinitionRow:
    """A full task definition (`queue.task` / `queue.tasks` entry) as a `task_definitions` row."""
    try:
        return {
            "task_id": task_id,
            "task_group_id": task.get("taskGroupId"),
            "scheduler_id": task.get("schedulerId"),
            "task_queue_id": _task_queue(task)[0],
            "provisioner_id": task.get("provisionerId"),
            "worker_type": task.get("workerType"),
            "project_id": task.get("projectId"),
            "priority": task.get("priority"),
            "retries": task.get("retries"),
            "requires": task.get("requires"),
            "created": parse_time(task.get("created"), field="created"),
            "deadline": parse_time(task.get("deadline"), field="deadline"),
            "expires": parse_time(task.get("expires"), field="expires"),
            "dependencies": task.get("dependencies"),
            "routes": task.get("routes"),
            "scopes": task.get("scopes"),
            "tags": task.get("tags"),
            "metadata": task.get("metadata"),
            "payload": task.get("payload"),
            "extra": task.get("extra"),
            "submission_date": submitted,
        }
    except KeyError as exc:
        raise SourceError(
            f"task {task_id}: definition lacks {exc.args[0]}", field=exc.args[0]
        ) from None


def task_row_from_definition(task_id: str, task: Mapping[str, Any], *, submitted: date) -> TaskRow:
    """The `tasks` row a full definition gives (fills the tags a legacy message lacked)."""
    status = {**task, "taskId": task_id, "runs": []}
    row, _ = rows_from_task_status(status, task, submitted=submitted)
    return row
