"""`listTaskGroup` pages straight to Arrow `tasks` / `task_runs` tables: the scan's hot path.

A page is decoded in one pass into typed msgspec structs (times kept as text, every field the
rows do not need skipped), its columns built per column and its times parsed by Arrow: no dict
per row. The rows are the ones `rows_from_task_status` gives (tests/unit/ci_cost compares
both on the recorded pages). A page this path does not fully understand — a missing or
mistyped field, a time that is not ISO 8601 with a zone — is read again entry by entry
(`sources/ci_cost.rows_from_entries`), which keeps each bad entry as a reject.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.sources.taskcluster import KNOWN_TAGS, TaskRow, TaskRunRow, normalize_tag_key
from shipgauge.sources.taskcluster.groups import (
    GroupListing,
    parse_task_group_page,
    rows_from_entries,
)

__all__ = ["RUN_SCHEMA", "TASK_SCHEMA", "read_task_group_page", "run_table", "task_table"]

_TIME = pa.timestamp("us", tz="UTC")
_TIMES: Final = ("deadline", "expires", "scheduled", "started", "resolved", "taken_until")
_SPECIAL_TYPES: Final = {"run_id": pa.int32(), "submission_date": pa.date32()}


def _schema(names: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [(n, _TIME if n in _TIMES else _SPECIAL_TYPES.get(n, pa.string())) for n in names]
    )


# The Arrow form of TaskRow and TaskRunRow, column for column.
TASK_SCHEMA: Final = _schema(list(TaskRow.__annotations__))
RUN_SCHEMA: Final = _schema(list(TaskRunRow.__annotations__))
_UNSET = msgspec.UNSET
# The tasks columns read as they are from a task's status.
_STATUS_COLUMNS: Final = (
    "task_id",
    "task_group_id",
    "scheduler_id",
    "project_id",
    "priority",
    "deadline",
    "expires",
)


# gc=False: a decoded page holds text and lists, never a cycle, so the garbage collector need not
# track its structs (the decode took 10 % less CPU).
class _Run(msgspec.Struct, rename="camel", gc=False):
    state: str
    reason_created: str | None = None
    reason_resolved: str | None = None
    worker_group: str | None = None
    worker_id: str | None = None
    scheduled: str | None = None
    started: str | None = None
    resolved: str | None = None
    taken_until: str | None = None


class _Status(msgspec.Struct, rename="camel", gc=False):
    task_id: str
    task_group_id: str
    scheduler_id: str
    state: str
    runs: list[_Run]
    task_queue_id: str | msgspec.UnsetType = _UNSET
    provisioner_id: str | msgspec.UnsetType = _UNSET
    worker_type: str | msgspec.UnsetType = _UNSET
    project_id: str | None = None
    priority: str | None = None
    deadline: str | None = None
    expires: str | None = None


class _Definition(msgspec.Struct, gc=False):
    tags: msgspec.Raw = msgspec.Raw(b"null")


class _Entry(msgspec.Struct, gc=False):
    status: _Status
    task: _Definition | None = None


class _Page(msgspec.Struct, rename="camel"):
    tasks: list[_Entry]
    task_group_id: str | None = None
    continuation_token: str | None = None


_PAGE = msgspec.json.Decoder(_Page)
_TAGS = msgspec.json.Decoder(dict[str, str] | None)
_NO_TAGS: Final[dict[str, str]] = {}


class _Unusual(Exception):
    """The page needs the entry-by-entry path."""


def read_task_group_page(listing: GroupListing, body: bytes, *, submitted: date) -> str | None:
    """Add one page's tasks, runs, states (and rejects) to `listing`; its continuation token.

    Raises SourceError when the page itself is unreadable (not JSON, no tasks list)."""
    try:
        page = _PAGE.decode(body)
        tasks, runs = _tables(page.tasks, submitted)
    except (msgspec.DecodeError, _Unusual, pa.ArrowInvalid):
        fallback = parse_task_group_page(body, task_group_id=listing.task_group_id)
        rows_from_entries(listing, fallback.entries, submitted=submitted)
        return fallback.continuation_token
    listing.task_tables.append(tasks)
    listing.run_tables.append(runs)
    listing.task_states.update((e.status.task_id, e.status.state) for e in page.tasks)
    return page.continuation_token or None


def task_table(listing: GroupListing) -> pa.Table:
    """Every task of `listing`, both paths' rows, as one Arrow table (TASK_SCHEMA)."""
    return _concat(listing.task_tables, listing.tasks, TASK_SCHEMA)


def run_table(listing: GroupListing) -> pa.Table:
    """Every run of `listing`, both paths' rows, as one Arrow table (RUN_SCHEMA)."""
    return _concat(listing.run_tables, listing.runs, RUN_SCHEMA)


