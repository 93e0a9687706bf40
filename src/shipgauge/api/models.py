"""Read access to every SQL model: what the dashboard draws and what scripts can pull as JSON.

`GET /api/v1/models` lists the models and their columns; `GET /api/v1/models/{name}` returns rows,
filtered by `?column=value` pairs and ordered by `order_by` (`-column` for descending).
Only models are reachable here, never raw tables (`queries.models`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from shipgauge.api.deps import StoreDep
from shipgauge.api.limits import page_size
from shipgauge.queries.models import list_models, model_rows

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/models", tags=["models"])
_RESERVED = {"limit", "order_by"}


@router.get("", summary="Every model with its columns")
def models(store: StoreDep) -> list[dict[str, Any]]:
    return list_models(store)


@router.get("/{model}", summary="Rows of one model, filtered by ?column=value")
def rows(
    request: Request,
    limit: Annotated[int, page_size(1000)],
    store: StoreDep,
    model: str,
    order_by: str | None = None,
) -> dict[str, Any]:
    filters = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    result = model_rows(store, model, filters, order_by=order_by, limit=limit)
    return {"model": model, "columns": result.columns, "rows": result.dicts()}
