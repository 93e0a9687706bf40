"""The FastAPI application: routers, error shape, Prometheus metrics, the store on app.state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app

import shipgauge
from shipgauge.api import (
    builds,
    ci_cost,
    core,
    delivery,
    models,
    taskcluster,
    telemetry,
    webhooks,
)
from shipgauge.api.errors import install_error_handlers
from shipgauge.config import Settings
from shipgauge.store import Store

__all__ = ["create_app"]

WEB_DIR = Path(__file__).parent / "web"


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
    )
    app.state.settings = settings
    if store is not None:
        app.state.store = store
    install_error_handlers(app)
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
    _install_dashboard(app)
    return app


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

    app.mount("/metrics", make_asgi_app(registry=registry))


def _install_dashboard(app: FastAPI) -> None:
    # The dashboard is static files shipped in the package: no CDN, no build step.
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")
