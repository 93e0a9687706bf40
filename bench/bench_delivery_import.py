"""`shipgauge events import` of a JSON-lines file: the bundled demo history, scaled up.

The input is the demo's events.jsonl (pushes, pull requests, deployments, incidents; the format
`POST /api/v1/events` takes) copied until it holds EVENTS lines, each copy with its own event
ids, services and commits; one line in 100 is refused (an unknown kind: a dead letter) and one
in 50 repeats the line before it (stored once). Events/s of `import_events` into a DuckDB store,
and its peak RSS at EVENTS and at a tenth of it, each size in a fresh interpreter of its own.
Target (issue 21): peak RSS < 512 MB at both sizes, within 10 % of each other. EVENTS defaults
to 300,000 (`BENCH_DELIVERY_EVENTS` to change it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from itertools import cycle, islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_child, ingest_figures, peak_rss_mb, report, timed_cpu

from shipgauge.demo import delivery as demo
from shipgauge.pipelines.delivery.events import IMPORT_SOURCE, import_events
from shipgauge.store import Store

EVENTS = int(os.environ.get("BENCH_DELIVERY_EVENTS", "300000"))
REFUSED_EVERY = 100
REPEATED_EVERY = 50


def write_events(path: Path, count: int) -> None:
    """`count` lines: copies of the demo's events, renamed per copy, with refusals and repeats."""
    demo_file = Path(demo.__file__).parent.parent / "demo_data" / "delivery" / "events.jsonl"
    events = [json.loads(line) for line in demo_file.read_text().splitlines() if line]
    with path.open("w") as out:
        previous = ""
        for n, event in enumerate(islice(cycle(events), count)):
            copy = n // len(events)
            if n % REFUSED_EVERY == REFUSED_EVERY - 1:
                line = json.dumps({"service": "web", "kind": "release", "event_id": f"bad-{n}"})
            elif n % REPEATED_EVERY == REPEATED_EVERY - 1:
                line = previous
            else:
                renamed = {**event, "event_id": f"{event['event_id']}-{copy}",
                           "service": f"{event['service']}-{copy % 10}"}  # fmt: skip
                if "commits" in event:
                    renamed["commits"] = [f"{c}{copy:x}" for c in event["commits"]]
                line = json.dumps(renamed)
            out.write(line + "\n")
            previous = line


def measure(count: int) -> dict[str, float]:
    """One import of `count` lines in this process: its figures, peak RSS included."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "events.jsonl"
        write_events(source, count)
        with Store.open(str(Path(tmp) / "d.duckdb")) as store:
            result, seconds, cpu = timed_cpu(lambda: import_events(store, source))
            stored = store.count("delivery_events")
            letters = store.query(
                "SELECT count(*) FROM dead_letters WHERE source = ?", [IMPORT_SOURCE]
            ).scalar()
    assert letters == len(result.rejects) == count // REFUSED_EVERY, (letters, result)
    return {
        "lines": count,
        "valid": result.stored,
        "stored": stored,
        "dead_letters": letters,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peak_rss_mb(),
    }


def main() -> None:
    small, full = in_child(__file__, EVENTS // 10), in_child(__file__, EVENTS)
    report(
        "delivery events import",
        **ingest_figures(small, full, "lines", "events"),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        main()
