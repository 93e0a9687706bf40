"""One store, many processes: the Taskcluster drain rate with 1, 2 and 4 consumer processes on
PostgreSQL, and the API's p95 latency while another process loads an S3 inventory (against the
same API idle) on the DuckDB default file, where processes take turns, and on PostgreSQL.

Drain: SHIPGAUGE_BENCH_PROCESSES_MESSAGES synthetic task messages (default 100,000) are published
once to a queue per consumer count; each count drains its own copy into a fresh PostgreSQL
schema. The consumers are `drain_pulse` in processes of their own (what `shipgauge taskcluster
drain` runs), each started and connected to the store before the clock starts; the rate counts
from "go" to the last commit of any of them. Batches of 1,000 with a prefetch of 2,000 (the
defaults, 5,000 and 10,000, would hand a small queue to the first consumer alone).

API: one client sends requests one after another (health, the build count, a delivery event)
to a real `shipgauge serve`, first for SHIPGAUGE_BENCH_PROCESSES_IDLE_S seconds (default 10)
with nothing else running, then while `shipgauge builds inventory` loads a synthetic inventory
of SHIPGAUGE_BENCH_PROCESSES_INVENTORY_ROWS rows (default 2,000,000; its archive metadata served
by a local server) in its own process. Target: p95 under load <= 3x idle.

Environment: also SHIPGAUGE_PG_URL, SHIPGAUGE_AMQP_URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import amqp
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import PG_URL, report
from _server import shipgauge_server
from bench_builds_inventory import archive_server, write_archive, write_inventory

from shipgauge.config import Settings, load_settings
from shipgauge.connectors.amqp import connection
from shipgauge.pipelines.taskcluster import drain_pulse, pulse_consumer
from shipgauge.sources.taskcluster import MESSAGE_KINDS
from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.support.taskcluster_messages import synthetic_messages

MESSAGES = int(os.environ.get("SHIPGAUGE_BENCH_PROCESSES_MESSAGES", "100000"))
INVENTORY_ROWS = int(os.environ.get("SHIPGAUGE_BENCH_PROCESSES_INVENTORY_ROWS", "2000000"))
IDLE_S = float(os.environ.get("SHIPGAUGE_BENCH_PROCESSES_IDLE_S", "10"))
AMQP_URL = os.environ.get("SHIPGAUGE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
CONSUMERS = (1, 2, 4)
EXE = str(Path(sys.executable).parent / "shipgauge")


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, migrated; its URL. Dropped after."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        Store.open(url).close()
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# Drain rate by consumer count -------------------------------------------------------------


def _drain_settings(prefix: str, tag: str, n: int, db: str = ":memory:") -> Settings:
    return load_settings(
        db=db,
        amqp_url=AMQP_URL,
        taskcluster_exchange_prefix=prefix,
        taskcluster_exchanges=list(MESSAGE_KINDS),
        taskcluster_queue_name=f"bench-{tag}-{n}",
        taskcluster_declare_exchanges=True,
        taskcluster_batch_size=1000,
        taskcluster_prefetch=2000,
    )


def _publish(prefix: str) -> float:
    """MESSAGES persistent messages, once (every bound queue gets a copy); messages/s."""
    started = time.perf_counter()
    # py-amqp's TCP_USER_TIMEOUT of 1 s drops a publisher the broker throttles for longer.
    host = AMQP_URL.rpartition("@")[2].rstrip("/")
    with amqp.Connection(host, socket_settings={socket.TCP_USER_TIMEOUT: 60_000}) as conn:
        channel = conn.channel()
        for exchange, key, body in synthetic_messages(MESSAGES):
            message = amqp.Message(
                body, content_type="application/json", content_encoding="utf-8", delivery_mode=2
            )
            channel.basic_publish(message, prefix + exchange.rpartition("/")[2], key)
    return MESSAGES / (time.perf_counter() - started)


def drain_child() -> None:
    """One consumer process: settings from the environment; waits for "go" on stdin."""
    settings = load_settings()
    last_commit = [0.0]
    with Store.open(settings.db) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        cpu = time.process_time()  # from "go": the imports and the store's opening left out
        result = drain_pulse(
            store=store,
            consumer=pulse_consumer(settings),
            threshold=0,
            idle_timeout_s=2.0,
            on_batch=lambda _: last_commit.__setitem__(0, time.time()),
        )
    done = {
        "messages": result.messages,
        "last_commit": last_commit[0],
        "cpu_s": time.process_time() - cpu,
    }
    print(json.dumps(done), flush=True)


def _drain_with(settings: Settings, n: int) -> tuple[float, float, int]:
    """Drain the queue of `settings` with `n` processes: messages/s, CPU µs a message, tasks."""
    env = {
        **os.environ,
        "SHIPGAUGE_DB": settings.db,
        "SHIPGAUGE_AMQP_URL": AMQP_URL,
        "SHIPGAUGE_TASKCLUSTER_EXCHANGE_PREFIX": settings.taskcluster_exchange_prefix,
        "SHIPGAUGE_TASKCLUSTER_EXCHANGES": json.dumps(settings.taskcluster_exchanges),
        "SHIPGAUGE_TASKCLUSTER_QUEUE_NAME": settings.taskcluster_queue_name,
        "SHIPGAUGE_TASKCLUSTER_BATCH_SIZE": str(settings.taskcluster_batch_size),
        "SHIPGAUGE_TASKCLUSTER_PREFETCH": str(settings.taskcluster_prefetch),
    }
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "drain-child"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    started = time.time()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.communicate(timeout=3600)[0]) for child in children]
    messages = sum(r["messages"] for r in results)
    assert messages >= MESSAGES, results
    seconds = max(r["last_commit"] for r in results) - started
    cpu_us = sum(r["cpu_s"] for r in results) / MESSAGES * 1e6
    with Store.open(settings.db) as store:
        tasks = store.count("tasks")
    return MESSAGES / seconds, cpu_us, tasks


def bench_drain_curve() -> None:
    tag = uuid.uuid4().hex[:8]
    prefix = f"exchange/bench-{tag}/taskcluster-queue/v1/"
    queues = {n: _drain_settings(prefix, tag, n) for n in CONSUMERS}
    for settings in queues.values():
        pulse_consumer(settings).declare()
    rates: dict[int, float] = {}
    try:
        publish_rate = _publish(prefix)
        for n in queues:
            with pg_schema() as url:
                rate, cpu_us, tasks = _drain_with(_drain_settings(prefix, tag, n, url), n)
            rates[n] = rate
            report(
                f"store processes drain x{n} [postgres]",
                messages=f"{MESSAGES:,}",
                stored_msgs_per_s=f"{rate:,.0f}",
                vs_one=f"{rate / rates[1]:.2f}",
                cpu_us_per_msg=f"{cpu_us:.0f}",
                tasks=f"{tasks:,}",
                load_avg=f"{os.getloadavg()[0]:.1f}",
                publish_msgs_per_s=f"{publish_rate:,.0f}",
            )
    finally:
        with connection(AMQP_URL) as conn:
            channel = conn.channel()
            for settings in queues.values():
                channel.queue_delete(pulse_consumer(settings).queue_name)
            for kind in MESSAGE_KINDS:
                channel.exchange_delete(prefix + kind)


# API latency during an inventory load ---------------------------------------------------


def _sample(base: str, token: str, keep_going: Callable[[], bool]) -> tuple[list[float], int]:
    """Requests one after another while `keep_going()`: latencies (s) and failed requests."""
    latencies: list[float] = []
    failed = 0
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=120) as client:
        i = 0
        while keep_going():
            started = time.perf_counter()
            if i % 3 == 0:
                answer = client.get("/api/v1/health")
            elif i % 3 == 1:
                answer = client.get("/api/records")
            else:
                event = {"service": "bench", "kind": "push", "commits": [f"{i:040x}"]}
                answer = client.post("/api/v1/events", json=event, headers=auth)
            latencies.append(time.perf_counter() - started)
            failed += not answer.is_success
            i += 1
            time.sleep(0.01)
    return latencies, failed


def _p(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _api_during_inventory(db: str, folder: Path, manifest: Path, archive: str) -> None:
    with Store.open(db) as store:
        token = create_token(store, service="*", scopes=["events:write"])
        engine = store.engine.name
    with shipgauge_server(db) as base:
        _sample(base, token, _for(2.0))  # warm up
        idle, idle_failed = _sample(base, token, _for(IDLE_S))
        env = {**os.environ, "SHIPGAUGE_ARCHIVE_URL": archive,
               "SHIPGAUGE_BUILDHUB_CACHE_DIR": str(folder / f"cache-{engine}")}  # fmt: skip
        started = time.perf_counter()
        load = subprocess.Popen(
            [EXE, "--db", db, "builds", "inventory", str(manifest), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        busy, busy_failed = _sample(base, token, lambda: load.poll() is None)
        load_s = time.perf_counter() - started
        out = load.communicate()[0]
    assert load.returncode == 0, out
    rows = json.loads(out)["rows"]
    report(
        f"store processes API p95 [{engine}]",
        idle_p50_ms=f"{_p(idle, 0.5):.1f}",
        idle_p95_ms=f"{_p(idle, 0.95):.1f}",
        load_p50_ms=f"{_p(busy, 0.5):.1f}",
        load_p95_ms=f"{_p(busy, 0.95):.1f}",
        load_max_ms=f"{max(busy) * 1000:.0f}",
        ratio=f"{_p(busy, 0.95) / _p(idle, 0.95):.1f}",
        requests=f"{len(idle)}/{len(busy)}",
        failed=f"{idle_failed}/{busy_failed}",
        inventory_rows=f"{rows:,}",
        inventory_rows_per_s=f"{rows / load_s:,.0f}",
        target="p95 under load <= 3x idle",
    )


def _for(seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() < deadline


def bench_api_during_inventory() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, manifest = write_inventory(folder, INVENTORY_ROWS)
        write_archive(folder / "archive", INVENTORY_ROWS)
        with archive_server(folder / "archive") as archive:
            _api_during_inventory(str(folder / "shipgauge.duckdb"), folder, manifest, archive)
            with pg_schema() as url:
                _api_during_inventory(url, folder, manifest, archive)


def main() -> None:
    if sys.argv[1:] == ["drain-child"]:
        drain_child()
        return
    bench_drain_curve()
    bench_api_during_inventory()


if __name__ == "__main__":
    main()
