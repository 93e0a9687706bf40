"""What routes take from the application: the store and the settings, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipgauge.config import Settings
from shipgauge.store import Store

__all__ = ["SettingsDep", "StoreDep", "app_settings", "app_store"]


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
