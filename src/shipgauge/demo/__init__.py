"""`shipgauge demo`: load the bundled sample data of every capability into the store."""

from __future__ import annotations

from collections.abc import Callable

from shipgauge.demo import builds, ci_cost, delivery, taskcluster, telemetry
from shipgauge.store import QueryResult, Store
from shipgauge.store.views import discover_models

__all__ = ["DEMO_REPORTS", "demo_reports", "run_demo"]

# What the demo shows after loading: one small query per capability, over models only.
# (title, model it reads, SQL)
DEMO_REPORTS: tuple[tuple[str, str, str], ...] = (
    (
        "CI cost by worker pool (task runs from Pulse)",
        "cost_by_worker_pool",
        "SELECT worker_pool, sum(runs) AS runs, round(sum(run_seconds) / 3600, 2) AS hours,"
        " round(sum(cost), 4) AS cost FROM cost_by_worker_pool GROUP BY worker_pool"
        " ORDER BY cost DESC LIMIT 8",
    ),
    (
        "CI cost per push, with the pricing method",
        "push_costs",
        "SELECT repo, push_id, tasks, runs, round(total_cost, 6) AS total_cost,"
        " round(ideal_cost, 6) AS ideal_cost, pricing_methods FROM push_costs ORDER BY push_id",
    ),
    (
        "Review systems of the pushed changesets",
        "review_systems_by_week",
        "SELECT repo, review_system, sum(changesets) AS changesets FROM review_systems_by_week"
        " GROUP BY repo, review_system ORDER BY changesets DESC",
    ),
    (
        "Latest builds",
        "builds_latest",
        "SELECT product, channel, platform, locale, version, build_id FROM builds_latest"
        " ORDER BY build_date DESC LIMIT 8",
    ),
    (
        "DORA, production, last 90 days",
        "dora_summary",
        "SELECT service, metric, round(value, 2) AS value, tier, round(score, 1) AS score"
        " FROM dora_summary"
        " WHERE environment = 'production' AND metric IN ('deployment_frequency',"
        " 'change_lead_time', 'change_fail_rate', 'failed_deployment_recovery_time',"
        " 'deployment_rework_rate', 'quick_check_overall') ORDER BY service, metric",
    ),
)


DemoLoader = Callable[[Store], None]

# Each capability's part of the demo, in the order they load (each idempotent): telemetry and
# CI cost share the pushlog; CI cost prices runs with the costs the Taskcluster part loads.
DEMO_LOADERS: tuple[tuple[str, DemoLoader], ...] = (
    ("telemetry", telemetry.load_demo),
    ("builds", builds.load_demo),
    ("delivery", delivery.load_demo),
    ("taskcluster", taskcluster.load_demo),
    ("ci_cost", ci_cost.load_demo),
)


def run_demo(store: Store) -> dict[str, int]:
    """Load every capability's sample through the real pipelines; return every table's row count.

    The samples live in `shipgauge/demo_data/<capability>/`.
    """
    for _, load_demo in DEMO_LOADERS:
        load_demo(store)
    return {t.name: store.count(t.name) for t in store.tables()}


def demo_reports(store: Store) -> list[tuple[str, QueryResult]]:
    """The demo's report queries whose model exists in this store, with their rows."""
    models = {m.name for m in discover_models()}
    return [(title, store.query(sql)) for title, model, sql in DEMO_REPORTS if model in models]
