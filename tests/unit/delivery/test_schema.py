"""The OpenAPI schema of an event lists exactly the fields the validator accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from shipgauge.sources.delivery import events
from shipgauge.sources.delivery.schema import EVENT_SCHEMA


def test_schema_properties_are_the_accepted_fields() -> None:
    accepted = {*events._COMMON_FIELDS, *events._ALIASES}
    for names in events._KIND_FIELDS.values():
        accepted |= set(names)
    assert set(EVENT_SCHEMA["properties"]) == accepted
    assert EVENT_SCHEMA["properties"]["kind"]["enum"] == list(events.KINDS)


def test_a_minimal_schema_example_is_valid() -> None:
    row = events.parse_event({"service": "web", "kind": "test_pass"},
                             received_at=datetime(2024, 1, 1, tzinfo=UTC))  # fmt: skip
    assert row.result == "success"
