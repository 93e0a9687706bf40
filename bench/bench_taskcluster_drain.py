"""Taskcluster drain: synthetic Pulse task messages from RabbitMQ into DuckDB, and task_run_costs.

Issue 4 targets: stored messages/s >= 0.5 x a bare kombu consumer (callback that only acks,
same queue contents, same prefetch, same transport, same run) and >= 10,000 messages/s on 2
cores; peak RSS under 512 MB, at all messages within 10 % of a tenth of them (issue 21); the
query time of task_run_costs over 10M runs.

Messages are published as the Queue publishes them (persistent, JSON in UTF-8, CC routes in
the headers): all of them to two durable queues (ours, the bare consumer's), a tenth of them to
a third. The consumers are timed only once the queues hold them all, so the publishing phase is
in no rate. Each drain runs in a process of its own (its peak RSS is the drain's alone); its
CPU per message counts every thread of that process (DuckDB's too), not the broker's.

Environment: SHIPGAUGE_BENCH_TASKCLUSTER_MESSAGES (default 1,000,000, the issue's workload;
persistent messages publish at 2-8k/s on 2 cores, so publishing alone takes 6-12 minutes),
SHIPGAUGE_BENCH_TASKCLUSTER_RUNS (default 10,000,000), SHIPGAUGE_AMQP_URL (or SHIPGAUGE_AMQP_PORT).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import amqp
from kombu import Consumer, Queue  # type: ignore[attr-defined]

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import in_child, peak_figures, peak_rss_mb, report, timed

from shipgauge.config import Settings, load_settings
from shipgauge.connectors.amqp import AmqpConsumer, connection
from shipgauge.pipelines.taskcluster import PulseResult, drain_pulse, pulse_consumer
from shipgauge.sources.taskcluster import MESSAGE_KINDS
from shipgauge.store import Store
from tests.support.taskcluster_messages import synthetic_messages

MESSAGES = int(os.environ.get("SHIPGAUGE_BENCH_TASKCLUSTER_MESSAGES", "1000000"))
RUNS = int(os.environ.get("SHIPGAUGE_BENCH_TASKCLUSTER_RUNS", "10000000"))
AMQP_URL = (
    os.environ.get("SHIPGAUGE_AMQP_URL")
    or f"amqp://guest:guest@127.0.0.1:{os.environ.get('SHIPGAUGE_AMQP_PORT') or 5672}//"
)
AMQP_HOST = AMQP_URL.rpartition("@")[2].rstrip("/")
PATIENT_SOCKET = {socket.TCP_USER_TIMEOUT: 60_000}


def _publish(prefix: str, messages: int) -> float:
    """Publish `messages` once (every queue bound to `prefix` gets a copy); returns messages/s."""
    started = time.perf_counter()
    # py-amqp's TCP_USER_TIMEOUT of 1 s drops a publisher that the broker throttles (credit
    # flow) for longer than that, which a loaded 2-core machine does.
    with amqp.Connection(AMQP_HOST, socket_settings=PATIENT_SOCKET) as conn:
        channel = conn.channel()
        for exchange, key, body in synthetic_messages(messages):
            kind = exchange.rpartition("/")[2]
            task_id = key.split(".")[1]
            message = amqp.Message(
                body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,  # persistent, as the Queue's PulsePublisher sends
                application_headers={"CC": [f"route.index.gecko.v2.autoland.{task_id}"]},
            )
            channel.basic_publish(message, prefix + kind, key)
    return messages / (time.perf_counter() - started)


def _wait_until_queued(messages: int, *consumers: AmqpConsumer) -> None:
    deadline = time.monotonic() + 120
    while any(c.queue_depth() < messages for c in consumers):
        if time.monotonic() > deadline:
            raise RuntimeError("the broker did not queue every published message in 2 minutes")
        time.sleep(0.5)


def _bare(queue: str, prefetch: int) -> tuple[float, float]:
    """A bare kombu consumer on our transport: ack each message, nothing else.

    Returns messages/s and CPU µs per message.
    """
    seen = 0

    def on_message(message: object) -> None:
        nonlocal seen
        seen += 1
        message.ack()  # type: ignore[attr-defined]

    with connection(AMQP_URL) as conn:
        channel = conn.channel()
        channel.basic_qos(0, prefetch, False)
        started, cpu = time.perf_counter(), time.process_time()
        queues = [Queue(queue, durable=True)]  # type: ignore[no-untyped-call]
        with Consumer(channel, queues=queues, on_message=on_message):  # type: ignore[no-untyped-call]
            while seen < MESSAGES:
                conn.drain_events(timeout=10)
        cpu_us = (time.process_time() - cpu) / MESSAGES * 1e6
        return MESSAGES / (time.perf_counter() - started), cpu_us


def _settings(prefix: str, queue: str, db: str = ":memory:") -> Settings:
    return load_settings(
        db=db,
        amqp_url=AMQP_URL,
        taskcluster_exchange_prefix=prefix,
        taskcluster_exchanges=list(MESSAGE_KINDS),
        taskcluster_declare_exchanges=True,
        taskcluster_queue_name=queue,
    )


def drain(prefix: str, queue: str) -> dict[str, float]:
    """`drain_pulse` of the queue into a fresh DuckDB file (run in a process of its own)."""
    last_commit = [0.0]

    def on_batch(_: PulseResult) -> None:
        last_commit[0] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(prefix, queue, str(Path(tmp) / "drain.duckdb"))
        with Store.open(settings.db) as store:
            started, cpu = time.perf_counter(), time.process_time()
            result = drain_pulse(
                store=store,
                consumer=pulse_consumer(settings),
                threshold=0,
                idle_timeout_s=10.0,  # a loaded broker pages persistent messages in from disk
                on_batch=on_batch,
            )
            return {
                "messages": result.messages,
                "rate": result.messages / (last_commit[0] - started),
                "cpu_us": (time.process_time() - cpu) / result.messages * 1e6,
                "tasks": store.count("tasks"),
                "runs": store.count("task_runs"),
                "peak_mb": peak_rss_mb(),
            }


def bench_drain() -> None:
    tag = uuid.uuid4().hex[:8]
    tenth_prefix = f"exchange/bench-{tag}-tenth/taskcluster-queue/v1/"
    prefix = f"exchange/bench-{tag}/taskcluster-queue/v1/"
    tenth = _settings(tenth_prefix, f"bench-{tag}-tenth")
    ours = _settings(prefix, f"bench-{tag}")
    bare = _settings(prefix, f"bare-{tag}")
    try:
        for settings in (tenth, ours, bare):
            pulse_consumer(settings).declare()
        _publish(tenth_prefix, MESSAGES // 10)
        publish_rate = _publish(prefix, MESSAGES)
        _wait_until_queued(MESSAGES // 10, pulse_consumer(tenth))
        _wait_until_queued(MESSAGES, pulse_consumer(ours), pulse_consumer(bare))
        bare_rate, bare_cpu_us = _bare(pulse_consumer(bare).queue_name, ours.taskcluster_prefetch)
        small = in_child(__file__, tenth_prefix, tenth.taskcluster_queue_name)
        full = in_child(__file__, prefix, ours.taskcluster_queue_name)
    finally:  # never leave a million messages (or this run's exchanges) in the broker
        with connection(AMQP_URL) as conn:
            channel = conn.channel()
            for settings in (tenth, ours, bare):
                channel.queue_delete(pulse_consumer(settings).queue_name)
            for kind in MESSAGE_KINDS:
                channel.exchange_delete(prefix + kind)
                channel.exchange_delete(tenth_prefix + kind)
    report(
        "taskcluster drain [duckdb]",
        messages=f"{full['messages']:,}",
        stored_msgs_per_s=f"{full['rate']:,.0f}",
        bare_kombu_msgs_per_s=f"{bare_rate:,.0f}",
        ratio=f"{full['rate'] / bare_rate:.2f}",
        load_avg=f"{os.getloadavg()[0]:.1f}",
        cpu_us_per_msg=f"{full['cpu_us']:.0f}",
        bare_cpu_us_per_msg=f"{bare_cpu_us:.0f}",
        publish_msgs_per_s=f"{publish_rate:,.0f}",
        tasks_runs=f"{full['tasks']:,}/{full['runs']:,}",
        **peak_figures(small["peak_mb"], full["peak_mb"]),
        target="10,000 msgs/s, ratio 0.5, RSS < 512 MB within 10 %",
    )


_SEED_RUNS = """
INSERT INTO tasks (task_id, task_group_id, scheduler_id, task_queue_id, provisioner_id,
                   worker_type, project_id, submission_date)
