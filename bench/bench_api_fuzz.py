"""A fuzz run of 10,000 hostile requests against a real `shipgauge serve`: how many got a 5xx.

Target (issue 15): none. The requests are drawn as the fuzz tests draw them
(`tests/fuzz/hostile.py`: every route of the OpenAPI document, `/api/search` included, with
hostile parameters and bodies), reproducibly (hypothesis, derandomized), then sent by
CONCURRENCY clients. Printed: the 5xx count, the routes that answered one, the connections reset
(a body over `max_body_bytes` is answered 413 unread, and a client still sending may see the
reset instead), the request rate, and whether the server still answers afterwards.

Environment: SHIPGAUGE_BENCH_FUZZ_REQUESTS (default 10,000).
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report
from _server import shipgauge_server

from shipgauge.store import Store
from shipgauge.store.tokens import SCOPES, create_token
from tests.fuzz.hostile import HostileRequest, api_routes, hostile_requests

REQUESTS = int(os.environ.get("SHIPGAUGE_BENCH_FUZZ_REQUESTS") or 10_000)
CONCURRENCY = 8


def draw_requests(count: int) -> list[HostileRequest]:
    """`count` hostile requests, the same ones on every run."""
    drawn: list[HostileRequest] = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=hostile_requests(api_routes()))
    def collect(request: HostileRequest) -> None:
        drawn.append(request)

    collect()
    return drawn[:count]


def main() -> None:
    os.environ["SHIPGAUGE_ACCESS_LOG"] = "false"  # the server's one line per request: 10,000
    requests = draw_requests(REQUESTS)
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "store.duckdb")
        with Store.open(db) as store:
            token = create_token(store, service="*", scopes=list(SCOPES))
        with shipgauge_server(db) as base, httpx.Client(timeout=120) as client:

            def send(request: HostileRequest) -> tuple[str, int]:
                try:
                    return request.route, request.send(client, base, token).status_code
                except httpx.TransportError:  # a body over the limit: 413, then the reset
                    return request.route, 0

            started = time.perf_counter()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                answers = list(pool.map(send, requests))
            elapsed = time.perf_counter() - started
            alive = httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200
    failures = collections.Counter(route for route, status in answers if status >= 500)
    report(
        "api fuzz (hostile requests)",
        requests=len(answers),
        server_errors=sum(failures.values()),
        resets=sum(1 for _, status in answers if status == 0),
        requests_per_s=f"{len(answers) / elapsed:.0f}",
        alive_after=alive,
        **(
            {"5xx_routes": ",".join(f"{r}:{n}" for r, n in failures.most_common(5))}
            if failures
            else {}
        ),
    )


if __name__ == "__main__":
    main()
