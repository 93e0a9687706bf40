"""What routes take from the application and the request: the store, the settings and a
dashboard's window, as FastAPI dependencies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from shipgauge.config import Settings
from shipgauge.queries.time import DEFAULT_RANGE, Window, parse_window
from shipgauge.store import Store

__all__ = [
    "SettingsDep",
    "StoreDep",
    "WindowDep",
    "app_settings",
    "app_store",
    "request_window",
]


def app_store(request: Request) -> Store:
    """The store the application opened."""
    store: Store = request.app.state.store
    return store


def app_settings(request: Request) -> Settings:
    """The settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(app_store)]
SettingsDep = Annotated[Settings, Depends(app_settings)]


def request_window(
    range_: Annotated[
        str | None,
        Query(
            alias="range",
            description=f"A window back from now: 7d, 30d, 12w (default {DEFAULT_RANGE})",
        ),
    ] = None,
    start: Annotated[
        str | None, Query(alias="from", description="First day (2024-05-01) or an ISO 8601 time")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="Last day, included, or an ISO 8601 time")
    ] = None,
) -> Window:
    """The window a dashboard page asks for: `from`/`to`, else `range`, as its URL gives them."""
    return parse_window(range_, start, end, now=datetime.now(UTC))


WindowDep = Annotated[Window, Depends(request_window)]
