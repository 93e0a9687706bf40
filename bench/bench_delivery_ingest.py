"""POST /api/v1/events from concurrent keep-alive clients against one real `shipgauge serve`
(DuckDB) on loopback: committed events/s, p50/p99 latency, and the request rate against the
cheapest route of the same server (GET /api/v1/health, one trivial store query) in the same run.

Targets (issue 6): >= 2,000 committed events/s on 2 cores, ratio >= 0.3. Every 2xx is checked
against the store afterwards: committed = rows found, which must equal the events answered 2xx.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report

from shipgauge.store import Store
from shipgauge.store.tokens import create_token

CLIENTS = 32
SECONDS = float(os.environ.get("INGEST_BENCH_SECONDS", "8"))
BATCH = 20


@dataclass
class Run:
    """What one phase measured."""

    latencies: list[float] = field(default_factory=list)
    events: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def _post(path: str, token: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _client(port: int, make: Callable[[], tuple[bytes, int]], run: Run, until: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < until:
        request, events = make()
        started = time.perf_counter()
        writer.write(request)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        run.latencies.append(time.perf_counter() - started)
        if 200 <= status < 300:
            run.events += events
        else:
            run.errors += 1
    writer.close()


async def _phase(port: int, make: Callable[[], tuple[bytes, int]]) -> Run:
    run = Run()
    started = time.perf_counter()
    until = started + SECONDS
    await asyncio.gather(*[_client(port, make, run, until) for _ in range(CLIENTS)])
    run.seconds = time.perf_counter() - started
    return run


def _events_maker(token: str, size: int) -> Callable[[], tuple[bytes, int]]:
    counter = iter(range(10**12))
    prefix = f"b{size}-"  # each phase its own ids: every 2xx must add rows

    def make() -> tuple[bytes, int]:
        events = [
            {"service": f"svc-{n % 50}", "kind": "deploy", "event_id": f"{prefix}{n}",
             "time": "2026-01-01T00:00:00Z", "commits": [f"c{n}a", f"c{n}b"]}
            for n in (next(counter) for _ in range(size))
        ]  # fmt: skip
        body = json.dumps(events[0] if size == 1 else events).encode()
        return _post("/api/v1/events", token, body), size

    return make


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ingest.duckdb")
        with Store.open(db) as store:
            token = create_token(store, service="*", scopes=["events:write"])
        port = 8500 + os.getpid() % 200
        exe = str(Path(sys.executable).parent / "shipgauge")
        server = subprocess.Popen([exe, "--db", db, "serve", "--port", str(port)])
        try:
            health = b"GET /api/v1/health HTTP/1.1\r\nHost: bench\r\n\r\n"
            for _ in range(300):
                try:
                    asyncio.run(_phase_once(port, health))
                    break
                except OSError:
                    time.sleep(0.1)
            baseline = asyncio.run(_phase(port, lambda: (health, 0)))
            single = asyncio.run(_phase(port, _events_maker(token, 1)))
            batched = asyncio.run(_phase(port, _events_maker(token, BATCH)))
        finally:
            server.terminate()
            server.wait(30)
        with Store.open(db) as store:
            committed = store.count("delivery_events")
    answered = single.events + batched.events
    report(
        "delivery ingest [duckdb]",
        clients=CLIENTS,
        single_events_per_s=f"{single.events / single.seconds:,.0f}",
        single_p50_ms=f"{single.percentile(50):.1f}",
        single_p99_ms=f"{single.percentile(99):.1f}",
        batch_events_per_s=f"{batched.events / batched.seconds:,.0f}",
        batch_p50_ms=f"{batched.percentile(50):.1f}",
        batch_p99_ms=f"{batched.percentile(99):.1f}",
        noop_requests_per_s=f"{baseline.requests_per_s:,.0f}",
        ratio=f"{single.requests_per_s / baseline.requests_per_s:.2f}",
        committed_equals_2xx=committed == answered,
        errors=single.errors + batched.errors,
    )


async def _phase_once(port: int, request: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    await reader.readline()
    writer.close()


if __name__ == "__main__":
    main()