def _concat(tables: list[pa.Table], rows: Sequence[Any], schema: pa.Schema) -> pa.Table:
    parts = [*tables, pa.Table.from_pylist(list(rows), schema=schema)] if rows else tables
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _tables(entries: list[_Entry], submitted: date) -> tuple[pa.Table, pa.Table]:
    statuses = [e.status for e in entries]
    queues = [_queue(s) for s in statuses]
    raw_tags = [None if e.task is None else e.task.tags for e in entries]
    try:
        tags = [None if raw is None else _TAGS.decode(raw) for raw in raw_tags]
    except msgspec.DecodeError:
        raise _Unusual from None
    queue_ids, provisioners, worker_types = zip(*queues, strict=True) if queues else ((), (), ())
    tasks: dict[str, Sequence[Any]] = {
        **{name: list(map(operator.attrgetter(name), statuses)) for name in _STATUS_COLUMNS},
        "task_queue_id": queue_ids,
        "provisioner_id": provisioners,
        "worker_type": worker_types,
        **_known_tag_columns(tags),
        "tags": [
            None if t is None or raw is None else bytes(raw).decode()
            for t, raw in zip(tags, raw_tags, strict=True)
        ],
        "submission_date": [submitted] * len(statuses),
    }
    runs = [run for s in statuses for run in s.runs]
    run_columns: dict[str, Sequence[Any]] = {
        **_run_keys(statuses, tasks["task_id"], len(runs)),
        **{name: list(map(operator.attrgetter(name), runs)) for name in RUN_SCHEMA.names[2:-1]},
        "submission_date": [submitted] * len(runs),
    }
    return _tables_of(tasks, run_columns)


def _run_keys(
    statuses: list[_Status], task_ids: Sequence[str], runs: int
) -> dict[str, Sequence[Any]]:
    """task_id and run_id of each run, in the statuses' order."""
    if runs == len(statuses) and all(len(s.runs) == 1 for s in statuses):
        return {"task_id": task_ids, "run_id": [0] * runs}  # most tasks of a group run once
    return {
        "task_id": [s.task_id for s in statuses for _ in s.runs],
        "run_id": [i for s in statuses for i in range(len(s.runs))],
    }


def _known_tag_columns(tags: list[dict[str, str] | None]) -> dict[str, list[str | None]]:
    """The known-tag columns (`known_tags` of each task) read key by key: the tasks of a group
    share a few tag keys, so each column is one `dict.get` over the page, no loop per tag."""
    dicts = [t or _NO_TAGS for t in tags]
    keys: set[str] = set().union(*dicts)
    sources: dict[str, list[str]] = {}
    for key in keys:
        name = _tag_column(key)
        if name in KNOWN_TAGS:
            sources.setdefault(name, []).append(key)
    columns: dict[str, list[str | None]] = {}
    for name in KNOWN_TAGS:
        spellings = sources.get(name)
        if spellings is None:
            columns[name] = [None] * len(dicts)
        elif len(spellings) == 1:
            columns[name] = [d.get(spellings[0]) for d in dicts]
        else:  # two spellings of one tag: the later one in the task's tags wins
            columns[name] = [_last_of(d, spellings) for d in dicts]
    return columns


def _last_of(tags: dict[str, str], spellings: list[str]) -> str | None:
    found = [key for key in tags if key in spellings]
    return tags[found[-1]] if found else None


@functools.lru_cache(maxsize=1024)
def _tag_column(key: str) -> str:
    # Every task of a group has the same few tag keys: normalised once, not per task.
    return normalize_tag_key(key)


def _queue(status: _Status) -> tuple[str, str, str]:
    # As sources/taskcluster/rows.py reads it: taskQueueId, else provisionerId/workerType.
    queue = status.task_queue_id
    if queue is _UNSET:
        if status.provisioner_id is _UNSET or status.worker_type is _UNSET:
            raise _Unusual
        queue = f"{status.provisioner_id}/{status.worker_type}"
    provisioner, _, worker_type = queue.partition("/")
    return (
        queue,
        provisioner if status.provisioner_id is _UNSET else status.provisioner_id,
        worker_type if status.worker_type is _UNSET else status.worker_type,
    )


def _tables_of(
    tasks: dict[str, Sequence[Any]], runs: dict[str, Sequence[Any]]
) -> tuple[pa.Table, pa.Table]:
    """The columns as TASK_SCHEMA and RUN_SCHEMA tables, with one Arrow conversion per type: a
    call costs as much as a hundred values, and a page has 35 columns of 200. Times are
    ISO 8601 text parsed by Arrow (a time without a zone is unusual)."""
    pending: dict[pa.DataType, list[Any]] = {}
    spans = []
    for columns, schema in ((tasks, TASK_SCHEMA), (runs, RUN_SCHEMA)):
        for column in schema:
            values = pending.setdefault(column.type, [])
            spans.append((column.type, len(values), len(columns[column.name])))
            values.extend(columns[column.name])
    arrays = {
        type_: pc.cast(pa.array(values, pa.string()), _TIME)
        if type_ == _TIME
        else pa.array(values, type_)
        for type_, values in pending.items()
    }
    sliced = [arrays[type_].slice(offset, length) for type_, offset, length in spans]
    split = len(TASK_SCHEMA)
    return (
        pa.Table.from_arrays(sliced[:split], schema=TASK_SCHEMA),
        pa.Table.from_arrays(sliced[split:], schema=RUN_SCHEMA),
    )
