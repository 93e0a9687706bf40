"""Delivery routes: events in (shipgauge JSON, CDEvents, the DevOps Toolkit's `/process-event`)
and the DORA report out. What is stored and what each item answers is
`pipelines.delivery.intake`'s; this module reads the body within its limit and shapes the reply.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shipgauge.api.auth import require_scope
from shipgauge.api.deps import SettingsDep, StoreDep, WindowDep, app_settings
from shipgauge.api.limits import page_size, read_body
from shipgauge.errors import BadRequest
from shipgauge.pipelines.delivery.events import GroupCommitter
from shipgauge.pipelines.delivery.intake import (
    EVENT_BATCH_SCHEMA,
    WRITE_SCOPE,
    IntakeLimits,
    accept_cdevents,
    accept_events,
    accept_seed_event,
)
from shipgauge.queries.delivery import DEFAULT_WINDOW, DoraWindow, dora_report, report_json
from shipgauge.queries.delivery_rows import METRIC_ROWS, ROW_KINDS, dora_rows, dora_services
from shipgauge.queries.time import parse_moment, window_start
from shipgauge.store.tokens import ApiToken

__all__ = ["group_committer", "router", "seed_router"]

router = APIRouter(prefix="/api/v1", tags=["delivery"])
seed_router = APIRouter(tags=["delivery"])
SEED_REPLY = "Request processed successfully"
MAX_OFFSET = 2**62  # a BIGINT on both engines, with room for the limit added to it
Token = Annotated[ApiToken, Depends(require_scope(WRITE_SCOPE))]


def group_committer(request: Request) -> GroupCommitter:
    """The app's one group committer of delivery events (events routes and webhooks share it)."""
    state = request.app.state
    committer: GroupCommitter | None = getattr(state, "delivery_committer", None)
    if committer is None:
        committer = GroupCommitter(state.store, max_rows=app_settings(request).delivery_group_rows)
        state.delivery_committer = committer
    return committer


def _limits(request: Request) -> IntakeLimits:
    settings = app_settings(request)
    return IntakeLimits(
        received_at=datetime.now(UTC),
        max_future=timedelta(seconds=settings.delivery_max_future_s),
        max_batch=settings.delivery_max_batch,
        max_json_depth=settings.max_json_depth,
    )


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
    answer, status = await accept_events(
        group_committer(request),
        token,
        await read_body(request, send="an event as JSON"),
        _limits(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return JSONResponse(answer, status_code=status)


@router.post(
    "/cdevents",
    summary="Report CDEvents as CloudEvents (binary, structured or batch mode)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def post_cdevents(request: Request, token: Token) -> JSONResponse:
    answer, status = await accept_cdevents(
        group_committer(request),
        token,
        await read_body(request, send="an event as JSON"),
        _limits(request),
        headers={k.lower(): v for k, v in request.headers.items()},
    )
    return JSONResponse(answer, status_code=status)


@seed_router.post(
    "/process-event",
    summary="The DevOps Toolkit's event endpoint: {Repo, Event, Metadata, Time}",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def process_event(request: Request, token: Token) -> str:
    await accept_seed_event(
        group_committer(request),
        token,
        await read_body(request, send="an event as JSON"),
        _limits(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return SEED_REPLY


@router.get(
    "/dora",
    summary="The five DORA metrics per service, with tiers, scores and series",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def dora(
    request: Request,
    service: str | None = None,
    environment: str = "production",
    start: str | None = None,
    end: str | None = None,
    interval: str = "week",
    benchmark: str | None = None,
) -> Response:
    """GitLab-like parameters: `start`/`end` as dates (end inclusive) or RFC 3339 times, default
    the last 90 days; `interval` all, day, week or month; `environment` `*` for every one."""
    end_at = parse_moment(end, "end", end=True, require_offset=True) if end else datetime.now(UTC)
    start_at = (
        parse_moment(start, "start", require_offset=True)
        if start
        else window_start(end_at, DEFAULT_WINDOW, "end")
    )
    window = DoraWindow(
        start_at, end_at, interval, benchmark or app_settings(request).delivery_benchmark
    )
    report = dora_report(
        request.app.state.store,
        window,
        service=service,
        environment=None if environment == "*" else environment,
    )
    return Response(report_json(report), media_type="application/json")


# The dashboard's DORA page: one service and environment over the page's window (`range`, or
# `from`/`to`), the rows behind each number, and the services to choose from.


@router.get("/dora/services", summary="Services and environments with deployments")
def services(store: StoreDep) -> list[dict[str, Any]]:
    return dora_services(store)


@router.get("/dora/metrics", summary="The DORA report of one service over a dashboard window")
def metrics(
    store: StoreDep,
    settings: SettingsDep,
    window: WindowDep,
    service: str,
    environment: str = "production",
    previous: Annotated[
        bool, Query(description="The window of the same length just before, as one bucket")
    ] = False,
) -> dict[str, Any]:
    """`/api/v1/dora` for one service with weekly series, or with `previous` the totals of the
    window before (what each tile compares with)."""
    asked = window.previous() if previous else window
    dora = DoraWindow(
        asked.start, asked.end, "all" if previous else "week", settings.delivery_benchmark
    )
    report = dora_report(store, dora, service=service, environment=environment)
    found = report["services"][0]["metrics"] if report["services"] else {}
    return {**{k: report[k] for k in ("start", "end", "interval", "benchmark")},
            "service": service, "environment": environment, "metrics": found}  # fmt: skip


@router.get("/dora/rows", summary="The deployments, changes, incidents… behind a DORA number")
def rows(
    store: StoreDep,
    limit: Annotated[int, page_size(100)],
    window: WindowDep,
    service: str,
    environment: str = "production",
    kind: Annotated[str | None, Query(description=f"One of {', '.join(ROW_KINDS)}")] = None,
    metric: Annotated[
        str | None, Query(description=f"Instead of kind: one of {', '.join(METRIC_ROWS)}")
    ] = None,
    bucket: Annotated[
        str | None, Query(description="Only the week starting at this ISO time (a trend point)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    chosen = kind or METRIC_ROWS.get(metric or "", "")
    if not chosen:
        raise BadRequest(
            f"give kind ({', '.join(ROW_KINDS)}) or metric ({', '.join(METRIC_ROWS)})",
            field="metric" if metric else "kind",
        )
    return dora_rows(
        store,
        DoraWindow(window.start, window.end, "all"),
        kind=chosen,
        service=service,
        environment=environment,
        bucket_start=parse_moment(bucket, "bucket") if bucket else None,
        limit=limit,
        offset=offset,
    )
