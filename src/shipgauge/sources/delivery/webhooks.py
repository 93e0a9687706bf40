"""What the webhook readers share: how each sender signs, what a delivery gives, and the fields
every reader checks the same way (service, environment, time, ids, commits).

A delivery gives delivery events to store, a reply without storing (GitHub's `ping`), or the
reason a valid delivery is not used (202 `ignored`). The readers (`github`, `gitlab`,
`pagerduty`) are pure: headers (lower-cased) and the parsed body in, `HookEvents` out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from shipgauge.errors import SourceError
from shipgauge.sources.delivery._fields import (
    read_commits,
    read_environment,
    read_identifier,
    read_time,
)
from shipgauge.sources.delivery.events import DEFAULT_ENVIRONMENT, DeliveryEventRow, build_row

__all__ = [
    "HookContext",
    "HookEvents",
    "event_row",
    "field_at",
    "hook_time",
    "verify_github_signature",
    "verify_gitlab_token",
    "verify_pagerduty_signature",
]

_TIME: Final = re.compile(
    r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d+)?)\s*(UTC|[zZ]|[+-]\d\d:?\d\d)?"
)
_NOT_ENVIRONMENT: Final = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class HookContext:
    """What a reader needs besides the delivery: the receive time, the clock skew allowed, the
    renames of services (sender's name → service) and the deploy workflows or pipelines."""

    received_at: datetime
    max_future: timedelta = timedelta(minutes=5)
    services: Mapping[str, str] = field(default_factory=dict)
    deploy_names: Sequence[str] = ()


@dataclass(frozen=True)
class HookEvents:
    """The events a delivery gives; or, when it gives none, why (`ignored`) or what to answer
    (`reply`, a ping)."""

    rows: tuple[DeliveryEventRow, ...] = ()
    ignored: str | None = None
    reply: Mapping[str, Any] | None = None


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body under the secret."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected.encode(), header.strip().encode())


def verify_gitlab_token(token: str, header: str | None) -> bool:
    """`X-Gitlab-Token`: the webhook's secret token itself, compared in constant time."""
    return header is not None and hmac.compare_digest(token.encode(), header.encode())


def verify_pagerduty_signature(secret: str, body: bytes, header: str | None) -> bool:
    """`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` (several while a secret is rotated): one of
    them is the HMAC-SHA256 of the raw body under the secret."""
    expected = ("v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()).encode()
    given = [s.strip() for s in (header or "").split(",") if s.strip().startswith("v1=")]
    return any(hmac.compare_digest(expected, s.encode()) for s in given)


def field_at(body: Any, path: str, *, required: bool = True) -> Any:
    """`body`'s value at a dotted path (`deployment_status.state`); SourceError naming the path
    when it is missing and `required`."""
    value = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            if required:
                raise SourceError(f"the payload has no {path}", field=path)
            return None
    return value


def hook_time(value: Any, name: str, ctx: HookContext) -> datetime:
    """A sender's time: RFC 3339, GitLab's `2021-04-28 21:50:00 +0200` or `… UTC`, or epoch
    seconds (GitHub's `repository.pushed_at` in a push); in UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, UTC).isoformat()
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        day, clock, zone = match.groups()
        zone = "Z" if zone in (None, "UTC", "z") else zone
        if zone != "Z" and ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        value = f"{day}T{clock}{zone}"
    return read_time(value, name, received_at=ctx.received_at, max_future=ctx.max_future)


def event_row(
    ctx: HookContext,
    *,
    origin: str,
    event_id: str,
    service: str,
    kind: str,
    occurred_at: datetime,
    environment: str | None = None,
    result: str | None = None,
    action: str | None = None,
    commits: Sequence[Any] = (),
    deployment_id: Any = None,
    incident_id: Any = None,
    change_id: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> DeliveryEventRow:
    """A checked delivery event from what a reader found: the service renamed as the settings
    say, the environment as a name shipgauge takes, ids and commits checked like the API's."""
    values: dict[str, Any] = {
        "kind": kind,
        "service": read_identifier(_service(service, ctx), "service"),
        "occurred_at": occurred_at,
        "metadata": dict(metadata or {}),
        "commits": read_commits([str(c) for c in commits if c], "commits"),
    }
    if environment is not None or kind in ("deploy", "incident"):
        values["environment"] = read_environment(_environment(environment), "environment")
    optional = {"result": result, "action": action}
    ids = {"deployment_id": deployment_id, "incident_id": incident_id, "change_id": change_id}
    values.update({k: v for k, v in optional.items() if v is not None})
    values.update({k: read_identifier(str(v), k) for k, v in ids.items() if v is not None})
    return build_row(
        values,
        received_at=ctx.received_at,
        origin=origin,
        event_id=read_identifier(event_id, "event_id"),
    )


def _service(name: str, ctx: HookContext) -> str:
    """The service a sender's name maps to; spaces (a PagerDuty service name may have them)
    become `-`, since a service name has none."""
    renamed = ctx.services.get(name, name)
    return "-".join(renamed.split())


def _environment(name: str | None) -> str:
    """An environment as shipgauge names them: `Production (web)` is `production-web`."""
    cleaned = _NOT_ENVIRONMENT.sub("-", (name or "").lower()).strip("-._")
    return cleaned[:100] or DEFAULT_ENVIRONMENT
