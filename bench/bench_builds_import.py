"""`shipgauge builds import` of one JSON-lines file of RECORDS Buildhub2 records (_builds.py).

Each line is the fixture's real buildhub.json with its own build id, version, locale and URL;
one in 100 is refused (a dead letter). Documents/s of `import_build_files` into a DuckDB store,
and its peak RSS at RECORDS and at a tenth of it, each size in a fresh interpreter of its own.
Target (issue 21): peak RSS < 512 MB at both sizes, within 10 % of each other. RECORDS
defaults to 200,000 (`BENCH_BUILDS_IMPORT` to change it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _builds import document, refused
from _common import in_child, ingest_figures, peak_rss_mb, report, timed_cpu

from shipgauge.pipelines.builds.files import import_build_files
from shipgauge.store import Store

RECORDS = int(os.environ.get("BENCH_BUILDS_IMPORT", "200000"))


def measure(records: int) -> dict[str, float]:
    """One import of `records` lines in this process: its figures, peak RSS included."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "records.jsonl"
        with source.open("wb") as out:
            for n in range(records):
                out.write(document(n) + b"\n")
        with Store.open(str(Path(tmp) / "b.duckdb")) as store:
            result, seconds, cpu = timed_cpu(lambda: import_build_files(store, [source]))
            stored = store.count("builds")
    assert result.dead_letters == refused(records), result
    return {
        "documents": result.documents,
        "inserted": result.inserted,
        "stored": stored,
        "dead_letters": result.dead_letters,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peak_rss_mb(),
    }


def main() -> None:
    small, full = in_child(__file__, RECORDS // 10), in_child(__file__, RECORDS)
    report(
        "builds import (JSON lines)",
        **ingest_figures(small, full, "documents", "documents"),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        main()
