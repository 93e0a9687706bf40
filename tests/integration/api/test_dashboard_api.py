"""The API reads the dashboard's pages make, over the whole demo with its times moved into the
present (`shipgauge demo`), on both engines: every number has its rows, unpriced stays unpriced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.demo import run_demo
from shipgauge.queries.builds.catalog import builds_per_day, latest_per_platform
from shipgauge.queries.ci_cost import PUSH_CACHE, costliest_pushes
from shipgauge.queries.delivery import DoraWindow, dora_report
from shipgauge.queries.delivery_rows import METRIC_ROWS, dora_rows
from shipgauge.queries.overview import capability_cards
from shipgauge.queries.taskcluster import ROLLUP_CACHE, cost_series
from shipgauge.queries.telemetry import unreviewed
from shipgauge.queries.time import parse_window
from shipgauge.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store.open(str(tmp_path_factory.mktemp("dash") / "demo.duckdb")) as store:
        run_demo(store)
        yield store


def get(store: Store, path: str, **params: Any) -> Any:
    app = create_app(load_settings(), store=store)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, params=params)

    response = asyncio.run(run())
    assert response.status_code == 200, response.text
    return response.json()


def test_every_dora_number_has_its_rows(demo_store: Store) -> None:
    window = {"service": "checkout-api", "environment": "production", "range": "90d"}
    report = get(demo_store, "/api/v1/dora/metrics", **window)
    assert report["interval"] == "week"
    for metric, kind in METRIC_ROWS.items():
        numbers = report["metrics"][metric]
        rows = get(demo_store, "/api/v1/dora/rows", metric=metric, limit=1000, **window)
        assert rows["kind"] == kind
        assert rows["total"] == numbers["samples"] > 0, metric
        assert len(rows["rows"]) == rows["total"]
        assert all("link_method" in row for row in rows["rows"])
        if metric == "change_fail_rate":  # the failures come first, and make the rate
            assert rows["flagged"] / rows["total"] == pytest.approx(numbers["value"])
            assert all(r["is_failure"] for r in rows["rows"][: rows["flagged"]])
        series = numbers["series"]  # the weeks with a sample
        assert series
        week = next(p for p in series if p["samples"])
        in_week = get(
            demo_store, "/api/v1/dora/rows", metric=metric, bucket=week["start"], **window
        )
        assert in_week["total"] == week["samples"], (metric, week)
    before = get(demo_store, "/api/v1/dora/metrics", previous="true", **window)
    assert before["interval"] == "all"
    at = {k: datetime.fromisoformat(v[k]) for v, k in ((report, "start"), (before, "end"))}
    assert abs(at["end"] - at["start"]) < timedelta(minutes=1)  # just before (each at its now)
    services = get(demo_store, "/api/v1/dora/services")
    assert {"service": "checkout-api", "environment": "production"}.items() <= services[1].items()


def test_dora_rows_ask_for_a_kind(demo_store: Store) -> None:
    app = create_app(load_settings(), store=demo_store)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/api/v1/dora/rows", params={"service": "billing"})

    answer = asyncio.run(run())
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "kind"


def test_ci_cost_series_keeps_unpriced_pools_unpriced(demo_store: Store) -> None:
    answer = get(demo_store, "/api/v1/ci/costs/series", range="90d", top=3)
    assert answer["currency"] == "USD"
    pools = {g["worker_pool"]: g for g in answer["groups"]["pool"]}
    signing = pools["scriptworker-prov-v1/signing-linux-v1"]
    assert signing["cost"] is None  # unpriced, not free
    assert signing["unpriced_seconds"] == signing["run_seconds"] > 0
    fuzzing = pools["proj-fuzzing/linux-pool10"]
    assert fuzzing["cost"] == pytest.approx(2.905)  # 10,458 s / 14,400 s x 4.00, as recorded
    assert fuzzing["instance_cost"] == pytest.approx(2.905) and fuzzing["rate_cost"] is None
    assert [s["key"] for s in answer["series"]][:3] == list(pools)[:3]  # costliest first
    assert answer["series"][-1]["key"] == "(others)"
    total = answer["totals"]
    assert total["cost"] == pytest.approx(sum(g["cost"] or 0 for g in pools.values()))
    assert total["instance_cost"] + total["rate_cost"] == pytest.approx(total["cost"])
    only = get(demo_store, "/api/v1/ci/costs/series", range="90d", pool=signing["worker_pool"])
    assert only["totals"]["cost"] is None
    assert [g["worker_pool"] for g in only["groups"]["pool"]] == [signing["worker_pool"]]
    assert set(answer["options"]["pools"]) == set(pools)


def test_costliest_pushes_and_a_push_s_runs(demo_store: Store) -> None:
    answer = get(demo_store, "/api/v1/ci/costs/costliest", range="30d", limit=3)
    assert answer["total"] == 10 and answer["repos"] == ["mozilla-central"]
    costs = [p["total_cost"] for p in answer["pushes"]]
    assert costs == sorted(costs, reverse=True)
    push = answer["pushes"][0]
    runs = get(demo_store, "/api/v1/ci/costs/runs", repo=push["repo"], push_id=push["push_id"])
    assert {r["pricing_method"] for r in runs["runs"]} == {"worker_type_rate", "unpriced"}
    assert all(r["cost"] is None for r in runs["runs"] if r["pricing_method"] == "unpriced")
    priced = sum(r["cost"] for r in runs["runs"] if r["in_total"] and r["cost"] is not None)
    assert priced == pytest.approx(push["total_cost"])


def test_overview_reviews_and_builds_fill_the_default_range(demo_store: Store) -> None:
    cards = {c["capability"]: c for c in get(demo_store, "/api/v1/overview")["cards"]}
    assert list(cards) == ["delivery", "ci_cost", "taskcluster", "telemetry", "builds"]
    assert all(c["headline"]["count"] for c in cards.values())
    assert cards["taskcluster"]["dead_letters"] == 2  # the two schema-breaking recorded messages
    assert cards["delivery"]["last_ingest"] is not None
    shares = get(demo_store, "/api/v1/reviews/shares")
    assert shares["interval"] == "week" and shares["repos"] == ["mozilla-central"]
    assert sum(r["share"] for r in shares["rows"]) == pytest.approx(1)
    unreviewed = get(demo_store, "/api/v1/reviews/unreviewed")
    assert unreviewed["total"] == 2
    days = get(demo_store, "/api/v1/builds/per-day")["rows"]
    assert sum(d["records"] for d in days) >= 1
    latest = get(demo_store, "/api/v1/builds/latest-per-platform", product="firefox")
    assert {r["product"] for r in latest["rows"]} == {"firefox"}
    assert len({(r["channel"], r["platform"]) for r in latest["rows"]}) == len(latest["rows"])


def test_demo_times_are_moved_into_the_last_90_days_once(demo_store: Store) -> None:
    now = datetime.now(UTC)
    newest = demo_store.query(
        "SELECT (SELECT max(pushed_at) FROM push_costs), (SELECT max(deployed_at) FROM"
        " dora_deployments), (SELECT max(download_date) FROM build_records),"
        " (SELECT max(resolved) FROM task_run_costs)"
    ).rows[0]
    for moment in newest:
        assert now - timedelta(days=90) < moment <= now
    moved = dict(
        demo_store.query(
            "SELECT source, position FROM ingest_status WHERE source LIKE 'demo.moved:%'"
        ).rows
    )
    assert {"demo.moved:pushlog", "demo.moved:builds", "demo.moved:delivery"} <= set(moved)
    assert all(int(days) % 7 == 0 for days in moved.values())  # whole weeks
    before = demo_store.count("task_runs")
    run_demo(demo_store)  # again: nothing moves twice, nothing is added
    assert demo_store.count("task_runs") == before
    again = demo_store.query(
        "SELECT source, position FROM ingest_status WHERE source LIKE 'demo.moved:%'"
    ).rows
    assert dict(again) == moved
    ROLLUP_CACHE.clear(demo_store)


def test_cost_rollup_model_on_both_engines(store: Store) -> None:
    from shipgauge.demo import ci_cost, taskcluster, telemetry

    telemetry.load_demo(store)
    taskcluster.load_demo(store)
    ci_cost.load_demo(store)
    rows = store.query(
        "SELECT worker_pool, sum(runs), sum(priced_runs), sum(cost), sum(unpriced_seconds)"
        " FROM cost_by_pool_project_day GROUP BY worker_pool"
    ).rows
    pools = {r[0]: r[1:] for r in rows}
    assert pools["scriptworker-prov-v1/signing-linux-v1"][2] is None
    assert float(pools["proj-fuzzing/linux-pool10"][2]) == pytest.approx(2.905)
    by_pool = dict(
        store.query("SELECT worker_pool, sum(runs) FROM cost_by_worker_pool GROUP BY 1").rows
    )
    assert {k: int(v[0]) for k, v in pools.items()} == {k: int(v) for k, v in by_pool.items()}


def test_the_dashboard_reads_on_both_engines(store: Store) -> None:
    run_demo(store)
    window = parse_window("90d", None, None, now=datetime.now(UTC))
    cards = capability_cards(store, window)
    assert [c["headline"]["count"] > 0 for c in cards] == [True] * 5
    report = dora_report(store, DoraWindow(window.start, window.end, "all"), service="checkout-api")
    samples = report["services"][0]["metrics"]["change_fail_rate"]["samples"]
    rows = dora_rows(
        store,
        DoraWindow(window.start, window.end, "all"),
        kind="deployments",
        service="checkout-api",
        limit=5,
    )
    assert rows["total"] == samples and len(rows["rows"]) == 5
    series = cost_series(store, window)
    assert {g["worker_pool"]: g["cost"] for g in series["groups"]["pool"]}[
        "scriptworker-prov-v1/signing-linux-v1"
    ] is None
    pushes = costliest_pushes(store, start=window.start, end=window.end)
    assert pushes["total"] == 10
    assert builds_per_day(store, start=window.start, end=window.end)
    assert latest_per_platform(store, product="firefox")
    assert unreviewed(store, start=window.start, end=window.end)["total"] == 2
    ROLLUP_CACHE.clear(store)
    PUSH_CACHE.clear(store)
