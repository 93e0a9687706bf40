"""Delivery routes: events in (shipgauge JSON, CDEvents, the DevOps Toolkit's `/process-event`)
and the DORA report out.

A 2xx means every stored event of the request is committed (group commit,
pipelines/delivery/events.py).
A batch stores its valid events and lists the others with the reason (207); when nothing is
valid, the first failure is the error, with its field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from shipgauge.api.auth import require_scope
from shipgauge.config import Settings
from shipgauge.errors import BadRequest, ShipgaugeError, SourceError, Unauthorized
from shipgauge.pipelines.delivery.events import GroupCommitter
from shipgauge.queries.delivery import DEFAULT_WINDOW, DoraWindow, dora_report, parse_report_time
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

__all__ = ["PayloadTooLarge", "ServiceForbidden", "router", "seed_router"]

router = APIRouter(prefix="/api/v1", tags=["delivery"])
seed_router = APIRouter(tags=["delivery"])
WRITE_SCOPE = "events:write"
SEED_REPLY = "Request processed successfully"
Token = Annotated[ApiToken, Depends(require_scope(WRITE_SCOPE))]


class PayloadTooLarge(BadRequest):
    """A request body over `delivery_max_body_bytes`."""

    status = 413


class ServiceForbidden(Unauthorized):
    """A valid token used for a service it does not cover."""

    status = 403


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _read_json(request: Request) -> Any:
    limit = _settings(request).delivery_max_body_bytes
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLarge(
        f"the body is over the limit of {limit} bytes; send fewer events per request",
        field="body",
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    if not size:
        raise SourceError("the body is empty; send an event as JSON", field="body")
    return parse_json(b"".join(chunks))


def _committer(request: Request) -> GroupCommitter:
    state = request.app.state
    committer: GroupCommitter | None = getattr(state, "delivery_committer", None)
    if committer is None:
        committer = GroupCommitter(state.store, max_rows=_settings(request).delivery_group_rows)
        state.delivery_committer = committer
    return committer


def _forbidden(token: ApiToken, service: str) -> ServiceForbidden:
    return ServiceForbidden(
        f"this token writes events for service '{token.service}', not '{service}'",
        field="service",
    )


async def _store(
    request: Request,
    token: ApiToken,
    body: Any,
    rows: list[DeliveryEventRow],
    rejects: list[Reject],
) -> JSONResponse:
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
    await _committer(request).commit(list(accepted.values()))
    items: list[dict[str, Any]] = []
    for index in range(count):
        if index in accepted:
            row = accepted[index]
            items.append(
                {"index": index, "status": "stored", "service": row.service, "id": row.event_id}
            )
        else:
            error = errors[index]
            items.append(
                {
                    "index": index,
                    "status": "rejected",
                    "error": {"field": error.field, "message": error.message},
                }
            )
    body = {"stored": len(accepted), "rejected": len(errors), "items": items}
    return JSONResponse(body, status_code=207 if errors else 200)


def _limits(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    return {
        "received_at": datetime.now(UTC),
        "max_future": timedelta(seconds=settings.delivery_max_future_s),
    }


@router.post(
    "/events",
    summary="Report delivery events: one object or an array of up to 1,000",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EVENT_BATCH_SCHEMA}},
        }
    },
    responses={207: {"description": "Some events stored, the others rejected (see items)"}},
)
async def post_events(request: Request, token: Token) -> JSONResponse:
    body = await _read_json(request)
    rows, rejects = parse_events(
        body,
        idempotency_key=request.headers.get("idempotency-key"),
        max_batch=_settings(request).delivery_max_batch,
        **_limits(request),
    )
    return await _store(request, token, body, rows, rejects)


@router.post(
    "/cdevents",
    summary="Report CDEvents as CloudEvents (binary, structured or batch mode)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def post_cdevents(request: Request, token: Token) -> JSONResponse:
    body = await _read_json(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    rows, rejects = parse_cloudevents(
        headers, body, max_batch=_settings(request).delivery_max_batch, **_limits(request)
    )
    return await _store(request, token, body, rows, rejects)


@seed_router.post(
    "/process-event",
    summary="The DevOps Toolkit's event endpoint: {Repo, Event, Metadata, Time}",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def process_event(request: Request, token: Token) -> str:
    row = parse_seed_event(
        await _read_json(request),
        event_id=request.headers.get("idempotency-key"),
        **_limits(request),
    )
    if not token.allows(WRITE_SCOPE, row.service):
        raise _forbidden(token, row.service)
    await _committer(request).commit([row])
    return SEED_REPLY


@router.get("/dora", summary="The five DORA metrics per service, with tiers, scores and series")
def dora(
    request: Request,
    service: str | None = None,
    environment: str = "production",
    start: str | None = None,
    end: str | None = None,
    interval: str = "week",
    benchmark: str | None = None,
) -> dict[str, Any]:
    """GitLab-like parameters: `start`/`end` as dates (end inclusive) or RFC 3339 times, default
    the last 90 days; `interval` all, day, week or month; `environment` `*` for every one."""
    end_at = parse_report_time(end, "end", end=True) if end else datetime.now(UTC)
    start_at = parse_report_time(start, "start") if start else end_at - DEFAULT_WINDOW
    window = DoraWindow(
        start_at, end_at, interval, benchmark or _settings(request).delivery_benchmark
    )
    return dora_report(
        request.app.state.store,
        window,
        service=service,
        environment=None if environment == "*" else environment,
    )
