"""No loss, no doubles: the consumer SIGKILLed mid-batch, and RabbitMQ restarted mid-run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipgauge.pipelines.taskcluster import PulseResult, drain_pulse, pulse_consumer
from shipgauge.store import Store
from tests.conftest import RABBIT_NODE, run_cli
from tests.integration.taskcluster.taskcluster_setup import Pulse
from tests.support.taskcluster_messages import final_state, synthetic_messages, task_id

MESSAGES = 10_000  # 5,000 tasks: task-defined + the resolved run of each
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"


def _assert_complete(store: Store) -> None:
    """Every task and run exactly once, each run in its final state (nothing lost)."""
    tasks = MESSAGES // 2
    assert store.count("tasks") == tasks
    runs = dict(store.query("SELECT task_id, state FROM task_runs").rows)
    assert len(runs) == tasks == store.count("task_runs")
    assert runs == {task_id(i): final_state(i) for i in range(tasks)}
    assert store.count("dead_letters") == 0


def _publish_all(pulse: Pulse) -> None:
    assert pulse.publish(synthetic_messages(MESSAGES)) == MESSAGES
    deadline = time.monotonic() + 30
    while pulse.depth() < MESSAGES and time.monotonic() < deadline:  # the broker lags a little
        time.sleep(0.05)
    assert pulse.depth() == MESSAGES


def _start_drain(db: str, pulse: Pulse) -> subprocess.Popen[bytes]:
    command = ["taskcluster", "drain", "--threshold", "0"]
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "shipgauge"), "--db", db, *command],
        env={**os.environ, **pulse.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_drain_sigkill_mid_batch_then_restart_loses_and_doubles_nothing(
    store_url: str, make_pulse: Any
) -> None:
    Store.open(store_url).close()  # migrate before the drain process opens it
    pulse = make_pulse(store_url, taskcluster_batch_size=1000, taskcluster_prefetch=2000)
    _publish_all(pulse)
    drain = _start_drain(store_url, pulse)
    # Once the queue is 3,000 below full, at least one batch was committed and acked (prefetch
    # 2,000 + batch 1,000); the next one is being parsed or written when the kill lands.
    deadline = time.monotonic() + 60
    while pulse.depth() > MESSAGES - 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    drain.send_signal(signal.SIGKILL)
    assert drain.wait(10) == -signal.SIGKILL
    with Store.open(store_url) as store:
        partial = store.count("task_runs")
    assert 0 < partial < MESSAGES // 2  # killed mid-run, with work committed
    assert pulse.depth() > 0
    again = run_cli(
        "taskcluster", "drain", "--threshold", "0", "--json", db=store_url, env=pulse.env
    )
    assert again.returncode == 0, again.stderr
    with Store.open(store_url) as store:
        _assert_complete(store)
        # The killed batch came back and was absorbed: more messages handled than published.
        queue = pulse_consumer(pulse.settings).queue_name
        assert int(store.checkpoint(f"taskcluster.pulse:{queue}") or 0) >= MESSAGES


def _rabbitmqctl(command: str) -> None:
    subprocess.run(
        [RABBITMQCTL, "-n", RABBIT_NODE, command], check=True, capture_output=True, timeout=60
    )


@pytest.fixture
def broker_back_up() -> Iterator[None]:
    """Whatever the test does, RabbitMQ is running again when it ends."""
    yield
    _rabbitmqctl("start_app")  # a no-op when it already runs


def test_drain_survives_broker_restart_mid_run(
    duckdb_url: str, make_pulse: Any, broker_back_up: None
) -> None:
    pulse = make_pulse(duckdb_url, taskcluster_batch_size=500, taskcluster_prefetch=1000)
    _publish_all(pulse)
    first_batch = threading.Event()
    outcome: dict[str, Any] = {}

    def on_batch(result: PulseResult) -> None:
        first_batch.set()
        time.sleep(0.01)  # slow enough that the restart lands mid-run

    def run() -> None:
        with Store.open(duckdb_url) as store:
            try:
                outcome["result"] = drain_pulse(
                    store=store,
                    consumer=pulse_consumer(pulse.settings),
                    threshold=0,
                    idle_timeout_s=3.0,
                    on_batch=on_batch,
                )
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert first_batch.wait(60)
        _rabbitmqctl("stop_app")
        time.sleep(1.0)
    finally:
        _rabbitmqctl("start_app")
    worker.join(180)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")
    result: PulseResult = outcome["result"]
    assert result.reconnects >= 1
    assert pulse.depth() == 0
    with Store.open(duckdb_url) as store:
        _assert_complete(store)
