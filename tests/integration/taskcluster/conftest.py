"""Fixtures for the Taskcluster ETL tests: an isolated Pulse setup per test on the real broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kombu import Connection

from shipgauge.config import Settings, load_settings
from shipgauge.connectors.amqp import publish
from shipgauge.pipelines.taskcluster import pulse_consumer, recorded_messages
from shipgauge.sources.taskcluster import MESSAGE_KINDS, exchange_kind
from tests.support.recorded_http import fixtures_dir

PULSE = fixtures_dir() / "taskcluster" / "pulse-messages"
RECORDED = (
    "treeherder_taskcluster_pulse_messages_2019.json",
    "fuzzmanager_community_tc_pulse_messages_2021_2022.json",
    "code_review_task_completed_messages_2019.json",
)


def recorded_stream() -> list[tuple[str, str, bytes]]:
    """Every recorded message of the fixtures, in file order."""
    return [
        message
        for name in RECORDED
        for message in recorded_messages(json.loads((PULSE / name).read_text()))
    ]


@dataclass
class Pulse:
    """A queue and exchanges of this test only (a unique prefix), with its settings."""

    settings: Settings

    @property
    def env(self) -> dict[str, str]:
        """The same settings as environment variables, for a `shipgauge` subprocess."""
        s = self.settings
        return {
            "SHIPGAUGE_AMQP_URL": s.amqp_url,
            "SHIPGAUGE_TASKCLUSTER_EXCHANGE_PREFIX": s.taskcluster_exchange_prefix,
            "SHIPGAUGE_TASKCLUSTER_EXCHANGES": json.dumps(s.taskcluster_exchanges),
            "SHIPGAUGE_TASKCLUSTER_QUEUE_NAME": s.taskcluster_queue_name,
            "SHIPGAUGE_TASKCLUSTER_DECLARE_EXCHANGES": "true",
            "SHIPGAUGE_TASKCLUSTER_BATCH_SIZE": str(s.taskcluster_batch_size),
            "SHIPGAUGE_TASKCLUSTER_PREFETCH": str(s.taskcluster_prefetch),
        }

    def declare(self) -> None:
        pulse_consumer(self.settings).declare()

    def publish(self, messages: Iterable[tuple[str, str, bytes]]) -> int:
        """Publish `(exchange, routing_key, body)` to this test's copy of each exchange."""
        by_kind: dict[str, list[tuple[str, bytes]]] = {}
        for exchange, key, body in messages:
            by_kind.setdefault(exchange_kind(exchange), []).append((key, body))
        prefix = self.settings.taskcluster_exchange_prefix
        return sum(
            publish(self.settings.amqp_url, prefix + kind, items) for kind, items in by_kind.items()
        )

    def depth(self) -> int:
        return pulse_consumer(self.settings).queue_depth()

    def delete(self) -> None:
        """Remove this test's queue and exchanges from the broker."""
        s = self.settings
        with Connection(s.amqp_url, connect_timeout=10) as conn:
            channel = conn.channel()
            channel.queue_delete(pulse_consumer(s).queue_name)
            for kind in s.taskcluster_exchanges:
                channel.exchange_delete(s.taskcluster_exchange_prefix + kind)


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
