"""`shipgauge demo`: load the bundled sample data of every capability into the store."""

from __future__ import annotations

from shipgauge.pipelines import capability_modules
from shipgauge.store import Store

__all__ = ["run_demo"]


def run_demo(store: Store) -> dict[str, int]:
    """Run every capability's `load_demo` (each idempotent); return every table's row count.

    The samples live in `shipgauge/demo_data/<capability>/` and go through the real pipelines.
    """
    for module in capability_modules():
        load_demo = getattr(module, "load_demo", None)
        if load_demo is not None:
            load_demo(store)
    return {t.name: store.count(t.name) for t in store.tables()}
