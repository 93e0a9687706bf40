"""CDEvents carried as CloudEvents (binary, structured or batch mode) → `DeliveryEventRow`.

CDEvents spec v0.4-0.6 (upstream.md §5.1); any type version is read. The mapping:

| CDEvents type | shipgauge event |
| --- | --- |
| service.deployed, service.upgraded | deploy (success) |
| service.rolledback | deploy (success, rollback) |
| incident.detected, incident.reported | incident opened |
| incident.resolved | incident resolved |
| change.merged | change merged |
| pipelinerun.finished | test_run (result from outcome) |
| testsuiterun.finished | test_pass when the outcome is pass, else test_run failure |

CDEvents carry no commit ids (cdevents/spec#150), so `customData` may add `commits`, `service`,
`deployment_id`, `incident_id`, `cause_commit`, `hotfix` and `planned`; its other keys are kept in
the metadata with the subject's content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shipgauge.errors import SourceError
from shipgauge.sources.delivery import DEFAULT_MAX_FUTURE, DeliveryEventRow, Reject, parse_event

__all__ = ["CDEVENT_TYPES", "parse_cdevent", "parse_cloudevents"]


@dataclass(frozen=True)
class _Mapping:
    kind: str
    action: str | None = None
    rollback: bool = False
    service_from: str = "customData.service"  # where the service name comes from


CDEVENT_TYPES: dict[str, _Mapping] = {
    "service.deployed": _Mapping("deploy", service_from="subject.id"),
    "service.upgraded": _Mapping("deploy", service_from="subject.id"),
    "service.rolledback": _Mapping("deploy", rollback=True, service_from="subject.id"),
    "incident.detected": _Mapping("incident", "opened", service_from="subject.content.service.id"),
    "incident.reported": _Mapping("incident", "opened", service_from="subject.content.service.id"),
    "incident.resolved": _Mapping(
        "incident", "resolved", service_from="subject.content.service.id"
    ),
    "change.merged": _Mapping("change", "merged", service_from="subject.content.repository.id"),
    "pipelinerun.finished": _Mapping("test_run"),
    "testsuiterun.finished": _Mapping("test_pass"),
}
_CUSTOM_FIELDS = ("commits", "deployment_id", "incident_id", "cause_commit", "hotfix", "planned")
_STRUCTURED = "application/cloudevents+json"
_BATCH = "application/cloudevents-batch+json"


def parse_cloudevents(
    headers: Mapping[str, str],
    body: Any,
    *,
    received_at: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_batch: int = 1000,
) -> tuple[list[DeliveryEventRow], list[Reject]]:
    """A CloudEvents HTTP request (lower-cased headers, parsed JSON body) → (rows, rejects).

    Binary mode has `ce-*` headers and the CDEvent as body; structured mode has the content type
    `application/cloudevents+json` (or a `specversion` member) and the CDEvent in `data`; batch
    mode is an array of structured events. Only batch items become rejects; a bad single event
    raises SourceError.
    """
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == _BATCH:
        if not isinstance(body, list) or not body or len(body) > max_batch:
            raise SourceError(
                f"a CloudEvents batch is an array of 1 to {max_batch} events", field="body"
            )
        rows: list[DeliveryEventRow] = []
        rejects: list[Reject] = []
        for index, item in enumerate(body):
            try:
                rows.append(_parse_structured(item, received_at, max_future))
            except SourceError as exc:
                payload = json.dumps(item).encode()
                rejects.append(Reject(index, exc.field, exc.message, payload))
        return rows, rejects
    if "ce-specversion" in headers:
        return [_parse_binary(headers, body, received_at, max_future)], []
    if content_type == _STRUCTURED or (isinstance(body, dict) and "specversion" in body):
        return [_parse_structured(body, received_at, max_future)], []
    raise SourceError(
        "not a CloudEvent: send ce-* headers (binary mode) or Content-Type "
        "application/cloudevents+json (structured mode)",
        field="content-type",
    )


def parse_cdevent(
    cdevent: Any,
    *,
    received_at: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> DeliveryEventRow:
    """One CDEvent (`context`, `subject`, `customData`) → row; unknown types are refused."""
    context = _object(cdevent, "context", "") if isinstance(cdevent, dict) else None
    if context is None:
        raise SourceError("a CDEvent is a JSON object with context and subject", field="data")
    subject = _object(cdevent, "subject", "")
    content = _object(subject, "content", "subject.") or {}
    custom = _object(cdevent, "customData", "") or {}
    event_type = _type_name(context.get("type"))
    mapping = CDEVENT_TYPES[event_type]
    doc: dict[str, Any] = {
        "kind": mapping.kind,
        "service": _service(mapping.service_from, subject, content, custom),
        "time": context.get("timestamp"),
        "event_id": context.get("id"),
        "metadata": {
            "cdevent_type": context.get("type"),
            "source": context.get("source"),
            "subject_id": subject.get("id") if subject else None,
            "content": content,
            **{k: v for k, v in custom.items() if k not in ("service", *_CUSTOM_FIELDS)},
        },
    }
    where = {
        "time": "context.timestamp",
        "event_id": "context.id",
        "service": "customData.service" if "service" in custom else mapping.service_from,
    }
    if mapping.action:
        doc["action"] = mapping.action
    if mapping.rollback:
        doc["rollback"] = True
    if mapping.kind in ("incident", "change"):
        doc[f"{mapping.kind}_id"] = subject.get("id") if subject else None
        where[f"{mapping.kind}_id"] = "subject.id"
    environment = _object(content, "environment", "subject.content.") or {}
    if environment.get("id") is not None:
        doc["environment"] = environment["id"]
        where["environment"] = "subject.content.environment.id"
    outcome = content.get("outcome")
    if event_type == "pipelinerun.finished" and outcome is not None:
        doc["result"] = "success" if outcome == "success" else "failure"
    if event_type == "testsuiterun.finished" and outcome not in (None, "pass"):
        doc.update(kind="test_run", result="failure")
    for name in _CUSTOM_FIELDS:
        if custom.get(name) is not None:
            doc[name] = custom[name]
            where[name] = f"customData.{name}"
    try:
        return parse_event(doc, received_at=received_at, origin="cdevents", max_future=max_future)
    except SourceError as exc:
        raise _in_cdevent_terms(exc, where) from None


def _in_cdevent_terms(exc: SourceError, where: Mapping[str, str]) -> SourceError:
    """`parse_event`'s error with its field (and the field named in its message) renamed to
    where the value sits in the CDEvent, per `where` (a field not in it keeps its name)."""
    field = where.get(exc.field or "", exc.field)
    message = exc.message
    if exc.field and field and field != exc.field:
        if message.startswith(exc.field):
            message = field + message[len(exc.field) :]
        message = message.replace(f"'{exc.field}'", f"'{field}'")
    return SourceError(message, field=field)


def _parse_binary(
    headers: Mapping[str, str], body: Any, received_at: datetime, max_future: timedelta
) -> DeliveryEventRow:
    _check_specversion(headers.get("ce-specversion"), "ce-specversion")
    if isinstance(body, dict) and isinstance(body.get("context"), dict):
        declared = body["context"].get("type")
        if headers.get("ce-type") not in (None, declared):
            raise SourceError(
                f"ce-type '{headers.get('ce-type')}' differs from context.type '{declared}'",
                field="ce-type",
            )
    return parse_cdevent(body, received_at=received_at, max_future=max_future)


def _parse_structured(body: Any, received_at: datetime, max_future: timedelta) -> DeliveryEventRow:
    if not isinstance(body, dict):
        raise SourceError("a structured CloudEvent is a JSON object", field="body")
    _check_specversion(body.get("specversion"), "specversion")
    if "data_base64" in body:
        raise SourceError("data_base64 is not read: send the CDEvent as JSON data", field="data")
    if not isinstance(body.get("data"), dict):
        raise SourceError("data must hold the CDEvent object", field="data")
    return parse_cdevent(body["data"], received_at=received_at, max_future=max_future)


def _check_specversion(value: Any, field: str) -> None:
    if value != "1.0":
        raise SourceError(f"{field} must be 1.0 (CloudEvents 1.0)", field=field)


def _type_name(value: Any) -> str:
    """`dev.cdevents.service.deployed.0.3.0` → `service.deployed`, if shipgauge reads it."""
    parts = value.split(".") if isinstance(value, str) else []
    name = ".".join(parts[2:4])
    if parts[:2] != ["dev", "cdevents"] or len(parts) < 5 or name not in CDEVENT_TYPES:
        shown = value if isinstance(value, str) else "missing"
        raise SourceError(
            f"CDEvents type '{shown}' is not supported; supported: "
            + ", ".join(f"dev.cdevents.{t}" for t in CDEVENT_TYPES),
            field="context.type",
        )
    return name


def _object(parent: Any, name: str, prefix: str) -> dict[str, Any] | None:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is not None and not isinstance(value, dict):
        raise SourceError(f"{prefix}{name} must be a JSON object", field=f"{prefix}{name}")
    return value


def _service(source: str, subject: Any, content: dict[str, Any], custom: dict[str, Any]) -> Any:
    if custom.get("service") is not None:
        return custom["service"]
    if source == "subject.id":
        return subject.get("id") if isinstance(subject, dict) else None
    if source != "customData.service":
        holder = _object(content, source.split(".")[2], "subject.content.") or {}
        return holder.get("id")
    return None
