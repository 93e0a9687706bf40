"""Backfill of 10,000 synthetic pushes (50,000 changesets) against hg, Bugzilla and ingestion
stand-ins that answer every request after a real 30 ms wait, vs a sequential run of the same code.

Targets: >= 500 pings/s, >= 20x sequential (issue 7); peak RSS < 512 MB, and at all the pushes
within 10 % of the peak at a tenth of them (issue 21). Each run is a fresh interpreter of its own
against the same stand-in. The sequential run is the same backfill with concurrency 1, over the
first SEQUENTIAL_PUSHES pushes only (it would take about 80 minutes over all of them); its rate
is pings over its own time. Only the backfill is timed, not opening the store.

The stand-in is an asyncio HTTP/1.1 keep-alive server in its own process, so it does not share
the client's interpreter (it still shares the machine's 2 cores). It counts what it is asked.

The data: per ten changesets, 3 Phabricator-reviewed and 2 BMO-reviewed changesets (each group
on a bug of its own), 1 on a bug without review attachments, 1 back-out, 1 uplift (a=), 1 "no
bug", 1 merge. The changesets that share a bug sit in one push, as a patch series does: 30,000
changesets name the 15,000 distinct bugs that Bugzilla is asked about (3, 2 and 1 changesets a bug).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_child, peak_figures, peak_rss_mb, report, timed

from shipgauge.config import load_settings
from shipgauge.pipelines.telemetry import TelemetryServices, backfill
from shipgauge.store import Store

PUSHES = 10_000
PER_PUSH = 5
SEQUENTIAL_PUSHES = 40
LATENCY_S = 0.030
CONCURRENCY = 256
PATCH = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n-a\n+b\n+c\n"
KINDS = ("phab", "phab", "phab", "bmo", "bmo", "backout", "uplift", "nobug", "merge", "none")
BUG_BASE = {"phab": 1_000_000, "bmo": 2_000_000, "none": 3_000_000, "uplift": 4_000_000}


def _node(push: int, index: int) -> str:
    return f"{push:020x}{index:020x}"


def _changeset(push: int, index: int) -> dict[str, Any]:
    n = (push - 1) * PER_PUSH + index
    kind = KINDS[n % len(KINDS)]
    bug = BUG_BASE.get(kind, 5_000_000) + n // len(KINDS)
    desc = {
        "backout": f"Backed out changeset {_node(push, 0)[:12]} (bug {bug})",
        "uplift": f"Bug {bug} - fix for release a=RyanVM",
        "nobug": "No bug - tidy up r=me",
        "merge": "Merge autoland to mozilla-central. a=merge",
    }.get(kind, f"Bug {bug} - change {n} r=reviewer")
    parents = ["0" * 40, "1" * 40] if kind == "merge" else ["0" * 40]
    return {"node": _node(push, index), "author": "Dev <dev@example.com>", "desc": desc,
            "branch": "default", "parents": parents, "files": ["f"], "tags": []}  # fmt: skip


def _bugzilla(bug: int, what: str) -> bytes:
    if what == "history":
        change = {"field_name": "flagtypes.name", "added": "review+", "removed": "review?"}
        return json.dumps({"bugs": [{"history": [{"changes": [change]}]}]}).encode()
    found = {
        1: [{"content_type": "text/x-phabricator-request", "is_obsolete": 0, "is_patch": 0}],
        2: [{"content_type": "text/plain", "is_obsolete": 0, "is_patch": 1}],
    }.get(bug // 1_000_000, [])
    return json.dumps({"bugs": {str(bug): found}}).encode()


def _answer(method: str, target: str, stats: Counter[str], bugs: set[int]) -> bytes:
    url = urlsplit(target)
    parts = url.path.strip("/").split("/")
    if method == "PUT":
        stats["ping PUT"] += 1
        return b"OK"
    if parts[0] == "rest":
        stats[f"bugzilla {parts[3]}"] += 1
        bugs.add(int(parts[2]))
        return _bugzilla(int(parts[2]), parts[3])
    if parts[-1] == "json-pushes":
        stats["json-pushes"] += 1
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items() if k.endswith("ID")}
        pushes = {
            str(p): {
                "changesets": [_changeset(p, i) for i in range(PER_PUSH)],
                "date": 1_700_000_000 + p,
                "user": "dev@example.com",
            }
            for p in range(query["startID"] + 1, min(query["endID"], PUSHES) + 1)
        }
        return json.dumps({"lastpushid": PUSHES, "pushes": pushes}).encode()
    stats[parts[-2]] += 1
    if parts[-2] == "raw-rev":
        return PATCH.encode()
    push, index = int(parts[-1][:20], 16), int(parts[-1][20:], 16)
    cs = _changeset(push, index)
    rev = {k: cs[k] for k in ("node", "desc", "parents")} | {"user": cs["author"], "pushid": push}
    rev |= {"pushdate": [1_700_000_000 + push, 0], "landingsystem": "lando"}
    return json.dumps(rev).encode()


def _run_server(sock: socket.socket) -> None:
    stats: Counter[str] = Counter()
    bugs: set[int] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                request_line, _, headers = head.decode("latin-1").partition("\r\n")
                method, target, _ = request_line.split(" ", 2)
                for line in headers.lower().split("\r\n"):
                    if line.startswith("content-length:"):
                        await reader.readexactly(int(line[15:]))
                if target == "/_stats":
                    body = json.dumps({"requests": stats, "bugs": len(bugs),
                                       "cpu_s": time.process_time()}).encode()  # fmt: skip
                else:
                    await asyncio.sleep(LATENCY_S)
                    body = _answer(method, target, stats, bugs)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, sock=sock, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def _backfill(url: str, db: str, pushes: int, concurrency: int) -> dict[str, float]:
    """One backfill of `pushes` pushes in this process: its figures, peak RSS included."""
    settings = load_settings(hg_url=url, bmo_url=url, telemetry_url=url, http_retries=0,
                             telemetry_concurrency=concurrency)  # fmt: skip
    with Store.open(db) as store, TelemetryServices.from_settings(settings) as services:
        cpu = time.process_time()
        result, seconds = timed(
            lambda: backfill(
                store=store,
                services=services,
                repo_url="https://hg.mozilla.org/bench",
                start_id=0,
                end_id=pushes,
            )
        )
        cpu = time.process_time() - cpu
        sent = store.query("SELECT count(*) FROM hgpush_pings WHERE status = 'sent'").scalar()
    assert result.pings.sent == sent == pushes * PER_PUSH, (result, sent)
    return {"pings": sent, "seconds": seconds, "cpu_s": cpu, "peak_mb": peak_rss_mb()}


def _in_child(url: str, tmp: str, name: str, pushes: int, concurrency: int) -> dict[str, Any]:
    figures: dict[str, Any] = in_child(__file__, url, f"{tmp}/{name}.duckdb", pushes, concurrency)
    return figures


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = multiprocessing.get_context("fork").Process(
        target=_run_server, args=(sock,), daemon=True
    )
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seq = _in_child(url, tmp, "seq", SEQUENTIAL_PUSHES, 1)
            tenth = _in_child(url, tmp, "tenth", PUSHES // 10, CONCURRENCY)
            before = httpx.get(f"{url}/_stats").json()
            full = _in_child(url, tmp, "full", PUSHES, CONCURRENCY)
            after = httpx.get(f"{url}/_stats").json()
    finally:
        server.terminate()
    requests = Counter(after["requests"]) - Counter(before["requests"])
    pings = full["pings"]
    seq_rate = seq["pings"] / seq["seconds"]
    rate = pings / full["seconds"]
    report(
        "telemetry backfill",
        pushes=PUSHES,
        pings=pings,
        latency_ms=int(LATENCY_S * 1000),
        concurrency=CONCURRENCY,
        seconds=f"{full['seconds']:.1f}",
        pings_per_s=f"{rate:,.0f}",
        sequential_pings=seq["pings"],
        sequential_pings_per_s=f"{seq_rate:.1f}",
        ratio=f"{rate / seq_rate:.1f}",
        distinct_bugs=after["bugs"],
        requests=sum(requests.values()),
        requests_per_ping=f"{sum(requests.values()) / pings:.2f}",
        bugzilla_requests=requests["bugzilla attachment"] + requests["bugzilla history"],
        client_cpu_ms_per_ping=f"{full['cpu_s'] / pings * 1000:.2f}",
        server_cpu_ms_per_ping=f"{(after['cpu_s'] - before['cpu_s']) / pings * 1000:.2f}",
        **peak_figures(tenth["peak_mb"], full["peak_mb"]),
        load_avg=f"{os.getloadavg()[0]:.1f}",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        url, db, pushes, concurrency = sys.argv[1:]
        print(json.dumps(_backfill(url, db, int(pushes), int(concurrency))))
    else:
        main()
