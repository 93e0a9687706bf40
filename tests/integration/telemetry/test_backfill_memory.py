"""The backfill's store settings: a checkpoint every 2 MB of WAL while it runs, reset after."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shipgauge.pipelines.telemetry import TelemetryServices
from shipgauge.store import Store
from tests.conftest import duckdb_setting

# The package exports the function `backfill` under the module's name.
backfill_module = importlib.import_module("shipgauge.pipelines.telemetry.backfill")


def test_the_backfill_checkpoints_every_2_mb_and_resets_even_when_it_fails(
    duckdb_url: str, services: TelemetryServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing_run(*args: Any, **kwargs: Any) -> None:
        seen.append(duckdb_setting(store, "checkpoint_threshold"))
        raise RuntimeError("the run ends")

    monkeypatch.setattr(backfill_module, "run_pings", failing_run)
    with Store.open(duckdb_url) as store:
        assert duckdb_setting(store, "checkpoint_threshold") == "16.0 MiB"  # DuckDB's own
        with pytest.raises(RuntimeError, match="the run ends"):
            backfill_module.backfill(
                store=store,
                services=services,
                repo_url="https://hg.mozilla.org/mozilla-central",
                start_id=0,
                end_id=10,
            )
        assert seen == ["1.9 MiB"]  # DuckDB reads "2MB" as 2,000,000 bytes
        assert duckdb_setting(store, "checkpoint_threshold") == "16.0 MiB"
