"""`ci-cost scan` of pushes x 200 tasks from a local server answering each request in 30 ms.

Target (issue 8): pushes/s at the configured concurrency >= 20 x the same scan at concurrency 1,
and peak RSS flat in the number of pushes. The server runs in its own process (the other core);
each task entry is the recorded taskhuddler one (status with its run, definition with tags and
metadata) with the payload, scopes and routes emptied: about 2 kB of JSON, 400 kB a page.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report

from shipgauge.config import load_settings
from shipgauge.pipelines.ci_cost import scan_ci_cost
from shipgauge.store import Store

# The run is 10,000 pushes (about 6 minutes here); the default keeps `bench/run.py` near
# two minutes. Peak RSS is compared at 20 % and at 100 % of the scan either way.
PUSHES = int(os.environ.get("BENCH_CI_COST_PUSHES", "2500"))
BASELINE_PUSHES = 150
TASKS = 200
LATENCY_S = 0.030
CONCURRENCY = int(os.environ.get("BENCH_CI_COST_CONCURRENCY", "48"))
# The server's repositories and their number of pushes: the baseline scans the small one.
REPOS = {"integration/autoland": PUSHES, "baseline/autoland": BASELINE_PUSHES}
FIXTURE = (
    Path(__file__).resolve().parents[2]
    / "shared/fixtures/hgpush/taskhuddler/listTaskGroup.completed.json"
)
_NODE = re.compile(r"revision\.([0-9a-f]{40})\.")


def _group_template(pushed: datetime) -> str:
    """A 200-task page as JSON text with @G@ for the group id (the decision task is first)."""
    recorded = json.loads(FIXTURE.read_text())["tasks"][0]
    recorded["task"].update(payload={}, scopes=[], routes=[], dependencies=[])
    started = pushed + timedelta(minutes=10)
    tasks = []
    for i in range(TASKS):
        item = copy.deepcopy(recorded)
        task_id = "@G@" if i == 0 else f"@G@-{i}"
        item["status"].update(taskId=task_id, taskGroupId="@G@")
        item["task"]["taskGroupId"] = "@G@"
        item["task"]["tags"]["label"] = f"test-linux64/opt-mochitest-{i}"
        run = item["status"]["runs"][0]
        run["started"] = (started + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        run["resolved"] = (started + timedelta(seconds=600 + i)).isoformat().replace("+00:00", "Z")
        tasks.append(item)
    return json.dumps({"taskGroupId": "@G@", "tasks": tasks})


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    template = ""
    pushed = 0

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        time.sleep(LATENCY_S)
        url = urlsplit(self.path)
        if url.path.endswith("/json-pushes"):
            query = {k: int(v[0]) for k, v in parse_qs(url.query).items() if k.endswith("ID")}
            last = REPOS[url.path.strip("/").removesuffix("/json-pushes")]
            ids = range(query["startID"] + 1, min(query["endID"], last) + 1)
            body = json.dumps(
                {
                    "lastpushid": last,
                    "pushes": {
                        str(i): {"changesets": [f"{i:040x}"], "date": self.pushed, "user": "u"}
                        for i in ids
                    },
                }
            )
        elif url.path.startswith("/api/index/"):
            match = _NODE.search(url.path)
            push_id = int(match.group(1), 16) if match else 0
            body = json.dumps({"taskId": f"G{push_id:021d}"})
        else:
            body = self.template.replace("@G@", url.path.split("/")[5])
        payload = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _serve(port_out: Any, pushed: int) -> None:
    _Upstream.template = _group_template(datetime.fromtimestamp(pushed, UTC))
    _Upstream.pushed = pushed
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


def _rss_mb() -> float:
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _scan(url: str, db: Path, repo: str, concurrency: int) -> tuple[float, list[float]]:
    pushes = REPOS[repo]
    settings = load_settings(
        hg_url=url,
        taskcluster_root_url=url,
        ci_cost_concurrency=concurrency,
        http_concurrency=concurrency,
    )
    samples: list[float] = []

    def progress(repo: str, phase: str, done: int, total: int | None) -> None:
        if phase == "pushes" and done and total and done in (total // 5, total):
            samples.append(_rss_mb())

    with Store.open(str(db)) as store:
        started = time.perf_counter()
        (result,) = scan_ci_cost(
            store=store, settings=settings, repos=[repo], since=0, on_progress=progress
        )
        elapsed = time.perf_counter() - started
        assert result.pushes_checked == pushes and result.states == {"final": pushes}, result
        assert store.count("task_runs") == pushes * TASKS
    return pushes / elapsed, samples


def main() -> None:
    pushed = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports, pushed), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            baseline, _ = _scan(url, Path(tmp) / "one.duckdb", "baseline/autoland", 1)
            rate, rss = _scan(url, Path(tmp) / "many.duckdb", "integration/autoland", CONCURRENCY)
    finally:
        server.terminate()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(
        "ci_cost_scan",
        pushes=PUSHES,
        tasks_per_push=TASKS,
        latency_ms=int(LATENCY_S * 1000),
        concurrency=CONCURRENCY,
        pushes_per_s=f"{rate:.1f}",
        baseline_pushes_per_s=f"{baseline:.2f}",
        ratio=f"{rate / baseline:.1f}x",
        rss_at_20pct_mb=f"{rss[0]:.0f}",
        rss_at_end_mb=f"{rss[-1]:.0f}",
        peak_rss_mb=f"{peak:.0f}",
    )


if __name__ == "__main__":
    main()
