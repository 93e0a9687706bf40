"""Fixtures for the Taskcluster ETL tests: an isolated Pulse setup per test on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shipgauge.config import load_settings
from shipgauge.sources.taskcluster import MESSAGE_KINDS
from tests.integration.taskcluster.taskcluster_setup import Pulse


@pytest.fixture
def make_pulse(amqp_url: str) -> Iterator[Any]:
    """Build a Pulse setup (all six Queue exchanges bound unless told otherwise), declared."""
    made: list[Pulse] = []

    def make(db: str = ":memory:", **overrides: Any) -> Pulse:
        tag = uuid.uuid4().hex[:10]
        settings = load_settings(
            db=db,
            amqp_url=amqp_url,
            taskcluster_exchange_prefix=f"exchange/test-{tag}/taskcluster-queue/v1/",
            taskcluster_exchanges=list(MESSAGE_KINDS),
            taskcluster_queue_name=f"tasks-{tag}",
            taskcluster_declare_exchanges=True,
            **overrides,
        )
        pulse = Pulse(settings)
        pulse.declare()
        made.append(pulse)
        return pulse

    yield make
    for pulse in made:
        pulse.delete()
