"""Fixtures of the commit-telemetry tests: the recorded upstreams and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shipgauge.config import Settings, load_settings
from shipgauge.connectors.amqp import AmqpConsumer, publish
from shipgauge.pipelines.telemetry import TelemetryServices, amqp_consumer
from tests.integration.telemetry.fake_mozilla import FakeMozilla, settings_overrides
from tests.support.recorded_http import RecordedHttpServer


@pytest.fixture
def mozilla(recorded_http: RecordedHttpServer) -> FakeMozilla:
    return FakeMozilla(recorded_http)


@pytest.fixture
def overrides(recorded_http: RecordedHttpServer) -> dict[str, Any]:
    """Setting values: every outside service at the recorded server, a private queue."""
    return settings_overrides(recorded_http.url)


@pytest.fixture
def settings(overrides: dict[str, Any]) -> Settings:
    return load_settings(**overrides)


@pytest.fixture
def services(settings: Settings) -> Iterator[TelemetryServices]:
    with TelemetryServices.from_settings(settings) as built:
        yield built


@pytest.fixture
def amqp_overrides(overrides: dict[str, Any], amqp_url: str) -> dict[str, Any]:
    return {**overrides, "amqp_url": amqp_url}


@pytest.fixture
def amqp_settings(amqp_overrides: dict[str, Any]) -> Settings:
    return load_settings(**amqp_overrides)


@pytest.fixture
def queue(amqp_settings: Settings) -> AmqpConsumer:
    """The test's hgpushes exchange and durable queue, declared and bound (Pulse declares the
    exchange; the consumer only checks it exists)."""
    publish(amqp_settings.amqp_url, amqp_settings.telemetry_exchange, [])
    consumer = amqp_consumer(amqp_settings)
    consumer.declare()
    return consumer
