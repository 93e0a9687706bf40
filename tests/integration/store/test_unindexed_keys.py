"""tasks and task_runs on DuckDB: keys declared, not indexed (migration 9; the delivery tables
migration 11, builds 12, changesets and pings 13), so that memory does not grow with them; both
engines still agree on every table's key, and writes stay idempotent. A write reads only the
stored rows near its batch in time (migration 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import shipgauge.store.store as store_module
from shipgauge.pipelines.builds.files import import_build_files
from shipgauge.pipelines.delivery.events import import_events
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.pipelines.taskcluster.tasks import upsert_task_arrow
from shipgauge.store import KeyConflict, Store
from tests.conftest import column_shapes
from tests.integration.taskcluster.taskcluster_setup import run, task_rows, write_tasks
from tests.support.recorded_http import DELIVERY_SEED_CSV, fixtures_dir

POOL = "gecko-t/t-linux-large"


def test_both_engines_hold_the_same_key_for_every_table(
    duckdb_url: str, pg_schema_url: str
) -> None:
    with Store.open(duckdb_url) as duck, Store.open(pg_schema_url) as pg:
        duck_keys = {t.name: t.primary_key for t in duck.tables()}
        assert duck_keys == {t.name: t.primary_key for t in pg.tables()}
        assert {t.name for t in duck.tables() if not t.key_indexed} == {
            "tasks",
            "task_runs",
            "delivery_events",
            "delivery_event_commits",
            "delivery_commit_pushes",
            "delivery_commit_deployments",
            "builds",
            "changesets",
            "hgpush_pings",
        }
        assert all(t.key_indexed for t in pg.tables())
        indexed = duck.query(
            "SELECT DISTINCT table_name FROM duckdb_constraints()"
            " WHERE constraint_type = 'PRIMARY KEY'"
        ).rows
        assert ("tasks",) not in indexed and ("task_runs",) not in indexed
        assert ("task_definitions",) in indexed
        key_times = {t.name: t.key_time for t in duck.tables() if t.key_time}
        assert key_times == {"tasks": "deadline", "task_runs": "scheduled"}
        assert not any(t.key_time for t in pg.tables())
        assert "table_key_times" not in {t.name for t in duck.tables()}


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


DELIVERY_TABLES = (
    "delivery_events",
    "delivery_event_commits",
    "delivery_commit_pushes",
    "delivery_service_environments",
    "delivery_commit_deployments",
)


def _delivery_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    rows = {}
    for table in DELIVERY_TABLES:
        # an import stamps its events with its own time of arrival
        columns = "* EXCLUDE (received_at)" if table == "delivery_events" else "*"
        rows[table] = store.query(f"SELECT {columns} FROM {table} ORDER BY ALL").rows
    return rows


def test_migration_11_keeps_an_older_stores_events_and_facts(
    duckdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delivery tables lose their key index; a store's events and facts stay, a replay of
    the same file stores nothing new, and a new store gets the same rows from it."""
    every = store_module._migrations
    monkeypatch.setattr(store_module, "_migrations", lambda: [m for m in every() if m[0] <= 10])
    with Store.open(duckdb_url) as old:
        import_events(old, DELIVERY_SEED_CSV)
        before = _delivery_rows(old)
        assert old.table("delivery_events").key_indexed
    monkeypatch.setattr(store_module, "_migrations", every)
    with Store.open(duckdb_url) as new, Store.open(str(tmp_path / "fresh.duckdb")) as fresh:
        assert not new.table("delivery_events").key_indexed
        assert _delivery_rows(new) == before
        import_events(new, DELIVERY_SEED_CSV)
        import_events(fresh, DELIVERY_SEED_CSV)
        assert _delivery_rows(new) == before == _delivery_rows(fresh)
        assert all(before[t] for t in DELIVERY_TABLES)


def test_migration_12_keeps_an_older_stores_builds_and_refuses_a_stored_hash(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`builds` loses its key index; its rows stay, an import of the same documents stores
    nothing, and a plain load of a stored build is refused when it commits."""
    documents = sorted((fixtures_dir() / "buildhub" / "buildhub2" / "buildhub-json").glob("*"))
    every = store_module._migrations
    monkeypatch.setattr(store_module, "_migrations", lambda: [m for m in every() if m[0] <= 11])
    with Store.open(duckdb_url) as old:
        assert import_build_files(old, documents).inserted == 5
        before = old.query("SELECT * FROM builds ORDER BY build_hash").rows
        shape = column_shapes(old, "builds")
        assert old.table("builds").key_indexed
    monkeypatch.setattr(store_module, "_migrations", every)
    with Store.open(duckdb_url) as new:
        assert not new.table("builds").key_indexed
        assert column_shapes(new, "builds") == shape  # every NOT NULL and type kept
        assert new.query("SELECT * FROM builds ORDER BY build_hash").rows == before
        assert import_build_files(new, documents).inserted == 0
        stored = new.query("SELECT * EXCLUDE (document) FROM builds ORDER BY build_hash LIMIT 1")
        again = pa.table({c: [stored.rows[0][i]] for i, c in enumerate(stored.columns)})
        with pytest.raises(KeyConflict, match="already stored"), new.transaction() as tx:
            tx.insert_arrow("builds", again.append_column("document", pa.array(["{}"])))
        assert new.query("SELECT * FROM builds ORDER BY build_hash").rows == before


def test_a_large_write_of_changesets_commits_under_a_small_memory_limit(duckdb_url: str) -> None:
    """What migration 13 is for: with the key index, this commit (20,000 new changesets into
    300,000 under 16 MB) could not allocate, and DuckDB invalidated the database; the CI-cost
    scan's 64 MB failed the same way at 50,000 into 1,500,000 (a pushlog page of merges)."""
    with Store.open(duckdb_url) as store:
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO changesets (repo, node, push_id, position_in_push) "
                "SELECT 'integration/autoland', sha256(i::VARCHAR)[:40], i // 10, i % 10 "
                "FROM range(300000) t(i)"
            )
        page = [
            {"repo": "integration/autoland", "node": f"{n:040x}", "push_id": 40000 + n // 10,
             "position_in_push": n % 10}
            for n in range(20000)
        ]  # fmt: skip
        with bounded_memory(store, "16MB", {"threads": "1"}), store.transaction() as tx:
            tx.upsert("changesets", page, update=["push_id", "position_in_push"])
        assert store.count("changesets") == 320000
        assert store.query("SELECT max(push_id) FROM changesets").scalar() == 41999


