"""Webhook receivers: GitHub, GitLab and PagerDuty deliveries in, delivery events stored.

Each route reads the raw body (within `max_body_bytes`, api/limits.py) and hands it, with the
headers, to `pipelines.delivery.webhooks`, which verifies the sender's signature before reading
anything.
No bearer token: the signature is the authentication (docs/webhooks.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shipgauge.api.delivery import group_committer
from shipgauge.api.deps import app_settings
from shipgauge.api.limits import read_body
from shipgauge.pipelines.delivery.webhooks import Sender, accept_webhook, webhook_config

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {}}}}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    202: {"description": "A valid delivery of an event shipgauge does not use: nothing stored"},
    401: {"description": "Missing or wrong signature: nothing stored"},
}


async def _receive(request: Request, sender: Sender) -> JSONResponse:
    received_at = datetime.now(UTC)
    raw = await read_body(request, send="the delivery as JSON")  # signed as sent
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
