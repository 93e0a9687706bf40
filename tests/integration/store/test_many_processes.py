"""One PostgreSQL store and one RabbitMQ, many processes at once: two `shipgauge serve` (one of
them with two worker processes), three `shipgauge taskcluster drain` and two `shipgauge telemetry
consume`, while a client posts delivery events to both servers. Midway a drain, both telemetry
consumers, the one-worker server and a worker of the other server are SIGKILLed; the commands are
started again (uvicorn starts the worker again itself).

In the end every message is stored exactly once (as many rows as distinct messages say, the
queues empty, every consumer exited cleanly) and every event a server answered with a 2xx is
stored. Needs PostgreSQL and RabbitMQ: under CI=true it fails when they do not answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kombu import Connection  # type: ignore[attr-defined]

from shipgauge.config import load_settings
from shipgauge.connectors.amqp import publish
from shipgauge.pipelines.telemetry import amqp_consumer
from shipgauge.sources.hgpush_ping import document_id
from shipgauge.sources.taskcluster import MESSAGE_KINDS
from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.conftest import free_port
from tests.integration.taskcluster.taskcluster_setup import Pulse, recorded_stream
from tests.integration.telemetry.fake_mozilla import (
    INGESTION_PREFIX,
    FakeMozilla,
    env_of,
    push_doc,
    settings_overrides,
    v2_message,
)
from tests.support.recorded_http import RecordedHttpServer
from tests.support.taskcluster_messages import synthetic_messages

pytestmark = [pytest.mark.postgres, pytest.mark.amqp]

SYNTHETIC = 4000  # Taskcluster messages: 2,000 tasks, each defined then resolved
PUSHES = 40  # hg pushes of two changesets each
REPO = "integration/autoland"
EXE = str(Path(sys.executable).parent / "shipgauge")
STARTUP_S = 90  # a worker imports FastAPI, DuckDB and Arrow: slow on a busy 2-core machine
FINISH_S = 120
TASKS = "SELECT count(*) FROM tasks"
SENT = "SELECT count(*) FROM hgpush_pings WHERE status = 'sent'"
DRAIN = ("taskcluster", "drain", "--threshold", "0", "--idle-timeout", "3")
CONSUME = ("telemetry", "consume", "--forever")  # as a service runs it, until SIGTERM
DRAINS = [f"drain-{i}" for i in range(3)]
CONSUMERS = [f"consume-{i}" for i in range(2)]


@dataclass
class Fleet:
    """The `shipgauge` processes of the test, by name, each logging to its own file."""

    db: str
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [EXE, "--db", self.db, *args],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> bool:
        """SIGKILL `name`; whether it was still running (so killed midway)."""
        proc = self.procs[name]
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return running

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def wait_exit(self, names: list[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for name in names:
            try:
                code = self.procs[name].wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{name} still runs:\n{self.log(name)}") from None
            assert code == 0, f"{name} exited {code}:\n{self.log(name)}"

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait(what: str, check: Callable[[], bool], timeout_s: float = FINISH_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _worker_pids(supervisor: int) -> list[int]:
    """uvicorn's worker processes under `supervisor` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = []
    for pid in children:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(int(pid))
        except OSError:  # gone meanwhile
            continue
    return workers


@dataclass
class EventPoster:
    """Posts delivery events, one at a time, to each server in turn until stopped."""

    bases: list[str]
    token: str
    sent: set[str] = field(default_factory=set)
    accepted: dict[str, set[str]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=10) as client:
            i = 0
            while not self.stop.is_set():
                base = self.bases[i % len(self.bases)]
                event_id = f"ev-{i}"
                event = {"service": "web", "kind": "push", "event_id": event_id,
                         "commits": [f"{i:040x}"]}  # fmt: skip
                self.sent.add(event_id)
                try:
                    answer = client.post(f"{base}/api/v1/events", json=event, headers=headers)
                    if answer.is_success:
                        self.accepted.setdefault(base, set()).add(event_id)
                except httpx.TransportError:
                    pass  # that server is down: the event may or may not be stored
                i += 1
                time.sleep(0.01)


