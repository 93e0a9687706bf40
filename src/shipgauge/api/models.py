"""Read access to every SQL model: what the dashboard draws and what scripts can pull as JSON.

`GET /api/v1/models` lists the models and their columns; `GET /api/v1/models/{name}` returns rows,
filtered by `?column=value` pairs and ordered by `order_by` (`-column` for descending).
Only models are reachable here, never raw tables (DESIGN.md: interfaces read models).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from shipgauge.errors import BadRequest, NotFound
from shipgauge.store import Store
from shipgauge.store._sql import quote_ident
from shipgauge.store.views import discover_models

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/models", tags=["models"])
_RESERVED = {"limit", "order_by"}


def _columns(store: Store, model: str) -> list[str]:
    if model not in {m.name for m in discover_models()}:
        raise NotFound(f"no model named '{model}'", field="model")
    return store.query(f"SELECT * FROM {quote_ident(model)} LIMIT 0").columns


@router.get("", summary="Every model with its columns")
def list_models(request: Request) -> list[dict[str, Any]]:
    store: Store = request.app.state.store
    return [
        {"name": m.name, "columns": _columns(store, m.name), "description": m.description}
        for m in discover_models()
    ]


@router.get("/{model}", summary="Rows of one model, filtered by ?column=value")
def model_rows(
    request: Request,
    model: str,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
    order_by: str | None = None,
) -> dict[str, Any]:
    store: Store = request.app.state.store
    columns = _columns(store, model)
    filters = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    for name in [*filters, (order_by or "").lstrip("-")]:
        if name and name not in columns:
            raise BadRequest(f"model {model} has no column '{name}'", field=name)
    where = " AND ".join(f"CAST({quote_ident(k)} AS VARCHAR) = ?" for k in filters) or "TRUE"
    order = ""
    if order_by:
        direction = "DESC" if order_by.startswith("-") else "ASC"
        order = f" ORDER BY {quote_ident(order_by.lstrip('-'))} {direction} NULLS LAST"
    result = store.query(
        f"SELECT * FROM {quote_ident(model)} WHERE {where}{order} LIMIT ?",
        [*filters.values(), limit],
    )
    return {"model": model, "columns": result.columns, "rows": result.dicts()}
