"""Commit-telemetry routes (`/api/v1/reviews`) and, when enabled, the background hgpush consumer."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from shipgauge.api._background import background_worker
from shipgauge.api.deps import StoreDep, WindowDep
from shipgauge.api.limits import page_size
from shipgauge.config import Settings
from shipgauge.errors import ShipgaugeError
from shipgauge.pipelines import telemetry
from shipgauge.queries.telemetry import INTERVALS, review_repos, review_shares, unreviewed
from shipgauge.store import Store

__all__ = ["router"]

log = logging.getLogger("shipgauge.telemetry")
RESTART_AFTER_S = 10.0


def _consume_forever(settings: Settings, store: Store, stop: threading.Event) -> None:
    """The `serve` consumer: like `telemetry consume --forever`, restarted after a failure."""
    while not stop.is_set():
        try:
            with telemetry.TelemetryServices.from_settings(settings) as services:
                telemetry.consume(
                    store=store,
                    services=services,
                    consumer=telemetry.amqp_consumer(settings),
                    idle_timeout_s=None,
                    should_stop=stop.is_set,
                )
        except ShipgaugeError as exc:
            log.error("hgpush consumer stopped: %s; restarting in %.0f s", exc, RESTART_AFTER_S)
            stop.wait(RESTART_AFTER_S)


_lifespan = background_worker(
    name="hgpush-consumer",
    enabled=lambda s: s.telemetry_serve_consumer,
    run=lambda app, stop: _consume_forever(app.state.settings, app.state.store, stop),
)


router = APIRouter(prefix="/api/v1", lifespan=_lifespan)


@router.get("/reviews", summary="Share of each review system per repository and period")
def reviews(
    request: Request,
    repo: Annotated[str | None, Query(description="Repository path, e.g. mozilla-central")] = None,
    start: Annotated[date | None, Query(description="First push day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="Last push day (exclusive)")] = None,
    interval: Annotated[str, Query(description=f"One of {', '.join(INTERVALS)}")] = "week",
) -> list[dict[str, Any]]:
    """Rows of `{repo, period, review_system, changesets, share}` from `review_systems_by_day`."""
    rows = review_shares(
        request.app.state.store, repo=repo, start=start, end=end, interval=interval
    )
    return [{**r, "period": r["period"].isoformat()} for r in rows]


@router.get("/reviews/shares", summary="Review-system shares over a dashboard window")
def shares(store: StoreDep, window: WindowDep, repo: str | None = None) -> dict[str, Any]:
    """`/api/v1/reviews` over the push days the window touches, by day up to 31 days, else by
    week; with the repositories to choose from."""
    first, last = window.start.date(), (window.end - timedelta(microseconds=1)).date()
    interval = "day" if (last - first).days < 31 else "week"
    rows = review_shares(
        store, repo=repo, start=first, end=last + timedelta(days=1), interval=interval
    )
    return {
        "start": window.start,
        "end": window.end,
        "interval": interval,
        "repos": review_repos(store),
        "rows": rows,
    }


@router.get("/reviews/unreviewed", summary="Changesets landed without an expected review")
def unreviewed_changes(
    store: StoreDep,
    limit: Annotated[int, page_size(100)],
    window: WindowDep,
    repo: str | None = None,
) -> dict[str, Any]:
    answer = unreviewed(store, start=window.start, end=window.end, repo=repo, limit=limit)
    return {"start": window.start, "end": window.end, **answer}