def _telemetry(mozilla: FakeMozilla, recorded_http: RecordedHttpServer) -> list[tuple[str, bytes]]:
    """PUSHES pushes of two changesets, their (slowed) json-rev answers and ingestion; the
    messages announcing them."""
    url = f"https://hg.mozilla.org/{REPO}"
    messages = []
    for push in range(1, PUSHES + 1):
        nodes = [f"{push:02x}{n:02x}" * 10 for n in (1, 2)]
        mozilla.pushlog(REPO, push_doc(push, nodes), push - 1, push)
        for node in nodes:
            record = mozilla.json_rev(REPO, node, desc="No bug - x")
            recorded_http.add("GET", f"/{REPO}/json-rev/{node}", body=record, delay=0.3)
            mozilla.ingestion(node)
        messages.append((REPO, v2_message(url, push)))
    return messages


@pytest.fixture
def brokers(amqp_url: str, recorded_http: RecordedHttpServer) -> Iterator[dict[str, Any]]:
    """A Taskcluster Pulse setup and a telemetry queue of this test only; their settings."""
    tag = uuid.uuid4().hex[:10]
    tc = load_settings(
        amqp_url=amqp_url,
        taskcluster_exchange_prefix=f"exchange/test-{tag}/taskcluster-queue/v1/",
        taskcluster_exchanges=list(MESSAGE_KINDS),
        taskcluster_queue_name=f"tasks-{tag}",
        taskcluster_declare_exchanges=True,
        taskcluster_batch_size=100,
        taskcluster_prefetch=200,
    )
    pulse = Pulse(tc)
    pulse.declare()
    overrides = {**settings_overrides(recorded_http.url), "amqp_url": amqp_url,
                 "telemetry_batch_size": 5}  # fmt: skip
    telemetry = load_settings(**overrides)
    publish(amqp_url, telemetry.telemetry_exchange, [])  # Pulse declares it; we are Pulse here
    amqp_consumer(telemetry).declare()
    yield {"pulse": pulse, "telemetry": telemetry, "env": {**pulse.env, **env_of(overrides)}}
    pulse.delete()
    with Connection(amqp_url, connect_timeout=10) as conn:  # type: ignore[no-untyped-call]
        channel = conn.channel()
        channel.queue_delete(amqp_consumer(telemetry).queue_name)
        channel.exchange_delete(telemetry.telemetry_exchange)


def test_servers_drains_and_consumers_killed_midway_store_everything_once(
    pg_schema_url: str,
    brokers: dict[str, Any],
    recorded_http: RecordedHttpServer,
    tmp_path: Path,
) -> None:
    pulse: Pulse = brokers["pulse"]
    telemetry = brokers["telemetry"]
    mozilla = FakeMozilla(recorded_http)
    with Store.open(pg_schema_url) as store:
        token = create_token(store, service="*", scopes=["events:write"])
        assert pulse.publish([*recorded_stream(), *synthetic_messages(SYNTHETIC)]) == 98 + SYNTHETIC
        publish(
            telemetry.amqp_url, telemetry.telemetry_exchange, _telemetry(mozilla, recorded_http)
        )
        fleet = Fleet(pg_schema_url, brokers["env"], tmp_path)
        bases = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
        poster = EventPoster(bases, token)
        posting = threading.Thread(target=poster.run, daemon=True)
        try:
            _run(fleet, store, bases, poster, posting)
        finally:
            poster.stop.set()
            fleet.stop_all()
        _check(store, pulse, telemetry, mozilla, poster)


def _serve(fleet: Fleet, name: str, base: str, *extra: str) -> None:
    fleet.start(name, "serve", "--port", base.rsplit(":", 1)[1], *extra)


