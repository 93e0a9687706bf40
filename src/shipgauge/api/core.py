"""Routes every deployment has: health, dead letters and the overview of every capability."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from shipgauge.api.auth import require_scope
from shipgauge.api.deps import SettingsDep, StoreDep, WindowDep, app_store
from shipgauge.api.limits import page_size
from shipgauge.errors import StoreError
from shipgauge.pipelines.dead_letters import retry_dead_letters
from shipgauge.queries.overview import capability_cards
from shipgauge.store.dead_letters import get_dead_letter, list_dead_letters
from shipgauge.store.tokens import ApiToken

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")


@router.get("/health", summary="Store reachable and migration level")
def health(request: Request) -> dict[str, Any]:
    store = app_store(request)
    try:
        level = store.migration_level()
    except Exception as exc:  # health must report, not crash
        raise StoreError(f"store unreachable: {str(exc).splitlines()[0]}") from None
    return {"status": "ok", "engine": store.engine.name, "migration_level": level}


@router.get("/dead-letters", summary="Input that could not be parsed, newest first")
def dead_letters(
    request: Request,
    limit: Annotated[int, page_size(100)],
    _: Annotated[ApiToken, Depends(require_scope("admin"))],
    source: str | None = None,
) -> list[dict[str, Any]]:
    return [d.summary() for d in list_dead_letters(app_store(request), source=source, limit=limit)]


@router.post("/dead-letters/{letter_id}/retry", summary="Replay one dead letter")
def retry(
    request: Request,
    letter_id: int,
    _: Annotated[ApiToken, Depends(require_scope("admin"))],
) -> dict[str, Any]:
    store = app_store(request)
    result = retry_dead_letters(store, [get_dead_letter(store, letter_id)])
    return {"ingested": result.ingested, "failed": result.failed}


@router.get("/overview", summary="A card per capability: last ingest, dead letters, headline")
def overview(store: StoreDep, settings: SettingsDep, window: WindowDep) -> dict[str, Any]:
    """The dashboard's first page: for each capability, when its sources last ingested, how
    many dead letters they left, and one number over the window (with its unit)."""
    return {
        "start": window.start,
        "end": window.end,
        "currency": settings.cost_currency,
        "cards": capability_cards(store, window),
    }
