"""Taskcluster routes: one task with its runs and cost, CI cost grouped by day, pool or project.

Both read models only, through `queries.taskcluster`. With `taskcluster_listen` on,
`shipgauge serve` also runs the Pulse consumer (`taskcluster listen`) in a background thread.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query

from shipgauge.api._background import background_worker
from shipgauge.api.deps import SettingsDep, StoreDep, WindowDep
from shipgauge.pipelines.taskcluster import listen_pulse, pulse_consumer
from shipgauge.queries.taskcluster import GROUPINGS, CostGrouping, cost_series, task_with_runs
from shipgauge.queries.taskcluster import ci_costs as cost_rows

__all__ = ["router"]


def _listen(app: FastAPI, stop: threading.Event) -> None:
    consumer = pulse_consumer(app.state.settings)
    listen_pulse(store=app.state.store, consumer=consumer, stop=stop)


_lifespan = background_worker(
    name="taskcluster-listen", enabled=lambda s: s.taskcluster_listen, run=_listen
)


router = APIRouter(prefix="/api/v1", tags=["taskcluster"], lifespan=_lifespan)


@router.get("/taskcluster/tasks/{task_id}", summary="One task, its runs and what they cost")
def task(store: StoreDep, task_id: str) -> dict[str, Any]:
    """`{task, runs}`: the task_costs row and its task_run_costs rows, by run_id."""
    return task_with_runs(store, task_id)


@router.get("/ci/costs", summary="CI cost by day, worker pool or project")
def ci_costs(
    store: StoreDep,
    group_by: Annotated[CostGrouping, Query()] = "day",
    start: Annotated[date | None, Query(description="First run day (inclusive)")] = None,
    end: Annotated[date | None, Query(description="Last run day (exclusive)")] = None,
) -> dict[str, Any]:
    """Rows of `{<group>, runs, priced_runs, run_seconds, cost, fallback_cost}`, largest first
    (by day: in day order). `fallback_cost` is the part priced by worker-type hourly rate."""
    rows = cost_rows(store, group_by, start, end)
    return {"group_by": group_by, "start": start, "end": end, "rows": rows}


@router.get("/ci/costs/series", summary="Task-run cost per day, stacked by worker pool or project")
def series(
    store: StoreDep,
    settings: SettingsDep,
    window: WindowDep,
    by: Annotated[str, Query(description=f"One of {', '.join(GROUPINGS)}")] = "pool",
    pool: Annotated[str | None, Query(description="Only this worker pool")] = None,
    project: Annotated[str | None, Query(description="Only this project")] = None,
    top: Annotated[int, Query(ge=0, le=50, description="Groups drawn; the rest as one")] = 10,
) -> dict[str, Any]:
    """The dashboard's CI cost chart and tables, from `cost_by_pool_project_day` (kept up to two
    minutes, `computed_at` says when). A cost is null where no run is priced: `unpriced_seconds`
    is that run time; `instance_cost` and `rate_cost` say which source priced the rest."""
    answer = cost_series(store, window, by=by, pool=pool, project=project, top=top)
    return {**answer, "currency": settings.cost_currency}
