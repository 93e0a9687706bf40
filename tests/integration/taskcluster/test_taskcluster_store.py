"""tasks/task_runs writes and the cost models, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shipgauge.store import Store
from tests.integration.taskcluster.taskcluster_setup import (
    DAY,
    run,
    seed_costs,
    task_rows,
    write_tasks,
)


def _state(store: Store) -> str:
    return str(store.query("SELECT state FROM task_runs WHERE task_id = 'T1'").scalar())


POOL = "gecko-t/t-linux-large"
PENDING = run(0, "pending", "g", "w", None, None)
RUNNING = run(0, "running", "g", "w", "10:00", None)
COMPLETED = run(0, "completed", "g", "w", "10:00", "10:30")
EXCEPTION = run(0, "exception", "g", "w", "10:00", "10:31")


def test_upsert_task_run_never_goes_back_across_batches(store: Store) -> None:
    write_tasks(store, task_rows("T1", POOL, [PENDING]))
    write_tasks(store, task_rows("T1", POOL, [RUNNING]))
    assert _state(store) == "running"
    write_tasks(store, task_rows("T1", POOL, [COMPLETED]))
    write_tasks(store, task_rows("T1", POOL, [RUNNING]))  # late
    write_tasks(store, task_rows("T1", POOL, [PENDING]))  # later still
    write_tasks(store, task_rows("T1", POOL, [EXCEPTION]))  # a final state stays final
    assert _state(store) == "completed"
    assert store.query("SELECT resolved FROM task_runs").scalar() == datetime(
        2026, 5, 10, 10, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ((PENDING, RUNNING, COMPLETED), "completed"),
        ((COMPLETED, RUNNING, PENDING), "completed"),
        ((RUNNING, PENDING), "running"),
    ],
)
def test_upsert_task_run_never_goes_back_within_a_batch(
    store: Store, order: tuple[dict[str, Any], ...], expected: str
) -> None:
    write_tasks(store, *(task_rows("T1", POOL, [run]) for run in order))
    assert _state(store) == expected
    assert store.count("task_runs") == 1 and store.count("tasks") == 1


def test_upsert_task_rows_later_tags_fill_an_untagged_task(store: Store) -> None:
    write_tasks(store, task_rows("T1", POOL, [PENDING]))
    tags = {"kind": "build", "trust-domain": "gecko"}
    write_tasks(store, task_rows("T1", POOL, [RUNNING], tags=tags))
    write_tasks(store, task_rows("T1", POOL, [COMPLETED]))  # no tags: keeps them
    row = store.query("SELECT kind, trust_domain, submission_date FROM tasks").rows[0]
    assert row == ("build", "gecko", DAY)


def _rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def test_task_run_costs_hand_computed(store: Store) -> None:
    seed_costs(store)
    rows = _rounded(
        store.query(
            "SELECT task_id, run_id, run_duration, run_cost, attribution_method,"
            " attribution_worker_cost, attribution_worker_uptime, worker_instance_id"
            " FROM task_run_costs ORDER BY task_id, run_id"
        ).rows
    )
    assert rows == [
        # 12 $ (8 + 4, the 100 $ of April is outside the window) over 54,000 s of uptime
        ("T1", 0, 1800, 0.4, "gcp_monitoring_instance_uptime", 12.0, 54000.0, "111"),
        ("T1", 1, 900, 0.2, "gcp_monitoring_instance_uptime", 12.0, 54000.0, "111"),
        # uptime 3,000 s < 3,600 s run: worker-type rate of its own provisioner, 0.5 $/h
        ("T2", 0, 3600, 0.5, "worker_type_hourly_rate", None, None, None),
        # nearest month: June (22 days) over March (70 days), 4 $/h for 20 min
        ("T3", 0, 1200, round(4 / 3, 6), "worker_type_hourly_rate", None, None, None),
        ("T4", 0, None, None, "unfinished", None, None, None),
        ("T5", 0, 600, None, "unpriced", None, None, None),
    ]


def test_cost_models_aggregate_task_run_costs(store: Store) -> None:
    seed_costs(store)
    by_pool = _rounded(
        store.query(
            "SELECT worker_pool, runs, priced_runs, cost, fallback_cost"
            " FROM cost_by_worker_pool ORDER BY worker_pool"
        ).rows
    )
    assert by_pool == [
        ("gecko-t/t-linux-large", 2, 2, 0.6, 0.0),  # T4 is unfinished: no day
        ("gecko-t/t-linux-xlarge", 1, 1, 0.5, 0.5),
        ("proj-x/unknown", 1, 0, None, None),  # no source prices it: unknown, not free
        ("releng-hardware/gecko-t-osx-1014", 1, 1, round(4 / 3, 6), round(4 / 3, 6)),
    ]
    day = _rounded(
        store.query(
            "SELECT day, tasks, runs, priced_runs, run_seconds, cost FROM task_costs_by_day"
        ).rows
    )
    assert day == [(date(2026, 5, 10), 4, 5, 4, 8100, round(1.1 + 4 / 3, 6))]
    project = store.query("SELECT project, runs FROM cost_by_project").rows
    assert project == [("none", 5)]
    task = _rounded(
        store.query(
            "SELECT runs, priced_runs, unpriced_runs, total_cost FROM task_costs"
            " WHERE task_id = 'T1'"
        ).rows
    )
    assert task == [(2, 2, 0, 0.6)]


def _run_on(run_id: int, end: str) -> dict[str, Any]:
    """A completed 30-minute run resolved at `end` (ISO, UTC)."""
    resolved = datetime.fromisoformat(end)
    started = resolved - timedelta(minutes=30)
    done = run(run_id, "completed", "mdc1", "t-mac-1", None, None)
    done.update(started=started.isoformat(), resolved=resolved.isoformat())
    return done


def test_task_run_costs_take_the_runs_own_month_else_the_nearest(store: Store) -> None:
    pool = "releng-hardware/gecko-t-osx"
    write_tasks(
        store,
        task_rows("A", pool, [_run_on(0, "2026-05-31T23:40:00+00:00")]),  # last day of May
        task_rows("B", pool, [_run_on(0, "2026-03-10T12:40:00+00:00")]),  # January and May: tie
        task_rows("C", pool, [_run_on(0, "2026-02-27T12:40:00+00:00")]),  # January is nearest
        task_rows("D", pool, [_run_on(0, "2026-08-02T12:40:00+00:00")]),  # after the last month
    )
    rates = [("2026-01-01", 40.0), ("2026-05-01", 10.0), ("2026-06-01", 20.0)]
    with store.transaction() as tx:
        tx.upsert("worker_type_costs", [
            {"provider": "hw", "provisioner": "releng-hardware", "worker_type": "gecko-t-osx",
             "month": date.fromisoformat(m), "usage_hours": 1.0, "cost": c, "modified": None}
            for m, c in rates
        ])  # fmt: skip
    rows = store.query(
        "SELECT task_id, rate_month, attribution_hourly_rate, run_cost FROM task_run_costs"
        " ORDER BY task_id"
    ).rows
    assert rows == [
        ("A", date(2026, 5, 1), 10.0, 5.0),  # its own month, not June one day away
        ("B", date(2026, 5, 1), 10.0, 5.0),  # two months either way: the later month
        ("C", date(2026, 1, 1), 40.0, 20.0),
        ("D", date(2026, 6, 1), 20.0, 10.0),
    ]
    rates_by_month = store.query(
        "SELECT month, rate_month FROM worker_type_rates WHERE month IN (?, ?) ORDER BY month",
        [date(2026, 4, 1), date(2026, 7, 1)],
    ).rows
    assert rates_by_month == [
        (date(2026, 4, 1), date(2026, 5, 1)),
        (date(2026, 7, 1), date(2026, 6, 1)),
    ]
