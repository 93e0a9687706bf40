"""Taskcluster Queue Pulse messages (exchange/taskcluster-queue/v1/*) → tasks / task_runs rows.

Mapping (upstream.md A.6, with the changes A.13 asks for): every message that carries a status
gives the `tasks` row, not only run 0's; a message with `runId` gives the `task_runs` row of
`status.runs[runId]`; `task-defined` (no runs yet) and a deadline `task-exception` (no runId)
give the task row alone. Both the current and the pre-2020 format are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import msgspec

from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster.rows import TaskRow, TaskRunRow, rows_from_task_status
from shipgauge.sources.taskcluster.schemas import validate_message

__all__ = [
    "MessageRows",
    "Reject",
    "exchange_kind",
    "parse_message",
    "parse_messages",
    "recorded_messages",
    "rows_from_message",
]


@dataclass(frozen=True)
class MessageRows:
    """What one message gives: the task row, its run row (if any), and whether tags were absent."""

    task: TaskRow
    runs: list[TaskRunRow]
    lacks_tags: bool


@dataclass(frozen=True)
class Reject:
    """A message that could not be read: kept raw, with the exchange and the reason."""

    body: bytes
    exchange: str
    error: str


_decode = msgspec.json.Decoder().decode


def exchange_kind(exchange: str) -> str:
    """`exchange/taskcluster-queue/v1/task-completed` → `task-completed` (any prefix)."""
    return exchange.rpartition("/")[2]


def rows_from_message(message: Mapping[str, Any], *, submitted: date) -> MessageRows:
    """The rows of a decoded message body, without schema validation.

    Raises SourceError when there is no status or the status lacks what a row needs.
    """
    status = message.get("status") if isinstance(message, Mapping) else None
    if not isinstance(status, Mapping):
        raise SourceError("message has no status object", field="status")
    run_id = message.get("runId")
    task = message.get("task")
    task_row, runs = rows_from_task_status(
        status, task, submitted=submitted, run_ids=None if run_id is None else (run_id,)
    )
    return MessageRows(task_row, runs, lacks_tags=task is None or "tags" not in task)


def parse_message(body: bytes, *, exchange: str, submitted: date) -> MessageRows:
    """Decode, validate against the exchange's Queue schema, and map one message body.

    Raises SourceError (not JSON, schema violation, missing run) with a one-line reason.
    """
    try:
        message = _decode(body)  # msgspec: a third of json.loads' time on these bodies
    except msgspec.DecodeError as exc:  # lone surrogates and 1e400 included
        raise SourceError(f"message is not JSON: {exc}", field="body") from None
    except RecursionError:  # msgspec's bound on nesting; a task message nests about 6 deep
        raise SourceError(
            "message is nested too deeply to be a task message", field="body"
        ) from None
    validate_message(message, kind=exchange_kind(exchange))
    return rows_from_message(message, submitted=submitted)


def parse_messages(
    items: Iterable[tuple[bytes, str]],
    *,
    submitted: date,
    on_error: Literal["raise", "collect"] = "collect",
) -> tuple[list[MessageRows], list[Reject]]:
    """Parse `(body, exchange)` pairs; bad ones become Rejects (`on_error="raise"`: raise)."""
    parsed: list[MessageRows] = []
    rejects: list[Reject] = []
    for body, exchange in items:
        try:
            parsed.append(parse_message(body, exchange=exchange, submitted=submitted))
        except SourceError as exc:
            if on_error == "raise":
                raise
            rejects.append(Reject(body, exchange, exc.message))
    return parsed, rejects


def recorded_messages(data: Any) -> Iterator[tuple[str, str, bytes]]:
    """`(exchange, routing_key, body)` of a recorded-messages file, whichever of its shapes:
    `{taskId: {exchange, payload, routes}}` (treeherder), `{kind: {exchange, payload}}`
    (FuzzManager) or `[{routing: {exchange, key}, body}]` (code-review)."""
    entries = data.values() if isinstance(data, dict) else data
    for entry in entries:
        if "routing" in entry:
            routing = entry["routing"]
            yield routing["exchange"], routing["key"], json.dumps(entry["body"]).encode()
        else:
            body = entry["payload"]
            key = entry.get("routes") or f"primary.{body['status']['taskId']}"
            yield entry["exchange"], key, json.dumps(body).encode()
