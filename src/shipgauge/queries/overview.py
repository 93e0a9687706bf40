"""The summary `shipgauge demo` prints: one small query per capability, over models only.

Values come back as the models hold them (seconds, ratios, costs), never rounded in SQL: each
report names the unit of its columns, and the interface formats them (`4.1 d`, `33%`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipgauge.queries.ci_cost import costliest_pushes, push_list
from shipgauge.queries.taskcluster import cost_series
from shipgauge.queries.telemetry import REVIEWED
from shipgauge.queries.time import Window
from shipgauge.store import QueryResult, Store
from shipgauge.store.views import discover_models

__all__ = [
    "CARDS",
    "OVERVIEW_REPORTS",
    "Card",
    "OverviewReport",
    "capability_cards",
    "overview_reports",
]

# The units a column may be given: seconds (a duration), ratio (a share of 1), cost (the
# billing's currency), per_week (a rate), score (Quick Check, 0-10). `<column>_tier` beside a
# column is that value's benchmark tier.
UNITS = ("seconds", "ratio", "cost", "per_week", "score")


@dataclass(frozen=True)
class OverviewReport:
    """One table of the summary: what it shows, where its rows come from, how to read them."""

    title: str
    source: str
    model: str
    sql: str
    units: Mapping[str, str] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return f"{self.title}, from {self.source}"


def _dora_pivot() -> str:
    metrics = {
        "deployment_frequency": "deploys_per_week",
        "change_lead_time": "lead_time",
        "change_fail_rate": "change_fail",
        "failed_deployment_recovery_time": "recovery",
        "deployment_rework_rate": "rework",
    }
    columns = []
    for metric, name in metrics.items():
        scale = " * 7" if metric == "deployment_frequency" else ""
        columns.append(f"max(CASE WHEN metric = '{metric}' THEN value END){scale} AS {name}")
        columns.append(f"max(CASE WHEN metric = '{metric}' THEN tier END) AS {name}_tier")
    columns.append("max(CASE WHEN metric = 'quick_check_overall' THEN value END) AS score")
    return (
        f"SELECT service, {', '.join(columns)} FROM dora_summary"
        " WHERE environment = 'production' GROUP BY service ORDER BY service"
    )


OVERVIEW_REPORTS: tuple[OverviewReport, ...] = (
    OverviewReport(
        "CI cost by worker pool",
        "Pulse task runs (taskcluster)",
        "cost_by_worker_pool",
        "SELECT worker_pool, sum(runs) AS runs, sum(run_seconds) AS run_time, sum(cost) AS cost"
        " FROM cost_by_worker_pool GROUP BY worker_pool ORDER BY cost DESC, worker_pool LIMIT 8",
        {"run_time": "seconds", "cost": "cost"},
    ),
    OverviewReport(
        "CI cost by worker pool",
        "the CI-cost scan of pushes (ci_cost)",
        "cost_by_worker_pool_month",
        "SELECT worker_pool, sum(runs) AS runs, sum(run_seconds) AS run_time,"
        " sum(total_cost) AS cost, sum(unpriced_runs) AS unpriced_runs"
        " FROM cost_by_worker_pool_month GROUP BY worker_pool"
        " ORDER BY cost DESC NULLS LAST, worker_pool LIMIT 8",
        {"run_time": "seconds", "cost": "cost"},
    ),
    OverviewReport(
        "CI cost per push, with the pricing method",
        "the CI-cost scan of pushes (ci_cost)",
        "push_costs",
        "SELECT repo, push_id, tasks, runs, total_cost, ideal_cost, pricing_methods"
        " FROM push_costs ORDER BY push_id",
        {"total_cost": "cost", "ideal_cost": "cost"},
    ),
    OverviewReport(
        "Review systems of the pushed changesets",
        "hg pushes and Bugzilla (telemetry)",
        "review_systems_by_week",
        "SELECT repo, review_system, sum(changesets) AS changesets FROM review_systems_by_week"
        " GROUP BY repo, review_system ORDER BY changesets DESC, review_system",
    ),
    OverviewReport(
        "Latest builds",
        "S3 inventories, S3 events and the archive (builds)",
        "builds_latest",
        "SELECT product, channel, platform, locale, version, build_id FROM builds_latest"
        " ORDER BY build_date DESC, product, channel, platform LIMIT 8",
    ),
    OverviewReport(
        "Recorded demo times moved into the present (whole weeks; relations within each kept)",
        "the demo's recordings",
        "ingest_status",
        "SELECT substr(source, 12) AS recording, CAST(position AS INTEGER) AS moved_days,"
        " CAST(floor(CAST(position AS DOUBLE) / 7) AS INTEGER) AS moved_weeks FROM ingest_status"
        " WHERE source LIKE 'demo.moved:%' ORDER BY recording",
    ),
    OverviewReport(
        "DORA, production, last 90 days",
        "delivery events (delivery)",
        "dora_summary",
        _dora_pivot(),
        {
            "deploys_per_week": "per_week",
            "lead_time": "seconds",
            "change_fail": "ratio",
            "recovery": "seconds",
            "rework": "ratio",
            "score": "score",
        },
    ),
)


def overview_reports(store: Store) -> list[tuple[OverviewReport, QueryResult]]:
    """The overview queries whose model exists in this store, with their rows."""
    models = {m.name for m in discover_models()}
    return [(r, store.query(r.sql)) for r in OVERVIEW_REPORTS if r.model in models]


# The dashboard's overview: a card per capability ---------------------------------------------


@dataclass(frozen=True)
class Card:
    """A capability as the overview shows it: its page and the ingest sources it owns."""

    capability: str
    title: str
    page: str
    sources: tuple[str, ...]  # source-name prefixes in ingest_status


CARDS: tuple[Card, ...] = (
    Card("delivery", "DORA metrics", "/dora", ("delivery.",)),
    Card("ci_cost", "CI cost of pushes", "/ci-cost", ("ci_cost.",)),
    Card("taskcluster", "Task run costs", "/ci-cost", ("taskcluster.",)),
    Card("telemetry", "Review systems", "/reviews", ("telemetry.", "hg:", "hg.")),
    Card("builds", "Build catalog", "/builds", ("buildhub.",)),
)


def _headline(store: Store, capability: str, window: Window) -> dict[str, Any]:
    """The one number a card shows for `window`, with its unit, a count for context, and the
    time of the newest row the capability holds (whatever the window)."""
    if capability == "ci_cost":
        pushes = costliest_pushes(store, start=window.start, end=window.end, limit=0)
        newest = max((p["pushed_at"] for p in push_list(store).value), default=None)
        return {"value": pushes["total_cost"], "unit": "currency", "count": pushes["total"],
                "count_unit": "pushes", "unpriced_seconds": pushes["unpriced_seconds"],
                "newest": newest}  # fmt: skip
    if capability == "taskcluster":
        answer = cost_series(store, window, top=0)
        runs = answer["totals"]
        return {"value": runs["cost"], "unit": "currency", "count": runs["runs"],
                "count_unit": "runs", "unpriced_seconds": runs["unpriced_seconds"],
                "newest": answer["newest_day"]}  # fmt: skip
    sql, unit, count_unit = _HEADLINES[capability]
    value, count, newest = store.query(sql, [window.start, window.end]).rows[0]
    return {"value": value, "unit": unit, "count": count, "count_unit": count_unit,
            "newest": newest}  # fmt: skip


# capability → (SQL over [start, end) giving (value, count, newest row), value unit, count unit)
_HEADLINES: dict[str, tuple[str, str, str]] = {
    "delivery": (
        "SELECT count(*) FILTER (WHERE result = 'success'), count(DISTINCT service),"
        " (SELECT max(deployed_at) FROM dora_deployments) FROM dora_deployments"
        " WHERE environment = 'production' AND deployed_at >= ? AND deployed_at < ?",
        "deployments",
        "services",
    ),
    "telemetry": (
        "SELECT CAST(sum(changesets) FILTER (WHERE review_system IN"
        f" ({', '.join(repr(s) for s in REVIEWED)})) AS DOUBLE) / nullif(sum(changesets), 0),"
        " CAST(coalesce(sum(changesets), 0) AS BIGINT),"
        " (SELECT max(push_day) FROM review_systems_by_day) FROM review_systems_by_day"
        " WHERE push_day >= CAST(? AS DATE) AND push_day < CAST(? AS DATE)",
        "ratio",
        "changesets",
    ),
    "builds": (
        "SELECT count(*), count(DISTINCT product), (SELECT max(download_date) FROM build_records)"
        " FROM build_records WHERE download_date >= ? AND download_date < ?",
        "builds",
        "products",
    ),
}


def capability_cards(store: Store, window: Window) -> list[dict[str, Any]]:
    """A card per capability: its last ingest, its dead letters and its headline number."""
    status = store.query("SELECT source, updated_at, dead_letters FROM ingest_status").rows
    cards = []
    for card in CARDS:
        mine = [row for row in status if row[0].startswith(card.sources)]
        times = [updated for _, updated, _ in mine if updated is not None]
        cards.append(
            {
                "capability": card.capability,
                "title": card.title,
                "page": card.page,
                "last_ingest": max(times) if times else None,
                "sources": sorted(source for source, _, _ in mine),
                "dead_letters": sum(int(letters or 0) for _, _, letters in mine),
                "headline": _headline(store, card.capability, window),
            }
        )
    return cards
