"""GitLab webhook deliveries → delivery events (`POST /api/v1/webhooks/gitlab`).

By `X-Gitlab-Event`:
- `Push Hook` (not a branch deletion): a push of the pushed commits (GitLab sends the newest
  20), when received;
- `Deployment Hook` success or failed: a deploy of the deployed commit to its environment;
- `Pipeline Hook` success or failed, of a deploy pipeline (setting `gitlab_deploy_pipelines`,
  by pipeline name or ref): a deploy of the pipeline's commit to production;
- `Merge Request Hook` open or reopen: a change opened; merge: a change opened (at
  `created_at`) and merged (at `updated_at`, the hook has no merge time).
Any other event, or status, is ignored.

The service is the project's `path_with_namespace` unless the settings rename it. Event ids come
from the payload's own ids (a deployment or pipeline with its status, a merge request); a push
has none, so its id is GitLab's `Idempotency-Key` (the same on every retry), else
`X-Gitlab-Event-UUID`, else the project, ref and pushed commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from shipgauge.errors import SourceError
from shipgauge.sources.delivery.events import DeliveryEventRow
from shipgauge.sources.delivery.webhooks import (
    HookContext,
    HookEvents,
    event_row,
    field_at,
    hook_time,
)

__all__ = ["GITLAB_EVENTS", "parse_gitlab"]

ORIGIN: Final = "gitlab"
_RESULTS: Final = {"success": "success", "failed": "failure"}
_ZERO: Final = "0" * 40
_SHA: Final = re.compile(r"[0-9a-f]{40}")


def parse_gitlab(headers: Mapping[str, str], body: Any, ctx: HookContext) -> HookEvents:
    """One delivery (headers lower-cased, body parsed) → what it gives."""
    event = headers.get("x-gitlab-event", "").strip()
    if not event:
        raise SourceError("X-Gitlab-Event is missing", field="X-Gitlab-Event")
    if not isinstance(body, Mapping):
        raise SourceError("a GitLab payload is a JSON object", field="body")
    reader = GITLAB_EVENTS.get(event)
    if reader is None:
        return HookEvents(
            ignored=f"GitLab event '{event}' is not used; shipgauge reads "
            + ", ".join(GITLAB_EVENTS)
        )
    delivery = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid")
    return reader(body, delivery, ctx)


def _service(body: Mapping[str, Any]) -> str:
    return str(field_at(body, "project.path_with_namespace"))


def _push(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    after = body.get("after")
    if after == _ZERO:
        return HookEvents(ignored=f"the deletion of {body.get('ref')}")
    commits = [c.get("id") for c in body.get("commits") or [] if isinstance(c, Mapping)]
    commits = commits or [body.get("checkout_sha") or after]
    if not any(commits):
        return HookEvents(ignored="a push without commits")
    ident = delivery or f"{field_at(body, 'project.id')}-{body.get('ref')}-{after}"
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"gitlab-push-{ident}",
        service=_service(body),
        kind="push",
        occurred_at=ctx.received_at,  # a push hook carries no push time; it is sent at once
        commits=commits,
        metadata={"gitlab": {"event": "Push Hook", "ref": body.get("ref"), "delivery": delivery}},
    )
    return HookEvents((row,))


def _deployment(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    status = str(field_at(body, "status"))
    if status not in _RESULTS:
        return HookEvents(ignored=f"deployment {status}, not a result")
    deployment = field_at(body, "deployment_id")
    commit = str(body.get("commit_url") or "").rstrip("/").rsplit("/", 1)[-1]
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"gitlab-deployment-{deployment}-{status}",
        service=_service(body),
        kind="deploy",
        occurred_at=hook_time(field_at(body, "status_changed_at"), "status_changed_at", ctx),
        environment=field_at(body, "environment"),
        result=_RESULTS[status],
        commits=[commit if _SHA.fullmatch(commit) else body.get("short_sha")],
        deployment_id=str(deployment),
        metadata={"gitlab": {"event": "Deployment Hook", "status": status, "delivery": delivery}},
    )
    return HookEvents((row,))


def _pipeline(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    pipeline = field_at(body, "object_attributes")
    names = {n for n in (pipeline.get("name"), pipeline.get("ref")) if isinstance(n, str)}
    status = str(pipeline.get("status"))
    if status not in _RESULTS:
        return HookEvents(ignored=f"pipeline {status}, not finished")
    if not names & set(ctx.deploy_names):
        named = pipeline.get("name") or pipeline.get("ref")
        return HookEvents(
            ignored=f"pipeline '{named}' is not a deploy pipeline (setting gitlab_deploy_pipelines)"
        )
    finished = pipeline.get("finished_at") or ctx.received_at.isoformat()
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"gitlab-pipeline-{field_at(pipeline, 'id')}-{status}",
        service=_service(body),
        kind="deploy",
        occurred_at=hook_time(finished, "object_attributes.finished_at", ctx),
        environment=None,
        result=_RESULTS[status],
        commits=[pipeline.get("sha")],
        metadata={"gitlab": {"event": "Pipeline Hook", "ref": pipeline.get("ref"),
                             "status": status, "delivery": delivery}},
    )  # fmt: skip
    return HookEvents((row,))


def _merge_request(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    request = field_at(body, "object_attributes")
    action = request.get("action")
    steps = {"open": ["opened"], "reopen": ["opened"], "merge": ["opened", "merged"]}.get(action)
    if steps is None:
        return HookEvents(ignored=f"merge request {action}, not opened or merged")
    commits = [request.get("merge_commit_sha"), (request.get("last_commit") or {}).get("id")]
    rows: list[DeliveryEventRow] = []
    for step in steps:
        at = "created_at" if step == "opened" else "updated_at"  # the hook has no merged_at
        rows.append(
            event_row(
                ctx,
                origin=ORIGIN,
                event_id=f"gitlab-merge_request-{field_at(request, 'id')}-{step}",
                service=_service(body),
                kind="change",
                occurred_at=hook_time(field_at(request, at), f"object_attributes.{at}", ctx),
                action=step,
                change_id=str(field_at(request, "iid")),
                commits=commits,
                metadata={"gitlab": {"event": "Merge Request Hook", "delivery": delivery}},
            )
        )
    return HookEvents(tuple(rows))


GITLAB_EVENTS: Final[
    dict[str, Callable[[Mapping[str, Any], str | None, HookContext], HookEvents]]
] = {
    "Push Hook": _push,
    "Deployment Hook": _deployment,
    "Pipeline Hook": _pipeline,
    "Merge Request Hook": _merge_request,
}
