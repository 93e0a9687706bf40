"""Delivery events from the HTTP API: parse a body, keep what the token may write, commit, answer.

A batch stores its valid events and lists the others with the reason (207); when nothing is
valid, the first failure is the error, with its field. Each item says whether it was `stored`
now or a `duplicate` of an event stored before. A 2xx means every accepted event of the request
is committed (group commit, `events.GroupCommitter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shipgauge.errors import ServiceForbidden, ShipgaugeError, SourceError
from shipgauge.pipelines.delivery.events import GroupCommitter
from shipgauge.sources.delivery import (
    DeliveryEventRow,
    Reject,
    parse_events,
    parse_json,
    parse_seed_event,
)
from shipgauge.sources.delivery.cdevents import parse_cloudevents
from shipgauge.sources.delivery.schema import EVENT_BATCH_SCHEMA
from shipgauge.store.tokens import ApiToken

__all__ = [
    "EVENT_BATCH_SCHEMA",
    "WRITE_SCOPE",
    "IntakeLimits",
    "accept_cdevents",
    "accept_events",
    "accept_seed_event",
]

WRITE_SCOPE = "events:write"


@dataclass(frozen=True)
class IntakeLimits:
    """What one request may carry, and the time it is received at."""

    received_at: datetime
    max_future: timedelta
    max_batch: int
    max_json_depth: int


async def accept_events(
    committer: GroupCommitter,
    token: ApiToken,
    raw: bytes,
    limits: IntakeLimits,
    *,
    idempotency_key: str | None,
) -> tuple[dict[str, Any], int]:
    """shipgauge's event JSON (one object or an array): the answer's body and status."""
    body = parse_json(raw, max_depth=limits.max_json_depth)
    rows, rejects = parse_events(
        body,
        idempotency_key=idempotency_key,
        max_batch=limits.max_batch,
        received_at=limits.received_at,
        max_future=limits.max_future,
    )
    return await _commit_allowed(committer, token, body, rows, rejects)


async def accept_cdevents(
    committer: GroupCommitter,
    token: ApiToken,
    raw: bytes,
    limits: IntakeLimits,
    *,
    headers: Mapping[str, str],
) -> tuple[dict[str, Any], int]:
    """CDEvents as CloudEvents (binary, structured or batch mode): the answer and its status."""
    body = parse_json(raw, max_depth=limits.max_json_depth)
    rows, rejects = parse_cloudevents(
        headers,
        body,
        max_batch=limits.max_batch,
        received_at=limits.received_at,
        max_future=limits.max_future,
    )
    return await _commit_allowed(committer, token, body, rows, rejects)


async def accept_seed_event(
    committer: GroupCommitter,
    token: ApiToken,
    raw: bytes,
    limits: IntakeLimits,
    *,
    idempotency_key: str | None,
) -> None:
    """The DevOps Toolkit's `/process-event` body: one event, committed or an error."""
    row = parse_seed_event(
        parse_json(raw, max_depth=limits.max_json_depth),
        event_id=idempotency_key,
        received_at=limits.received_at,
        max_future=limits.max_future,
    )
    if not token.allows(WRITE_SCOPE, row.service):
        raise _forbidden(token, row.service)
    await committer.commit([row])


def _forbidden(token: ApiToken, service: str) -> ServiceForbidden:
    return ServiceForbidden(
        f"this token writes events for service '{token.service}', not '{service}'",
        field="service",
    )


async def _commit_allowed(
    committer: GroupCommitter,
    token: ApiToken,
    body: Any,
    rows: list[DeliveryEventRow],
    rejects: list[Reject],
) -> tuple[dict[str, Any], int]:
    """Commit the rows of `body` the token may write; answer 200, 207 (some rejected) or the
    error (the first one, indexed, when `body` is a batch)."""
    single = not isinstance(body, list)
    count = 1 if single else len(body)
    errors: dict[int, ShipgaugeError] = {
        r.index: SourceError(r.message, field=r.field) for r in rejects
    }
    indices = [i for i in range(count) if i not in errors]
    accepted: dict[int, DeliveryEventRow] = {}
    for index, row in zip(indices, rows, strict=True):
        if token.allows(WRITE_SCOPE, row.service):
            accepted[index] = row
        else:
            errors[index] = _forbidden(token, row.service)
    if not accepted:
        index = min(errors)
        error = errors[index]
        if single:
            raise error
        raise type(error)(
            f"nothing stored, all {count} events were rejected; [{index}]: {error.message}",
            field=f"[{index}].{error.field}" if error.field else f"[{index}]",
        )
    stored = dict(zip(accepted, await committer.commit(list(accepted.values())), strict=True))
    new = sum(stored.values())
    answer = {
        "stored": new,
        "duplicate": len(stored) - new,
        "rejected": len(errors),
        "items": [_item(i, accepted, stored, errors) for i in range(count)],
    }
    return answer, 207 if errors else 200


def _item(
    index: int,
    accepted: dict[int, DeliveryEventRow],
    stored: dict[int, bool],
    errors: dict[int, ShipgaugeError],
) -> dict[str, Any]:
    """What the answer says of item `index`: stored now, a duplicate, or rejected and why."""
    if index in accepted:
        row = accepted[index]
        status = "stored" if stored[index] else "duplicate"
        return {"index": index, "status": status, "service": row.service, "id": row.event_id}
    error = errors[index]
    return {
        "index": index,
        "status": "rejected",
        "error": {"field": error.field, "message": error.message},
    }
