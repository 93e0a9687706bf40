"""Bucket notifications (MinIO/Ceph format) through real RabbitMQ, in both event orders."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from shipgauge.connectors.amqp import AmqpConsumer, Binding, publish
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.events import consume_amqp
from shipgauge.store import Store
from tests.integration.builds.conftest import (
    load_fixture,
    local_url,
    serve_archive,
    stored_records,
)
from tests.support.recorded_http import RecordedHttpServer

SCENARIO = next(
    c for c in load_fixture("buildhub1/lambda-s3-event-scenarios.json")["classes"]
    if c["name"] == "FromArchiveFirefox"
)  # fmt: skip
ARCHIVE_KEY = "pub/firefox/releases/54.0/win64/fr/Firefox Setup 54.0.exe"
METADATA_KEY = "pub/firefox/candidates/54.0-candidates/build2/win64/en-US/firefox-54.0.json"
EXPECTED = next(t for t in SCENARIO["tests"] if t["name"] == "test_from_release_archive")


def _minio_event(key: str) -> bytes:
    """A MinIO bucket notification: keys URL-encoded, EventName/Key at the top."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventTime": "2017-08-08T17:06:52.030Z",
        "eventName": "s3:ObjectCreated:Put",
        "s3": {
            "bucket": {"name": "delivery", "arn": "arn:aws:s3:::delivery"},
            "object": {"key": quote(key, safe=""), "size": 51001024, "eTag": "abc"},
        },
    }
    return json.dumps(
        {"EventName": "s3:ObjectCreated:Put", "Key": f"delivery/{key}", "Records": [record]}
    ).encode()


@pytest.mark.parametrize("archive_first", [True, False], ids=["archive-first", "metadata-first"])
def test_both_event_orders_give_the_same_record(
    archive_first: bool,
    amqp_url: str,
    recorded_http: RecordedHttpServer,
    connectors: BuildhubConnectors,
    duckdb_url: str,
) -> None:
    exchange = f"buildhub-test-{uuid.uuid4().hex[:8]}"
    consumer = AmqpConsumer(
        amqp_url, queue=f"buildhub-test-{uuid.uuid4().hex[:8]}", bindings=[Binding(exchange, "#")]
    )
    consumer.declare()
    first, second = (ARCHIVE_KEY, METADATA_KEY) if archive_first else (METADATA_KEY, ARCHIVE_KEY)
    with Store.open(duckdb_url) as store:
        if not archive_first:
            serve_archive(recorded_http, SCENARIO["archive_responses"])
        publish(amqp_url, exchange, [("s3.put", _minio_event(first))])
        consume_amqp(store, connectors, consumer, idle_timeout_s=0.5)
        pending = store.count("builds_pending")
        assert (pending, store.count("builds")) == ((1, 0) if archive_first else (0, 0))
        if archive_first:  # the metadata lands on the archive after the archive did
            serve_archive(recorded_http, SCENARIO["archive_responses"])
        publish(amqp_url, exchange, [("s3.put", _minio_event(second))])
        done = consume_amqp(store, connectors, consumer, idle_timeout_s=0.5)
        records = stored_records(store)
        assert store.count("builds_pending") == 0
        assert consumer.queue_depth() == 0
        assert done.completed == (1 if archive_first else 0)
    expected: dict[str, Any] = local_url(EXPECTED["expected_records"][0]["data"], recorded_http.url)
    assert records == {expected.pop("id"): expected}


def test_replayed_events_change_nothing(
    amqp_url: str, recorded_http: RecordedHttpServer, connectors: BuildhubConnectors, tmp_path: Path
) -> None:
    serve_archive(recorded_http, SCENARIO["archive_responses"])
    exchange = f"buildhub-test-{uuid.uuid4().hex[:8]}"
    consumer = AmqpConsumer(
        amqp_url, queue=f"q-{uuid.uuid4().hex[:8]}", bindings=[Binding(exchange, "#")]
    )
    consumer.declare()
    with Store.open(str(tmp_path / "s.duckdb")) as store:
        publish(
            amqp_url, exchange, [("s3.put", _minio_event(ARCHIVE_KEY))] * 3 + [("s3.put", b"{oops")]
        )
        total = consume_amqp(store, connectors, consumer, idle_timeout_s=0.5)
        assert (total.messages, total.inserted, total.dead_letters) == (4, 2, 1)
        assert store.count("builds") == 2  # firefox 54.0 release and its beta copy
        assert store.query("SELECT source FROM dead_letters").rows == [("buildhub.s3-event",)]
