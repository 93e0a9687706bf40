"""The FastAPI application: routers, error shape, Prometheus metrics, the store on app.state.

Everything it serves ships in the packages it depends on: the dashboard in `web/`, and the
OpenAPI page at /docs from Swagger UI's own files (`swagger-ui-bundle`), so /docs works offline
and names no outside host.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from swagger_ui_bundle import swagger_ui_path

import shipgauge
from shipgauge.api import (
    builds,
    ci_cost,
    core,
    dashboard,
    delivery,
    models,
    taskcluster,
    telemetry,
    webhooks,
)
from shipgauge.api.errors import install_error_handlers
from shipgauge.api.limits import RequestLimits
from shipgauge.config import Settings, load_settings
from shipgauge.store import Store

__all__ = ["APP_FACTORY", "create_app", "create_app_from_env"]

# What uvicorn imports in each worker process (`shipgauge serve --workers N`, or
# `uvicorn --factory shipgauge.api.app:create_app_from_env`).
APP_FACTORY = "shipgauge.api.app:create_app_from_env"


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """The API over the store at `settings.db` (or an already open `store`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or Store.open(settings.db, wait_s=settings.db_wait_s)
        yield
        if store is None:
            app.state.store.close()

    app = FastAPI(
        title="shipgauge",
        version=shipgauge.__version__,
        description="CI cost, review systems, build catalog and DORA metrics.",
        lifespan=lifespan,
        docs_url=None,  # served by _install_docs from the package's own files
        redoc_url=None,  # ReDoc exists only on a CDN
    )
    app.state.settings = settings
    if store is not None:
        app.state.store = store
    install_error_handlers(app)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_query_string_chars=settings.max_query_string_chars,
    )
    _install_metrics(app)
    app.include_router(core.router)
    app.include_router(delivery.router)
    app.include_router(delivery.seed_router)
    app.include_router(webhooks.router)
    app.include_router(models.router)
    app.include_router(telemetry.router)
    app.include_router(builds.router)
    app.include_router(taskcluster.router)
    app.include_router(ci_cost.router)
    _install_docs(app)
    dashboard.install(app)
    return app


def create_app_from_env() -> FastAPI:
    """The API with settings from the environment (`SHIPGAUGE_*`) and `shipgauge.toml`: the
    app factory of worker processes, which share nothing with the command that started them."""
    return create_app(load_settings())


def _install_metrics(app: FastAPI) -> None:
    # A registry per app: tests build many apps in one process.
    registry = CollectorRegistry()
    requests = Counter(
        "shipgauge_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "shipgauge_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:  # a route, not a mount: /metrics answers without a redirect
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _install_docs(app: FastAPI) -> None:
    app.mount("/docs/assets", StaticFiles(directory=Path(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            # No validator badge: Swagger UI would send the spec to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
