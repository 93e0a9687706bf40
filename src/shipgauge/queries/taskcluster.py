"""Reading the Taskcluster models: one task with its runs, CI cost grouped, the totals."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from shipgauge.errors import BadRequest, NotFound
from shipgauge.store import QueryResult, Store

__all__ = ["CostGrouping", "ci_costs", "task_with_runs", "totals"]

CostGrouping = Literal["day", "worker_pool", "project"]

# grouping → (model, grouping column); the day model already has one row per day.
_COST_MODELS: dict[str, tuple[str, str]] = {
    "day": ("task_costs_by_day", "day"),
    "worker_pool": ("cost_by_worker_pool", "worker_pool"),
    "project": ("cost_by_project", "project"),
}


def task_with_runs(store: Store, task_id: str) -> dict[str, Any]:
    """`{task, runs}`: the task_costs row and its task_run_costs rows, by run_id."""
    found = store.query("SELECT * FROM task_costs WHERE task_id = ?", [task_id]).dicts()
    if not found:
        raise NotFound(f"no task {task_id}", field="task_id")
    runs = store.query(
        "SELECT * FROM task_run_costs WHERE task_id = ? ORDER BY run_id", [task_id]
    ).dicts()
    row = found[0]
    if isinstance(row["tags"], str):  # DuckDB returns JSON as text, PostgreSQL decoded
        row["tags"] = json.loads(row["tags"])
    return {"task": row, "runs": runs}


def ci_costs(
    store: Store, group_by: CostGrouping, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """Rows of `{<group>, runs, priced_runs, run_seconds, cost, fallback_cost, unpriced_runs,
    unpriced_seconds}`, largest cost first (by day: in day order), for run days in
    [start, end). A group no run of which is priced has a NULL cost, never 0."""
    if start and end and start >= end:
        raise BadRequest("start must be before end", field="start")
    model, column = _COST_MODELS[group_by]
    where = "day >= coalesce(?, day) AND day < coalesce(?, day + 1)"
    order = "day" if group_by == "day" else f"cost DESC NULLS LAST, {column}"
    sql = f"SELECT {column}, {_MEASURES} FROM {model} WHERE {where} GROUP BY {column}"
    return store.query(f"{sql} ORDER BY {order}", [start, end]).dicts()


# Counts stay integers on PostgreSQL too, where sum(bigint) is numeric; the sum of NULL costs
# (no priced run) stays NULL.
_MEASURES = ", ".join(
    [
        f"CAST(sum({c}) AS BIGINT) AS {c}"
        for c in ("runs", "priced_runs", "run_seconds", "unpriced_runs", "unpriced_seconds")
    ]
    + [f"sum({c}) AS {c}" for c in ("cost", "fallback_cost")]
)


def totals(store: Store) -> tuple[dict[str, Any], QueryResult]:
    """Task and run counts with their cost (NULL when no run is priced) and the run seconds no
    source prices, and the same by worker pool over all days."""
    counts = store.query(
        "SELECT count(*) AS tasks, coalesce(sum(runs), 0) AS runs, sum(total_cost) AS cost"
        " FROM task_costs"
    ).dicts()[0]
    counts["unpriced_seconds"] = store.query(
        "SELECT CAST(coalesce(sum(unpriced_seconds), 0) AS BIGINT) FROM cost_by_worker_pool"
    ).scalar()
    pools = store.query(
        "SELECT worker_pool, CAST(sum(runs) AS BIGINT) AS runs,"
        " CAST(sum(priced_runs) AS BIGINT) AS priced_runs, sum(cost) AS cost,"
        " sum(fallback_cost) AS fallback_cost,"
        " CAST(sum(unpriced_seconds) AS BIGINT) AS unpriced_seconds"
        " FROM cost_by_worker_pool GROUP BY worker_pool"
        " ORDER BY cost DESC NULLS LAST, worker_pool"
    )
    return counts, pools
