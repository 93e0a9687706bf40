"""CI cost routes: pushes with their cost, and one push with its group, pools and tasks.

Both read the CI cost models (`push_costs`, `push_task_runs`) through `pipelines/ci_cost/report`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from shipgauge.api.deps import SettingsDep, StoreDep, WindowDep, app_store
from shipgauge.api.limits import page_size
from shipgauge.errors import BadRequest
from shipgauge.pipelines.ci_cost import MODES
from shipgauge.queries import ci_cost as report
from shipgauge.queries.time import parse_since

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/ci/costs", tags=["ci-cost"])


def _mode(mode: str) -> str:
    if mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}", field="mode")
    return mode


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    return parse_since(value, name, now=datetime.now(UTC))


@router.get("/pushes", summary="CI cost of each push, newest first")
def pushes(
    request: Request,
    limit: Annotated[int, page_size(1000)],
    repo: str | None = None,
    start: Annotated[str | None, Query(description="ISO date/time: pushed at or after.")] = None,
    end: Annotated[str | None, Query(description="ISO date/time: pushed before.")] = None,
    mode: str = "push",
) -> dict[str, Any]:
    result = report.push_rows(
        app_store(request),
        repo=repo,
        mode=_mode(mode),
        start=_time(start, "start"),
        end=_time(end, "end"),
        limit=limit,
    )
    return {"columns": result.columns, "pushes": result.dicts()}


@router.get(
    "/pushes/{repo:path}/{push_id}",
    summary="One push: its cost, its task group's cost per worker pool, and its tasks",
)
def push(request: Request, repo: str, push_id: int, mode: str = "push") -> dict[str, Any]:
    return report.push_detail(app_store(request), repo.strip("/"), push_id, mode=_mode(mode))


@router.get("/costliest", summary="The costliest pushes of a dashboard window")
def costliest(
    store: StoreDep,
    limit: Annotated[int, page_size(20, least=0)],
    settings: SettingsDep,
    window: WindowDep,
    repo: str | None = None,
) -> dict[str, Any]:
    """Pushes (mode push) pushed in the window, costliest first; a push no cost source prices
    has `total_cost` null and comes after the priced ones, by its `unpriced_seconds`."""
    answer = report.costliest_pushes(
        store, start=window.start, end=window.end, repo=repo, limit=limit
    )
    return {**answer, "start": window.start, "end": window.end, "currency": settings.cost_currency}


@router.get("/runs", summary="Every run of one push's task group, priced")
def runs(
    store: StoreDep, settings: SettingsDep, repo: str, push_id: int, mode: str = "push"
) -> dict[str, Any]:
    """The push page's runs: cost null where no source prices a run (`pricing_method`)."""
    rows = report.push_runs(store, repo, push_id, mode=_mode(mode))
    return {"currency": settings.cost_currency, "runs": rows}
