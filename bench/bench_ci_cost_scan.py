"""`ci-cost scan` of pushes x 200 tasks from a local server answering each request in 30 ms.

Targets (issue 21): pushes/s at the configured concurrency >= 20 x the same scan at concurrency
1, at most 2.5 ms CPU per push, and peak RSS under 512 MB at PUSHES and at a tenth of them, the
two within 10 % (each scan in a child process of its own, so peaks don't mix). The server is
one asyncio process (the latency is an `asyncio.sleep`, so waiting costs no CPU) that answers
from prepared bytes: the two cores are left to the scan. Each task entry is the recorded
taskhuddler one (status with its run, definition with tags and metadata) with the payload,
scopes and routes emptied: about 2 kB of JSON, 400 kB a page. Pushes come 200 a day, as on
autoland (10,000 pushes span 50 days, ending two days ago), and each push's tasks carry times
of its day (created, deadline, scheduled, started, resolved). RSS is sampled when a fifth and
when all of the pushes are resolved (the last batch not yet written), and the CPU of the
scanning process (every thread) is printed per push.
"""

from __future__ import annotations

import asyncio
import copy
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import in_child, peak_figures, peak_rss_mb, report

from shipgauge.config import load_settings
from shipgauge.pipelines.ci_cost import scan_ci_cost
from shipgauge.store import Store
from tests.support.recorded_http import fixtures_dir

# The run: 10,000 pushes (BENCH_CI_COST_PUSHES=3000 for a shorter one).
PUSHES = int(os.environ.get("BENCH_CI_COST_PUSHES", "10000"))
BASELINE_PUSHES = 150
TASKS = 200
LATENCY_S = 0.030
PUSHES_PER_DAY = 200
CONCURRENCY = int(os.environ.get("BENCH_CI_COST_CONCURRENCY", "64"))
# The server's repositories and their number of pushes: the baseline scans the small one.
REPOS = {
    "integration/autoland": PUSHES,
    "tenth/autoland": PUSHES // 10,
    "baseline/autoland": BASELINE_PUSHES,
}
FIXTURE = fixtures_dir() / "hgpush" / "taskhuddler" / "listTaskGroup.completed.json"
_NODE = re.compile(r"revision\.([0-9a-f]{40})\.")


def _time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _group_page(pushed: datetime) -> list[bytes]:
    """A 200-task page of a push at `pushed`, as the bytes around each place the group id goes
    (decision task first)."""
    recorded = json.loads(FIXTURE.read_text())["tasks"][0]
    recorded["task"].update(payload={}, scopes=[], routes=[], dependencies=[])
    recorded["task"].update(created=_time(pushed), deadline=_time(pushed + timedelta(days=1)))
    recorded["status"].update(deadline=recorded["task"]["deadline"])
    started = pushed + timedelta(minutes=10)
    tasks = []
    for i in range(TASKS):
        item = copy.deepcopy(recorded)
        task_id = "@G@" if i == 0 else f"@G@-{i}"
        item["status"].update(taskId=task_id, taskGroupId="@G@")
        item["task"]["taskGroupId"] = "@G@"
        item["task"]["tags"]["label"] = f"test-linux64/opt-mochitest-{i}"
        run = item["status"]["runs"][0]
        run["scheduled"] = _time(pushed + timedelta(minutes=5, seconds=i))
        run["started"] = run["takenUntil"] = _time(started + timedelta(seconds=i))
        run["resolved"] = _time(started + timedelta(seconds=600 + i))
        tasks.append(item)
    return json.dumps({"taskGroupId": "@G@", "tasks": tasks}).encode().split(b"@G@")