SCHEDULED = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)


def _runs(*rows: tuple[str, str, datetime | int | None]) -> pa.Table:
    """task_runs rows (task, state, scheduled: a time or microseconds), each run 0 of its task."""
    return pa.table(
        {
            "task_id": [r[0] for r in rows],
            "run_id": pa.array([0] * len(rows), pa.int32()),
            "state": [r[1] for r in rows],
            "scheduled": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "submission_date": [date(2026, 5, 10)] * len(rows),
        }
    )


def _upsert(store: Store, *rows: tuple[str, str, datetime | int | None]) -> None:
    with store.transaction() as tx:
        upsert_task_arrow(tx, tasks=None, runs=_runs(*rows))


def _stored_runs(store: Store) -> list[tuple[str, str]]:
    return store.query("SELECT task_id, state FROM task_runs ORDER BY ALL").rows


def test_a_write_finds_every_stored_key_its_batch_may_share(duckdb_url: str) -> None:
    """Rows within a day of the batch's times, rows without a time (fxci-etl's tasks have no
    deadline), and every row when a row of the batch has no time."""
    later = SCHEDULED + timedelta(days=5)
    with Store.open(duckdb_url) as store:
        _upsert(store, ("A", "pending", SCHEDULED), ("B", "pending", None), ("C", "pending", later))
        # A twelve hours off, B stored without a time
        _upsert(
            store, ("A", "running", SCHEDULED + timedelta(hours=12)), ("B", "running", SCHEDULED)
        )
        assert _stored_runs(store) == [("A", "running"), ("B", "running"), ("C", "pending")]
        # C five days off, but the batch holds a run without a time: every row is read
        _upsert(store, ("C", "completed", SCHEDULED), ("D", "pending", None))
        assert _stored_runs(store)[2:] == [("C", "completed"), ("D", "pending")]
        for task in ("A", "B"):
            with pytest.raises(KeyConflict, match="already stored"), store.transaction() as tx:
                tx.insert_arrow("task_runs", _runs((task, "completed", SCHEDULED)))
        assert store.count("task_runs") == 4


@pytest.mark.parametrize(
    "loads",
    [
        [[("A", SCHEDULED), ("A", SCHEDULED)]],
        [[("A", SCHEDULED)], [("B", SCHEDULED), ("A", SCHEDULED + timedelta(hours=1))]],
        [[("B", SCHEDULED)], [("A", None)], [("A", SCHEDULED)]],
    ],
    ids=["twice in one load", "in two loads, an hour apart", "once without a time"],
)
def test_a_plain_load_refuses_a_key_it_repeats(
    duckdb_url: str, loads: list[list[tuple[str, datetime | None]]]
) -> None:
    """What a key index would refuse: the keys of every load of a transaction, checked at
    commit, repeat none of each other (and none stored: the test above)."""
    with Store.open(duckdb_url) as store:
        _upsert(store, ("S", "pending", SCHEDULED))
        with pytest.raises(KeyConflict, match="repeats"), store.transaction() as tx:
            for load in loads:
                tx.insert_arrow("task_runs", _runs(*((t, "pending", at) for t, at in load)))
        assert _stored_runs(store) == [("S", "pending")]
        with store.transaction() as tx:  # the same keys, each once, load
            tx.insert_arrow("task_runs", _runs(("A", "pending", SCHEDULED)))
            tx.insert_arrow("task_runs", _runs(("B", "pending", None)))
        assert _stored_runs(store) == [("A", "pending"), ("B", "pending"), ("S", "pending")]


def test_a_write_reads_only_the_stored_rows_near_its_batch_in_time(duckdb_url: str) -> None:
    """What makes the window pay, and the rule it rests on: a run's scheduled time never
    changes, so a stored row three days off is another run's and is not read."""
    with Store.open(duckdb_url) as store:
        _upsert(store, ("A", "pending", SCHEDULED))
        _upsert(store, ("A", "completed", SCHEDULED + timedelta(days=3)))
        assert _stored_runs(store) == [("A", "completed"), ("A", "pending")]


@pytest.mark.parametrize(
    "scheduled",
    [datetime(1, 1, 1, tzinfo=UTC), 2**62],
    ids=["the first day Python has", "past the last (year 148108)"],
)
def test_a_time_at_the_edge_of_the_calendar_reads_every_row(
    duckdb_url: str, scheduled: datetime | int
) -> None:
    """A window a day wide would leave Python's dates there (a Parquet import can hold any
    time): such a batch reads every row instead, and still finds its stored keys."""
    with Store.open(duckdb_url) as store:
        _upsert(store, ("A", "pending", scheduled))
        _upsert(store, ("A", "completed", scheduled))
        assert _stored_runs(store) == [("A", "completed")]
