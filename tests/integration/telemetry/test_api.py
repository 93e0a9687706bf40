"""`GET /api/v1/reviews`, and the hgpush consumer running inside `shipgauge serve`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shipgauge.api import create_app
from shipgauge.config import Settings, load_settings
from shipgauge.connectors.amqp import AmqpConsumer, publish
from shipgauge.demo.telemetry import load_demo
from shipgauge.store import Store
from tests.integration.telemetry.fake_mozilla import FakeMozilla, env_of, serve_v2_test_message


def _get_all(store: Store, *requests: dict[str, str]) -> list[httpx.Response]:
    """GET /api/v1/reviews with each set of params, in process through httpx.ASGITransport."""
    app = create_app(load_settings(), store=store)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get("/api/v1/reviews", params=p) for p in requests]

    return asyncio.run(run())


def test_reviews_route_reads_the_review_model(store: Store) -> None:
    load_demo(store)
    weekly, daily, other, bad, malformed = _get_all(
        store,
        {"repo": "mozilla-central"},
        {"interval": "day", "end": "2013-09-04"},
        {"repo": "try"},
        {"interval": "hour"},
        {"start": "soon"},
    )
    rows = weekly.json()
    assert [(r["period"], r["review_system"], r["changesets"]) for r in rows] == [
        ("2013-09-02", "phabricator", 8),
        ("2013-09-02", "bmo", 4),
        ("2013-09-02", "no_bug", 1),
        ("2013-09-02", "review_unneeded", 1),
        ("2013-09-02", "unknown", 1),
    ]
    assert rows[0]["share"] == pytest.approx(8 / 15)
    assert daily.json() == []  # every push of the sample landed on 2013-09-04
    assert other.json() == []
    assert bad.status_code == 400
    assert bad.json() == {
        "error": {"field": "interval", "message": "interval 'hour' is not one of day, week, month"}
    }
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "start"


def test_serve_runs_the_hgpush_consumer_when_enabled(
    monkeypatch: pytest.MonkeyPatch,
    start_server: Callable[[str], str],
    duckdb_url: str,
    mozilla: FakeMozilla,
    amqp_overrides: dict[str, Any],
    amqp_settings: Settings,
    queue: AmqpConsumer,
) -> None:
    body, pings = serve_v2_test_message(mozilla)
    for name, value in env_of({**amqp_overrides, "telemetry_serve_consumer": True}).items():
        monkeypatch.setenv(name, value)
    base = start_server(duckdb_url)
    publish(amqp_settings.amqp_url, amqp_settings.telemetry_exchange, [("x", body)])
    deadline = time.monotonic() + 30
    rows: list[dict[str, Any]] = []
    while not rows and time.monotonic() < deadline:  # the ping is stored once it was sent
        time.sleep(0.1)
        rows = httpx.get(f"{base}/api/v1/reviews").json()
    assert [p.json() for p in mozilla.pings()] == pings
    assert [(r["repo"], r["review_system"], r["changesets"]) for r in rows] == [
        ("integration/autoland", "phabricator", 1)
    ]
    assert queue.queue_depth() == 0
