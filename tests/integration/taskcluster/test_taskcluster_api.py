"""The Taskcluster routes in-process on both engines, and `serve` running the Pulse listener."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.store import Store
from tests.integration.taskcluster.taskcluster_setup import recorded_stream, seed_costs


def _get(store: Store, path: str) -> httpx.Response:
    app = create_app(load_settings(db=store.url), store=store)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sg") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_task_route_gives_task_runs_and_cost(store: Store) -> None:
    seed_costs(store)
    body = _get(store, "/api/v1/taskcluster/tasks/T1").json()
    assert body["task"]["worker_pool"] == "gecko-t/t-linux-large"
    assert (body["task"]["runs"], round(body["task"]["total_cost"], 6)) == (2, 0.6)
    assert [
        (r["run_id"], round(r["run_cost"], 6), r["attribution_method"]) for r in body["runs"]
    ] == [
        (0, 0.4, "gcp_monitoring_instance_uptime"),
        (1, 0.2, "gcp_monitoring_instance_uptime"),
    ]
    missing = _get(store, "/api/v1/taskcluster/tasks/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"field": "task_id", "message": "no task nope"}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("group_by=day", [("2026-05-10", 5, 1.1 + 4 / 3)]),
        (
            "group_by=worker_pool",
            [
                ("releng-hardware/gecko-t-osx-1014", 1, 4 / 3),
                ("gecko-t/t-linux-large", 2, 0.6),
                ("gecko-t/t-linux-xlarge", 1, 0.5),
                ("proj-x/unknown", 1, None),  # unpriced: NULL, last
            ],
        ),
        ("group_by=project&start=2026-05-10&end=2026-05-11", [("none", 5, 1.1 + 4 / 3)]),
        ("group_by=project&start=2026-05-11", []),
    ],
)
def test_ci_costs_route_groups(store: Store, query: str, expected: list[tuple[Any, ...]]) -> None:
    seed_costs(store)
    body = _get(store, f"/api/v1/ci/costs?{query}").json()
    column = body["group_by"]
    rows = [(str(r[column]), r["runs"], _round(r["cost"])) for r in body["rows"]]
    assert rows == [(k, n, _round(c)) for k, n, c in expected]


def _round(cost: float | None) -> float | None:
    return None if cost is None else round(cost, 6)


def test_ci_costs_route_errors_have_the_one_shape(store: Store) -> None:
    bad_group = _get(store, "/api/v1/ci/costs?group_by=team")
    assert bad_group.status_code == 422 and bad_group.json()["error"]["field"] == "group_by"
    backwards = _get(store, "/api/v1/ci/costs?start=2026-05-11&end=2026-05-10")
    assert backwards.status_code == 400
    assert backwards.json() == {"error": {"field": "start", "message": "start must be before end"}}


def test_serve_runs_the_pulse_listener(
    duckdb_url: str, make_pulse: Any, start_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulse = make_pulse(duckdb_url)
    for name, value in {**pulse.env, "SHIPGAUGE_TASKCLUSTER_LISTEN": "true"}.items():
        monkeypatch.setenv(name, value)
    base = start_server(duckdb_url)
    pulse.publish(recorded_stream())
    url = f"{base}/api/v1/taskcluster/tasks/B3EheQ-IQ5aPzw34KS_a6g"
    deadline = time.monotonic() + 30
    while (answer := httpx.get(url)).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer.status_code == 200
    assert answer.json()["runs"][0]["state"] == "completed"
