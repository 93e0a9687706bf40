"""Pulse message parsing on the recorded messages and the upstream fxci-etl test cases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster import (
    MessageRows,
    normalize_tag_key,
    parse_message,
    parse_messages,
    rows_from_message,
)
from shipgauge.sources.taskcluster.pulse import recorded_messages
from tests.support.recorded_http import fixtures_dir

PULSE = fixtures_dir() / "taskcluster" / "pulse-messages"
DAY = date(2026, 5, 2)
PREFIX = "exchange/taskcluster-queue/v1/"


def _load(name: str) -> Any:
    return json.loads((PULSE / name).read_text())


def _parse(body: dict[str, Any], kind: str) -> MessageRows:
    return parse_message(json.dumps(body).encode(), exchange=PREFIX + kind, submitted=DAY)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_parse_message_legacy_completed_gives_task_and_run_rows() -> None:
    entry = _load("treeherder_taskcluster_pulse_messages_2019.json")["B3EheQ-IQ5aPzw34KS_a6g"]
    rows = _parse(entry["payload"], "task-completed")
    assert rows.task["task_queue_id"] == "releng-hardware/gecko-t-osx-1014"  # derived (legacy)
    assert rows.task["project_id"] is None and rows.task["tags"] is None
    assert rows.task["task_group_id"] == "EJAo7mQyRqS-jmzebhceFA"
    assert rows.task["scheduler_id"] == "gecko-level-3"
    assert rows.lacks_tags
    assert rows.runs == [
        {
            "task_id": "B3EheQ-IQ5aPzw34KS_a6g",
            "run_id": 0,
            "state": "completed",
            "reason_created": "scheduled",
            "reason_resolved": "completed",
            "worker_group": "mdc2",
            "worker_id": "t-mojave-r7-153",
            "scheduled": _utc("2019-06-26T19:26:10.905"),
            "started": _utc("2019-06-26T19:27:48.307"),
            "resolved": _utc("2019-06-26T19:36:10.521"),
            "taken_until": _utc("2019-06-26T19:47:48.234"),
            "submission_date": DAY,
        }
    ]


def test_parse_messages_every_recorded_treeherder_message_parses() -> None:
    data = _load("treeherder_taskcluster_pulse_messages_2019.json")
    items = [(body, exchange) for exchange, _, body in recorded_messages(data)]
    parsed, rejects = parse_messages(items, submitted=DAY)
    assert (len(parsed), rejects) == (91, [])
    states = [p.runs[0]["state"] for p in parsed]
    assert (states.count("pending"), states.count("running"), states.count("completed")) == (
        67,
        11,
        13,
    )


def test_parse_message_current_format_running_keeps_taken_until() -> None:
    entry = _load("fuzzmanager_community_tc_pulse_messages_2021_2022.json")["task-running"]
    rows = _parse(entry["payload"], "task-running")
    assert rows.task["task_queue_id"] == "proj-fuzzing/linux-pool7"
    assert rows.task["project_id"] == "none"
    (run,) = rows.runs
    assert (run["state"], run["worker_group"], run["worker_id"]) == (
        "running",
        "us-east1",
        "5287870404102452225",
    )
    assert run["taken_until"] == _utc("2021-04-20T03:52:24.713")
    assert run["resolved"] is None


def test_parse_message_exception_without_task_has_no_tags() -> None:
    entry = _load("fuzzmanager_community_tc_pulse_messages_2021_2022.json")["task-exception"]
    rows = _parse(entry["payload"], "task-exception")
    assert rows.lacks_tags and rows.task["kind"] is None
    assert rows.runs[0]["reason_resolved"] == "deadline-exceeded"


def test_parse_message_schema_violation_names_the_place() -> None:
    # Upstream test data: a top-level takenUntil the task-failed schema does not allow.
    entry = _load("fuzzmanager_community_tc_pulse_messages_2021_2022.json")["task-failed"]
    with pytest.raises(SourceError, match="task-failed message fails its schema at"):
        _parse(entry["payload"], "task-failed")
    messages = _load("code_review_task_completed_messages_2019.json")
    with pytest.raises(SourceError, match=r'at status\.taskId: "bugbug-test-select" does not'):
        _parse(messages[0]["body"], "task-completed")


def test_parse_message_known_tags_normalised_and_all_tags_kept() -> None:
    message = _load("code_review_task_completed_messages_2019.json")[1]["body"]
    task = _parse(message, "task-completed").task
    assert {k: task[k] for k in ("kind", "label", "os", "created_for_user")} == {
        "kind": "test",
        "label": "test-linux64-shippable/opt-awsy-tp6-e10s",
        "os": "linux",
        "created_for_user": "ttung@mozilla.com",
    }
    assert task["worker_implementation"] == "docker-worker"
    assert isinstance(task["tags"], str)  # JSON text, written as it is
    assert json.loads(task["tags"]) == message["task"]["tags"]  # retrigger too


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"status": "\\ud800"}', "not JSON"),
        (b'{"runId": 1e400}', "not JSON"),
    ],
)
def test_parse_message_rejects_hostile_bodies_as_dead_letters(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        parse_message(body, exchange=PREFIX + "task-completed", submitted=DAY)
    assert caught.value.field == "body"


def test_parse_message_rejects_bad_input() -> None:
    with pytest.raises(SourceError, match="not JSON"):
        parse_message(b"{nope", exchange=PREFIX + "task-completed", submitted=DAY)
    body = _load("fuzzmanager_community_tc_pulse_messages_2021_2022.json")["task-completed"]
    without_run = {k: v for k, v in body["payload"].items() if k != "runId"}
    with pytest.raises(SourceError, match="runId"):
        _parse(without_run, "task-completed")
    with pytest.raises(SourceError, match="no schema for exchange kind 'task-nope'"):
        _parse(body["payload"], "task-nope")


def test_parse_messages_raise_mode_stops_at_first_failure() -> None:
    with pytest.raises(SourceError):
        parse_messages([(b"[]", PREFIX + "task-defined")], submitted=DAY, on_error="raise")
    _, rejects = parse_messages([(b"[]", PREFIX + "task-defined")], submitted=DAY)
    assert rejects[0].exchange == PREFIX + "task-defined"
    assert "fails its schema" in rejects[0].error


# The upstream handler cases (docker-etl test_pulse_handler.py), as data in the fixtures.
CASES = _load("fxci_etl_test_cases.json")["pulse_handler"]


def test_rows_from_message_upstream_run0_normalises_four_tags() -> None:
    rows = rows_from_message(CASES["event_run0"], submitted=DAY)
    expected = CASES["cases"][1]["expect"]
    assert (1, len(rows.runs)) == (expected["task_records"], expected["run_records"])
    tags = {k: rows.task[k] for k in expected["normalized_tags"]}  # type: ignore[literal-required]
    assert tags == expected["normalized_tags"]
    assert sum(rows.task[k] is not None for k in tags) == expected["non_null_tags"]  # type: ignore[literal-required]
    assert rows.runs[0]["resolved"] == datetime.fromtimestamp(1, UTC)  # synthetic epoch values


def test_rows_from_message_upstream_run1_gives_task_row_too() -> None:
    # Upstream writes the task only from run 0; shipgauge takes it from any run (docs/upstream.md).
    message = json.loads(json.dumps(CASES["event_run0"]))
    message["runId"] = 1
    message["status"]["runs"].append(dict(message["status"]["runs"][0]))
    rows = rows_from_message(message, submitted=DAY)
    assert [r["run_id"] for r in rows.runs] == [1]
    assert rows.task["task_id"] == "abc"


def test_rows_from_message_upstream_task_defined_gives_no_run() -> None:
    rows = rows_from_message(CASES["task_defined_event"], submitted=DAY)
    assert rows.runs == [] and rows.task["task_queue_id"] == "prov/worker-type"
    assert not rows.lacks_tags  # its tags came with it: no definition fetch needed


def test_rows_from_message_upstream_empty_message_is_rejected() -> None:
    # Upstream ignores it (0 rows); here it becomes a dead letter, also with 0 rows.
    with pytest.raises(SourceError, match="no status"):
        rows_from_message({}, submitted=DAY)


@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("createdForUser", "created_for_user"),
        ("owned by", "owned_by"),
        ("trust-domain", "trust_domain"),
        ("worker-implementation", "worker_implementation"),
        ("test-suite", "test_suite"),
        ("kind", "kind"),
    ],
)
def test_normalize_tag_key_matches_fxci_etl(key: str, column: str) -> None:
    assert normalize_tag_key(key) == column
