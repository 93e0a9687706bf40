"""`shipgauge demo`: load the bundled sample data of every capability into the store."""

from __future__ import annotations

from collections.abc import Callable

from shipgauge.store import Store

__all__ = ["DEMO_LOADERS", "run_demo"]

# Each capability adds a loader that ingests its bundled sample (src/shipgauge/demo_data/) through
# its real pipeline. Loaders are idempotent, so running the demo twice changes nothing.
DEMO_LOADERS: list[Callable[[Store], None]] = []


def run_demo(store: Store) -> dict[str, int]:
    """Run every demo loader; return the row count of every table afterwards."""
    for loader in DEMO_LOADERS:
        loader(store)
    return {t.name: store.count(t.name) for t in store.tables()}
