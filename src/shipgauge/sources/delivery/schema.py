"""JSON Schema of shipgauge's event body, for the OpenAPI page and schema-driven tests.

The validator in `events.py` is the authority (it also checks which fields go with which kind);
tests/unit/delivery/test_schema.py keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from shipgauge.sources.delivery._fields import MAX_COMMITS, MAX_ID_CHARS
from shipgauge.sources.delivery.events import ACTIONS, KINDS, MAX_BATCH, RESULTS

__all__ = ["EVENT_BATCH_SCHEMA", "EVENT_SCHEMA"]

_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS}
_COMMITS: dict[str, Any] = {"type": "array", "items": _ID, "maxItems": MAX_COMMITS}

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "DeliveryEvent",
    "required": ["service", "kind"],
    "additionalProperties": False,
    "properties": {
        "service": {**_ID, "description": "The service (repository) the event is about."},
        "kind": {"type": "string", "enum": list(KINDS)},
        "time": {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with an offset; default: when the server received it.",
        },
        "event_id": {**_ID, "description": "Your id; default Idempotency-Key, else a hash."},
        "metadata": {"type": "object", "description": "Any JSON object (at most 64 KiB)."},
        "environment": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"},
        "result": {"type": "string", "enum": list(RESULTS)},
        "action": {
            "type": "string",
            "enum": sorted({a for actions in ACTIONS.values() for a in actions}),
        },
        "commits": _COMMITS,
        "commit_ids": {**_COMMITS, "description": "Same as commits (the seed's name)."},
        "deployment_id": _ID,
        "incident_id": _ID,
        "change_id": _ID,
        "cause_commit": _ID,
        "rollback": {"type": "boolean"},
        "hotfix": {"type": "boolean"},
        "planned": {"type": "boolean"},
    },
}

EVENT_BATCH_SCHEMA: dict[str, Any] = {
    "oneOf": [
        EVENT_SCHEMA,
        {"type": "array", "items": EVENT_SCHEMA, "minItems": 1, "maxItems": MAX_BATCH},
    ]
}
