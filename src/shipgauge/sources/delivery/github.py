"""GitHub webhook deliveries → delivery events (`POST /api/v1/webhooks/github`).

By `X-GitHub-Event`:
- `push` of a branch (not its deletion): a push of the pushed commits, at
  `repository.pushed_at`;
- `deployment_status` success, failure or error: a deploy of `deployment.sha` to the status's
  environment, success or failure;
- `workflow_run` completed, of a deploy workflow (setting `github_deploy_workflows`): a deploy
  of `head_sha` to production, success (`success`) or failure (`failure`, `timed_out`,
  `startup_failure`);
- `pull_request` closed and merged: a change opened (at `created_at`) and merged (at
  `merged_at`), with the head and merge commits;
- `ping`: answered, nothing stored. Any other event, or state, is ignored.

The service is the repository's full name (`owner/repo`) unless the settings rename it. Event
ids come from the payload's own ids (a deployment status, a run attempt, a pull request), so a
redelivery, or the same event sent by two hooks, is stored once; a push has none, so its id is
the delivery's (`X-GitHub-Delivery`, the same on a redelivery).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
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

__all__ = ["GITHUB_EVENTS", "parse_github"]

ORIGIN: Final = "github"
_DEPLOY_RESULTS: Final = {"success": "success", "failure": "failure", "error": "failure"}
_RUN_RESULTS: Final = {
    "success": "success",
    "failure": "failure",
    "timed_out": "failure",
    "startup_failure": "failure",
}
_ZERO: Final = "0" * 40


def parse_github(headers: Mapping[str, str], body: Any, ctx: HookContext) -> HookEvents:
    """One delivery (headers lower-cased, body parsed) → what it gives."""
    event = headers.get("x-github-event", "").strip()
    if not event:
        raise SourceError("X-GitHub-Event is missing", field="X-GitHub-Event")
    if not isinstance(body, Mapping):
        raise SourceError("a GitHub payload is a JSON object", field="body")
    if event == "ping":
        return HookEvents(reply={"status": "pong", "hook_id": body.get("hook_id")})
    reader = GITHUB_EVENTS.get(event)
    if reader is None:
        return HookEvents(
            ignored=f"GitHub event '{event}' is not used; shipgauge reads "
            + ", ".join(GITHUB_EVENTS)
        )
    return reader(body, headers.get("x-github-delivery"), ctx)


def _service(body: Mapping[str, Any]) -> str:
    return str(field_at(body, "repository.full_name"))


def _push(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    ref = str(field_at(body, "ref"))
    if not ref.startswith("refs/heads/"):
        return HookEvents(ignored=f"a push of {ref}, not of a branch")
    if body.get("deleted"):
        return HookEvents(ignored=f"the deletion of {ref}")
    commits = [c.get("id") for c in body.get("commits") or [] if isinstance(c, Mapping)]
    after = body.get("after")
    if not commits and after and after != _ZERO:
        commits = [after]  # a new branch at a known commit
    if not commits:
        return HookEvents(ignored="a push without commits")
    pushed = body.get("repository", {}).get("pushed_at") or ctx.received_at.isoformat()
    ident = delivery or f"{field_at(body, 'repository.id')}-{ref}-{after}"
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"github-push-{ident}",
        service=_service(body),
        kind="push",
        occurred_at=hook_time(pushed, "repository.pushed_at", ctx),
        commits=commits,
        metadata={"github": {"event": "push", "ref": ref, "delivery": delivery}},
    )
    return HookEvents((row,))


def _deployment_status(
    body: Mapping[str, Any], delivery: str | None, ctx: HookContext
) -> HookEvents:
    status = field_at(body, "deployment_status")
    state = str(field_at(status, "state"))
    if state not in _DEPLOY_RESULTS:
        return HookEvents(ignored=f"deployment status '{state}' is not a result")
    deployment = field_at(body, "deployment")
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"github-deployment_status-{field_at(status, 'id')}",
        service=_service(body),
        kind="deploy",
        occurred_at=hook_time(field_at(status, "created_at"), "deployment_status.created_at", ctx),
        environment=status.get("environment") or deployment.get("environment"),
        result=_DEPLOY_RESULTS[state],
        commits=[deployment.get("sha")],
        deployment_id=str(field_at(deployment, "id")),
        metadata={"github": {"event": "deployment_status", "state": state,
                             "ref": deployment.get("ref"), "delivery": delivery}},
    )  # fmt: skip
    return HookEvents((row,))


def _workflow_run(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    run = field_at(body, "workflow_run")
    names = _workflow_names(body, run)
    if body.get("action") != "completed":
        return HookEvents(ignored=f"workflow run {body.get('action')}, not completed")
    if not names & set(ctx.deploy_names):
        named = next(iter(sorted(names)), "?")
        return HookEvents(
            ignored=f"workflow '{named}' is not a deploy workflow (setting github_deploy_workflows)"
        )
    conclusion = str(run.get("conclusion"))
    if conclusion not in _RUN_RESULTS:
        return HookEvents(ignored=f"workflow run concluded '{conclusion}', not a result")
    attempt = run.get("run_attempt") or 1
    row = event_row(
        ctx,
        origin=ORIGIN,
        event_id=f"github-workflow_run-{field_at(run, 'id')}-{attempt}",
        service=_service(body),
        kind="deploy",
        occurred_at=hook_time(field_at(run, "updated_at"), "workflow_run.updated_at", ctx),
        environment=None,
        result=_RUN_RESULTS[conclusion],
        commits=[run.get("head_sha")],
        metadata={"github": {"event": "workflow_run", "workflow": run.get("path"),
                             "conclusion": conclusion, "delivery": delivery}},
    )  # fmt: skip
    return HookEvents((row,))


def _workflow_names(body: Mapping[str, Any], run: Mapping[str, Any]) -> set[str]:
    """A workflow by any of its names: the run's and the workflow's name, its file's path and
    the file's name (`.github/workflows/deploy.yml`, `deploy.yml`)."""
    workflow: Mapping[str, Any] = body.get("workflow") or {}
    names = {run.get("name"), workflow.get("name"), run.get("path"), workflow.get("path")}
    names |= {PurePosixPath(n).name for n in names if isinstance(n, str) and "/" in n}
    return {n for n in names if isinstance(n, str) and n}


def _pull_request(body: Mapping[str, Any], delivery: str | None, ctx: HookContext) -> HookEvents:
    pull = field_at(body, "pull_request")
    if body.get("action") != "closed" or not pull.get("merged"):
        return HookEvents(ignored=f"pull request {body.get('action')}, not merged")
    commits = [pull.get("merge_commit_sha"), (pull.get("head") or {}).get("sha")]
    rows: list[DeliveryEventRow] = []
    for action, at in (("opened", "created_at"), ("merged", "merged_at")):
        rows.append(
            event_row(
                ctx,
                origin=ORIGIN,
                event_id=f"github-pull_request-{field_at(pull, 'id')}-{action}",
                service=_service(body),
                kind="change",
                occurred_at=hook_time(field_at(pull, at), f"pull_request.{at}", ctx),
                action=action,
                change_id=str(field_at(pull, "number")),
                commits=commits,
                metadata={"github": {"event": "pull_request", "delivery": delivery}},
            )
        )
    return HookEvents(tuple(rows))


GITHUB_EVENTS: Final[
    dict[str, Callable[[Mapping[str, Any], str | None, HookContext], HookEvents]]
] = {
    "push": _push,
    "deployment_status": _deployment_status,
    "workflow_run": _workflow_run,
    "pull_request": _pull_request,
}
