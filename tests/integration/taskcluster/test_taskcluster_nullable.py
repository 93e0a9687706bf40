"""Worker uptime and costs without a provider or an uptime, as fxci_derived holds them (migration
8), on both engines: a NULL provider is gcp in the models, as upstream's cost query reads it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

import shipgauge.store.store as store_module
from shipgauge.store import Store
from tests.integration.taskcluster.taskcluster_setup import run, task_rows, write_tasks

POOL = "gecko-t/t-linux-large"
PROJECT = "fxci-production-level1-workers"


def _cost(day: str, total: float | None, provider: str | None) -> dict[str, Any]:
    return {
        "cloud_provider": provider, "project": PROJECT, "zone": "us-east1-b",
        "instance_id": "111", "name": "vm-111", "usage_start_date": date.fromisoformat(day),
        "cost": None, "credits": None, "total_cost": total,
    }  # fmt: skip


def _uptime(day: str, uptime: float | None, provider: str | None) -> dict[str, Any]:
    return {
        "project": PROJECT, "zone": "us-east1-b", "instance_id": "111",
        "interval_start_time": datetime.fromisoformat(f"{day}T00:00:00+00:00"),
        "interval_end_time": datetime.fromisoformat(f"{day}T23:59:59+00:00"),
        "uptime": uptime, "cloud_provider": provider,
        "method": "gcp_monitoring_instance_uptime", "submission_date": date.fromisoformat(day),
    }  # fmt: skip


def test_a_null_provider_is_gcp_and_a_null_uptime_counts_nothing(store: Store) -> None:
    write_tasks(
        store, task_rows("T1", POOL, [run(0, "completed", "us-east1-b", "111", "10:00", "10:30")])
    )
    with store.transaction() as tx:
        # worker_costs_v1 before 2026-05 has no provider; worker_metrics_v1 never has one
        tx.upsert("worker_costs", [_cost("2026-05-09", 8.0, None), _cost("2026-05-10", 4.0, "gcp")])
        tx.upsert(
            "worker_metrics",
            [_uptime("2026-05-09", 36000.0, None), _uptime("2026-05-10", None, None)],
        )
    usage = store.query("SELECT cloud_provider, uptime FROM worker_usage ORDER BY uptime").rows
    assert usage == [("gcp", 36000.0), ("gcp", None)]
    row = store.query(
        "SELECT cloud_provider, attribution_worker_cost, attribution_worker_uptime, run_cost"
        " FROM task_run_costs"
    ).rows
    assert row == [("gcp", 12.0, 36000.0, pytest.approx(1800 / 36000 * 12))]


def test_migration_8_keeps_the_rows_of_an_older_store(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = store_module._migrations
    monkeypatch.setattr(store_module, "_migrations", lambda: [m for m in every() if m[0] <= 7])
    with Store.open(store_url) as old:
        assert old.migration_level() == 7
        with old.transaction() as tx:
            tx.upsert(
                "worker_costs", [{**_cost("2026-05-10", 4.0, "gcp"), "cost": 4.0, "credits": 0.0}]
            )
        assert old.count("worker_instance_costs") == 0  # the views read the old table
    monkeypatch.setattr(store_module, "_migrations", every)
    with Store.open(store_url) as new:
        assert new.migration_level() >= 8
        assert new.table("worker_costs").primary_key == (
            "project", "zone", "instance_id", "name", "usage_start_date",
        )  # fmt: skip
        rows = new.query("SELECT cloud_provider, total_cost FROM worker_costs").rows
        assert rows == [("gcp", 4.0)]
        with new.transaction() as tx:  # the same instance-day without a provider is the row
            tx.upsert("worker_costs", [_cost("2026-05-10", 5.0, None)])
        assert new.query("SELECT cloud_provider, total_cost FROM worker_costs").rows == [
            (None, 5.0)
        ]
        assert new.count("task_run_costs") == 0  # the models are there again (PostgreSQL)
