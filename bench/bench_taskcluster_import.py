"""`taskcluster import task_runs_v1` of 10,000,000 task runs from one Parquet file, into DuckDB.

Targets: rows/s at least 0.5 x DuckDB's own load of the same file (`INSERT INTO` a table shaped
as `task_runs`, primary key included, `SELECT … FROM read_parquet(…)`: one statement, no
Python); peak RSS under 512 MB, at the full file within 10 % of a tenth of it (issue 21). The
files are written first (BigQuery's Parquet types: TIMESTAMP as microseconds in UTC, DATE, INT64;
row groups of 100,000 rows), then each load runs once into a fresh database, in a process of its
own so that each one's peak RSS is its own: DuckDB's of the full file, the import's of a tenth of
it and of all of it. Most of a DuckDB load's memory is the primary key's index, which grows with
the table in both loads alike.

`SHIPGAUGE_BENCH_TASKCLUSTER_IMPORT_RUNS` sets the number of runs (default 10,000,000),
`SHIPGAUGE_BENCH_TASKCLUSTER_IMPORT_BATCH_ROWS` the import's `--batch-rows`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_child, peak_figures, peak_rss_mb, report, timed, timed_cpu

from shipgauge.pipelines.taskcluster import DEFAULT_BATCH_ROWS, import_fxci_tables
from shipgauge.store import Store

RUNS = int(os.environ.get("SHIPGAUGE_BENCH_TASKCLUSTER_IMPORT_RUNS", "10000000"))
BATCH_ROWS = int(
    os.environ.get("SHIPGAUGE_BENCH_TASKCLUSTER_IMPORT_BATCH_ROWS", str(DEFAULT_BATCH_ROWS))
)
CHUNK = 1_000_000
GROUP = 100_000
T0 = int(datetime(2024, 8, 1, tzinfo=UTC).timestamp() * 1_000_000)
UTC_US = pa.timestamp("us", tz="UTC")
STATES = pa.array(["completed", "failed", "exception", "completed", "completed"])
DDL = """
CREATE TABLE runs_copy (
    task_id VARCHAR NOT NULL, run_id INTEGER NOT NULL, state VARCHAR NOT NULL,
    reason_created VARCHAR, reason_resolved VARCHAR, worker_group VARCHAR, worker_id VARCHAR,
    scheduled TIMESTAMPTZ, started TIMESTAMPTZ, resolved TIMESTAMPTZ, taken_until TIMESTAMPTZ,
    submission_date DATE NOT NULL, PRIMARY KEY (task_id, run_id)
)"""
COPY = """
INSERT INTO runs_copy
SELECT task_id, CAST(run_id AS INTEGER), state, reason_created, reason_resolved, worker_group,
       worker_id, scheduled, started, resolved, NULL, submission_date
FROM read_parquet(?)"""


def _chunk(start: int, size: int) -> pa.Table:
    """Runs start … start + size: one task in ten ran twice (run 1 after an exception)."""
    n = pa.array(range(start, start + size), pa.int64())
    task = pc.divide(pc.multiply(n, 10), 11)  # 11 runs per 10 tasks
    run_id = pc.subtract(n, pc.divide(pc.multiply(task, 11), 10))
    run_id = pc.if_else(pc.greater(run_id, 1), 1, run_id)
    started = pc.add(pc.multiply(n, 1_000_000), T0)
    text = pc.cast(task, pa.string())
    return pa.table({
        "task_id": pc.binary_join_element_wise("T", pc.utf8_lpad(text, 21, "0"), ""),
        "run_id": run_id,
        "reason_created": pa.repeat(pa.scalar("scheduled"), size),
        "reason_resolved": pc.take(STATES, pc.remainder(n, 5)),
        "resolved": pc.cast(pc.add(started, 1_800_000_000), UTC_US),
        "scheduled": pc.cast(pc.subtract(started, 60_000_000), UTC_US),
        "started": pc.cast(started, UTC_US),
        "state": pc.take(STATES, pc.remainder(n, 5)),
        "submission_date": pc.cast(pc.cast(pc.cast(started, UTC_US), pa.date32()), pa.date32()),
        "worker_group": pc.binary_join_element_wise(
            "us-east1-", pc.cast(pc.remainder(n, 3), pa.string()), ""
        ),
        "worker_id": pc.cast(pc.add(pc.remainder(n, 2000), 10**18), pa.string()),
    })  # fmt: skip


def write_runs(path: Path, runs: int) -> None:
    writer: pq.ParquetWriter | None = None
    for start in range(0, runs, CHUNK):
        table = _chunk(start, min(CHUNK, runs - start))
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=GROUP)
    if writer:
        writer.close()


def duckdb_load(folder: Path, parquet: Path) -> dict[str, float]:
    """DuckDB's own load of the file into a table shaped as task_runs."""
    rows = pq.ParquetFile(parquet).metadata.num_rows
    conn = duckdb.connect(str(folder / "copy.duckdb"))
    conn.execute(DDL)
    _, seconds = timed(lambda: conn.execute(COPY, [str(parquet)]))
    count = conn.execute("SELECT count(*) FROM runs_copy").fetchone()
    conn.close()
    assert count is not None and count[0] == rows
    return {"rows_per_s": rows / seconds}


def shipgauge_import(folder: Path, parquet: Path) -> dict[str, float]:
    """`taskcluster import` of the file: rows/s, CPU seconds and stored rows."""
    rows = pq.ParquetFile(parquet).metadata.num_rows
    with Store.open(str(folder / "store.duckdb")) as store:
        result, seconds, cpu_s = timed_cpu(
            lambda: import_fxci_tables(store, "task_runs_v1", [parquet], batch_rows=BATCH_ROWS)
        )
        stored = store.count("task_runs")
    assert result.new == stored == rows and result.dead_letters == 0
    return {"rows_per_s": rows / seconds, "cpu_s": cpu_s, "stored": stored}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tenth, parquet = folder / "tenth.parquet", folder / "task_runs_v1.parquet"
        write_runs(tenth, RUNS // 10)
        _, write_s = timed(lambda: write_runs(parquet, RUNS))
        baseline = in_child(__file__, "duckdb", folder / "full", parquet)
        small = in_child(__file__, "import", folder / "tenth", tenth)
        ours = in_child(__file__, "import", folder / "full", parquet)
        report(
            "taskcluster import [duckdb]",
            runs=f"{int(ours['stored']):,}",
            batch_rows=f"{BATCH_ROWS:,}",
            parquet_mib=parquet.stat().st_size >> 20,
            import_rows_per_s=f"{ours['rows_per_s']:,.0f}",
            rows_per_cpu_s=f"{ours['stored'] / ours['cpu_s']:,.0f}",
            duckdb_read_parquet_rows_per_s=f"{baseline['rows_per_s']:,.0f}",
            ratio=f"{ours['rows_per_s'] / baseline['rows_per_s']:.2f}",
            **peak_figures(small["peak_mb"], ours["peak_mb"]),
            duckdb_peak_rss_mb=f"{baseline['peak_mb']:,.0f}",
            load_avg=f"{os.getloadavg()[0]:.1f}",
            write_s=f"{write_s:.1f}",
            target="ratio 0.5, RSS < 512 MB within 10 %",
        )


def _child(phase: str, folder: Path, parquet: Path) -> None:
    folder.mkdir(exist_ok=True)
    figures = (duckdb_load if phase == "duckdb" else shipgauge_import)(folder, parquet)
    print(json.dumps({**figures, "peak_mb": peak_rss_mb()}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        _child(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
