"""tasks and task_runs on DuckDB: keys declared, not indexed (migration 9), so that memory does not
grow with them; both engines still agree on every table's key, and writes stay idempotent."""

from __future__ import annotations

import pyarrow as pa
import pytest

import shipgauge.store.store as store_module
from shipgauge.store import KeyConflict, Store
from tests.integration.taskcluster.taskcluster_setup import run, task_rows, write_tasks

POOL = "gecko-t/t-linux-large"


def test_both_engines_hold_the_same_key_for_every_table(
    duckdb_url: str, pg_schema_url: str
) -> None:
    with Store.open(duckdb_url) as duck, Store.open(pg_schema_url) as pg:
        duck_keys = {t.name: t.primary_key for t in duck.tables()}
        assert duck_keys == {t.name: t.primary_key for t in pg.tables()}
        assert {t.name for t in duck.tables() if not t.key_indexed} == {"tasks", "task_runs"}
        assert all(t.key_indexed for t in pg.tables())
        indexed = duck.query(
            "SELECT DISTINCT table_name FROM duckdb_constraints()"
            " WHERE constraint_type = 'PRIMARY KEY'"
        ).rows
        assert ("tasks",) not in indexed and ("task_runs",) not in indexed
        assert ("task_definitions",) in indexed


def test_replayed_tasks_and_runs_change_nothing_and_a_run_only_moves_forward(
    duckdb_url: str,
) -> None:
    pending = task_rows("T1", POOL, [run(0, "pending", "us-east1-b", "1", "10:00", None)])
    done = task_rows("T1", POOL, [run(0, "completed", "us-east1-b", "1", "10:00", "10:30")])
    with Store.open(duckdb_url) as store:
        for pair in (pending, done, pending, done):
            write_tasks(store, pair)
        assert (store.count("tasks"), store.count("task_runs")) == (1, 1)
        assert store.query("SELECT state FROM task_runs").scalar() == "completed"
        stored = store.query("SELECT * EXCLUDE (tags) FROM tasks")
        tasks = pa.table({c: [row[i] for row in stored.rows] for i, c in enumerate(stored.columns)})
        with pytest.raises(KeyConflict, match="already stored"), store.transaction() as tx:
            tx.insert_arrow("tasks", tasks)
        assert store.count("tasks") == 1  # the refused load rolled back


def test_migration_9_keeps_the_rows_of_an_older_store(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = store_module._migrations
    monkeypatch.setattr(store_module, "_migrations", lambda: [m for m in every() if m[0] <= 8])
    done = task_rows("T1", POOL, [run(0, "completed", "us-east1-b", "1", "10:00", "10:30")])
    with Store.open(duckdb_url) as old:
        write_tasks(old, done)
        assert old.table("task_runs").key_indexed
    monkeypatch.setattr(store_module, "_migrations", every)
    with Store.open(duckdb_url) as new:
        assert new.migration_level() >= 9
        assert not new.table("task_runs").key_indexed
        assert new.query("SELECT task_id, run_id, state FROM task_runs").rows == [
            ("T1", 0, "completed")
        ]
        write_tasks(new, done)
        assert (new.count("tasks"), new.count("task_runs"), new.count("task_run_costs")) == (
            1,
            1,
            1,
        )
