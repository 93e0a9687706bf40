"""shipgauge's event JSON (`POST /api/v1/events`, JSON lines) → `DeliveryEventRow`.

An event is an object with `service`, `kind`, `time` (RFC 3339), `event_id` and `metadata`, plus the
fields of its kind; a batch is an array of up to 1,000 of them.

>>> from datetime import UTC, datetime
>>> row = parse_event(
...     {"service": "web", "kind": "deploy", "time": "2024-05-01T12:00:00Z", "commits": ["a1"]},
...     received_at=datetime(2024, 5, 1, 12, 5, tzinfo=UTC),
... )
>>> row.environment, row.result, row.commits, row.event_id[:2]
('production', 'success', ('a1',), 'h-')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from shipgauge.errors import BadRequest, SourceError
from shipgauge.json_input import DEFAULT_MAX_JSON_DEPTH, load_json
from shipgauge.sources.delivery._fields import (
    read_bool,
    read_choice,
    read_commits,
    read_environment,
    read_identifier,
    read_metadata,
    read_time,
    suggest,
)

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "DEFAULT_MAX_FUTURE",
    "KINDS",
    "MAX_BATCH",
    "DeliveryEventRow",
    "Reject",
    "parse_event",
    "parse_events",
    "parse_json",
]

KINDS = ("push", "deploy", "test_run", "test_pass", "incident", "change")
RESULTS = ("success", "failure")
ACTIONS = {"incident": ("opened", "resolved"), "change": ("opened", "reviewed", "merged")}
DEFAULT_ENVIRONMENT = "production"
DEFAULT_MAX_FUTURE = timedelta(minutes=5)
MAX_BATCH = 1000
_COMMON_FIELDS = ("service", "kind", "time", "event_id", "metadata")
# The fields each kind takes besides the common ones; anything else is a mistake worth a 400.
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "push": ("commits",),
    "deploy": (
        "environment",
        "result",
        "commits",
        "deployment_id",
        "incident_id",
        "rollback",
        "hotfix",
        "planned",
    ),
    "test_run": ("environment", "result", "commits"),
    "test_pass": ("environment", "commits"),
    "incident": ("environment", "action", "incident_id", "deployment_id", "cause_commit"),
    "change": ("action", "change_id", "commits"),
}
_ALIASES = {"commit_ids": "commits"}
_ALL_FIELDS = sorted({*_COMMON_FIELDS, *_ALIASES, *(f for fs in _KIND_FIELDS.values() for f in fs)})
_REQUIRED = {"incident": ("action", "incident_id"), "change": ("action", "change_id")}
_IDS = ("deployment_id", "incident_id", "change_id", "cause_commit")
# API field -> column, where they differ.
_COLUMNS = {
    "time": "occurred_at",
    "rollback": "is_rollback",
    "hotfix": "is_hotfix",
    "planned": "is_planned",
}


@dataclass(frozen=True)
class DeliveryEventRow:
    """One delivery event as stored: a `delivery_events` row plus its `delivery_event_commits`."""

    KEY: ClassVar[tuple[str, ...]] = ("service", "event_id")

    service: str
    event_id: str
    kind: str
    occurred_at: datetime
    received_at: datetime
    origin: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    action: str | None = None
    environment: str | None = None
    result: str | None = None
    deployment_id: str | None = None
    incident_id: str | None = None
    change_id: str | None = None
    cause_commit: str | None = None
    is_rollback: bool = False
    is_hotfix: bool = False
    is_planned: bool | None = None
    commits: tuple[str, ...] = ()

    def event_row(self) -> dict[str, Any]:
        """The `delivery_events` row."""
        row = dataclasses.asdict(self)
        del row["commits"]
        return row

    def commit_rows(self) -> list[dict[str, Any]]:
        """The `delivery_event_commits` rows, one per commit."""
        return [
            {
                "service": self.service,
                "event_id": self.event_id,
                "commit_sha": sha,
                "kind": self.kind,
                "occurred_at": self.occurred_at,
                "environment": self.environment,
                "result": self.result,
            }
            for sha in self.commits
        ]


@dataclass(frozen=True)
class Reject:
    """An event of a batch that failed validation: where, which field, why, and the raw item."""

    index: int
    field: str | None
    message: str
    payload: bytes


def parse_json(raw: bytes, *, field: str = "body", max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """JSON text → value within the input limits (`json_input`); a SourceError naming `field`,
    so a line of a file is a reject and a request body a 400."""
    try:
        return load_json(raw, what=field, max_depth=max_depth)
    except BadRequest as exc:
        raise SourceError(exc.message, field=field) from None


def parse_event(
    doc: Any,
    *,
    received_at: datetime,
    origin: str = "api",
    event_id: str | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> DeliveryEventRow:
    """One event object → row; `event_id` is the id to use when the body names none."""
    if not isinstance(doc, dict):
        raise SourceError("an event must be a JSON object", field="body")
    kind = read_choice(_required(doc, "kind"), "kind", KINDS)
    allowed = (*_COMMON_FIELDS, *_KIND_FIELDS[kind])
    given: dict[str, tuple[str, Any]] = {}  # canonical name -> (name as sent, value)
    for name, value in doc.items():
        canonical = _ALIASES.get(name, name)
        if canonical not in allowed:
            where = [k for k, names in _KIND_FIELDS.items() if canonical in names]
            why = (
                f"applies to {', '.join(where)} events, not {kind}"
                if where
                else f"is not an event field.{suggest(name, _ALL_FIELDS)}"
            )
            raise SourceError(f"field '{name}' {why}", field=name)
        if canonical in given:
            raise SourceError(f"give {given[canonical][0]} or {name}, not both", field=name)
        if value is not None:  # null reads as absent
            given[canonical] = (name, value)
    for name in ("service", *_REQUIRED.get(kind, ())):
        if name not in given:
            raise SourceError(f"{name} is required", field=name)
    readers: dict[str, Callable[[Any, str], Any]] = {
        "service": read_identifier,
        "metadata": read_metadata,
        "time": lambda v, f: read_time(v, f, received_at=received_at, max_future=max_future),
        "environment": read_environment,
        "result": lambda v, f: read_choice(v, f, RESULTS),
        "action": lambda v, f: read_choice(v, f, ACTIONS[kind]),
        "commits": read_commits,
        "rollback": read_bool,
        "hotfix": read_bool,
        "planned": read_bool,
        **dict.fromkeys(_IDS, read_identifier),
    }
    values: dict[str, Any] = {"kind": kind, "metadata": {}}
    for name, read in readers.items():
        if name in given:
            values[_COLUMNS.get(name, name)] = read(given[name][1], given[name][0])
    if "event_id" in given:
        event_id = read_identifier(given["event_id"][1], "event_id")
    return build_row(values, received_at=received_at, origin=origin, event_id=event_id)


def build_row(
    values: dict[str, Any], *, received_at: datetime, origin: str, event_id: str | None
) -> DeliveryEventRow:
    """A row from validated values: kind defaults filled in and the event id settled.

    Without an id, the id is a hash of the normalised event (its time included), so the same
    event sent twice is stored once.
    """
    kind = values["kind"]
    values.setdefault("occurred_at", received_at)
    if kind in ("deploy", "incident"):
        values.setdefault("environment", DEFAULT_ENVIRONMENT)
    if kind == "deploy":
        values.setdefault("result", "success")
    if kind == "test_pass":
        values["result"] = "success"
    if event_id is None:
        canonical = {**values, "occurred_at": values["occurred_at"].isoformat()}
        digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()
        event_id = f"h-{digest[:32]}"
    return DeliveryEventRow(event_id=event_id, received_at=received_at, origin=origin, **values)


def parse_events(
    body: Any,
    *,
    received_at: datetime,
    origin: str = "api",
    idempotency_key: str | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_batch: int = MAX_BATCH,
    on_error: Literal["raise", "collect"] = "collect",
) -> tuple[list[DeliveryEventRow], list[Reject]]:
    """One event or an array of events → (rows, rejects).

    `idempotency_key` names a single event; in an array, item i gets `<key>-<i>`. With
    `on_error="raise"` the first invalid event raises its SourceError.
    """
    items = [body] if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise SourceError("body must be an event object or an array of events", field="body")
    if not items:
        raise SourceError("the array holds no events", field="body")
    if len(items) > max_batch:
        raise SourceError(
            f"a batch holds at most {max_batch} events, this one {len(items)}; split it",
            field="body",
        )
    if idempotency_key is not None:
        idempotency_key = read_identifier(idempotency_key, "Idempotency-Key")
    rows: list[DeliveryEventRow] = []
    rejects: list[Reject] = []
    for index, item in enumerate(items):
        default_id = idempotency_key
        if idempotency_key is not None and isinstance(body, list):
            default_id = f"{idempotency_key}-{index}"
        try:
            rows.append(
                parse_event(
                    item,
                    received_at=received_at,
                    origin=origin,
                    event_id=default_id,
                    max_future=max_future,
                )
            )
        except SourceError as exc:
            if on_error == "raise":
                raise
            payload = json.dumps(item, default=str).encode("utf-8", errors="replace")
            rejects.append(Reject(index, exc.field, exc.message, payload))
    return rows, rejects


def _required(doc: Mapping[str, Any], name: str) -> Any:
    if doc.get(name) is None:
        raise SourceError(f"{name} is required", field=name)
    return doc[name]
