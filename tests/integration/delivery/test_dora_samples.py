"""The report over kept samples (queries/dora_samples.py) on both engines: the numbers of the
`dora_summary` view's own SELECT run in the store over the same window, and new numbers after
every write of delivery events."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from shipgauge.demo.delivery import load_demo
from shipgauge.pipelines.delivery.events import ingest_events
from shipgauge.queries.delivery import HEADLINE_METRICS, DoraWindow, summary_rows
from shipgauge.sources.delivery import parse_seed_event
from shipgauge.store import Store
from shipgauge.store.views import discover_models

DEMO_SERVICES = {"billing", "checkout-api", "mobile-backend", "search", "web-frontend"}
_WINDOW_ROW = (
    "SELECT CAST(? AS TIMESTAMPTZ) AS start_at, CAST(? AS TIMESTAMPTZ) AS end_at,"
    " CAST(? AS VARCHAR) AS bucket, CAST(? AS VARCHAR) AS benchmark"
)


def _view_rows(
    store: Store, window: DoraWindow, service: str | None, environment: str | None
) -> list[dict[str, Any]]:
    """`dora_summary` as its view computes it (every model over all history, in the store),
    with `report_window` the report's: totals and the series."""
    (model,) = [m for m in discover_models() if m.name == "dora_summary"]
    tree = sqlglot.parse_one(model.sql, read="duckdb")
    report_window = next(c for c in tree.find_all(exp.CTE) if c.alias == "report_window")
    report_window.set("this", sqlglot.parse_one(f"{_WINDOW_ROW} UNION ALL {_WINDOW_ROW}"))
    where = {"service": service, "environment": environment}
    asked = {column: value for column, value in where.items() if value is not None}
    rows = store.query(
        "SELECT CASE WHEN bucket = 'all' THEN 'total' ELSE 'series' END AS part, *"
        f" FROM ({tree.sql(dialect='duckdb')}) AS r WHERE "
        + " AND ".join(["TRUE", *(f"{column} = ?" for column in asked)]),
        [
            *(window.start, window.end, "all", window.benchmark),
            *(window.start, window.end, window.interval, window.benchmark),
            *asked.values(),
        ],
    ).dicts()
    return _comparable(rows)


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def value(v: Any) -> Any:
        return pytest.approx(float(v), rel=1e-9) if isinstance(v, float | Decimal) else v

    key = ("part", "service", "environment", "bucket_start", "metric")
    ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))
    return [{k: value(v) for k, v in row.items()} for row in ordered]


@pytest.fixture
def demo(store: Store) -> Store:
    load_demo(store, move=False)
    return store


@pytest.mark.parametrize("interval", ["day", "week", "month"])
@pytest.mark.parametrize("service", [None, "checkout-api"])
def test_kept_samples_give_the_views_numbers(
    demo: Store, interval: str, service: str | None
) -> None:
    last = demo.query("SELECT max(deployed_at) FROM dora_deployments").scalar()
    # A start inside a week and a day, and an end before the last deployment.
    window = DoraWindow(last - timedelta(days=47, hours=5), last - timedelta(days=3), interval)
    kept = summary_rows(demo, window, service=service, environment="production", series=True)
    assert {r["service"] for r in kept} == ({service} if service else DEMO_SERVICES)
    samples = {m: sum(r["samples"] for r in kept if r["metric"] == m) for m in HEADLINE_METRICS}
    assert all(samples.values()), samples
    assert _comparable(kept) == _view_rows(demo, window, service, "production")
    # A later window reads the samples kept for this one: still the view's numbers, in every
    # environment too.
    later = DoraWindow(window.start + timedelta(days=9), last + timedelta(days=1), interval)
    again = summary_rows(demo, later, service=service, series=True)
    assert {r["environment"] for r in again} == {"production", "staging"}
    assert _comparable(again) == _view_rows(demo, later, service, None)


def test_a_write_of_events_is_in_the_next_report(store: Store) -> None:
    def deployments() -> int:
        window = DoraWindow(datetime.fromisoformat("2024-03-01T00:00:00+00:00"),
                            datetime.fromisoformat("2024-04-01T00:00:00+00:00"), "all")  # fmt: skip
        rows = summary_rows(store, window, service="test_repo", environment="production")
        return sum(r["samples"] for r in rows if r["metric"] == "deployment_frequency")

    def deploy(time: str) -> None:
        doc = {"Repo": "test_repo", "Event": "deploy", "Time": time}
        ingest_events(store, [parse_seed_event(doc, received_at=datetime.now().astimezone())])

    deploy("2024-03-04 12:00:00")
    assert deployments() == 1
    deploy("2024-03-05 12:00:00")
    assert deployments() == 2
    deploy("2024-03-05 12:00:00")  # a replay writes nothing: the same numbers
    assert deployments() == 2
