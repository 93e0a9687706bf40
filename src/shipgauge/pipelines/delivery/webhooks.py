"""Webhook deliveries of GitHub, GitLab and PagerDuty: verify as the sender signs, read, commit.

The signature is checked on the raw body before anything is read; a wrong or missing one is a
401 and nothing is stored. A delivery that gives events is committed through the same group
committer as `POST /api/v1/events` and answers which were `stored` and which were `duplicate`
(the same delivery again); a valid delivery of an event shipgauge does not use answers 202
`ignored`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from pydantic import SecretStr

from shipgauge.config import Settings
from shipgauge.errors import Unauthorized
from shipgauge.pipelines.delivery.events import GroupCommitter
from shipgauge.sources.delivery import parse_json
from shipgauge.sources.delivery.github import parse_github
from shipgauge.sources.delivery.gitlab import parse_gitlab
from shipgauge.sources.delivery.pagerduty import parse_pagerduty
from shipgauge.sources.delivery.webhooks import (
    HookContext,
    HookEvents,
    verify_github_signature,
    verify_gitlab_token,
    verify_pagerduty_signature,
)

__all__ = ["SENDERS", "Sender", "WebhookConfig", "accept_webhook", "webhook_config"]

Sender = Literal["github", "gitlab", "pagerduty"]
Reader = Callable[[Mapping[str, str], Any, HookContext], HookEvents]


@dataclass(frozen=True)
class _Spec:
    setting: str  # the secret's setting
    header: str  # where the sender puts its signature
    verify: Callable[[str, bytes, str | None], bool]
    read: Reader
    services: str  # the setting that renames services
    deploy_names: str | None  # the setting naming deploy workflows or pipelines


SENDERS: Final[dict[str, _Spec]] = {
    "github": _Spec(
        "github_webhook_secret",
        "X-Hub-Signature-256",
        verify_github_signature,
        parse_github,
        "github_services",
        "github_deploy_workflows",
    ),
    "gitlab": _Spec(
        "gitlab_webhook_token",
        "X-Gitlab-Token",
        lambda token, _body, header: verify_gitlab_token(token, header),
        parse_gitlab,
        "gitlab_services",
        "gitlab_deploy_pipelines",
    ),
    "pagerduty": _Spec(
        "pagerduty_webhook_secret",
        "X-PagerDuty-Signature",
        verify_pagerduty_signature,
        parse_pagerduty,
        "pagerduty_services",
        None,
    ),
}


@dataclass(frozen=True)
class WebhookConfig:
    """What the settings say of one sender: its secret, its renames, its deploy names."""

    sender: Sender
    secret: SecretStr | None
    services: Mapping[str, str]
    deploy_names: Sequence[str]
    max_future: timedelta
    max_json_depth: int


def webhook_config(settings: Settings, sender: Sender) -> WebhookConfig:
    """The settings of `sender`'s webhook."""
    spec = SENDERS[sender]
    deploy_names: Sequence[str] = getattr(settings, spec.deploy_names) if spec.deploy_names else ()
    return WebhookConfig(
        sender,
        getattr(settings, spec.setting),
        getattr(settings, spec.services),
        deploy_names,
        timedelta(seconds=settings.delivery_max_future_s),
        settings.max_json_depth,
    )


def _verify(config: WebhookConfig, headers: Mapping[str, str], raw: bytes) -> None:
    spec = SENDERS[config.sender]
    secret = config.secret.get_secret_value() if config.secret else ""
    if not secret:
        raise Unauthorized(
            f"no {spec.setting} is set, so no {config.sender} delivery can be verified",
            field=spec.setting,
        )
    header = headers.get(spec.header.lower())
    if not spec.verify(secret, raw, header):
        why = "missing" if header is None else "wrong"
        raise Unauthorized(f"the {spec.header} is {why}", field=spec.header)


async def accept_webhook(
    committer: GroupCommitter,
    config: WebhookConfig,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    received_at: datetime,
) -> tuple[dict[str, Any], int]:
    """One delivery (headers lower-cased, raw body): the answer's body and status."""
    _verify(config, headers, raw)
    ctx = HookContext(received_at, config.max_future, config.services, config.deploy_names)
    body = parse_json(raw, max_depth=config.max_json_depth)
    hook = SENDERS[config.sender].read(headers, body, ctx)
    if hook.reply is not None:
        return dict(hook.reply), 200
    if not hook.rows:
        return {"status": "ignored", "reason": hook.ignored or "nothing to store"}, 202
    stored = await committer.commit(list(hook.rows))
    items = [
        {"status": "stored" if new else "duplicate", "service": row.service, "id": row.event_id,
         "kind": row.kind, "action": row.action, "result": row.result}
        for row, new in zip(hook.rows, stored, strict=True)
    ]  # fmt: skip
    new = sum(stored)
    return {"stored": new, "duplicate": len(stored) - new, "items": items}, 200
