"""Archive metadata fetch with 50 ms of latency per request: concurrent vs sequential.

The resolver fetches each distinct metadata file once, as concurrently as the HTTP connector
allows (setting buildhub_concurrency, 32 here); the baseline is the same work one request at
a time, measured in the same run. Target (issue 5): >= 20x the sequential rate.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report, timed

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.pipelines.buildhub_metadata import MetadataResolver
from tests.support.recorded_http import RecordedHttpServer

LATENCY_S = 0.05
SEQUENTIAL = 60
CONCURRENT = 960
CONCURRENCY = 32


def _records(server: RecordedHttpServer, count: int, offset: int) -> list[dict[str, Any]]:
    """Nightly archives of `count` builds, each with its metadata file behind 50 ms."""
    records = []
    for n in range(offset, offset + count):
        folder = f"/pub/firefox/nightly/2024/01/2024-01-01-00-00-{n:06d}-mozilla-central"
        server.add(
            "GET",
            f"{folder}/firefox-130.0a1.en-US.linux-x86_64.json",
            body={"buildid": f"20240101{n:06d}", "moz_source_stamp": "abc"},
            delay=LATENCY_S,
        )
        url = f"{server.url}{folder}-l10n/firefox-130.0a1.fr.linux-x86_64.tar.bz2"
        records.append({"download": {"url": url}, "source": {"product": "firefox"}, "target": {}})
    return records


def _fetch(server: RecordedHttpServer, records: list[dict[str, Any]], concurrency: int) -> int:
    http = HttpConnector(server.url, name="archive", retries=0, concurrency=concurrency)
    with http:
        found = MetadataResolver(ArchiveConnector(http)).resolve_all(records)
    assert all(isinstance(f, tuple) and f[0] for f in found), "every metadata file must be found"
    return len(found)


def main() -> None:
    with RecordedHttpServer() as server:
        sequential = _records(server, SEQUENTIAL, 0)
        concurrent = _records(server, CONCURRENT, SEQUENTIAL)
        done_seq, seq_s = timed(lambda: _fetch(server, sequential, 1))
        done_con, con_s = timed(lambda: _fetch(server, concurrent, CONCURRENCY))
    seq_rate, con_rate = done_seq / seq_s, done_con / con_s
    report(
        "builds metadata fetch (50 ms)",
        sequential_per_s=f"{seq_rate:.1f}",
        concurrent_per_s=f"{con_rate:.1f}",
        concurrency=CONCURRENCY,
        ratio=f"{con_rate / seq_rate:.1f}x",
        target=">= 20x",
    )


if __name__ == "__main__":
    main()
