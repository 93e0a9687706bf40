"""A drain-sized write into a large `task_runs` on DuckDB: read near its batch in time, or all.

`tasks` and `task_runs` have no key index on DuckDB (migration 9): each write joins its batch
against the table's keys. Migration 10 lets it read only the rows whose `scheduled` is NULL or
within a day of the batch's (DuckDB skips the other row groups by their zone maps). This
measures one upsert transaction of 2,000 runs (1,000 stored in the last hours, now completed,
and 1,000 new) into RUNS stored runs scheduled over 30 days, in the order a drain stores them,
against the same write with one more run that has no `scheduled` time: a batch holding such a
run reads every row, as every write did before migration 10. Both in the same store and run,
alternated; the medians are printed with their ratio. RUNS defaults to 10,000,000
(`SHIPGAUGE_BENCH_KEY_WINDOW_RUNS` to change it).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, timed

from shipgauge.pipelines.taskcluster.tasks import upsert_task_arrow
from shipgauge.store import Store

RUNS = int(os.environ.get("SHIPGAUGE_BENCH_KEY_WINDOW_RUNS", "10000000"))
DAYS = 30
BATCHES = 10
STORED, NEW = 1_000, 1_000
START = datetime(2026, 11, 1, tzinfo=UTC)
SEED = """
INSERT INTO task_runs (task_id, run_id, state, worker_group, worker_id, scheduled, started,
                       resolved, submission_date)
SELECT 'T' || lpad(i::VARCHAR, 21, '0'), 0, 'running', 'us-east1-b', 'w' || (i % 5000)::VARCHAR,
       s, s + INTERVAL 2 MINUTE, NULL, s::DATE
FROM (SELECT i, TIMESTAMPTZ '{start}' + to_microseconds(i * {step}) AS s FROM range({runs}) r(i))
"""


def _batch(number: int, *, untimed: bool) -> pa.Table:
    """1,000 runs of the last hours (its `number`-th thousand from the end) and 1,000 new ones;
    `untimed` adds a new run without `scheduled`."""
    step_us = DAYS * 86_400_000_000 // RUNS
    stored = range(RUNS - (number + 1) * STORED, RUNS - number * STORED)
    new = range(RUNS + number * (NEW + 1), RUNS + number * (NEW + 1) + NEW + untimed)
    ids = [f"T{i:021d}" for i in (*stored, *new)]
    scheduled = [START + timedelta(microseconds=i * step_us) for i in (*stored, *new)]
    if untimed:
        scheduled[-1] = None  # type: ignore[call-overload]
    return pa.table(
        {
            "task_id": ids,
            "run_id": pa.array([0] * len(ids), pa.int32()),
            "state": ["completed"] * len(ids),
            "scheduled": pa.array(scheduled, pa.timestamp("us", tz="UTC")),
            "submission_date": [date(2026, 12, 1)] * len(ids),
        }
    )


def _write(store: Store, runs: pa.Table) -> float:
    """Seconds of one upsert transaction of `runs`."""

    def write() -> None:
        with store.transaction() as tx:
            upsert_task_arrow(tx, tasks=None, runs=runs)

    return float(timed(write)[1])


def main() -> None:
    assert RUNS >= 2 * BATCHES * STORED, "the batches update runs stored in the last hours"
    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "runs.duckdb")) as store:
        step_us = DAYS * 86_400_000_000 // RUNS
        with store.transaction() as tx:
            tx.execute(SEED.format(start=START.isoformat(), step=step_us, runs=RUNS))
        windowed, whole = [], []
        for number in range(BATCHES):  # alternated, so both meet the same table and cache
            windowed.append(_write(store, _batch(2 * number, untimed=False)))
            whole.append(_write(store, _batch(2 * number + 1, untimed=True)))
        stored = store.count("task_runs")
        completed = store.query("SELECT count(*) FROM task_runs WHERE state = 'completed'").scalar()
    assert stored == RUNS + BATCHES * (2 * NEW + 1), stored
    assert completed == BATCHES * (2 * STORED + 2 * NEW + 1), completed
    near, every = statistics.median(windowed), statistics.median(whole)
    report(
        "taskcluster key window",
        stored_runs=f"{RUNS:,}",
        batch_runs=f"{STORED + NEW:,}",
        near_ms=f"{near * 1000:.1f}",
        every_row_ms=f"{every * 1000:.1f}",
        ratio=f"{every / near:.1f}x",
        near_runs_per_s=f"{(STORED + NEW) / near:,.0f}",
        load_avg=f"{os.getloadavg()[0]:.1f}",
    )


if __name__ == "__main__":
    main()
