"""Taskcluster routes: one task with its runs and cost, CI cost grouped by day, pool or project.

Both read models only (`task_costs`, `task_run_costs`, `task_costs_by_day`,
`cost_by_worker_pool`, `cost_by_project`). With `taskcluster_listen` on, `shipgauge serve` also
runs the Pulse consumer (`taskcluster listen`) in a background thread.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request

from shipgauge.api._background import background_worker
from shipgauge.errors import BadRequest, NotFound
from shipgauge.pipelines.taskcluster import listen_pulse, pulse_consumer
from shipgauge.store import Store

__all__ = ["router"]

# group_by → (model, grouping column); the day model already has one row per day.
_COST_MODELS = {
    "day": ("task_costs_by_day", "day"),
    "worker_pool": ("cost_by_worker_pool", "worker_pool"),
    "project": ("cost_by_project", "project"),
}


def _listen(app: FastAPI, stop: threading.Event) -> None:
    consumer = pulse_consumer(app.state.settings)
    listen_pulse(store=app.state.store, consumer=consumer, stop=stop)


_lifespan = background_worker(
    name="taskcluster-listen", enabled=lambda s: s.taskcluster_listen, run=_listen
)


router = APIRouter(prefix="/api/v1", tags=["taskcluster"], lifespan=_lifespan)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("/taskcluster/tasks/{task_id}", summary="One task, its runs and what they cost")
def task(request: Request, task_id: str) -> dict[str, Any]:
    """`{task, runs}`: the task_costs row and its task_run_costs rows, by run_id."""
    store = _store(request)
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


@router.get("/ci/costs", summary="CI cost by day, worker pool or project")
def ci_costs(
    request: Request,
    group_by: Annotated[Literal["day", "worker_pool", "project"], Query()] = "day",
    start: Annotated[date | None, Query(description="First run day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="Last run day (exclusive)")] = None,
) -> dict[str, Any]:
    """Rows of `{<group>, runs, priced_runs, run_seconds, cost, fallback_cost}`, largest first
    (by day: in day order). `fallback_cost` is the part priced by worker-type hourly rate."""
    if start and end and start >= end:
        raise BadRequest("start must be before end", field="start")
    model, column = _COST_MODELS[group_by]
    where = "day >= coalesce(?, day) AND day < coalesce(?, day + 1)"
    # Counts stay integers on PostgreSQL too, where sum(bigint) is numeric.
    measures = ", ".join(
        [f"CAST(sum({c}) AS BIGINT) AS {c}" for c in ("runs", "priced_runs", "run_seconds")]
        + [f"sum({c}) AS {c}" for c in ("cost", "fallback_cost")]
    )
    order = "day" if group_by == "day" else f"cost DESC, {column}"
    sql = f"SELECT {column}, {measures} FROM {model} WHERE {where} GROUP BY {column}"
    rows = _store(request).query(f"{sql} ORDER BY {order}", [start, end])
    return {"group_by": group_by, "start": start, "end": end, "rows": rows.dicts()}
