"""Helpers shared by the benchmarks: timing, peak memory and the one-line result format."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# As scripts/services.sh and tests/conftest.py: the URL, else loopback on SHIPGAUGE_PG_PORT.
PG_PORT = int(os.environ.get("SHIPGAUGE_PG_PORT") or 5433)
PG_URL = (
    os.environ.get("SHIPGAUGE_PG_URL")
    or f"postgresql://postgres@127.0.0.1:{PG_PORT}/shipgauge_test"
)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run `fn` once; return its result and the wall-clock seconds it took."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def timed_cpu(fn: Callable[[], T]) -> tuple[T, float, float]:
    """`timed`, with the CPU seconds the whole process spent meanwhile (every thread)."""
    cpu = time.process_time()
    result, seconds = timed(fn)
    return result, seconds, time.process_time() - cpu


def report(name: str, **figures: object) -> None:
    """Print one benchmark line: `name  key=value  key=value`."""
    print(f"{name:<34}  " + "  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB: its memory's high-water mark
    (VmHWM). Not `ru_maxrss`: Linux carries that across `exec`, so a child started by a large
    benchmark process began at its parent's peak (the Taskcluster import's children reported
    568 MB at both sizes, 440 MB of their own)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(script: str, *args: object) -> dict[str, Any]:
    """Run `script` with `args` in a fresh interpreter; the JSON object on its last stdout line.

    Each measured size runs in a process of its own so that one run's peak RSS never hides
    another's.
    """
    done = subprocess.run(
        [sys.executable, script, *map(str, args)], stdout=subprocess.PIPE, text=True, check=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def peak_figures(at_tenth_mb: float, at_full_mb: float) -> dict[str, str]:
    """Both peaks and the growth from a tenth of the input to all of it (issue 21)."""
    return {
        "peak_rss_mb_at_tenth": f"{at_tenth_mb:,.0f}",
        "peak_rss_mb": f"{at_full_mb:,.0f}",
        "peak_growth": f"{at_full_mb / at_tenth_mb - 1:+.0%}",
    }


def ingest_figures(
    small: dict[str, Any], full: dict[str, Any], count: str, unit: str
) -> dict[str, str]:
    """What every ingest benchmark prints of its two sizes: the `count` of its input at full
    size, what was stored and refused, the rate of `unit`s per second and per CPU-second, both
    peaks and the load average."""
    return {
        count: f"{full[count]:,}",
        "stored": f"{full['stored']:,}",
        "dead_letters": f"{full['dead_letters']:,}",
        "seconds": f"{full['seconds']:.1f}",
        f"{unit}_per_s": f"{full[count] / full['seconds']:,.0f}",
        f"{unit}_per_cpu_s": f"{full[count] / full['cpu_s']:,.0f}",
        **peak_figures(small["peak_mb"], full["peak_mb"]),
        "load_avg": f"{os.getloadavg()[0]:.1f}",
        "target": "RSS < 512 MB within 10 %",
    }


@contextlib.contextmanager
def served_in_child(*command: str) -> Iterator[str]:
    """Run a local server as `python *command` in a process of its own (as the real one is
    remote: no GIL shared with the benchmark); the URL it prints first. Stopped on exit."""
    child = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        child.terminate()
        child.wait(10)
