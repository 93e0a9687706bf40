"""Buildhub search over 1,000,000 build records, through HTTP (`shipgauge serve`, DuckDB).

p50/p95 latency of the web UI's typical requests: "is this build id official" (term, size 0),
the version facet (terms aggregation, _term desc), and the search box (query_string over the
UI's fields, 30 hits, newest first); and of the clients' `regexp` and `post_filter` bodies
(issue 17): crash-clouseau's `get_two_last` and crash-stop-addon's release-candidate query
(regexp filters, nested terms), bugzy's first nightly of a version (post_filter, sort). The
baseline is `/api/records` (one count) in the same run. Target (issues 5, 17): p95 < 50 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report
from _server import shipgauge_server

from shipgauge.store import Store
from tests.support.buildhub_clients import (
    VERSION_RC_PAT,
    bugzy_first_nightly,
    clouseau_two_last,
    crash_stop,
)

BUILDS = int(os.environ.get("BENCH_BUILDS_SEARCH_ROWS", "1000000"))
ROUNDS = 40
UI_FIELDS = ["source.product", "target.channel^1.2", "target.version^10", "target.locale^3",
             "target.platform^2", "build.id"]  # fmt: skip
# 2,000 builds x 100 locales x 5 platforms; a third each nightly, beta and release.
FILL = """
INSERT INTO builds
SELECT
  'v1:' || md5(i::VARCHAR), NULL,
  json_object('build', json_object('id', bid, 'date', strftime(t, '%Y-%m-%dT%H:%M:%SZ')),
              'source', json_object('product', 'firefox', 'tree', 'mozilla-central'),
              'target', json_object('version', v, 'channel', ch, 'platform', p, 'locale', l,
                                    'os', 'linux'),
              'download', json_object('url', 'https://archive.mozilla.org/pub/' || i, 'mimetype',
                                      'application/octet-stream', 'size', 60000000 + i,
                                      'date', strftime(t, '%Y-%m-%dT%H:%M:%SZ')))::JSON,
  'firefox', ch, v, lpad((60 + b // 100)::VARCHAR, 3, '0') || '000000' || ch[1] || '000', p,
  'linux',
  l, bid, t, NULL, md5(bid), 'https://hg.mozilla.org/mozilla-central', 'mozilla-central',
  'https://archive.mozilla.org/pub/' || i, 'application/octet-stream', 60000000 + i, t,
  'bench', NULL, NULL, now()
FROM (
  SELECT i, b, strftime(t, '%Y%m%d%H%M%S') AS bid, t,
         ['nightly', 'beta', 'release'][1 + b % 3] AS ch,
         (60 + b // 100)::VARCHAR || ['.0a1', '.0b' || (b % 10), '.0'][1 + b % 3] AS v,
         ['linux-x86_64', 'linux-i686', 'win64', 'win32', 'mac'][1 + i % 5] AS p,
         chr((97 + (i // 5) % 10)::INTEGER) || chr((107 + (i // 50) % 10)::INTEGER) AS l
  FROM (SELECT range AS i, range // 500 AS b,
               TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (8 * (range // 500)) HOUR AS t
        FROM range({rows}))
)
"""


def _client_requests() -> list[tuple[str, dict[str, Any]]]:
    """The clients' bodies (tests/support/buildhub_clients.py), on the bench's builds."""
    release = {"term": {"target.channel": "release"}}
    return [
        ("clouseau regexp", clouseau_two_last("20210215080000", "nightly", "firefox")),
        ("crash-stop regexp", crash_stop(VERSION_RC_PAT, release, 1)),
        ("bugzy post_filter", bugzy_first_nightly("70")),
    ]


def _requests() -> list[tuple[str, dict[str, Any]]]:
    return [*_ui_requests(), *_client_requests()]


def _ui_requests() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("build id term", {"size": 0, "query": {"term": {"build.id": "20210215080000"}}}),
        (
            "version facet",
            {
                "size": 0,
                "query": {"bool": {"filter": [{"term": {"target.channel": "beta"}}]}},
                "aggs": {
                    "target.version": {
                        "terms": {
                            "field": "target.version",
                            "size": 1000,
                            "order": {"_term": "desc"},
                        }
                    }
                },
            },
        ),
        (
            "query string",
            {
                "size": 30,
                "query": {
                    "query_string": {
                        "query": "firefox 70.0a1 ak linux-x86_64",
                        "fields": UI_FIELDS,
                        "default_operator": "AND",
                    }
                },
                "sort": [{"download.date": "desc"}],
            },
        ),
    ]


def _latencies(client: httpx.Client, path: str, body: dict[str, Any] | None) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.post(path, json=body) if body is not None else client.get(path)
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "search.duckdb")
        with Store.open(db) as store, store.transaction() as tx:
            tx.execute(FILL.format(rows=BUILDS))
        # A connection per request, as the clients make them (requests.post, fetch): on a kept-
        # alive connection this server's answers wait ~40 ms for a delayed ACK on loopback.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with (
            shipgauge_server(db) as base,
            httpx.Client(base_url=base, timeout=30, limits=fresh) as client,
        ):
            client.post("/api/search", json={"size": 1})  # warm up
            baseline = _latencies(client, "/api/records", None)
            figures = {name: _latencies(client, "/api/search", body) for name, body in _requests()}
            total = client.get("/api/records").json()["builds"]["total"]
    everything = [t for times in figures.values() for t in times]
    report(
        "builds search over HTTP",
        builds=f"{total:,}",
        **{f"{name.replace(' ', '_')}_p95_ms": f"{_p95(t):.1f}" for name, t in figures.items()},
        all_p95_ms=f"{_p95(everything):.1f}",
        records_count_p95_ms=f"{_p95(baseline):.1f}",
        target="p95 < 50 ms",
    )


if __name__ == "__main__":
    main()
