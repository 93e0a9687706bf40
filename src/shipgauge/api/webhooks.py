"""Webhook receivers: GitHub, GitLab and PagerDuty deliveries in, delivery events stored.

Each route reads the raw body (within `max_body_bytes`) and hands it, with the headers,
to `pipelines.delivery.webhooks`, which verifies the sender's signature before reading anything.
No bearer token: the signature is the authentication (docs/webhooks.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shipgauge.api.delivery import group_committer
from shipgauge.api.deps import app_settings
from shipgauge.errors import PayloadTooLarge, SourceError
from shipgauge.pipelines.delivery.webhooks import Sender, accept_webhook, webhook_config

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {}}}}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"description": "A valid delivery of an event shipgauge does not use: nothing stored"},
    401: {"description": "Missing or wrong signature: nothing stored"},
}


async def _raw_body(request: Request) -> bytes:
    """The body as sent (the signature is over these bytes), up to the delivery body limit."""
    limit = app_settings(request).max_body_bytes
    too_large = PayloadTooLarge(f"the body is over the limit of {limit} bytes", field="body")
    declared = request.headers.get("content-length", "")
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
        raise SourceError("the body is empty", field="body")
    return b"".join(chunks)


async def _receive(request: Request, sender: Sender) -> JSONResponse:
    received_at = datetime.now(UTC)
    raw = await _raw_body(request)
    answer, status = await accept_webhook(
        group_committer(request),
        webhook_config(app_settings(request), sender),
        {k.lower(): v for k, v in request.headers.items()},
        raw,
        received_at=received_at,
    )
    return JSONResponse(answer, status_code=status)


@router.post(
    "/github",
    summary="GitHub webhook: push, deployment_status, workflow_run, pull_request (and ping)",
    openapi_extra=_BODY,
    responses=_ANSWERS,
)
async def github(request: Request) -> JSONResponse:
    return await _receive(request, "github")


@router.post(
    "/gitlab",
    summary="GitLab webhook: Push, Deployment, Pipeline and Merge Request hooks",
    openapi_extra=_BODY,
    responses=_ANSWERS,
)
async def gitlab(request: Request) -> JSONResponse:
    return await _receive(request, "gitlab")


@router.post(
    "/pagerduty",
    summary="PagerDuty v3 webhook: incident.triggered, incident.resolved",
    openapi_extra=_BODY,
    responses=_ANSWERS,
)
async def pagerduty(request: Request) -> JSONResponse:
    return await _receive(request, "pagerduty")
