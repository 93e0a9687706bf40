"""Backfill of 10,000 synthetic pushes (50,000 changesets) against hg, Bugzilla and ingestion
stand-ins that answer every request after 30 ms, vs a sequential run of the same code.

Target (issue 7): >= 500 pings/s, >= 20x sequential, peak RSS flat (after 10% of the pushes vs
at the end). The stand-in runs in its own process (asyncio, keep-alive) so it does not share the
client's interpreter.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import json

from _common import report, timed

from shipgauge.config import load_settings
from shipgauge.pipelines.telemetry import BackfillResult, TelemetryServices, backfill
from shipgauge.store import Store

PUSHES = 10_000
PER_PUSH = 5
SEQUENTIAL_PUSHES = 40
LATENCY_S = 0.030
CONCURRENCY = 64
BUGS_PER_KIND = 5_000
PATCH = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n-a\n+b\n+c\n"
# One changeset in ten of each kind: 3 Phabricator, 2 BMO, 1 back-out, 1 uplift, 1 no-bug,
# 1 merge, 1 bug without reviews.
KINDS = ("phab", "phab", "phab", "bmo", "bmo", "backout", "uplift", "nobug", "merge", "none")
BUG_BASE = {"phab": 1_000_000, "bmo": 2_000_000, "none": 3_000_000, "uplift": 4_000_000}


def _node(push: int, index: int) -> str:
    return f"{push:020x}{index:020x}"


def _changeset(push: int, index: int) -> dict[str, Any]:
    n = push * PER_PUSH + index
    kind = KINDS[n % len(KINDS)]
    bug = BUG_BASE.get(kind, 5_000_000) + (n // len(KINDS)) % BUGS_PER_KIND
    desc = {
        "backout": f"Backed out changeset {_node(push, 0)[:12]} (bug {bug})",
        "uplift": f"Bug {bug} - fix for release a=RyanVM",
        "nobug": "No bug - tidy up r=me",
        "merge": "Merge autoland to mozilla-central. a=merge",
    }.get(kind, f"Bug {bug} - change {n} r=reviewer")
    parents = ["0" * 40, "1" * 40] if kind == "merge" else ["0" * 40]
    return {"node": _node(push, index), "author": "Dev <dev@example.com>", "desc": desc,
            "branch": "default", "parents": parents, "files": ["f"], "tags": []}  # fmt: skip


def _answer(method: str, target: str) -> tuple[int, bytes]:
    url = urlsplit(target)
    parts = url.path.strip("/").split("/")
    if method == "PUT":
        return 200, b"OK"
    if parts[0] == "rest":
        bug, what = int(parts[2]), parts[3]
        if what == "history":
            change = {"field_name": "flagtypes.name", "added": "review+", "removed": "review?"}
            return 200, json.dumps({"bugs": [{"history": [{"changes": [change]}]}]}).encode()
        kind = "bmo" if 2_000_000 <= bug < 3_000_000 else "phab" if bug < 2_000_000 else "none"
        found = {
            "phab": [
                {"content_type": "text/x-phabricator-request", "is_obsolete": 0, "is_patch": 0}
            ],
            "bmo": [{"content_type": "text/plain", "is_obsolete": 0, "is_patch": 1}],
        }.get(kind, [])
        return 200, json.dumps({"bugs": {str(bug): found}}).encode()
    if parts[-1] == "json-pushes":
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items() if k.endswith("ID")}
        pushes = {
            str(p): {
                "changesets": [_changeset(p, i) for i in range(PER_PUSH)],
                "date": 1_700_000_000 + p,
                "user": "dev@example.com",
            }
            for p in range(query["startID"] + 1, min(query["endID"], PUSHES) + 1)
        }
        return 200, json.dumps({"lastpushid": PUSHES, "pushes": pushes}).encode()
    node = parts[-1]
    push, index = int(node[:20], 16), int(node[20:], 16)
    if parts[-2] == "raw-rev":
        return 200, PATCH.encode()
    cs = _changeset(push, index)
    rev = {
        **{k: cs[k] for k in ("node", "desc", "parents")},
        "user": cs["author"],
        "pushid": push,
        "pushdate": [1_700_000_000 + push, 0],
        "landingsystem": "lando",
    }
    return 200, json.dumps(rev).encode()


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            method, target, _ = line.decode().split(" ", 2)
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(LATENCY_S)
            status, body = _answer(method, target)
            writer.write(
                f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


def _run_server(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_serve_connection, sock=sock, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _backfill(url: str, db: str, pushes: int, concurrency: int, rss: list[float]) -> BackfillResult:
    settings = load_settings(hg_url=url, bmo_url=url, telemetry_url=url, http_retries=0,
                             telemetry_concurrency=concurrency)  # fmt: skip

    def on_page(progress: BackfillResult) -> None:
        if not rss and progress.pushes >= pushes // 10:
            rss.append(_rss_mb())

    with Store.open(db) as store, TelemetryServices.from_settings(settings) as services:
        return backfill(store=store, services=services, repo_url="https://hg.mozilla.org/bench",
                        start_id=0, end_id=pushes, on_page=on_page)  # fmt: skip


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
            seq_rss: list[float] = []
            seq, seq_s = timed(
                lambda: _backfill(url, f"{tmp}/seq.duckdb", SEQUENTIAL_PUSHES, 1, seq_rss)
            )
            rss: list[float] = []
            full, full_s = timed(
                lambda: _backfill(url, f"{tmp}/full.duckdb", PUSHES, CONCURRENCY, rss)
            )
            with Store.open(f"{tmp}/full.duckdb") as store:
                stored = store.query(
                    "SELECT count(*) FROM hgpush_pings WHERE status = 'sent'"
                ).scalar()
    finally:
        server.terminate()
    seq_rate = seq.pings.sent / seq_s
    rate = full.pings.sent / full_s
    report(
        "telemetry backfill",
        pushes=PUSHES,
        pings=full.pings.sent,
        stored=stored,
        latency_ms=int(LATENCY_S * 1000),
        concurrency=CONCURRENCY,
        pings_per_s=f"{rate:,.0f}",
        sequential_pings_per_s=f"{seq_rate:.1f}",
        ratio=f"{rate / seq_rate:.1f}",
        rss_mb_at_10pct=f"{rss[0]:.0f}",
        rss_mb_peak=f"{_rss_mb():.0f}",
    )


if __name__ == "__main__":
    main()
