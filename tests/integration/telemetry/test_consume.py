"""telemetry consume over a real RabbitMQ, with hg, Bugzilla and ingestion recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipgauge.config import Settings
from shipgauge.connectors.amqp import AmqpConsumer, publish
from shipgauge.pipelines.telemetry import TelemetryServices, consume, resend
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.telemetry.fake_mozilla import (
    FakeMozilla,
    env_of,
    push_doc,
    serve_v1_recorded_message,
    serve_v2_test_message,
    v2_message,
)
from tests.support.recorded_http import RecordedHttpServer


def _publish(settings: Settings, *messages: tuple[str, bytes]) -> None:
    publish(settings.amqp_url, settings.telemetry_exchange, list(messages))


def _consume(store: Store, settings: Settings, queue: AmqpConsumer) -> Any:
    with TelemetryServices.from_settings(settings) as services:
        return consume(store=store, services=services, consumer=queue, idle_timeout_s=0.5)


def _letters(store: Store) -> list[tuple[str, str, str]]:
    rows = store.query("SELECT source, key, error FROM dead_letters ORDER BY source, key").rows
    return [tuple(r) for r in rows]


def test_consume_sends_the_exact_pings_of_v1_and_v2_messages_and_acks(
    store: Store, mozilla: FakeMozilla, amqp_settings: Settings, queue: AmqpConsumer
) -> None:
    v2_body, v2_pings = serve_v2_test_message(mozilla)
    v1_body, v1_pings = serve_v1_recorded_message(mozilla)
    _publish(amqp_settings, ("integration/autoland", v2_body), ("try", v1_body))
    result = _consume(store, amqp_settings, queue)
    assert (result.messages, result.pushes, result.pings.sent) == (2, 2, 3)
    received = {r.path.rsplit("/", 1)[1]: r.json() for r in mozilla.pings()}
    assert len(mozilla.pings()) == 3
    assert received["12345678-1234-5678-1234-567812345678"] == v2_pings[0]
    assert sorted(received.values(), key=lambda p: p["changesetID"]) == sorted(
        v2_pings + v1_pings, key=lambda p: p["changesetID"]
    )
    assert queue.queue_depth() == 0
    columns = "repo, status, review_system, rule, bug_id"
    stored = store.query(f"SELECT {columns} FROM hgpush_pings ORDER BY repo, changeset").rows
    assert [tuple(r) for r in stored] == [
        ("integration/autoland", "sent", "phabricator", "phabricator-attachment", 1463962),
        ("try", "sent", "unknown", "no-bug-number", None),
        ("try", "sent", "unknown", "no-bug-number", None),
    ]
    assert store.query("SELECT count(*) FROM pushes").scalar() == 2
    again = _consume(store, amqp_settings, queue)  # nothing left, nothing sent twice
    assert (again.messages, len(mozilla.pings())) == (0, 3)


def test_consume_no_send_prints_pings_and_leaves_every_message_queued(
    duckdb_url: str,
    mozilla: FakeMozilla,
    amqp_overrides: dict[str, Any],
    amqp_settings: Settings,
    queue: AmqpConsumer,
) -> None:
    v2_body, v2_pings = serve_v2_test_message(mozilla)
    v1_body, v1_pings = serve_v1_recorded_message(mozilla)
    _publish(amqp_settings, ("integration/autoland", v2_body), ("try", v1_body))
    assert queue.queue_depth() == 2
    done = run_cli(
        "telemetry", "consume", "--no-send", "--idle-timeout", "1",
        db=duckdb_url, env=env_of(amqp_overrides),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    key = lambda p: p["changesetID"]  # noqa: E731
    assert sorted(printed, key=key) == sorted(v2_pings + v1_pings, key=key)
    assert "nothing acknowledged" in done.stderr
    assert queue.queue_depth() == 2
    assert mozilla.pings() == []
    with Store.open(duckdb_url) as store:
        assert store.count("hgpush_pings") == store.count("pushes") == 0


def test_consume_dead_letters_bad_input_and_keeps_going(
    store: Store,
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    amqp_settings: Settings,
    queue: AmqpConsumer,
) -> None:
    good_body, good_pings = serve_v2_test_message(mozilla)
    bad_node = "ab" * 20
    mozilla.pushlog("integration/autoland", push_doc(70, [bad_node]), 69, 70)
    mozilla.json_rev("integration/autoland", bad_node, desc="No bug - x", pushdate=[-5, 0])
    mozilla.ingestion(bad_node)
    recorded_http.add("GET", "/no-such-repo/json-pushes", status=404, body={"error": "no repo"})
    _publish(
        amqp_settings,
        ("x", b'{"payload": {"neither": "v1 nor v2"}}'),
        ("x", v2_message("https://hg.mozilla.org/no-such-repo", 3)),
        ("x", v2_message("https://hg.mozilla.org/integration/autoland", 70)),
        ("x", json.dumps({"payload": {"type": "newrepo.1", "data": {}}}).encode()),
        ("integration/autoland", good_body),
    )
    result = _consume(store, amqp_settings, queue)
    assert (result.messages, result.skipped, result.dead_letters) == (5, 1, 2)
    assert (result.pings.sent, result.pings.invalid) == (1, 1)
    assert [p.json() for p in mozilla.pings()] == good_pings  # the invalid ping is not sent
    letters = _letters(store)
    assert [(s, k) for s, k, _ in letters] == [
        ("telemetry.ping", f"integration/autoland:{bad_node}"),
        ("telemetry.pulse", "no-such-repo:3"),
        ("telemetry.pulse", "x"),
    ]
    assert (
        letters[0][2]
        == "hgpush ping fails its schema at pushDate: -5 is less than the minimum of 0"
    )
    assert "HTTP 404" in letters[1][2]
    assert "neither hgpushes v1 nor v2" in letters[2][2]
    assert queue.queue_depth() == 0


def test_consume_keeps_a_failed_send_for_resend(
    store: Store,
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    amqp_settings: Settings,
    queue: AmqpConsumer,
) -> None:
    body, pings = serve_v2_test_message(mozilla)
    path = mozilla.ingestion(pings[0]["changesetID"], status=500)
    _publish(amqp_settings, ("integration/autoland", body))
    result = _consume(store, amqp_settings, queue)
    assert (result.pings.sent, result.pings.failed) == (0, 1)
    assert queue.queue_depth() == 0  # stored as failed, so acknowledged
    row = store.query("SELECT status, attempts, last_error FROM hgpush_pings").dicts()[0]
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "HTTP 500" in row["last_error"]
    recorded_http.add("PUT", path, body="OK")  # ingestion is back
    with TelemetryServices.from_settings(amqp_settings) as services:
        counts = resend(store=store, services=services)
    assert (counts.sent, counts.failed) == (1, 0)
    row = store.query("SELECT status, attempts, http_status FROM hgpush_pings").dicts()[0]
    assert (row["status"], row["attempts"], row["http_status"]) == ("sent", 2, 200)
    assert mozilla.pings()[-1].json() == pings[0]


def _wait(what: str, check: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_consume_killed_mid_push_pings_every_changeset_exactly_once(
    pg_schema_url: str,
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    amqp_overrides: dict[str, Any],
    amqp_settings: Settings,
    queue: AmqpConsumer,
) -> None:
    repo, first, second, stalled = "integration/autoland", "a1" * 20, "b1" * 20, "b2" * 20
    mozilla.pushlog(repo, push_doc(1, [first]), 0, 1)
    mozilla.pushlog(repo, push_doc(2, [second, stalled]), 1, 2)
    for node in (first, second, stalled):
        mozilla.json_rev(repo, node, desc="No bug - x")
        mozilla.ingestion(node)
    # the second changeset of push 2 hangs once: the consumer is killed while waiting for it
    record = {**mozilla.json_rev(repo, stalled, desc="No bug - x")}
    recorded_http.add("GET", f"/{repo}/json-rev/{stalled}", body=record, delay=30, times=1)
    url = "https://hg.mozilla.org/integration/autoland"
    _publish(amqp_settings, (repo, v2_message(url, 1)), (repo, v2_message(url, 2)))
    env = {**os.environ, **env_of(amqp_overrides)}
    cmd = [str(Path(sys.executable).parent / "shipgauge"), "--db", pg_schema_url, "telemetry",
           "consume", "--forever"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with Store.open(pg_schema_url) as store:
            sent = "SELECT count(*) FROM hgpush_pings WHERE status = 'sent'"
            _wait(
                "the stalled json-rev",
                lambda: bool(recorded_http.requests_to(f"/{repo}/json-rev/{stalled}")),
            )
            _wait("two pings committed", lambda: store.query(sent).scalar() == 2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            _wait("both messages back in the queue", lambda: queue.queue_depth() == 2)
            restarted = run_cli("telemetry", "consume", "--idle-timeout", "1",
                                db=pg_schema_url, env=env_of(amqp_overrides))  # fmt: skip
            assert restarted.returncode == 0, restarted.stderr
            assert store.query(sent).scalar() == 3
    finally:
        if proc.poll() is None:
            proc.kill()
    per_document = Counter(r.path for r in mozilla.pings())
    assert sorted(per_document.values()) == [1, 1, 1]
    assert queue.queue_depth() == 0
