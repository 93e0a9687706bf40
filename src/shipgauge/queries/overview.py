"""The summary `shipgauge demo` prints: one small query per capability, over models only.

Values come back as the models hold them (seconds, ratios, costs), never rounded in SQL: each
report names the unit of its columns, and the interface formats them (`4.1 d`, `33%`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shipgauge.store import QueryResult, Store
from shipgauge.store.views import discover_models

__all__ = ["OVERVIEW_REPORTS", "OverviewReport", "overview_reports"]

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
