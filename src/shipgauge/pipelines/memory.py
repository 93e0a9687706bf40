"""Long write jobs (an inventory load, a CI-cost scan) in bounded memory, whatever their input.

While one runs, a DuckDB store holds its buffers to `memory_limit` and its allocator gives
freed memory back at once (by default it keeps up to 128 MB), and Arrow allocates from the
system allocator: its default pool (mimalloc) kept ~90 MB of freed batch buffers mapped in
`bench_builds_inventory.py`. A PostgreSQL store's memory is the server's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import pyarrow as pa

from shipgauge.store import Store
from shipgauge.store.engines import DuckDBEngine

__all__ = ["bounded_memory"]

ALLOCATOR_FLUSH = "16MB"


@contextlib.contextmanager
def bounded_memory(
    store: Store, memory_limit: str, options: Mapping[str, str] | None = None
) -> Iterator[None]:
    """The job's settings (see the module docstring), with more DuckDB `options`, kept across
    the turns the job gives other processes (engines.turns); reset when it ends."""
    engine = store.engine
    if isinstance(engine, DuckDBEngine):
        engine.set_options(
            {
                "memory_limit": memory_limit,
                "allocator_flush_threshold": ALLOCATOR_FLUSH,
                **(options or {}),
            }
        )
    # Buffers remember the pool they came from, so switching mid-process is safe.
    arrow_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(arrow_pool)
        if isinstance(engine, DuckDBEngine):
            engine.set_options({})
