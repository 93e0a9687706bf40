"""`push_costs` over 2,000,000 task runs (10,000 pushes x 200 tasks) on DuckDB.

Target (issue 8): the whole model (every column of every push) computed in < 1 s. Rows are
bulk-loaded straight into the tables; 20 worker pools, 12 months of hourly rates, the last pool
unpriced, a tenth of the runs failed, one task in twenty retried once (an exception, then a
completed run) and one in twenty never scheduled, so that there are 2,000,000 runs. Each query
runs three times and the best is printed, with the CPU seconds the process spent on it (the
machine is shared: CPU / 2 is what two idle cores would take). The time of `task_run_costs`
alone (the Taskcluster ETL's pricing of every run) is printed too.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, timed

from shipgauge.store import Store

PUSHES = int(os.environ.get("BENCH_CI_COST_PUSHES", "10000"))
TASKS = 200
POOLS = 20
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _load(store: Store) -> None:
    tasks_n = PUSHES * TASKS
    task_ids = [f"T{i:021d}" for i in range(tasks_n)]
    pools = [f"gecko-t-{i % POOLS}" for i in range(tasks_n)]
    tasks: dict[str, list[Any]] = {
        "task_id": task_ids,
        "task_group_id": [f"G{i // TASKS:021d}" for i in range(tasks_n)],
        "scheduler_id": ["gecko-level-3"] * tasks_n,
        "task_queue_id": [f"proj/{p}" for p in pools],
        "provisioner_id": ["proj"] * tasks_n,
        "worker_type": pools,
        "label": [f"test-linux64/opt-{i % 400}" for i in range(tasks_n)],
        "submission_date": [date(2025, 1, 1)] * tasks_n,
    }
    # Task i % 20 == 1 ran twice, task i % 20 == 2 never ran: 2,000,000 runs in all.
    runs = [(i, 0) for i in range(tasks_n) if i % 20 != 2] + [
        (i, 1) for i in range(tasks_n) if i % 20 == 1
    ]
    started = [T0 + timedelta(seconds=i * 15 + run * 400) for i, run in runs]
    states = [
        "exception" if i % 20 == 1 and run == 0 else "failed" if i % 10 == 0 else "completed"
        for i, run in runs
    ]
    task_runs: dict[str, list[Any]] = {
        "task_id": [task_ids[i] for i, _ in runs],
        "run_id": [run for _, run in runs],
        "state": states,
        "started": started,
        "resolved": [
            s + timedelta(seconds=300 + i % 600) for (i, _), s in zip(runs, started, strict=True)
        ],
        "submission_date": [date(2025, 1, 1)] * len(runs),
    }
    pushed = [T0 + timedelta(seconds=i * 3000) for i in range(PUSHES)]
    pushes: dict[str, list[Any]] = {
        "repo": ["integration/autoland"] * PUSHES,
        "push_id": list(range(1, PUSHES + 1)),
        "pushed_at": pushed,
        "changeset_count": [1] * PUSHES,
    }
    groups_table: dict[str, list[Any]] = {
        "repo": ["integration/autoland"] * PUSHES,
        "push_id": list(range(1, PUSHES + 1)),
        "mode": ["push"] * PUSHES,
        "task_group_id": [f"G{i:021d}" for i in range(PUSHES)],
        "state": ["final"] * PUSHES,
        "reason": ["all 200 tasks finished"] * PUSHES,
        "lookups": [1] * PUSHES,
        "listings": [1] * PUSHES,
        "first_seen_at": pushed,
        "checked_at": pushed,
    }
    # The last pool has no price: its runs are unpriced.
    rates = [
        {
            "provider": "aws",
            "provisioner": "proj",
            "worker_type": f"gecko-t-{p}",
            "month": date(2025, m, 1),
            "usage_hours": 1000.0,
            "cost": 50.0 + p,
            "modified": None,
        }
        for p in range(POOLS - 1)
        for m in range(1, 13)
    ]
    tables: tuple[tuple[str, dict[str, list[Any]]], ...] = (
        ("tasks", tasks),
        ("task_runs", task_runs),
        ("pushes", pushes),
        ("push_task_groups", groups_table),
    )
    for name, columns in tables:
        info = store.table(name)
        size = len(next(iter(columns.values())))
        full = {c: columns.get(c, [None] * size) for c in info.column_names}
        store.bulk_load(name, pa.table(full, schema=info.arrow_schema(info.column_names)))
    with store.transaction() as tx:
        tx.upsert("worker_type_costs", rates)


def _best(store: Store, sql: str) -> tuple[list[dict[str, Any]], float, float]:
    """Rows of `sql` and its best wall and CPU seconds over three runs."""
    runs = []
    for _ in range(3):
        cpu = time.process_time()
        result, seconds = timed(lambda: store.query(sql))
        runs.append((seconds, time.process_time() - cpu))
    wall, cpu = min(runs)
    return result.dicts(), wall, cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "b.duckdb")) as store:
        _load(store)
        assert store.count("task_runs") == PUSHES * TASKS
        rows, seconds, cpu = _best(store, "SELECT * FROM push_costs")
        assert len(rows) == PUSHES, len(rows)
        assert all(r["total_cost"] > r["ideal_cost"] > 0 < r["unpriced_seconds"] for r in rows)
        assert sum(r["retried_runs"] for r in rows) == PUSHES * TASKS // 20, rows[0]
        _, priced_s, priced_cpu = _best(
            store, "SELECT count(*), sum(run_cost), max(rate_month) FROM task_run_costs"
        )
    report(
        "ci_cost_push_costs",
        task_runs=PUSHES * TASKS,
        pushes=PUSHES,
        query_s=f"{seconds:.2f}",
        query_cpu_s=f"{cpu:.2f}",
        task_run_costs_s=f"{priced_s:.2f}",
        task_run_costs_cpu_s=f"{priced_cpu:.2f}",
        target_s=1.0,
        load_avg=f"{os.getloadavg()[0]:.1f}",
    )


if __name__ == "__main__":
    main()
