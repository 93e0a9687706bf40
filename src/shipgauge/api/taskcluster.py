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
from shipgauge.api.deps import StoreDep
from shipgauge.pipelines.taskcluster import listen_pulse, pulse_consumer
from shipgauge.queries.taskcluster import CostGrouping, task_with_runs
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