def _run(
    fleet: Fleet, store: Store, bases: list[str], poster: EventPoster, posting: threading.Thread
) -> None:
    """Everything starts at once; each kind of process is killed midway and started again."""
    _serve(fleet, "server-a", bases[0], "--workers", "2")
    _serve(fleet, "server-b", bases[1])
    for name in CONSUMERS:
        fleet.start(name, *CONSUME)
    # drain-0 starts first, so it has committed batches (and holds unacked ones) when killed.
    fleet.start("drain-0", *DRAIN)
    _wait("drain-0's first batches", lambda: store.query(TASKS).scalar() >= 100)
    for name in DRAINS[1:]:
        fleet.start(name, *DRAIN)
    _wait("a fifth of the tasks", lambda: store.query(TASKS).scalar() >= SYNTHETIC // 10)
    assert fleet.kill("drain-0"), "drain-0 had already finished: make the workload larger"
    fleet.start("drain-0", *DRAIN)
    _wait("a quarter of the pings", lambda: store.query(SENT).scalar() >= PUSHES // 2)
    assert all([fleet.kill(name) for name in CONSUMERS]), "a consumer had exited"
    for name in CONSUMERS:
        fleet.start(name, *CONSUME)
    _wait("both servers", lambda: all(_healthy(b) for b in bases), STARTUP_S)
    posting.start()
    _kill_servers_midway(fleet, bases, poster)
    fleet.wait_exit(DRAINS, FINISH_S)
    _wait("every ping sent", lambda: store.query(SENT).scalar() == 2 * PUSHES)
    for name in CONSUMERS:
        fleet.procs[name].terminate()
    fleet.wait_exit(CONSUMERS, 30)
    _wait("server-b again", lambda: _healthy(bases[1]), STARTUP_S)
    _wait("server-a's new worker", lambda: len(_worker_pids(fleet.procs["server-a"].pid)) == 2)
    before = {b: len(poster.accepted[b]) for b in bases}
    _wait("events after the restarts", lambda: all(len(poster.accepted[b]) > before[b] + 5
                                                   for b in bases))  # fmt: skip
    poster.stop.set()
    posting.join(30)


def _kill_servers_midway(fleet: Fleet, bases: list[str], poster: EventPoster) -> None:
    """Once both servers accept events: SIGKILL server-b (started again at once) and one of
    server-a's two workers (uvicorn starts another)."""
    _wait("events on both", lambda: all(len(poster.accepted.get(b, ())) >= 5 for b in bases))
    assert fleet.kill("server-b")
    workers = _worker_pids(fleet.procs["server-a"].pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _serve(fleet, "server-b", bases[1])


def _check(
    store: Store, pulse: Pulse, telemetry: Any, mozilla: FakeMozilla, poster: EventPoster
) -> None:
    tasks = SYNTHETIC // 2 + 95  # the recorded stream holds 95 tasks and two bad messages
    assert store.count("tasks") == store.count("task_runs") == tasks
    letters = "SELECT source, count(*) FROM dead_letters GROUP BY source"
    assert dict(store.query(letters).rows) == {"taskcluster.pulse": 2}
    assert store.query("SELECT count(*) FROM pushes").scalar() == PUSHES
    pings = store.query("SELECT changeset, status FROM hgpush_pings").rows
    assert len(pings) == 2 * PUSHES and {s for _, s in pings} == {"sent"}
    # Each ping reached the ingestion, under its stable document id (a ping sent just before a
    # SIGKILL, not yet recorded as sent, is sent again under the same id).
    documents = {r.path.removeprefix(INGESTION_PREFIX) for r in mozilla.pings()}
    assert documents == {document_id(node) for node, _ in pings}
    assert pulse.depth() == 0
    assert amqp_consumer(telemetry).queue_depth() == 0
    stored = {r[0] for r in store.query("SELECT event_id FROM delivery_events").rows}
    accepted = set().union(*poster.accepted.values())
    assert all(poster.accepted.get(base) for base in poster.bases), poster.accepted.keys()
    assert accepted <= stored <= poster.sent
    assert store.query("SELECT count(DISTINCT event_id) FROM delivery_events").scalar() == len(
        stored
    )
    print(json.dumps({"events_sent": len(poster.sent), "accepted": len(accepted)}))
