"""The capabilities' write sides, listed once with what other parts of shipgauge need from each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shipgauge.pipelines import builds, ci_cost, delivery, pushlog, taskcluster, telemetry
from shipgauge.store.dead_letters import RetryHandler

__all__ = ["CAPABILITIES", "Capability", "retry_handlers"]


@dataclass(frozen=True)
class Capability:
    """One write side: its name and how `dead-letters retry` replays each of its sources."""

    name: str
    retry_handlers: Mapping[str, RetryHandler]


CAPABILITIES: tuple[Capability, ...] = (
    Capability("pushlog", pushlog.RETRY_HANDLERS),
    Capability("telemetry", telemetry.RETRY_HANDLERS),
    Capability("builds", builds.RETRY_HANDLERS),
    Capability("delivery", delivery.RETRY_HANDLERS),
    Capability("taskcluster", taskcluster.RETRY_HANDLERS),
    Capability("ci_cost", ci_cost.RETRY_HANDLERS),
)


def retry_handlers() -> dict[str, RetryHandler]:
    """Source name → handler, over every capability."""
    return {source: h for c in CAPABILITIES for source, h in c.retry_handlers.items()}
