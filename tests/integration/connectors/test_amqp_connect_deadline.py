"""An unreachable broker: every consumer gives up after `amqp_connect_deadline_s`, in one line."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shipgauge.config import Settings
from shipgauge.connectors.amqp import AmqpConsumer, BrokerUnreachable
from shipgauge.pipelines.builds.events import amqp_consumer as builds_consumer
from shipgauge.pipelines.taskcluster.pulse import drain_pulse, pulse_consumer
from shipgauge.pipelines.telemetry.consume import amqp_consumer as telemetry_consumer
from shipgauge.store import Store
from tests.conftest import free_port, run_cli

DEADLINE_S = 1.5
# A retry in flight when the deadline passes is cut short: the overshoot is a connect's length.
OVERSHOOT_S = 1.0


def _no_broker_settings(tmp_path: Path) -> Settings:
    # A port just bound and released: nothing listens there, so every connect is refused.
    return Settings(
        db=str(tmp_path / "store.duckdb"),
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}//",
        amqp_connect_deadline_s=DEADLINE_S,
    )


def test_drain_with_no_broker_gives_up_within_the_deadline(tmp_path: Path) -> None:
    settings = _no_broker_settings(tmp_path)
    with Store.open(settings.db) as store:
        started = time.monotonic()
        with pytest.raises(BrokerUnreachable, match="amqp_connect_deadline_s"):
            drain_pulse(store=store, consumer=pulse_consumer(settings), threshold=100)
        assert DEADLINE_S <= time.monotonic() - started < DEADLINE_S + OVERSHOOT_S


@pytest.mark.parametrize(
    "factory",
    [pulse_consumer, telemetry_consumer, builds_consumer],
    ids=["taskcluster", "telemetry", "builds"],
)
def test_every_consumer_honours_the_setting(
    factory: Callable[[Settings], AmqpConsumer], tmp_path: Path
) -> None:
    consumer = factory(_no_broker_settings(tmp_path))
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable, match=f"unreachable for {DEADLINE_S:g} s"):
        consumer.run(lambda batch: None)
    assert DEADLINE_S <= time.monotonic() - started < DEADLINE_S + OVERSHOOT_S


@pytest.mark.parametrize(
    "command",
    [
        ("taskcluster", "drain"),
        ("telemetry", "consume", "--no-send"),
        ("builds", "consume", "--from", "amqp"),
    ],
    ids=["taskcluster drain", "telemetry consume", "builds consume"],
)
def test_command_with_no_broker_ends_in_one_line(command: tuple[str, ...], tmp_path: Path) -> None:
    settings = _no_broker_settings(tmp_path)
    done = run_cli(
        *command,
        db=settings.db,
        env={
            "SHIPGAUGE_AMQP_URL": settings.amqp_url,
            "SHIPGAUGE_AMQP_CONNECT_DEADLINE_S": str(DEADLINE_S),
        },
    )
    assert done.returncode == 1, done.stderr
    # The last line is the error (a progress spinner may draw above it); no traceback.
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: AMQP broker amqp://***@127.0.0.1:")
    assert f"unreachable for {DEADLINE_S:g} s (amqp_connect_deadline_s)" in error
    assert "Traceback" not in done.stderr
