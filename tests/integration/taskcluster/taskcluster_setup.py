"""Helpers of the Taskcluster ETL tests: an isolated Pulse setup, recorded streams, seeded costs."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kombu import Connection, Exchange  # type: ignore[attr-defined]

from shipgauge.config import Settings
from shipgauge.pipelines.taskcluster import pulse_consumer, upsert_task_rows
from shipgauge.sources.taskcluster import (
    TaskRow,
    TaskRunRow,
    exchange_kind,
    rows_from_task_status,
)
from shipgauge.sources.taskcluster.pulse import recorded_messages
from shipgauge.store import Store
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
        """Publish `(exchange, routing_key, body)`, in order, to this test's copy of each
        exchange (persistent messages, as Pulse sends them)."""
        prefix = self.settings.taskcluster_exchange_prefix
        count = 0
        # A broker throttling a fast publisher may not read for over py-amqp's 1 s TCP timeout.
        patient = {"socket_settings": {socket.TCP_USER_TIMEOUT: 60_000}}
        with Connection(  # type: ignore[no-untyped-call]
            self.settings.amqp_url, connect_timeout=10, transport_options=patient
        ) as conn:
            producer = conn.Producer()
            exchanges = {
                kind: Exchange(prefix + kind, type="topic", durable=True)  # type: ignore[no-untyped-call]
                for kind in self.settings.taskcluster_exchanges
            }
            for exchange, key, body in messages:
                producer.publish(
                    body,
                    exchange=exchanges[exchange_kind(exchange)],
                    routing_key=key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                )
                count += 1
        return count

    def depth(self) -> int:
        return pulse_consumer(self.settings).queue_depth()

    def delete(self) -> None:
        """Remove this test's queue and exchanges from the broker."""
        s = self.settings
        with Connection(s.amqp_url, connect_timeout=10) as conn:  # type: ignore[no-untyped-call]
            channel = conn.channel()
            channel.queue_delete(pulse_consumer(s).queue_name)
            for kind in s.taskcluster_exchanges:
                channel.exchange_delete(s.taskcluster_exchange_prefix + kind)


# Tasks, runs and costs for the store and API tests -----------------------------------------

DAY = date(2026, 5, 11)
POOL = "gecko-t/t-linux-large"


def _status(task_id: str, pool: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    provisioner, worker_type = pool.split("/")
    return {
        "taskId": task_id,
        "provisionerId": provisioner,
        "workerType": worker_type,
        "taskQueueId": pool,
        "schedulerId": "gecko-level-3",
        "projectId": "none",
        "taskGroupId": "G" * 22,
        "deadline": "2026-05-11T00:00:00.000Z",
        "expires": "2026-06-11T00:00:00.000Z",
        "retriesLeft": 5,
        "state": runs[-1]["state"] if runs else "unscheduled",
        "runs": runs,
    }


def run(
    run_id: int, state: str, group: str, worker: str, start: str | None, end: str | None
) -> dict[str, Any]:
    run = {
        "runId": run_id,
        "state": state,
        "reasonCreated": "scheduled",
        "workerGroup": group,
        "workerId": worker,
        "scheduled": "2026-05-10T09:00:00.000Z",
    }
    if start:
        run["started"] = f"2026-05-10T{start}:00.000Z"
    if end:
        run["resolved"] = f"2026-05-10T{end}:00.000Z"
    return run  # fmt: skip


def task_rows(
    task_id: str, pool: str, runs: list[dict[str, Any]], tags: dict[str, str] | None = None
) -> tuple[TaskRow, list[TaskRunRow]]:
    task = None if tags is None else {"tags": tags}
    return rows_from_task_status(_status(task_id, pool, runs), task, submitted=DAY)


def write_tasks(store: Store, *pairs: tuple[TaskRow, list[TaskRunRow]]) -> None:
    with store.transaction() as tx:
        upsert_task_rows(tx, [t for t, _ in pairs], [r for _, runs in pairs for r in runs])


def seed_costs(store: Store) -> None:
    """The hand-computed case of docs/taskcluster.md (Cost attribution)."""
    write_tasks(
        store,
        task_rows("T1", POOL, [run(0, "completed", "US-EAST1-B", "111", "10:00", "10:30"),
                               run(1, "completed", "us-east1-b", "111", "11:00", "11:15")]),
        task_rows("T2", "gecko-t/t-linux-xlarge",
                  [run(0, "completed", "us-east1-c", "222", "12:00", "13:00")]),
        task_rows("T3", "releng-hardware/gecko-t-osx-1014",
                  [run(0, "completed", "mdc2", "t-mojave-1", "14:00", "14:20")]),
        task_rows("T4", POOL, [run(0, "running", "us-east1-b", "111", "15:00", None)]),
        task_rows("T5", "proj-x/unknown", [run(0, "failed", "nowhere", "9", "16:00", "16:10")]),
    )  # fmt: skip
    costs = [
        ("us-east1-b", "111", "2026-05-09", 10.0, -2.0),
        ("us-east1-b", "111", "2026-05-10", 4.0, 0.0),
        ("us-east1-b", "111", "2026-04-01", 100.0, 0.0),  # outside the 30-day window
        ("us-east1-c", "222", "2026-05-10", 6.0, 0.0),
    ]
    uptime = [
        ("us-east1-b", "111", "2026-05-09", 36000.0),
        ("us-east1-b", "111", "2026-05-10", 18000.0),
        ("us-east1-c", "222", "2026-05-10", 3000.0),  # less than T2's hour: not usable
    ]
    rates = [  # provider, provisioner, worker_type, month, hours, cost
        ("aws", "gecko-t", "t-linux-xlarge", "2026-05-01", 100.0, 50.0),
        ("aws", "aws-provisioner-v1", "t-linux-xlarge", "2026-05-01", 100.0, 100.0),
        ("hw", "releng-hardware", "gecko-t-osx-1014", "2026-03-01", 10.0, 20.0),
        ("hw", "releng-hardware", "gecko-t-osx-1014", "2026-06-01", 10.0, 40.0),
        ("aws", "gecko-t", "t-linux-large", "2026-05-01", 100.0, 999.0),  # T1 has billing
    ]
    with store.transaction() as tx:
        tx.upsert("worker_costs", [
            {"cloud_provider": "gcp", "project": "fxci-production-level1-workers", "zone": z,
             "instance_id": i, "name": f"vm-{i}", "usage_start_date": date.fromisoformat(d),
             "cost": c, "credits": cr, "total_cost": c + cr}
            for z, i, d, c, cr in costs
        ])  # fmt: skip
        tx.upsert("worker_metrics", [
            {"project": "fxci-production-level1-workers", "zone": z, "instance_id": i,
             "interval_start_time": datetime.fromisoformat(f"{d}T00:00:00+00:00"),
             "interval_end_time": datetime.fromisoformat(f"{d}T23:59:59+00:00"), "uptime": u,
             "cloud_provider": "gcp", "method": "gcp_monitoring_instance_uptime",
             "submission_date": date.fromisoformat(d)}
            for z, i, d, u in uptime
        ])  # fmt: skip
        tx.upsert("worker_type_costs", [
            {"provider": p, "provisioner": pr, "worker_type": w, "month": date.fromisoformat(m),
             "usage_hours": h, "cost": c, "modified": None}
            for p, pr, w, m, h, c in rates
        ])  # fmt: skip
