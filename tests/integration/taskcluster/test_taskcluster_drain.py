"""Recorded Pulse messages through a real RabbitMQ into the store, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shipgauge.pipelines.taskcluster import drain_pulse, pulse_consumer
from shipgauge.pipelines.taskcluster import pulse as pulse_module
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.taskcluster.taskcluster_setup import PULSE, Pulse, recorded_stream
from tests.support.taskcluster_messages import synthetic_messages


def _drain(store: Store, pulse: Pulse) -> Any:
    return drain_pulse(
        store=store, consumer=pulse_consumer(pulse.settings), threshold=0, idle_timeout_s=0.5
    )


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "tasks": store.query("SELECT * FROM tasks ORDER BY task_id").rows,
        "task_runs": store.query("SELECT * FROM task_runs ORDER BY task_id, run_id").rows,
        "dead_letters": store.query(
            "SELECT id, source, key, error FROM dead_letters ORDER BY id"
        ).rows,
    }


def test_drain_pulse_recorded_messages_exact_rows(store: Store, make_pulse: Any) -> None:
    pulse = make_pulse()
    stream = recorded_stream()
    assert pulse.publish(stream) == 98
    result = _drain(store, pulse)
    assert (result.messages, result.dead_letters) == (98, 2)
    assert pulse.depth() == 0  # everything acked, dead letters included
    assert store.count("tasks") == 95 and store.count("task_runs") == 95
    run = store.query("SELECT * FROM task_runs WHERE task_id = 'B3EheQ-IQ5aPzw34KS_a6g'").dicts()[0]
    today = datetime.now(UTC).date()
    assert run == {
        "task_id": "B3EheQ-IQ5aPzw34KS_a6g",
        "run_id": 0,
        "state": "completed",
        "reason_created": "scheduled",
        "reason_resolved": "completed",
        "worker_group": "mdc2",
        "worker_id": "t-mojave-r7-153",
        "scheduled": datetime(2019, 6, 26, 19, 26, 10, 905000, tzinfo=UTC),
        "started": datetime(2019, 6, 26, 19, 27, 48, 307000, tzinfo=UTC),
        "resolved": datetime(2019, 6, 26, 19, 36, 10, 521000, tzinfo=UTC),
        "taken_until": datetime(2019, 6, 26, 19, 47, 48, 234000, tzinfo=UTC),
        "submission_date": today,
    }
    task = store.query(
        "SELECT task_queue_id, provisioner_id, worker_type, kind, label, os, created_for_user,"
        " worker_implementation, project_id, tags FROM tasks"
        " WHERE task_id = 'W2SMZ3bYTeanBq-WNpUeHA'"
    ).rows[0]
    assert task[:9] == (
        "gecko-t/t-linux-xlarge",
        "gecko-t",
        "t-linux-xlarge",
        "test",
        "test-linux64-shippable/opt-awsy-tp6-e10s",
        "linux",
        "ttung@mozilla.com",
        "docker-worker",
        None,
    )
    tags = task[9] if isinstance(task[9], dict) else json.loads(task[9])  # PG decodes JSON
    assert tags["retrigger"] == "true"
    # pending then running of one task (FuzzManager): the run ends up running.
    fuzz = store.query(
        "SELECT state, worker_id, taken_until FROM task_runs"
        " WHERE task_id = 'bQH-9tlpRXa8_qa9OVBBFw'"
    ).rows
    assert fuzz == [
        ("running", "5287870404102452225", datetime(2021, 4, 20, 3, 52, 24, 713000, tzinfo=UTC))
    ]
    errors = [e for _, _, _, e in _dump(store)["dead_letters"]]
    assert any("task-failed message fails its schema" in e for e in errors)
    assert any('"bugbug-test-select" does not match' in e for e in errors)


def test_drain_pulse_replay_changes_nothing_and_never_goes_back(
    store: Store, make_pulse: Any
) -> None:
    pulse = make_pulse()
    stream = recorded_stream()
    pulse.publish(stream)
    _drain(store, pulse)
    before = _dump(store)
    pulse.publish(stream)  # the whole stream again
    pulse.publish(list(reversed(stream)))  # and backwards: every run goes "back" in time
    result = _drain(store, pulse)
    assert result.messages == 2 * len(stream)
    assert _dump(store) == before


def test_drain_pulse_bad_messages_are_dead_letters_and_the_rest_flows(
    store: Store, make_pulse: Any
) -> None:
    pulse = make_pulse()
    good = json.loads(
        (PULSE / "fuzzmanager_community_tc_pulse_messages_2021_2022.json").read_text()
    )
    completed = good["task-completed"]["payload"]
    no_run = {k: v for k, v in completed.items() if k != "runId"}
    exchange = "exchange/taskcluster-queue/v1/task-completed"
    pulse.publish(
        [
            (exchange, "primary.x", b"this is not json"),
            (exchange, "primary.x", json.dumps(no_run).encode()),
            (exchange, "primary.x", json.dumps(completed).encode()),
        ]
    )
    result = _drain(store, pulse)
    assert (result.messages, result.dead_letters, pulse.depth()) == (3, 2, 0)
    letters = store.query("SELECT key, error, payload FROM dead_letters ORDER BY error").rows
    assert [k for k, _, _ in letters] == [
        pulse.settings.taskcluster_exchange_prefix + "task-completed"
    ] * 2
    assert letters[0][1].startswith("message is not JSON")
    assert bytes(letters[0][2]) == b"this is not json"  # kept byte for byte
    assert "fails its schema" in letters[1][1] and "runId" in letters[1][1]
    assert store.query("SELECT state FROM task_runs").rows == [("completed",)]


def test_cli_drain_and_retry_dead_letters(duckdb_url: str, make_pulse: Any) -> None:
    pulse = make_pulse(duckdb_url)
    pulse.publish(recorded_stream())
    done = run_cli(
        "taskcluster", "drain", "--threshold", "0", "--json", db=duckdb_url, env=pulse.env
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert (counts["messages"], counts["tasks"], counts["dead_letters"]) == (98, 96, 2)
    retried = run_cli("dead-letters", "retry", "--source", "taskcluster.pulse", db=duckdb_url)
    assert retried.returncode == 1  # still schema-invalid: stays a dead letter, says why
    assert "ingested 0, still failing 2" in retried.stdout


def test_drain_pulse_stops_below_the_threshold(
    duckdb_url: str, make_pulse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pulse_module, "DEPTH_CHECK_EVERY_S", 0.1)
    pulse = make_pulse(duckdb_url, taskcluster_batch_size=100, taskcluster_prefetch=200)
    pulse.publish(synthetic_messages(10_000))
    with Store.open(duckdb_url) as store:
        result = drain_pulse(
            store=store, consumer=pulse_consumer(pulse.settings), threshold=1000, idle_timeout_s=5
        )
    left = pulse.depth()  # fewer than 1,000 were ready; prefetched ones went back
    assert 0 < left <= 1000 + 200
    assert result.messages == 10_000 - left
