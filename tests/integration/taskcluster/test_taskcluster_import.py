"""`taskcluster import`: fxci-etl's four BigQuery tables from CSV, JSON lines and Parquet, into
the store on both engines; idempotent on the keys, bad rows kept as dead letters."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from shipgauge.errors import SourceError
from shipgauge.pipelines.taskcluster import IMPORT_SOURCE, fxci_import, import_fxci_tables
from shipgauge.pipelines.taskcluster.fxci_import import retry_import_letter
from shipgauge.store import Store
from shipgauge.store.dead_letters import DeadLetter, list_dead_letters
from tests.conftest import run_cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fxci-etl"
UTC_TIME = pa.timestamp("us", tz="UTC")
RUN_TYPES = {
    "run_id": pa.int64(), "resolved": UTC_TIME, "scheduled": UTC_TIME, "started": UTC_TIME,
    "submission_date": pa.date32(),
}  # fmt: skip


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace(" UTC", "+00:00")) if text else None


def runs_parquet(folder: Path) -> Path:
    """The CSV's readable rows as BigQuery's Parquet export types them."""
    with (FIXTURES / "task_runs_v1.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["run_id"].isdigit() and r["resolved"]]
    columns: dict[str, Any] = {}
    for name in rows[0]:
        values: list[Any] = [r[name] or None for r in rows]
        if name == "run_id":
            values = [int(v) for v in values]
        elif RUN_TYPES.get(name) == UTC_TIME:
            values = [_time(v or "") for v in values]
        elif name == "submission_date":
            values = [date.fromisoformat(v) for v in values]
        columns[name] = pa.array(values, RUN_TYPES.get(name, pa.string()))
    path = folder / "task_runs_v1.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def _snapshot(store: Store, table: str) -> list[tuple[Any, ...]]:
    return store.query(f"SELECT * FROM {table} ORDER BY 1, 2").rows


@pytest.mark.parametrize(
    ("name", "letters"), [("task_runs_v1.csv", 2), ("task_runs_v1.jsonl", 2), ("parquet", 0)]
)
def test_task_runs_from_each_format_twice(
    store: Store, tmp_path: Path, name: str, letters: int
) -> None:
    path = runs_parquet(tmp_path) if name == "parquet" else FIXTURES / name
    first = import_fxci_tables(store, "task_runs_v1", [path], today=date(2026, 1, 2))
    assert (first.stored, first.new, first.dead_letters) == (3, 3, letters)
    rows = store.query(
        "SELECT task_id, run_id, state, scheduled, started, resolved, worker_id, submission_date"
        " FROM task_runs ORDER BY task_id, run_id"
    ).rows
    assert rows == [
        ("A35mWTRuQmyj88yMnIF0fA", 0, "failed", datetime(2024, 8, 1, 9, 58, 12, 123000, UTC),
         datetime(2024, 8, 1, 10, tzinfo=UTC), datetime(2024, 8, 1, 10, 30, tzinfo=UTC), "111",
         date(2024, 8, 1)),
        ("A35mWTRuQmyj88yMnIF0fA", 1, "completed", datetime(2024, 8, 1, 10, 30, 1, tzinfo=UTC),
         datetime(2024, 8, 1, 11, tzinfo=UTC), datetime(2024, 8, 1, 11, 15, tzinfo=UTC), "111",
         date(2024, 8, 1)),
        ("Fz9oY1ZjQ3u2mT6bXk1w3A", 0, "exception", datetime(2024, 8, 1, 9, tzinfo=UTC), None,
         datetime(2024, 8, 1, 12, tzinfo=UTC), None, date(2024, 8, 1)),
    ]  # fmt: skip
    before = _snapshot(store, "task_runs")
    again = import_fxci_tables(store, "task_runs_v1", [path], today=date(2026, 1, 3))
    assert (again.stored, again.new) == (3, 0)
    assert _snapshot(store, "task_runs") == before
    assert len(list_dead_letters(store, source=IMPORT_SOURCE)) == letters  # kept once


def test_rows_in_small_transactions_written_out_between_them_are_the_same(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row a transaction, the store's indexes written out every two: the rows of one batch."""
    path = runs_parquet(tmp_path)
    one_batch = Store.open(str(tmp_path / "one_batch.duckdb"))
    import_fxci_tables(one_batch, "task_runs_v1", [path], today=date(2026, 1, 2))
    monkeypatch.setattr(fxci_import, "WRITE_OUT_ROWS", 2)
    result = import_fxci_tables(store, "task_runs_v1", [path], batch_rows=1, today=date(2026, 1, 2))
    assert (result.stored, result.new) == (3, 3)
    assert _snapshot(store, "task_runs") == _snapshot(one_batch, "task_runs")
    one_batch.close()


def test_bad_rows_become_dead_letters_naming_row_and_reason(store: Store) -> None:
    import_fxci_tables(store, "task_runs_v1", [FIXTURES / "task_runs_v1.csv"])
    letters = {(d.key, d.error) for d in list_dead_letters(store, source=IMPORT_SOURCE)}
    assert letters == {
        ("task_runs_v1 task_runs_v1.csv:row 4", "run_id: not a whole number"),
        ("task_runs_v1 task_runs_v1.csv:line 6", "expected 11 fields, found 3"),
    }
    import_fxci_tables(store, "task_runs_v1", [FIXTURES / "task_runs_v1.jsonl"])
    jsonl = {
        (d.key, d.error.split(":")[0])
        for d in list_dead_letters(store, source=IMPORT_SOURCE)
        if ".jsonl" in (d.key or "")
    }
    assert jsonl == {
        ("task_runs_v1 task_runs_v1.jsonl:row 4", "state"),
        ("task_runs_v1 task_runs_v1.jsonl:line 5", "not a JSON object"),
    }


