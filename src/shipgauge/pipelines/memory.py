"""Long write jobs (an inventory load) in bounded memory, whatever their input.

While one runs, a DuckDB store's allocator gives freed memory back at once (by default it
keeps up to 128 MB), the store holds its buffers to `memory_limit`, and Arrow
allocates from the system allocator: its default pool (mimalloc) kept ~90 MB of freed batch
buffers mapped in `bench_builds_inventory.py`. A PostgreSQL store's memory is the server's.

A limit counts the primary-key indexes, which grow with their tables and cannot be evicted: a
CI-cost scan of 10,000 pushes failed at 96 MB while tasks and task_runs had theirs. On DuckDB
those two tables have no key index (migration 9), nor have the delivery tables an events import
fills (migration 11), `builds` (12), `changesets` and `hgpush_pings` (13), so the jobs that
write them (the CI-cost scan, the Taskcluster drain and import, `events import`, `builds
import` and the inventory) take a fixed limit; a job whose keyed tables grow takes none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import pyarrow as pa

from shipgauge.store import Store
from shipgauge.store.engines import DuckDBEngine

__all__ = ["bounded_memory", "write_out"]

ALLOCATOR_FLUSH = "16MB"


@contextlib.contextmanager
def bounded_memory(
    store: Store, memory_limit: str | None, options: Mapping[str, str] | None = None
) -> Iterator[None]:
    """The job's settings (see the module docstring), with more DuckDB `options`, kept across
    the turns the job gives other processes (engines.turns); reset when it ends, after a
    DuckDB store's CHECKPOINT: one after the reset took ~250 MB more for an inventory of
    4,000,000 rows. `memory_limit` None keeps DuckDB's own (a job whose writes need a key
    index of any size in memory)."""
    engine = store.engine
    if isinstance(engine, DuckDBEngine):
        limit = {} if memory_limit is None else {"memory_limit": memory_limit}
        engine.set_options(
            {"allocator_flush_threshold": ALLOCATOR_FLUSH, **(options or {}), **limit}
        )
    # Buffers remember the pool they came from, so switching mid-process is safe.
    arrow_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(arrow_pool)
        if isinstance(engine, DuckDBEngine):
            try:
                write_out(store)
            finally:
                engine.set_options({})


def write_out(store: Store) -> None:
    """Write a DuckDB store's committed rows and key indexes to its file (CHECKPOINT), so that
    memory holds no index a later write does not touch. DuckDB checkpoints by itself only when
    its WAL reaches 16 MiB, and large inserts go to the file without passing through the WAL:
    a long import would otherwise hold every key index it grew. A PostgreSQL store: nothing."""
    if isinstance(store.engine, DuckDBEngine):
        store.query("CHECKPOINT")
