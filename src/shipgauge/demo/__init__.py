"""`shipgauge demo`: load the bundled sample data of every capability into the store."""

from __future__ import annotations

from typing import Protocol

from shipgauge.demo import builds, ci_cost, delivery, taskcluster, telemetry
from shipgauge.store import Store

__all__ = ["DEMO_LOADERS", "DemoLoader", "run_demo"]


class DemoLoader(Protocol):
    """Loads one capability's sample; `move` moves its recorded times into the present."""

    def __call__(self, store: Store, *, move: bool = ...) -> None: ...


# Each capability's part of the demo, in the order they load (each idempotent): telemetry and
# CI cost share the pushlog; CI cost prices runs with the costs the Taskcluster part loads.
DEMO_LOADERS: tuple[tuple[str, DemoLoader], ...] = (
    ("telemetry", telemetry.load_demo),
    ("builds", builds.load_demo),
    ("delivery", delivery.load_demo),
    ("taskcluster", taskcluster.load_demo),
    ("ci_cost", ci_cost.load_demo),
)


def run_demo(store: Store, *, move: bool = True) -> dict[str, int]:
    """Load every capability's sample through the real pipelines; return every table's row count.

    The samples live in `shipgauge/demo_data/<capability>/`. Their recorded times (2013-2022)
    are moved into the present (`demo.recorded_times`) unless `move` is false.
    """
    for _, load_demo in DEMO_LOADERS:
        load_demo(store, move=move)
    return {t.name: store.count(t.name) for t in store.tables()}
