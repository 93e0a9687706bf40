"""Task status and definitions → rows: the function the CI-cost task-group scan shares."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster import (
    definition_row,
    parse_time,
    rows_from_task_status,
    task_row_from_definition,
)
from tests.support.recorded_http import fixtures_dir

DAY = date(2026, 5, 2)
HUDDLER = fixtures_dir() / "hgpush" / "taskhuddler"
DEFINITIONS = fixtures_dir() / "taskcluster" / "pulse-messages"


def test_rows_from_task_status_list_task_group_entry() -> None:
    (entry,) = json.loads((HUDDLER / "listTaskGroup.failed.json").read_text())["tasks"]
    task, runs = rows_from_task_status(entry["status"], entry["task"], submitted=DAY)
    assert task["task_queue_id"] == "aws-provisioner-v1/gecko-3-b-linux"
    assert task["priority"] is None  # the 2017 status has none; the definition's is elsewhere
    assert [(r["run_id"], r["state"], r["worker_id"]) for r in runs] == [
        (0, "failed", "i-0b876716847542088")
    ]
    assert runs[0]["started"] == datetime(2017, 10, 26, 1, 15, 55, 411000, tzinfo=UTC)


def test_rows_from_task_status_unscheduled_has_no_runs() -> None:
    (entry,) = json.loads((HUDDLER / "listTaskGroup.unscheduled.json").read_text())["tasks"]
    task, runs = rows_from_task_status(entry["status"], entry["task"], submitted=DAY)
    assert runs == [] and task["task_id"] == entry["status"]["taskId"]


def test_rows_from_task_status_missing_field_and_run() -> None:
    (entry,) = json.loads((HUDDLER / "listTaskGroup.missing.json").read_text())["tasks"]
    _, runs = rows_from_task_status(entry["status"], submitted=DAY)
    assert (runs[0]["started"], runs[0]["resolved"]) == (None, None)
    broken = {k: v for k, v in entry["status"].items() if k != "taskGroupId"}
    with pytest.raises(SourceError, match="lacks taskGroupId"):
        rows_from_task_status(broken, submitted=DAY)
    with pytest.raises(SourceError, match=r"runId 3 is not in status\.runs"):
        rows_from_task_status(entry["status"], submitted=DAY, run_ids=[3])


def test_definition_row_and_task_row_from_definition() -> None:
    definitions = json.loads(
        (DEFINITIONS / "treeherder_taskcluster_task_definitions_2019.json").read_text()
    )
    task = definitions["A35mWTRuQmyj88yMnIF0fA"]
    row = definition_row("A35mWTRuQmyj88yMnIF0fA", task, submitted=DAY)
    assert row["task_queue_id"] == "aws-provisioner-v1/gecko-t-linux-large"
    assert row["dependencies"] == ["ZyNAZZR0SmOcgqC_k_wqsQ", "fwecfu9zRiyF2tPxq29EAQ"]
    assert row["created"] == datetime(2019, 6, 26, 19, 13, 51, 402000, tzinfo=UTC)
    assert row["metadata"]["name"] == "test-linux64-qr/debug-mochitest-a11y-1proc"  # type: ignore[index]
    tasks = task_row_from_definition("A35mWTRuQmyj88yMnIF0fA", task, submitted=DAY)
    assert (tasks["kind"], tasks["os"]) == (task["tags"]["kind"], task["tags"]["os"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-08-01 00:00:00 UTC", datetime(2024, 8, 1, tzinfo=UTC)),  # BigQuery CSV
        ("2021-04-20T03:52:24.713+00:00", datetime(2021, 4, 20, 3, 52, 24, 713000, tzinfo=UTC)),
        (123, datetime(1970, 1, 1, 0, 2, 3, tzinfo=UTC)),
        (datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC)),
        (None, None),
    ],
)
def test_parse_time_forms(value: object, expected: datetime | None) -> None:
    assert parse_time(value, field="t") == expected


def test_parse_time_rejects_garbage() -> None:
    with pytest.raises(SourceError, match="resolved: 'soon' is not an ISO 8601 time"):
        parse_time("soon", field="resolved")
