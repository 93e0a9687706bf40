"""The webhook routes on both engines: the vendors' documented payloads, signed as each vendor
signs, become delivery events; a wrong or missing signature stores nothing; a replay answers
`duplicate`; an event shipgauge does not use answers 202 `ignored`."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from shipgauge.api import create_app
from shipgauge.config import Settings
from shipgauge.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette now prefers httpx2
    from starlette.testclient import TestClient

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GITHUB, GITLAB, PAGERDUTY = "gh-secret", "gl-token", "pd-secret"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    settings = Settings.model_construct(
        db=store.url,
        github_webhook_secret=SecretStr(GITHUB),
        github_deploy_workflows=["deploy.yml"],
        gitlab_webhook_token=SecretStr(GITLAB),
        gitlab_services={"root/test-deployment-webhooks": "deployer"},
        pagerduty_webhook_secret=SecretStr(PAGERDUTY),
    )
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def _raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _github(client: TestClient, event: str, body: bytes, *, secret: str = GITHUB) -> Any:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return client.post("/api/v1/webhooks/github", content=body, headers=headers)


def _pagerduty(client: TestClient, body: bytes, *, secret: str = PAGERDUTY) -> Any:
    signature = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/webhooks/pagerduty",
        content=body,
        headers={"X-PagerDuty-Signature": signature, "Content-Type": "application/json"},
    )


def test_a_signed_github_deployment_status_is_a_production_deployment(
    client: TestClient, store: Store
) -> None:
    body = _raw("github/deployment_status.payload.json")
    response = _github(client, "deployment_status", body)
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["status"] == "stored"
    deployments = store.query(
        "SELECT service, environment, result, deployment_id FROM dora_deployments"
    ).rows
    assert deployments == [("Codertocat/Hello-World", "production", "success", "145988746")]
    replay = _github(client, "deployment_status", body)  # a redelivery
    assert (replay.status_code, replay.json()["items"][0]["status"]) == (200, "duplicate")
    assert store.count("delivery_events") == 1


def test_a_wrong_or_missing_signature_is_401_and_stores_nothing(
    client: TestClient, store: Store
) -> None:
    body = _raw("github/deployment_status.payload.json")
    wrong = _github(client, "deployment_status", body, secret="not the secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["field"] == "X-Hub-Signature-256"
    unsigned = client.post(
        "/api/v1/webhooks/github", content=body, headers={"X-GitHub-Event": "deployment_status"}
    )
    assert (unsigned.status_code, unsigned.json()["error"]["message"]) == (
        401, "the X-Hub-Signature-256 is missing",
    )  # fmt: skip
    tampered = _github(client, "deployment_status", body)  # signed, then changed on the way
    assert tampered.status_code == 200
    changed = body.replace(b'"success"', b'"failure"')
    headers = {**dict(tampered.request.headers), "content-length": str(len(changed))}
    assert (
        client.post("/api/v1/webhooks/github", content=changed, headers=headers).status_code == 401
    )
    gitlab = client.post(
        "/api/v1/webhooks/gitlab",
        content=_raw("gitlab/deployment.json"),
        headers={"X-Gitlab-Event": "Deployment Hook", "X-Gitlab-Token": "guess"},
    )
    pagerduty = _pagerduty(client, _raw("pagerduty/incident.priority_updated.json"), secret="x")
    assert (gitlab.status_code, pagerduty.status_code) == (401, 401)
    assert store.count("delivery_events") == 1  # only the one signed deployment


def test_github_push_workflow_run_pull_request_and_ping(client: TestClient, store: Store) -> None:
    assert _github(client, "ping", _raw("github/ping.payload.json")).json()["status"] == "pong"
    push = _github(client, "push", _raw("github/push.with-new-branch.payload.json"))
    assert push.json()["items"][0]["id"] == "github-push-72d3162e-cc78-11e3-81ab-4c9367dc0958"
    tag = _github(client, "push", _raw("github/push.tag.payload.json"))
    assert (tag.status_code, tag.json()["status"]) == (202, "ignored")
    run = _github(client, "workflow_run", _raw("github/workflow_run.completed.payload.json"))
    assert run.status_code == 202 and "github_deploy_workflows" in run.json()["reason"]
    deploy = json.loads(_raw("github/workflow_run.completed.payload.json"))
    deploy["workflow_run"]["path"] = ".github/workflows/deploy.yml"
    assert _github(client, "workflow_run", json.dumps(deploy).encode()).status_code == 200
    merged = json.loads(_raw("github/pull_request.closed.payload.json"))
    merged["pull_request"].update(merged=True, merged_at="2019-05-15T15:21:18Z")
    change = _github(client, "pull_request", json.dumps(merged).encode())
    assert [i["action"] for i in change.json()["items"]] == ["opened", "merged"]
    kinds = store.query(
        "SELECT kind, count(*) FROM delivery_events GROUP BY kind ORDER BY kind"
    ).rows
    assert kinds == [("change", 2), ("deploy", 1), ("push", 1)]


@pytest.mark.parametrize(
    ("event", "name", "stored"),
    [
        ("Push Hook", "gitlab/push.json", ("mike/diaspora", "push")),
        ("Deployment Hook", "gitlab/deployment.json", ("deployer", "deploy")),  # renamed
        ("Merge Request Hook", "gitlab/merge_request.json", ("gitlabhq/gitlab-test", "change")),
        ("Pipeline Hook", "gitlab/pipeline.json", None),  # not a deploy pipeline: ignored
    ],
)
def test_gitlab_hooks_with_their_token(
    client: TestClient, store: Store, event: str, name: str, stored: tuple[str, str] | None
) -> None:
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": GITLAB,
               "X-Gitlab-Event-UUID": "b5b3a4c1-3d2e-4f10-9a7b-0c1d2e3f4a5b"}  # fmt: skip
    response = client.post("/api/v1/webhooks/gitlab", content=_raw(name), headers=headers)
    if stored is None:
        assert (response.status_code, response.json()["status"]) == (202, "ignored")
        assert store.count("delivery_events") == 0
        return
    assert response.status_code == 200, response.text
    assert store.query("SELECT DISTINCT service, kind FROM delivery_events").rows == [stored]
    again = client.post("/api/v1/webhooks/gitlab", content=_raw(name), headers=headers)
    assert {i["status"] for i in again.json()["items"]} == {"duplicate"}


def test_pagerduty_triggered_then_resolved_is_one_incident(
    client: TestClient, store: Store
) -> None:
    documented = json.loads(_raw("pagerduty/incident.priority_updated.json"))
    ignored = _pagerduty(client, _raw("pagerduty/incident.priority_updated.json"))
    assert (ignored.status_code, ignored.json()["status"]) == (202, "ignored")
    for n, event_type in enumerate(("incident.triggered", "incident.resolved")):
        body = copy.deepcopy(documented)
        body["event"].update(event_type=event_type, id=f"01BRB6ZP4M6T8ZG4X6BP63ZB9{n}")
        response = _pagerduty(client, json.dumps(body).encode())
        assert response.status_code == 200, response.text
    incidents = store.query(
        "SELECT service, incident_id, opened_at IS NOT NULL, resolved_at IS NOT NULL"
        " FROM dora_incidents"
    ).rows
    assert incidents == [("API-Service", "PGR0VU2", True, True)]


def test_a_sender_without_a_configured_secret_is_refused(store: Store) -> None:
    settings = Settings.model_construct(db=store.url)
    with TestClient(create_app(settings, store=store)) as unconfigured:
        response = _github(unconfigured, "ping", _raw("github/ping.payload.json"))
    assert response.status_code == 401
    assert response.json()["error"]["field"] == "github_webhook_secret"
