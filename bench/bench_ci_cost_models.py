"""`push_costs` over 2,000,000 task runs (10,000 pushes x 200 tasks, one run each) on DuckDB.

Target (issue 8): the whole model computed in < 1 s. Rows are bulk-loaded straight into the
tables; 20 worker pools, 12 months of hourly rates, a tenth of the runs failed. The time of
`task_run_costs` alone (the Taskcluster ETL's pricing, which push_costs reads) is printed too.
"""

from __future__ import annotations

import os
import sys
import tempfile
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
    runs = PUSHES * TASKS
    task_ids = [f"T{i:021d}" for i in range(runs)]
    groups = [f"G{i // TASKS:021d}" for i in range(runs)]
    pools = [f"gecko-t-{i % POOLS}" for i in range(runs)]
    started = [T0 + timedelta(seconds=i * 15) for i in range(runs)]
    tasks: dict[str, list[Any]] = {
        "task_id": task_ids,
        "task_group_id": groups,
        "scheduler_id": ["gecko-level-3"] * runs,
        "task_queue_id": [f"proj/{p}" for p in pools],
        "provisioner_id": ["proj"] * runs,
        "worker_type": pools,
        "label": [f"test-linux64/opt-{i % 400}" for i in range(runs)],
        "submission_date": [date(2025, 1, 1)] * runs,
    }
    task_runs: dict[str, list[Any]] = {
        "task_id": task_ids,
        "run_id": [0] * runs,
        "state": ["failed" if i % 10 == 0 else "completed" for i in range(runs)],
        "started": started,
        "resolved": [s + timedelta(seconds=300 + i % 600) for i, s in enumerate(started)],
        "submission_date": [date(2025, 1, 1)] * runs,
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "b.duckdb")) as store:
        _load(store)
        sql = "SELECT count(*), sum(total_cost), sum(unpriced_seconds) FROM push_costs"
        (row,), seconds = timed(lambda: store.query(sql).rows)
        assert row[0] == PUSHES and row[1] > 0 and row[2] > 0, row
        _, priced_s = timed(
            lambda: store.query("SELECT count(*), sum(run_cost) FROM task_run_costs").rows
        )
    report(
        "ci_cost_push_costs",
        task_runs=PUSHES * TASKS,
        pushes=PUSHES,
        query_s=f"{seconds:.2f}",
        task_run_costs_s=f"{priced_s:.2f}",
        target_s=1.0,
    )


if __name__ == "__main__":
    main()
