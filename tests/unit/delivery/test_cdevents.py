"""CDEvents in binary, structured and batch CloudEvents modes, mapped onto shipgauge events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.delivery.cdevents import parse_cloudevents

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def cdevent(kind: str, subject: dict[str, Any], **custom: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "context": {
            "specversion": "0.4.1",
            "id": f"ev-{kind}",
            "source": "/ci/pipeline",
            "type": f"dev.cdevents.{kind}.0.2.0",
            "timestamp": "2024-05-01T10:00:00Z",
        },
        "subject": subject,
    }
    if custom:
        event["customData"] = custom
    return event


DEPLOYED = cdevent(
    "service.deployed",
    {"id": "web", "content": {"environment": {"id": "production"}, "artifactId": "pkg:oci/web"}},
    commits=["a1", "a2"],
    team="payments",
)


def test_binary_mode_maps_service_deployed_with_custom_commits() -> None:
    rows, rejects = parse_cloudevents(
        {"ce-specversion": "1.0", "ce-type": DEPLOYED["context"]["type"]}, DEPLOYED,
        received_at=NOW,
    )  # fmt: skip
    (row,) = rows
    assert rejects == []
    assert (row.service, row.kind, row.environment, row.event_id) == (
        "web", "deploy", "production", "ev-service.deployed"
    )  # fmt: skip
    assert row.commits == ("a1", "a2")
    assert row.metadata["team"] == "payments"
    assert row.metadata["content"]["artifactId"] == "pkg:oci/web"


@pytest.mark.parametrize(
    ("kind", "subject", "custom", "expect"),
    [
        ("service.rolledback", {"id": "web", "content": {}}, {}, ("deploy", None, True)),
        ("incident.detected", {"id": "I1", "content": {"service": {"id": "web"}}},
         {"deployment_id": "d9"}, ("incident", "opened", False)),
        ("incident.resolved", {"id": "I1", "content": {"service": {"id": "web"}}}, {},
         ("incident", "resolved", False)),
        ("change.merged", {"id": "PR-1", "content": {"repository": {"id": "web"}}}, {},
         ("change", "merged", False)),
        ("pipelinerun.finished", {"id": "run", "content": {"outcome": "failure"}},
         {"service": "web"}, ("test_run", None, False)),
        ("testsuiterun.finished", {"id": "s", "content": {"outcome": "pass"}},
         {"service": "web"}, ("test_pass", None, False)),
    ],
)  # fmt: skip
def test_structured_mode_maps_each_type(
    kind: str, subject: dict[str, Any], custom: dict[str, Any], expect: tuple[Any, ...]
) -> None:
    body = {"specversion": "1.0", "id": "x", "source": "/s", "type": kind,
            "data": cdevent(kind, subject, **custom)}  # fmt: skip
    (row,), _ = parse_cloudevents(
        {"content-type": "application/cloudevents+json"}, body, received_at=NOW
    )
    assert (row.kind, row.action, row.is_rollback) == expect
    assert row.service == "web"


def test_pipelinerun_outcome_becomes_result() -> None:
    body = {
        "specversion": "1.0",
        "data": cdevent(
            "pipelinerun.finished", {"id": "r", "content": {"outcome": "error"}}, service="web"
        ),
    }
    (row,), _ = parse_cloudevents({}, body, received_at=NOW)
    assert row.result == "failure"


def test_batch_mode_stores_valid_items_and_rejects_others() -> None:
    unknown = cdevent("artifact.published", {"id": "a"})
    batch = [{"specversion": "1.0", "data": DEPLOYED}, {"specversion": "1.0", "data": unknown}]
    rows, rejects = parse_cloudevents(
        {"content-type": "application/cloudevents-batch+json"}, batch, received_at=NOW
    )
    assert [r.service for r in rows] == ["web"]
    assert [(r.index, r.field) for r in rejects] == [(1, "context.type")]
    assert "dev.cdevents.artifact.published.0.2.0" in rejects[0].message


@pytest.mark.parametrize(
    ("headers", "body", "field"),
    [
        ({}, {"hello": 1}, "content-type"),
        ({"ce-specversion": "0.3"}, DEPLOYED, "ce-specversion"),
        ({"ce-specversion": "1.0", "ce-type": "dev.cdevents.x.y.1"}, DEPLOYED, "ce-type"),
        ({"ce-specversion": "1.0"}, cdevent("branch.created", {"id": "b"}), "context.type"),
        ({"ce-specversion": "1.0"}, cdevent("incident.detected", {"id": "I", "content": {}}),
         "subject.content.service.id"),
        ({"ce-specversion": "1.0"}, {**DEPLOYED, "context": {**DEPLOYED["context"],
         "timestamp": "yesterday"}}, "context.timestamp"),
        ({"ce-specversion": "1.0"}, cdevent("incident.detected", {"id": "I", "content": {
            "service": {"id": "web"}}}, hotfix=True), "customData.hotfix"),
        ({"content-type": "application/cloudevents+json"}, {"specversion": "1.0",
         "data_base64": "e30="}, "data"),
        ({"ce-specversion": "1.0"}, {"context": "x"}, "context"),
    ],
)  # fmt: skip
def test_bad_cloudevents_name_their_field(headers: dict[str, str], body: Any, field: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_cloudevents(headers, body, received_at=NOW)
    assert caught.value.field == field
