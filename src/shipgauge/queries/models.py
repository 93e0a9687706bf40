"""Any model by name: its columns, and its rows filtered by column values.

Only models are reachable here, never raw tables: interfaces read models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipgauge.errors import BadRequest, NotFound
from shipgauge.store import QueryResult, Store
from shipgauge.store._sql import quote_ident
from shipgauge.store.views import discover_models

__all__ = ["list_models", "model_columns", "model_rows"]


def model_columns(store: Store, model: str) -> list[str]:
    """The columns of `model`; NotFound when no model has that name."""
    if model not in {m.name for m in discover_models()}:
        raise NotFound(f"no model named '{model}'", field="model")
    return store.query(f"SELECT * FROM {quote_ident(model)} LIMIT 0").columns


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every model with its columns and description."""
    return [
        {"name": m.name, "columns": model_columns(store, m.name), "description": m.description}
        for m in discover_models()
    ]


def model_rows(
    store: Store,
    model: str,
    filters: Mapping[str, str],
    *,
    order_by: str | None,
    limit: int,
) -> QueryResult:
    """Rows whose columns equal `filters` (compared as text), ordered by `order_by`
    (`-column` for descending), at most `limit`."""
    columns = model_columns(store, model)
    for name in filters:
        if name not in columns:
            raise BadRequest(f"model {model} has no column '{name}'", field=name or "filter")
    order = ""
    if order_by is not None:
        column = order_by.removeprefix("-")
        if column not in columns:
            raise BadRequest(f"model {model} has no column '{column}'", field="order_by")
        direction = "DESC" if order_by.startswith("-") else "ASC"
        order = f" ORDER BY {quote_ident(column)} {direction} NULLS LAST"
    where = " AND ".join(f"CAST({quote_ident(k)} AS VARCHAR) = ?" for k in filters) or "TRUE"
    return store.query(
        f"SELECT * FROM {quote_ident(model)} WHERE {where}{order} LIMIT ?",
        [*filters.values(), limit],
    )
