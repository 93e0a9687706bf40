"""The backfill's store settings: a checkpoint every 2 MB of WAL while it runs, reset after."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shipgauge.pipelines.telemetry import TelemetryServices
from shipgauge.store import Store

# The package exports the function `backfill` under the module's name.
backfill_module = importlib.import_module("shipgauge.pipelines.telemetry.backfill")


def _checkpoint_threshold(store: Store) -> str:
    value: str = store.query("SELECT current_setting('checkpoint_threshold')").scalar()
    return value


def test_the_backfill_checkpoints_every_2_mb_and_resets_even_when_it_fails(
    duckdb_url: str, services: TelemetryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing_run(*args: Any, **kwargs: Any) -> None:
        seen.append(_checkpoint_threshold(store))
        raise RuntimeError("the run ends")

    monkeypatch.setattr(backfill_module, "run_pings", failing_run)
    with Store.open(duckdb_url) as store:
        assert _checkpoint_threshold(store) == "16.0 MiB"  # DuckDB's own
        with pytest.raises(RuntimeError, match="the run ends"):
            backfill_module.backfill(
                store=store,
                services=services,
                repo_url="https://hg.mozilla.org/mozilla-central",
                start_id=0,
                end_id=10,
            )
        assert seen == ["1.9 MiB"]  # DuckDB reads "2MB" as 2,000,000 bytes
        assert _checkpoint_threshold(store) == "16.0 MiB"
