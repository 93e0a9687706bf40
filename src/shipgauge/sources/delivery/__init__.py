"""Delivery events → `DeliveryEventRow`: shipgauge's own JSON and the DevOps Toolkit's formats.

`events` reads shipgauge's event JSON (one object or an array), `seed` reads the DevOps Toolkit's
`POST /process-event` body and its `Time,Repo,Event,Metadata` CSV (docs/upstream.md,
system B). Every parser is pure and raises `SourceError` naming the field at fault.
"""

from shipgauge.sources.delivery.events import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_MAX_FUTURE,
    KINDS,
    MAX_BATCH,
    DeliveryEventRow,
    Reject,
    parse_event,
    parse_events,
    parse_json,
)
from shipgauge.sources.delivery.seed import (
    SEED_EVENTS,
    parse_event_lines,
    parse_seed_csv,
    parse_seed_event,
)

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "DEFAULT_MAX_FUTURE",
    "KINDS",
    "MAX_BATCH",
    "SEED_EVENTS",
    "DeliveryEventRow",
    "Reject",
    "parse_event",
    "parse_event_lines",
    "parse_events",
    "parse_json",
    "parse_seed_csv",
    "parse_seed_event",
]
