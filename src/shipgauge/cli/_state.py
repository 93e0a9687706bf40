"""What every command shares: settings built once, and the store opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import typer

from shipgauge.config import Settings, load_settings
from shipgauge.store import Store

__all__ = ["CliState", "state"]


@dataclass
class CliState:
    overrides: dict[str, Any]
    _settings: Settings | None = None
    _store: Store | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.db, wait_s=self.settings.db_wait_s)
        return self._store


def state(ctx: typer.Context) -> CliState:
    """The CliState of the root command."""
    root = ctx.find_root()
    obj = root.obj
    assert isinstance(obj, CliState)
    return obj