SELECT 'T' || i, 'G' || (i // 1000), 'gecko-level-3', 'gecko-t/t-linux-' || (i % 7),
       'gecko-t', 't-linux-' || (i % 7), 'none', DATE '2026-05-01' + CAST(i % 28 AS INTEGER)
FROM range({n}) AS r(i);
INSERT INTO task_runs (task_id, run_id, state, worker_group, worker_id, scheduled, started,
                       resolved, submission_date)
SELECT 'T' || i, 0, 'completed', 'us-central1-b', CAST(4000000000000000000 + i % 2000 AS VARCHAR),
       TIMESTAMPTZ '2026-05-01 00:00:00+00' + to_seconds(i // 4),
       TIMESTAMPTZ '2026-05-01 00:00:30+00' + to_seconds(i // 4),
       TIMESTAMPTZ '2026-05-01 00:10:30+00' + to_seconds(i // 4 + i % 600),
       DATE '2026-05-01' + CAST(i // 4 // 86400 AS INTEGER)
FROM range({n}) AS r(i);
INSERT INTO worker_costs
SELECT 'gcp', 'fxci-production-level1-workers', 'us-central1-b',
       CAST(4000000000000000000 + w AS VARCHAR), 'vm-' || w, DATE '2026-04-01' + CAST(d AS INTEGER),
       24.0, -2.0, 22.0
FROM range(2000) AS a(w), range(60) AS b(d);
INSERT INTO worker_metrics
SELECT 'fxci-production-level1-workers', 'us-central1-b', CAST(4000000000000000000 + w AS VARCHAR),
       TIMESTAMPTZ '2026-04-01 00:00:00+00' + to_days(CAST(d AS INTEGER)),
       TIMESTAMPTZ '2026-04-01 23:59:59+00' + to_days(CAST(d AS INTEGER)),
       80000.0, 'gcp', 'gcp_monitoring_instance_uptime', DATE '2026-04-01' + CAST(d AS INTEGER)
FROM range(2000) AS a(w), range(60) AS b(d);
"""


def bench_task_run_costs() -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(str(Path(tmp) / "costs.duckdb")) as store:
        with store.session() as conn:
            _, seed_s = timed(lambda: conn.execute(_SEED_RUNS.format(n=RUNS)))
        summary, query_s = timed(
            lambda: store.query(
                "SELECT count(*), count(run_cost), sum(run_cost) FROM task_run_costs"
            ).rows[0]
        )
        by_pool, pool_s = timed(lambda: store.query("SELECT * FROM cost_by_worker_pool").rows)
    report(
        "taskcluster task_run_costs [duckdb]",
        runs=f"{summary[0]:,}",
        priced=f"{summary[1]:,}",
        query_s=f"{query_s:.1f}",
        cost_by_worker_pool_s=f"{pool_s:.1f}",
        pools_days=len(by_pool),
        seed_s=f"{seed_s:.1f}",
    )


def main() -> None:
    bench_drain()
    bench_task_run_costs()


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(drain(sys.argv[1], sys.argv[2])))
    else:
        main()