def test_the_four_tables_price_runs_with_a_null_provider_as_gcp(store: Store) -> None:
    for table, name in [
        ("tasks_v2", "tasks_v2.jsonl"),
        ("task_runs_v1", "task_runs_v1.csv"),
        ("worker_metrics_v1", "worker_metrics_v1.csv"),
        ("worker_costs_v1", "worker_costs_v1.csv"),
    ]:
        import_fxci_tables(store, table, [FIXTURES / name])
    assert store.query(
        "SELECT instance_id, uptime, cloud_provider, method FROM worker_metrics ORDER BY 1"
    ).rows == [
        ("111", 36000.0, None, "gcp_monitoring_instance_uptime"),
        ("222", None, None, "gcp_monitoring_instance_uptime"),
    ]
    assert store.query(
        "SELECT usage_start_date, cloud_provider, cost, total_cost FROM worker_costs ORDER BY 1"
    ).rows == [(date(2024, 7, 31), None, None, 8.0), (date(2024, 8, 1), "gcp", None, 4.0)]
    priced = store.query(
        "SELECT run_id, cloud_provider, worker_pool, attribution_worker_cost, run_cost"
        " FROM task_run_costs WHERE task_id = 'A35mWTRuQmyj88yMnIF0fA' ORDER BY run_id"
    ).rows
    assert priced == [
        (0, "gcp", "gecko-t/t-linux-large", 12.0, pytest.approx(1800 / 36000 * 12)),
        (1, "gcp", "gecko-t/t-linux-large", 12.0, pytest.approx(900 / 36000 * 12)),
    ]


def test_tasks_from_json_lines_and_parquet_agree(store: Store, tmp_path: Path) -> None:
    parquet = tmp_path / "tasks_v2.parquet"
    pq.write_table(pa_json.read_json(FIXTURES / "tasks_v2.jsonl"), parquet)
    result = import_fxci_tables(store, "tasks_v2", [FIXTURES / "tasks_v2.jsonl", parquet])
    assert (result.rows, result.new, result.dead_letters) == (6, 2, 2)  # refused in each file
    task = store.query(
        "SELECT provisioner_id, worker_type, kind, label, test_variant, tags FROM tasks"
        " WHERE task_id = 'A35mWTRuQmyj88yMnIF0fA'"
    ).rows[0]
    assert task[:5] == (
        "gecko-t", "t-linux-large", "test", "test-linux1804-64/opt-mochitest-plain-1", None,
    )  # fmt: skip
    tags = task[5] if isinstance(task[5], dict) else json.loads(task[5])
    assert tags["test_suite"] == "mochitest-plain" and "owned_by" not in tags
    # the same row read from both files is the same input: one dead letter, named by the first
    letters = list_dead_letters(store, source=IMPORT_SOURCE)
    assert [(d.key, d.error) for d in letters] == [
        ("tasks_v2 tasks_v2.jsonl:row 3", "task_queue_id: not provisioner/worker-type")
    ]


def test_a_file_without_a_needed_column_writes_nothing(store: Store, tmp_path: Path) -> None:
    wrong = tmp_path / "runs.csv"
    wrong.write_text("task_id,run_id,state\nA,0,completed\n")
    with pytest.raises(SourceError, match="no column 'scheduled'; is this a task_runs_v1 export"):
        import_fxci_tables(store, "task_runs_v1", [FIXTURES / "task_runs_v1.csv", wrong])
    assert store.count("task_runs") == 0


def _letter(payload: dict[str, Any]) -> DeadLetter:
    key = "task_runs_v1 runs.csv:row 1"
    return DeadLetter(1, IMPORT_SOURCE, key, datetime.now(UTC), "", json.dumps(payload).encode())


def test_retry_stores_a_letter_that_reads_and_refuses_one_that_does_not(store: Store) -> None:
    good = {
        "task_id": "K", "run_id": 2, "state": "completed", "scheduled": "2024-08-01 09:00:00 UTC",
        "resolved": "2024-08-01T10:00:00Z", "submission_date": "2024-08-01",
    }  # fmt: skip
    with store.transaction() as tx:
        retry_import_letter(tx, _letter(good))
    assert store.query("SELECT task_id, run_id FROM task_runs").rows == [("K", 2)]
    with pytest.raises(SourceError, match="state: not one of"), store.transaction() as tx:
        retry_import_letter(tx, _letter({**good, "state": "done"}))


def test_cli_imports_then_changes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "store.duckdb")
    runs = str(FIXTURES / "task_runs_v1.csv")
    first = run_cli("taskcluster", "import", "task_runs_v1", runs, db=db)
    assert first.returncode == 0, first.stderr
    assert "5 row(s) read, 3 stored (3 new), 2 dead letter(s)" in first.stdout
    again = run_cli("taskcluster", "import", "task_runs_v1", runs, "--json", db=db)
    assert json.loads(again.stdout)["new"] == 0
    unknown = run_cli("taskcluster", "import", "task_runs_v2", runs, db=db)
    assert unknown.returncode == 2  # a bad argument value is bad usage
    assert "no fxci-etl table 'task_runs_v2'" in unknown.stderr
