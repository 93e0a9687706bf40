"""Synthetic Taskcluster Pulse messages in the current Queue format, for tests and the benchmark.

Bodies follow the recorded Firefox-CI messages (fixtures/taskcluster/pulse-messages): a full
task status, the run the message is about, and the task's tags. Every task gets a
`task-defined` message and then the message of its resolved run, so `n` messages describe
`n // 2` tasks. Deterministic: message i is always the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

__all__ = ["EXCHANGE_PREFIX", "final_state", "synthetic_messages", "task_id"]

EXCHANGE_PREFIX = "exchange/taskcluster-queue/v1/"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_T0 = datetime(2026, 5, 1, tzinfo=UTC)
_FINAL = ("completed",) * 16 + ("failed",) * 3 + ("exception",)


def _encode(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, digit = divmod(n, 64)
        out.append(_ALPHABET[digit])
    return "".join(out)


def task_id(i: int) -> str:
    """A valid slugid for task number i (matches the Queue's taskId pattern)."""
    return f"{_encode(i, 8)}Q{_ALPHABET[i % 64]}C{_encode(i * 7919, 10)}A"


def final_state(i: int) -> str:
    """The state task i's resolved run ends in."""
    return _FINAL[i % len(_FINAL)]


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status(i: int, runs: list[dict[str, str | int]], state: str) -> dict[str, object]:
    created = _T0 + timedelta(seconds=i)
    return {
        "taskId": task_id(i),
        "provisionerId": "gecko-t",
        "workerType": f"t-linux-{('large', 'xlarge', 'medium')[i % 3]}",
        "taskQueueId": f"gecko-t/t-linux-{('large', 'xlarge', 'medium')[i % 3]}",
        "schedulerId": "gecko-level-3",
        "projectId": "none",
        "taskGroupId": task_id(i // 500 + 10**9),
        "deadline": _iso(created + timedelta(days=1)),
        "expires": _iso(created + timedelta(days=28)),
        "retriesLeft": 5,
        "state": state,
        "runs": runs,
    }


def _tags(i: int) -> dict[str, str]:
    return {
        "createdForUser": "someone@mozilla.com",
        "kind": "test",
        "label": f"test-linux1804-64-qr/opt-mochitest-browser-chrome-{i % 40}",
        "os": "linux",
        "owned-by": "someone@mozilla.com",
        "project": "autoland",
        "retrigger": "true",
        "test-platform": "linux1804-64-qr/opt",
        "test-suite": "mochitest-browser-chrome",
        "test-variant": "default",
        "trust-domain": "gecko",
        "worker-implementation": "docker-worker",
    }


def _resolved_message(i: int) -> tuple[str, dict[str, object]]:
    state = final_state(i)
    scheduled = _T0 + timedelta(seconds=i)
    started = scheduled + timedelta(seconds=30 + i % 90)
    resolved = started + timedelta(seconds=300 + i % 1200)
    worker_id = str(4_000_000_000_000_000_000 + i % 2000)
    run: dict[str, str | int] = {
        "runId": 0,
        "state": state,
        "reasonCreated": "scheduled",
        "reasonResolved": {"completed": "completed", "failed": "failed"}.get(
            state, "worker-shutdown"
        ),
        "workerGroup": "us-central1-b",
        "workerId": worker_id,
        "takenUntil": _iso(resolved + timedelta(minutes=20)),
        "scheduled": _iso(scheduled),
        "started": _iso(started),
        "resolved": _iso(resolved),
    }
    body = {
        "status": _status(i, [run], state),
        "runId": 0,
        "task": {"tags": _tags(i)},
        "workerGroup": "us-central1-b",
        "workerId": worker_id,
        "version": 1,
    }
    return f"task-{state}", body


def _defined_message(i: int) -> tuple[str, dict[str, object]]:
    body = {"status": _status(i, [], "unscheduled"), "task": {"tags": _tags(i)}, "version": 1}
    return "task-defined", body


def synthetic_messages(n: int, *, start: int = 0) -> Iterator[tuple[str, str, bytes]]:
    """`n` messages as `(exchange, routing_key, body)`: task-defined, then the resolved run."""
    for k in range(start, start + n):
        i = k // 2
        kind, body = (_defined_message if k % 2 == 0 else _resolved_message)(i)
        routing_key = f"primary.{task_id(i)}.0._._.gecko-t._.gecko-level-3._._"
        yield EXCHANGE_PREFIX + kind, routing_key, json.dumps(body).encode()
