"""PagerDuty v3 webhook deliveries → delivery events (`POST /api/v1/webhooks/pagerduty`).

| `event.event_type` | delivery event |
| --- | --- |
| `incident.triggered` | incident opened, at `event.occurred_at` |
| `incident.resolved` | incident resolved, at `event.occurred_at` |

`incident_id` is the incident's id (`event.data.id`); the service is the incident's PagerDuty
service name (`event.data.service.summary`; spaces become `-`) unless the settings rename it (by
name or by service id); the environment is production. The event id is PagerDuty's
`event.id`, the same on every retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shipgauge.errors import SourceError
from shipgauge.sources.delivery.webhooks import (
    HookContext,
    HookEvents,
    event_row,
    field_at,
    hook_time,
)

__all__ = ["PAGERDUTY_EVENTS", "parse_pagerduty"]

ORIGIN: Final = "pagerduty"
PAGERDUTY_EVENTS: Final = {"incident.triggered": "opened", "incident.resolved": "resolved"}


def parse_pagerduty(headers: Mapping[str, str], body: Any, ctx: HookContext) -> HookEvents:
    """One delivery (headers lower-cased, body parsed) → what it gives."""
    event = field_at(body, "event") if isinstance(body, Mapping) else None
    if not isinstance(event, Mapping):
        raise SourceError("a PagerDuty v3 payload is an object with an event", field="event")
    kind = str(field_at(event, "event_type"))
    action = PAGERDUTY_EVENTS.get(kind)
    if action is None:
        return HookEvents(
            ignored=f"PagerDuty event '{kind}' is not used; shipgauge reads "
            + ", ".join(PAGERDUTY_EVENTS)
        )
    incident = field_at(event, "data")
    service = field_at(incident, "service")
    name = str(field_at(service, "summary"))
    renamed = ctx.services.get(str(service.get("id")), ctx.services.get(name, name))
    row = event_row(
        HookContext(ctx.received_at, ctx.max_future, {name: renamed}, ctx.deploy_names),
        origin=ORIGIN,
        event_id=f"pagerduty-{field_at(event, 'id')}",
        service=name,
        kind="incident",
        occurred_at=hook_time(field_at(event, "occurred_at"), "event.occurred_at", ctx),
        action=action,
        incident_id=str(field_at(incident, "id")),
        metadata={"pagerduty": {"event_type": kind, "number": incident.get("number"),
                                "title": incident.get("title"), "url": incident.get("html_url"),
                                "service_id": service.get("id")}},
    )  # fmt: skip
    return HookEvents((row,))
