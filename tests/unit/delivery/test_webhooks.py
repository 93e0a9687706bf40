"""Webhook readers and signature checks on the vendors' documented examples (tests/fixtures)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.delivery.github import parse_github
from shipgauge.sources.delivery.gitlab import parse_gitlab
from shipgauge.sources.delivery.pagerduty import parse_pagerduty
from shipgauge.sources.delivery.webhooks import (
    HookContext,
    hook_time,
    verify_github_signature,
    verify_gitlab_token,
    verify_pagerduty_signature,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CTX = HookContext(received_at=NOW)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_github_signature_matches_githubs_own_test_vector() -> None:
    # docs.github.com, "Validating webhook deliveries", "Testing the webhook payload validation"
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_github_signature(secret, body, good)
    assert not verify_github_signature(secret, b"Hello, World?", good)
    assert not verify_github_signature("another secret", body, good)
    assert not verify_github_signature(secret, body, None)
    assert not verify_github_signature(secret, body, good.removeprefix("sha256="))


def test_gitlab_token_and_pagerduty_signatures() -> None:
    assert verify_gitlab_token("s3cret", "s3cret") and not verify_gitlab_token("s3cret", "s3cre")
    assert not verify_gitlab_token("s3cret", None)
    body = b'{"event": {}}'

    def sign(key: bytes) -> str:
        return "v1=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    assert verify_pagerduty_signature("new", body, sign(b"new"))
    # while a secret rotates, PagerDuty sends one signature per secret
    assert verify_pagerduty_signature("new", body, f"{sign(b'old')},{sign(b'new')}")
    assert not verify_pagerduty_signature("new", body, sign(b"old"))
    assert not verify_pagerduty_signature("new", body, sign(b"new").replace("v1=", "v0="))
    assert not verify_pagerduty_signature("new", body, None)


def test_github_deployment_status_is_a_deployment_of_its_environment() -> None:
    hook = parse_github(
        {"x-github-event": "deployment_status", "x-github-delivery": "d-1"},
        fixture("github/deployment_status.payload.json"),
        CTX,
    )
    (row,) = hook.rows
    assert (row.service, row.kind, row.environment, row.result) == (
        "Codertocat/Hello-World", "deploy", "production", "success",
    )  # fmt: skip
    assert (row.event_id, row.deployment_id, row.commits, row.origin) == (
        "github-deployment_status-209916254", "145988746",
        ("f95f852bd8fca8fcc58a9a2d6c842781e32a215e",), "github",
    )  # fmt: skip
    assert row.occurred_at == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)


@pytest.mark.parametrize(("state", "result"), [("failure", "failure"), ("error", "failure")])
def test_github_failed_deployment_statuses_are_failures(state: str, result: str) -> None:
    body = fixture("github/deployment_status.payload.json")
    body["deployment_status"]["state"] = state
    (row,) = parse_github({"x-github-event": "deployment_status"}, body, CTX).rows
    assert row.result == result
    body["deployment_status"]["state"] = "in_progress"
    hook = parse_github({"x-github-event": "deployment_status"}, body, CTX)
    assert (hook.rows, hook.ignored) == ((), "deployment status 'in_progress' is not a result")


def test_github_push_of_a_branch_and_of_a_tag() -> None:
    headers = {
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }
    (row,) = parse_github(headers, fixture("github/push.with-new-branch.payload.json"), CTX).rows
    assert (row.kind, row.commits, row.event_id) == (
        "push", ("6113728f27ae82c7b1a177c8d03f9e96e0adf246",),
        "github-push-72d3162e-cc78-11e3-81ab-4c9367dc0958",
    )  # fmt: skip
    assert row.occurred_at == datetime.fromtimestamp(1557933657, UTC)  # repository.pushed_at
    tag = parse_github(headers, fixture("github/push.tag.payload.json"), CTX)
    assert tag.ignored == "a push of refs/tags/simple-tag, not of a branch"


def test_github_workflow_run_is_a_deployment_only_of_a_deploy_workflow() -> None:
    body = fixture("github/workflow_run.completed.payload.json")
    headers = {"x-github-event": "workflow_run"}
    ignored = parse_github(headers, body, CTX)
    assert ignored.ignored is not None and "github_deploy_workflows" in ignored.ignored
    for name in ("test", "test.yml", ".github/workflows/test.yml"):
        ctx = HookContext(received_at=NOW, deploy_names=[name])
        (row,) = parse_github(headers, body, ctx).rows
        assert (row.service, row.kind, row.result, row.environment) == (
            "octo-org/octo-repo", "deploy", "success", "production",
        )  # fmt: skip
        assert row.event_id == "github-workflow_run-289782451-1"


def test_github_pull_request_counts_when_merged() -> None:
    closed = fixture("github/pull_request.closed.payload.json")
    headers = {"x-github-event": "pull_request"}
    assert parse_github(headers, closed, CTX).ignored == "pull request closed, not merged"
    merged = copy.deepcopy(closed)
    merged["pull_request"].update(merged=True, merged_at="2019-05-15T15:21:18Z")
    opened, done = parse_github(headers, merged, CTX).rows
    assert [(r.kind, r.action, r.change_id) for r in (opened, done)] == [
        ("change", "opened", "2"), ("change", "merged", "2"),
    ]  # fmt: skip
    assert done.occurred_at == datetime(2019, 5, 15, 15, 21, 18, tzinfo=UTC)
    assert "c4295bd74fb0f4fda03689c3df3f2803b658fd85" in done.commits  # the merge commit


def test_github_ping_other_events_and_bad_input() -> None:
    assert parse_github({"x-github-event": "ping"}, fixture("github/ping.payload.json"), CTX).reply
    other = parse_github({"x-github-event": "issues"}, {}, CTX)
    assert other.ignored is not None and other.ignored.startswith("GitHub event 'issues'")
    with pytest.raises(SourceError, match="X-GitHub-Event"):
        parse_github({}, {}, CTX)
    no_repository = {"deployment_status": {"state": "success", "id": 1}, "deployment": {}}
    with pytest.raises(SourceError, match=r"repository\.full_name"):
        parse_github({"x-github-event": "deployment_status"}, no_repository, CTX)


def test_gitlab_push_deployment_and_pipeline() -> None:
    push = parse_gitlab({"x-gitlab-event": "Push Hook", "idempotency-key": "k-1"},
                        fixture("gitlab/push.json"), CTX)  # fmt: skip
    (row,) = push.rows
    assert (row.service, row.kind, len(row.commits), row.event_id) == (
        "mike/diaspora", "push", 2, "gitlab-push-k-1",
    )  # fmt: skip
    (deploy,) = parse_gitlab({"x-gitlab-event": "Deployment Hook"},
                             fixture("gitlab/deployment.json"), CTX).rows  # fmt: skip
    assert (deploy.service, deploy.environment, deploy.result, deploy.commits) == (
        "root/test-deployment-webhooks", "staging", "success",
        ("279484c09fbe69ededfced8c1bb6e6d24616b468",),
    )  # fmt: skip
    assert deploy.occurred_at == datetime(2021, 4, 28, 19, 50, tzinfo=UTC)  # +0200
    pipeline = fixture("gitlab/pipeline.json")
    ignored = parse_gitlab({"x-gitlab-event": "Pipeline Hook"}, pipeline, CTX)
    assert ignored.ignored is not None and "gitlab_deploy_pipelines" in ignored.ignored
    ctx = HookContext(received_at=NOW, deploy_names=["master"])
    (run,) = parse_gitlab({"x-gitlab-event": "Pipeline Hook"}, pipeline, ctx).rows
    assert (run.kind, run.result, run.event_id) == (
        "deploy",
        "success",
        "gitlab-pipeline-31-success",
    )
    assert run.occurred_at == datetime(2016, 8, 12, 15, 26, 29, tzinfo=UTC)


def test_gitlab_merge_request_opened_then_merged() -> None:
    body = fixture("gitlab/merge_request.json")
    headers = {"x-gitlab-event": "Merge Request Hook"}
    (opened,) = parse_gitlab(headers, body, CTX).rows
    assert (opened.service, opened.action, opened.change_id) == (
        "gitlabhq/gitlab-test",
        "opened",
        "1",
    )
    merged = copy.deepcopy(body)
    merged["object_attributes"].update(action="merge", state="merged")
    assert [r.action for r in parse_gitlab(headers, merged, CTX).rows] == ["opened", "merged"]
    assert parse_gitlab({"x-gitlab-event": "Issue Hook"}, body, CTX).ignored is not None


def test_pagerduty_incidents_and_service_names() -> None:
    documented = fixture("pagerduty/incident.priority_updated.json")
    assert parse_pagerduty({}, documented, CTX).ignored is not None
    triggered = copy.deepcopy(documented)
    triggered["event"]["event_type"] = "incident.triggered"
    (row,) = parse_pagerduty({}, triggered, CTX).rows
    assert (row.service, row.kind, row.action, row.incident_id, row.environment) == (
        "API-Service", "incident", "opened", "PGR0VU2", "production",
    )  # fmt: skip
    assert row.event_id == "pagerduty-5ac64822-4adc-4fda-ade0-410becf0de4f"
    renamed = HookContext(received_at=NOW, services={"PF9KMXH": "api"})
    assert parse_pagerduty({}, triggered, renamed).rows[0].service == "api"
    by_name = HookContext(received_at=NOW, services={"API Service": "api-svc"})
    assert parse_pagerduty({}, triggered, by_name).rows[0].service == "api-svc"
    with pytest.raises(SourceError, match="event"):
        parse_pagerduty({}, {"messages": []}, CTX)


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2021-04-28 21:50:00 +0200", datetime(2021, 4, 28, 19, 50, tzinfo=UTC)),
        ("2016-08-12 15:23:28 UTC", datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC)),
        ("2020-10-02T18:45:22.169Z", datetime(2020, 10, 2, 18, 45, 22, 169000, tzinfo=UTC)),
        (1557933657, datetime(2019, 5, 15, 15, 20, 57, tzinfo=UTC)),
    ],
)
def test_hook_time_reads_each_senders_form(value: object, moment: datetime) -> None:
    assert hook_time(value, "t", CTX) == moment
