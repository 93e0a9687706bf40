"""Pipelines: one module per capability, wiring connector → source parser → store.

A capability module may define `load_demo(store) -> None` (its part of `shipgauge demo`) and
`RETRY_HANDLERS: dict[str, RetryHandler]` (how `dead-letters retry` replays its sources).
"""

import importlib
from types import ModuleType

__all__ = ["CAPABILITIES", "capability_modules"]

# Module names under shipgauge.pipelines, in the order the demo loads them.
CAPABILITIES: tuple[str, ...] = (
    "pushlog",
    "telemetry",
    "buildhub",
    "delivery",
    "taskcluster",
    "ci_cost",
)


def capability_modules() -> list[ModuleType]:
    """The capability pipeline modules, imported on demand (importing does no work)."""
    return [importlib.import_module(f"shipgauge.pipelines.{name}") for name in CAPABILITIES]
