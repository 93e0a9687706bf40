"""Helpers shared by the benchmarks: timing and the one-line result format."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

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


def report(name: str, **figures: object) -> None:
    """Print one benchmark line: `name  key=value  key=value`."""
    print(f"{name:<34}  " + "  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
