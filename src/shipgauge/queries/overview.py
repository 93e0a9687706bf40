"""The summary `shipgauge demo` prints: one small query per capability, over models only."""

from __future__ import annotations

from shipgauge.store import QueryResult, Store
from shipgauge.store.views import discover_models

__all__ = ["OVERVIEW_REPORTS", "overview_reports"]

# What the demo shows after loading: one small query per capability, over models only.
# (title, model it reads, SQL)
OVERVIEW_REPORTS: tuple[tuple[str, str, str], ...] = (
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


def overview_reports(store: Store) -> list[tuple[str, QueryResult]]:
    """The overview queries whose model exists in this store, with their rows."""
    models = {m.name for m in discover_models()}
    return [(title, store.query(sql)) for title, model, sql in OVERVIEW_REPORTS if model in models]
