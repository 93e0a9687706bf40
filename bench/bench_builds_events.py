"""`shipgauge builds consume --from amqp`: EVENTS S3 event notifications through RabbitMQ.

Each message is a MinIO bucket notification (the format of tests/integration/builds) for one
buildhub.json that the local S3 stand-in of _builds.py serves (its own process); one document in
100 is refused (a dead letter). The messages are published to RabbitMQ (127.0.0.1:5672) before
the consumer starts; messages/s of `consume_amqp` (batches of 200, each committed, then acked)
into a DuckDB store, and the consuming process's peak RSS at EVENTS and at a tenth of it, each
size in a fresh interpreter of its own. Target (issue 21): peak RSS < 512 MB at both sizes,
within 10 % of each other. EVENTS defaults to 5,000 (`BENCH_BUILDS_EVENTS` to change it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kombu import Connection  # type: ignore[attr-defined]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _builds import BUCKET, document, etag, key, refused, s3_stand_in
from _common import in_child, ingest_figures, peak_rss_mb, report, timed_cpu

from shipgauge.connectors.amqp import AmqpConsumer, Binding, publish
from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.connectors.s3 import S3Connector
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.events import consume_amqp
from shipgauge.store import Store

EVENTS = int(os.environ.get("BENCH_BUILDS_EVENTS", "5000"))
# As tests/conftest.py: the URL, else loopback on SHIPGAUGE_AMQP_PORT.
AMQP_PORT = int(os.environ.get("SHIPGAUGE_AMQP_PORT") or 5672)
AMQP_URL = os.environ.get("SHIPGAUGE_AMQP_URL") or f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}//"


def notification(n: int) -> bytes:
    """MinIO's notification of document `n` landing in the bucket (keys URL-encoded)."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventTime": "2018-05-10T18:02:17.000Z",
        "eventName": "s3:ObjectCreated:Put",
        "s3": {
            "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
            "object": {"key": quote(key(n), safe=""), "size": 1200, "eTag": etag(document(n))},
        },
    }
    return json.dumps(
        {"EventName": "s3:ObjectCreated:Put", "Key": f"{BUCKET}/{key(n)}", "Records": [record]}
    ).encode()


def _consumer(queue: str) -> AmqpConsumer:
    return AmqpConsumer(AMQP_URL, queue=queue, bindings=[Binding(queue, "#")])


def measure(s3_url: str, queue: str) -> dict[str, float]:
    """Consume every message of `queue` in this process: its figures, peak RSS included."""
    s3 = S3Connector(endpoint_url=s3_url, access_key_id="bench", secret_access_key="bench",
                     unsigned=False, retries=1)  # fmt: skip
    archive = ArchiveConnector(HttpConnector("http://127.0.0.1:9", name="archive", retries=0))
    connectors = BuildhubConnectors(s3, archive, BUCKET, BUCKET, ("devedition",))
    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "b.duckdb")) as store:
        result, seconds, cpu = timed_cpu(
            lambda: consume_amqp(store, connectors, _consumer(queue), idle_timeout_s=1.0)
        )
        stored = store.count("builds")
    connectors.close()
    return {
        "messages": result.messages,
        "inserted": result.inserted,
        "stored": stored,
        "dead_letters": result.dead_letters,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peak_rss_mb(),
    }


def run(events: int) -> dict[str, Any]:
    """Publish `events` notifications to a queue of their own, then consume them in a child."""
    queue = f"bench-builds-events-{uuid.uuid4().hex[:8]}"
    _consumer(queue).declare()
    try:
        publish(AMQP_URL, queue, (("s3.put", notification(n)) for n in range(events)))
        with s3_stand_in(events) as url:
            figures: dict[str, Any] = in_child(__file__, url, queue)
    finally:
        with Connection(AMQP_URL) as conn:  # type: ignore[no-untyped-call]
            conn.default_channel.queue_delete(queue)
            conn.default_channel.exchange_delete(queue)
    assert figures["messages"] == events, figures
    assert figures["dead_letters"] == refused(events), figures
    return figures


def main() -> None:
    small, full = run(EVENTS // 10), run(EVENTS)
    report(
        "builds S3 events (AMQP)",
        **ingest_figures(small, full, "messages", "messages"),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(*sys.argv[1:])))
    else:
        main()