class _Upstream:
    """hg json-pushes, the Taskcluster index and listTaskGroup for every bench repository.

    Push `n` of a repository lands at `first + n / PUSHES_PER_DAY` days, the last one at
    `last_pushed`; its tasks are those of the page of its day."""

    def __init__(self, last_pushed: int) -> None:
        self.first = last_pushed - PUSHES * 86_400 // PUSHES_PER_DAY
        days = PUSHES // PUSHES_PER_DAY + 1
        start = datetime.fromtimestamp(self.first, UTC)
        self.day_pages = [_group_page(start + timedelta(days=d)) for d in range(days)]

    def pushed(self, push_id: int) -> int:
        return self.first + push_id * 86_400 // PUSHES_PER_DAY

    def answer(self, target: str) -> bytes:
        url = urlsplit(target)
        if url.path.endswith("/json-pushes"):
            query = {k: int(v[0]) for k, v in parse_qs(url.query).items() if k.endswith("ID")}
            last = REPOS[url.path.strip("/").removesuffix("/json-pushes")]
            ids = range(query["startID"] + 1, min(query["endID"], last) + 1)
            pushes = {
                str(i): {"changesets": [f"{i:040x}"], "date": self.pushed(i), "user": "u"}
                for i in ids
            }
            return json.dumps({"lastpushid": last, "pushes": pushes}).encode()
        if url.path.startswith("/api/index/"):
            match = _NODE.search(url.path)
            push_id = int(match.group(1), 16) if match else 0
            return json.dumps({"taskId": f"G{push_id:021d}"}).encode()
        group = url.path.split("/")[5]
        page = self.day_pages[int(group.lstrip("G") or 0) // PUSHES_PER_DAY]
        return group.encode().join(page)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = self.answer(head.split(b" ", 2)[1].decode())
                await asyncio.sleep(LATENCY_S)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _serve(port_out: Any, pushed: int) -> None:
    async def main() -> None:
        upstream = _Upstream(pushed)
        server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0, backlog=1024)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def _rss_mb() -> float:
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _scan(url: str, db: Path, repo: str, concurrency: int) -> tuple[float, float, list[float]]:
    """pushes/s, CPU seconds of this process per push, RSS samples (MiB)."""
    pushes = REPOS[repo]
    settings = load_settings(
        hg_url=url,
        taskcluster_root_url=url,
        ci_cost_concurrency=concurrency,
        http_concurrency=min(concurrency, 8),
    )
    samples: list[float] = []

    def progress(repo: str, phase: str, done: int, total: int | None) -> None:
        if phase == "pushes" and done and total and done in (total // 5, total):
            samples.append(_rss_mb())

    with Store.open(str(db)) as store:
        started, cpu = time.perf_counter(), time.process_time()
        (result,) = scan_ci_cost(
            store=store, settings=settings, repos=[repo], since=0, on_progress=progress
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.pushes_checked == pushes and result.states == {"final": pushes}, result
        assert store.count("task_runs") == pushes * TASKS
    return pushes / elapsed, cpu / pushes, samples


def _scan_here(url: str, repo: str, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rate, cpu, rss = _scan(url, Path(tmp) / "scan.duckdb", repo, concurrency)
    peak = peak_rss_mb()
    print(json.dumps({"rate": rate, "cpu": cpu, "rss": rss, "peak": peak}))


def main() -> None:
    pushed = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports, pushed), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        baseline = in_child(__file__, url, "baseline/autoland", 1)
        tenth = in_child(__file__, url, "tenth/autoland", CONCURRENCY)
        full = in_child(__file__, url, "integration/autoland", CONCURRENCY)
    finally:
        server.terminate()
    report(
        "ci_cost_scan",
        pushes=PUSHES,
        tasks_per_push=TASKS,
        latency_ms=int(LATENCY_S * 1000),
        concurrency=CONCURRENCY,
        pushes_per_s=f"{full['rate']:.1f}",
        baseline_pushes_per_s=f"{baseline['rate']:.2f}",
        ratio=f"{full['rate'] / baseline['rate']:.1f}x",
        cpu_ms_per_push=f"{full['cpu'] * 1000:.1f}",
        rss_at_20pct_mb=f"{full['rss'][0]:.0f}",
        rss_at_end_mb=f"{full['rss'][-1]:.0f}",
        **peak_figures(tenth["peak"], full["peak"]),
        load_avg=f"{os.getloadavg()[0]:.1f}",
        target="20x, 2.5 ms CPU/push, RSS < 512 MB within 10 %",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _scan_here(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    else:
        main()
