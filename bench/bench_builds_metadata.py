"""Archive metadata fetch with 50 ms of latency per request: concurrent vs sequential.

The resolver fetches each distinct metadata file once, as concurrently as the HTTP connector
allows (setting buildhub_concurrency; 32 here); the baseline is the same work one request at
a time, measured in the same run. Target (issue 5): >= 20x the sequential rate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report, timed

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.pipelines.builds.metadata import MetadataResolver
from tests.support.recorded_http import RecordedHttpServer

LATENCY_S = 0.05
SEQUENTIAL = 60
CONCURRENT = 960
CONCURRENCY = 32


def _folder(n: int) -> str:
    return f"/pub/firefox/nightly/2024/01/2024-01-01-00-00-{n:06d}-mozilla-central"


def _serve(count: int) -> None:
    """Child process: every build's metadata behind 50 ms, so the server has its own GIL."""
    with RecordedHttpServer() as server:
        for n in range(count):
            server.add(
                "GET",
                f"{_folder(n)}/firefox-130.0a1.en-US.linux-x86_64.json",
                body={"buildid": f"20240101{n:06d}", "moz_source_stamp": "abc"},
                delay=LATENCY_S,
            )
        print(server.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def _records(url: str, numbers: range) -> list[dict[str, Any]]:
    """Nightly l10n archives whose en-US metadata is one distinct file each."""
    return [
        {
            "download": {"url": f"{url}{_folder(n)}-l10n/firefox-130.0a1.fr.linux-x86_64.tar.bz2"},
            "source": {"product": "firefox"},
            "target": {},
        }
        for n in numbers
    ]


def _fetch(url: str, records: list[dict[str, Any]], concurrency: int) -> int:
    http = HttpConnector(url, name="archive", retries=0, concurrency=concurrency)
    with http:
        found = MetadataResolver(ArchiveConnector(http)).resolve_all(records)
    assert all(isinstance(f, tuple) and f[0] for f in found), "every metadata file must be found"
    return len(found)


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        _serve(int(sys.argv[2]))
        return
    total = SEQUENTIAL + CONCURRENT
    child = subprocess.Popen(
        [sys.executable, __file__, "serve", str(total)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        sequential = _records(url, range(SEQUENTIAL))
        concurrent = _records(url, range(SEQUENTIAL, total))
        done_seq, seq_s = timed(lambda: _fetch(url, sequential, 1))
        done_con, con_s = timed(lambda: _fetch(url, concurrent, CONCURRENCY))
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(10)
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
