"""Upsert of 1,000,000 task rows in 100k batches vs the engine's own bulk load, on both engines.

Target (issue 3): upsert rate >= 0.5 x bulk-load rate; a replay of the same rows changes no count.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_URL, report, timed

from shipgauge.store import Store

ROWS = 1_000_000
BATCH = 100_000
TABLE_DDL = """
CREATE TABLE {name} (
    task_id VARCHAR PRIMARY KEY, task_group_id VARCHAR NOT NULL, label VARCHAR,
    state VARCHAR, worker_pool VARCHAR, created TIMESTAMPTZ, retries INTEGER, cost DOUBLE
)"""
STATES = ("completed", "failed", "exception", "running")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic_tasks(n: int) -> list[dict[str, Any]]:
    return [
        {
            "task_id": f"T{i:021d}",
            "task_group_id": f"G{i // 2000:021d}",
            "label": f"test-linux64/opt-mochitest-{i % 40}",
            "state": STATES[i % 4],
            "worker_pool": f"gecko-t/t-linux-{i % 7}",
            "created": T0 + timedelta(seconds=i),
            "retries": i % 3,
            "cost": (i % 1000) / 100.0,
        }
        for i in range(n)
    ]


def measure(store: Store, rows: list[dict[str, Any]]) -> tuple[float, float, bool]:
    """Rows/s of the bulk load and of the upsert; whether a replay left counts unchanged."""
    with store.transaction() as tx:
        tx.execute(TABLE_DDL.format(name="bulk_tasks"))
        tx.execute(TABLE_DDL.format(name="upsert_tasks"))
    info = store.table("bulk_tasks")
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    arrow_batches = [
        __import__("pyarrow").Table.from_pylist(b, schema=info.arrow_schema(info.column_names))
        for b in batches
    ]

    def bulk() -> None:
        for table in arrow_batches:
            store.bulk_load("bulk_tasks", table)

    def upsert() -> None:
        for batch in batches:
            with store.transaction() as tx:
                tx.upsert("upsert_tasks", batch)

    _, bulk_s = timed(bulk)
    _, upsert_s = timed(upsert)
    before = store.count("upsert_tasks")
    upsert()  # replay
    unchanged = store.count("upsert_tasks") == before == len(rows)
    return len(rows) / bulk_s, len(rows) / upsert_s, unchanged


def main() -> None:
    rows = synthetic_tasks(ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        engines = [("duckdb", str(Path(tmp) / "bench.duckdb"))]
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            engines.append(("postgres", f"{PG_URL}?options=-csearch_path%3D{schema}"))
        except psycopg.OperationalError:
            report("store upsert [postgres]", error="PostgreSQL not reachable at " + PG_URL)
        for engine, url in engines:
            with Store.open(url) as store:
                bulk_rate, upsert_rate, unchanged = measure(store, rows)
            report(
                f"store upsert [{engine}]",
                rows=ROWS,
                upsert_rows_per_s=f"{upsert_rate:,.0f}",
                bulk_rows_per_s=f"{bulk_rate:,.0f}",
                ratio=f"{upsert_rate / bulk_rate:.2f}",
                replay_unchanged=unchanged,
            )
        if len(engines) > 1:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
