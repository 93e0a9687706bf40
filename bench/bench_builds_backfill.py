"""`shipgauge builds backfill` of a bucket of BUILDS builds from a local S3 stand-in (_builds.py).

The stand-in (its own process) lists the bucket, 1,000 keys a page (each build's buildhub.json
beside four other files), and serves each buildhub.json, made from the fixture's real one; one
in 100 is refused (a dead letter). The backfill runs into an empty DuckDB store, then once more
(every key stored with its ETag is only listed;
the refused ones are downloaded again). Keys/s listed and documents/s stored,
and the peak RSS of the backfilling process at BUILDS and at a tenth of it, each size in a fresh
interpreter of its own. Target (issue 21): peak RSS < 512 MB at both sizes, within 10 % of each
other. BUILDS defaults to 5,000 (`BENCH_BUILDS_BACKFILL` to change it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _builds import BUCKET, refused, s3_stand_in
from _common import in_child, ingest_figures, peak_rss_mb, report, timed, timed_cpu

from shipgauge.connectors.s3 import S3Connector
from shipgauge.pipelines.builds.backfill import backfill
from shipgauge.store import Store

BUILDS = int(os.environ.get("BENCH_BUILDS_BACKFILL", "5000"))


def measure(builds: int) -> dict[str, float]:
    """Backfill, then backfill again, a bucket of `builds` builds in this process."""
    with s3_stand_in(builds) as url, tempfile.TemporaryDirectory() as tmp:
        s3 = S3Connector(endpoint_url=url, access_key_id="bench", secret_access_key="bench",
                         unsigned=False, retries=1)  # fmt: skip
        with Store.open(str(Path(tmp) / "b.duckdb")) as store:
            first, seconds, cpu = timed_cpu(lambda: backfill(store=store, s3=s3, bucket=BUCKET))
            again, again_s = timed(lambda: backfill(store=store, s3=s3, bucket=BUCKET))
            stored = store.count("builds")
    # The refused documents are not stored, so the second run downloads them again.
    assert first.dead_letters == again.downloaded == refused(builds), (first, again)
    return {
        "listed": first.listed,
        "documents": first.downloaded,
        "inserted": first.inserted,
        "stored": stored,
        "dead_letters": first.dead_letters,
        "seconds": seconds,
        "cpu_s": cpu,
        "again_s": again_s,
        "peak_mb": peak_rss_mb(),
    }


def main() -> None:
    small, full = in_child(__file__, BUILDS // 10), in_child(__file__, BUILDS)
    report(
        "builds backfill",
        listed=f"{full['listed']:,}",
        **ingest_figures(small, full, "documents", "documents"),
        rerun_keys_per_s=f"{full['listed'] / full['again_s']:,.0f}",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        main()
