"""Build catalog routes: Buildhub-compatible search and records, S3-event intake, build lookups.

`/api/search`, `/api/records` and the legacy Kinto search URL keep Buildhub's shapes and error
bodies so its clients work unchanged (the documented exception to the error shape); the
`/api/v1/builds/...` routes follow shipgauge's conventions.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from shipgauge.api.auth import require_scope
from shipgauge.api.deps import StoreDep, WindowDep, app_store
from shipgauge.api.limits import page_size
from shipgauge.errors import Unauthorized
from shipgauge.pipelines.builds.notifications import ingest_http_notification
from shipgauge.queries.builds.catalog import build_filters, builds_per_day, latest_per_platform
from shipgauge.queries.builds.lookup import find_builds, latest_builds
from shipgauge.queries.builds.query import SearchError
from shipgauge.queries.builds.search import count_builds, search_builds
from shipgauge.store.tokens import ApiToken, verify_token

__all__ = ["router"]

router = APIRouter()
_CORS = {"Access-Control-Allow-Origin": "*"}
_SCOPE = "builds:write"


_SEARCH_SUMMARY = "Buildhub search (Elasticsearch 6.x body)"


# Two registrations, each with its own operation id: one route for both methods would give the
# OpenAPI document two operations with the same id.
@router.get("/api/search", summary=_SEARCH_SUMMARY, operation_id="search_builds_get")
@router.post("/api/search", summary=_SEARCH_SUMMARY, operation_id="search_builds_post")
async def search(request: Request) -> JSONResponse:
    body = await request.body()
    settings = request.app.state.settings
    limits = {
        "max_size": settings.buildhub_max_search_size,
        "max_json_depth": settings.max_json_depth,
        "max_query_string_chars": settings.max_query_string_chars,
    }
    try:
        result = await run_in_threadpool(search_builds, app_store(request), body, **limits)
    except SearchError as exc:  # Buildhub's own 400 bodies, which its clients parse
        return JSONResponse(exc.body, status_code=400, headers=_CORS)
    return JSONResponse(result, headers=_CORS)


@router.options("/api/search", include_in_schema=False)
def search_preflight() -> Response:
    return Response(
        headers={
            **_CORS,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "*",
        }
    )


@router.get("/api/records", summary="Buildhub: how many build records are stored")
def records(request: Request) -> JSONResponse:
    return JSONResponse({"builds": {"total": count_builds(app_store(request))}}, headers=_CORS)


@router.api_route(
    "/v1/buckets/build-hub/collections/releases/search",
    methods=["GET", "POST"],
    include_in_schema=False,
)
def legacy_search(request: Request) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/api/search{query}", status_code=301)


def _sns_or_bearer(request: Request) -> ApiToken:
    # SNS cannot send a bearer header but can send Basic auth from the endpoint URL
    # (https://user:TOKEN@host/…): the password is then the token.
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return require_scope(_SCOPE)(request)
    try:
        password = base64.b64decode(value.strip()).decode().partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        password = ""
    token = verify_token(app_store(request), password)
    if token is None or not token.allows(_SCOPE):
        raise Unauthorized(
            f"Basic auth password is not a token with scope '{_SCOPE}'", field="Authorization"
        )
    return token


@router.post("/api/v1/builds/s3-events", summary="S3 event notifications (direct or via SNS)")
async def s3_events(
    request: Request, _: Annotated[ApiToken, Depends(_sns_or_bearer)]
) -> dict[str, Any]:
    message_id = request.headers.get("x-amz-sns-message-id") or "http"
    return await run_in_threadpool(
        ingest_http_notification,
        app_store(request),
        request.app.state.settings,
        await request.body(),
        message_id,
    )


@router.get("/api/v1/builds/latest", summary="Latest build per product, channel, platform, locale")
def latest(
    request: Request,
    limit: Annotated[int, page_size(1000)],
    product: str | None = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    return latest_builds(app_store(request), product=product, channel=channel, limit=limit)


# The dashboard's builds page (before /api/v1/builds/{build}, which would take these names).


@router.get("/api/v1/builds/per-day", summary="Builds published per day and channel")
def per_day(
    store: StoreDep,
    window: WindowDep,
    product: str | None = None,
    channel: str | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    rows = builds_per_day(
        store,
        start=window.start,
        end=window.end,
        product=product,
        channel=channel,
        platform=platform,
    )
    return {"start": window.start, "end": window.end, "rows": rows}


@router.get(
    "/api/v1/builds/latest-per-platform",
    summary="The newest build of each product, channel and platform",
)
def latest_per_platform_route(
    store: StoreDep,
    product: str | None = None,
    channel: str | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    return {
        "rows": latest_per_platform(store, product=product, channel=channel, platform=platform),
        "filters": build_filters(store),
    }


@router.get("/api/v1/builds/{build}", summary="Build records by hash, v1 record id or build id")
def get_build(request: Request, build: str) -> list[dict[str, Any]]:
    return find_builds(app_store(request), build)
