"""fxci-etl export rows → store rows, in Arrow: each export's types read alike, bad rows named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from shipgauge.errors import BadRequest
from shipgauge.sources.taskcluster.arrow_values import read_column
from shipgauge.sources.taskcluster.fxci_tables import (
    conform_batch,
    fxci_table,
    missing_columns,
)

TODAY = date(2026, 1, 2)


@pytest.mark.parametrize(
    ("values", "kind", "read", "bad"),
    [
        (["2024-08-01 12:00:00 UTC", "2024-08-01T14:00:00+02:00", "2024-08-01 12:00:00.5",
          "", "soon"], "time",
         [datetime(2024, 8, 1, 12, tzinfo=UTC), datetime(2024, 8, 1, 12, tzinfo=UTC),
          datetime(2024, 8, 1, 12, 0, 0, 500000, UTC), None, None],
         [False, False, False, False, True]),
        (["0", " 7 ", "x", None], "int", [0, 7, None, None], [False, False, True, False]),
        ([1.0, 2.5], "int", [1, None], [False, True]),
        (["1.5", "1e3", "lots"], "float", [1.5, 1000.0, None], [False, False, True]),
        (["2024-08-01", "2024-13-01"], "date", [date(2024, 8, 1), None], [False, True]),
        ([3, None], "text", ["3", None], [False, False]),
    ],
)  # fmt: skip
def test_read_column_takes_each_exports_form(
    values: list[object], kind: str, read: list[object], bad: list[bool]
) -> None:
    array, unreadable = read_column(pa.array(values), kind)  # type: ignore[arg-type]
    assert (array.to_pylist(), unreadable.to_pylist()) == (read, bad)


def test_typed_parquet_columns_pass_through() -> None:
    times = pa.array([datetime(2024, 8, 1, 12)], pa.timestamp("us"))  # naive: UTC
    assert read_column(times, "time")[0].to_pylist() == [datetime(2024, 8, 1, 12, tzinfo=UTC)]
    assert read_column(times, "date")[0].to_pylist() == [date(2024, 8, 1)]


def test_tasks_take_tags_from_a_flattened_csv_export() -> None:
    batch = pa.table({
        "task_id": ["T1", "T2"], "task_group_id": ["G", "G"], "scheduler_id": ["s", "s"],
        "task_queue_id": ["gecko-t/t-linux", "nowhere"], "tags_kind": ["test", None],
        "tags_label": [None, None],
    })  # fmt: skip
    rows, rejected = conform_batch(fxci_table("tasks_v2"), batch, today=TODAY)
    assert [(r.index, r.reason) for r in rejected] == [
        (1, "task_queue_id: not provisioner/worker-type")
    ]
    row = rows.to_pylist()[0]
    assert (row["provisioner_id"], row["worker_type"], row["kind"]) == (
        "gecko-t",
        "t-linux",
        "test",
    )
    assert (row["tags"], row["submission_date"]) == ('{"kind":"test"}', TODAY)


def test_worker_metrics_without_a_date_belong_to_their_interval_and_to_gcp() -> None:
    start = datetime(2024, 8, 1, tzinfo=UTC)
    batch = pa.table({
        "project": ["p"], "zone": ["z"], "instance_id": ["1"],
        "interval_start_time": pa.array([start], pa.timestamp("us", tz="UTC")),
        "interval_end_time": ["2024-08-01 23:59:59 UTC"], "uptime": [None],
    })  # fmt: skip
    rows, rejected = conform_batch(fxci_table("worker_metrics_v1"), batch, today=TODAY)
    (row,) = rows.to_pylist()
    assert rejected == []
    assert (row["submission_date"], row["uptime"], row["cloud_provider"]) == (
        date(2024, 8, 1),
        None,
        None,
    )


def test_missing_key_values_and_columns_are_named() -> None:
    costs = fxci_table("worker_costs_v1")
    batch = pa.table({
        "project": ["p", None], "name": ["n", "n"], "instance_id": ["1", "2"],
        "usage_start_date": ["2024-08-01", "2024-08-01"], "zone": [None, "z"],
    })  # fmt: skip
    rows, rejected = conform_batch(costs, batch, today=TODAY)
    assert [(r.index, r.reason) for r in rejected] == [(1, "project is missing")]
    assert rows.to_pylist()[0]["zone"] == ""  # as `costs` stores a row without a zone
    assert missing_columns(costs, ["project", "name"]) == ["instance_id", "usage_start_date"]
    with pytest.raises(BadRequest, match="no fxci-etl table 'tasks_v1'"):
        fxci_table("tasks_v1")
