"""shipgauge's event JSON: fields validated, ids settled, batches split into rows and rejects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.delivery import parse_event, parse_events, parse_json

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _parse(**fields: Any) -> Any:
    return parse_event({"service": "web", "kind": "push", **fields}, received_at=NOW)


def _error(doc: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        parse_event(doc, received_at=NOW)
    return caught.value


def test_parse_event_fills_kind_defaults_and_normalises_time() -> None:
    row = parse_event(
        {"service": "web", "kind": "deploy", "time": "2024-05-01T14:00:00.5+02:00",
         "commit_ids": ["a1", "a2", "a1"], "environment": "Staging"},
        received_at=NOW,
    )  # fmt: skip
    assert row.occurred_at == datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert row.received_at == NOW
    assert (row.environment, row.result, row.commits) == ("staging", "success", ("a1", "a2"))
    assert row.event_row()["is_rollback"] is False
    assert [c["commit_sha"] for c in row.commit_rows()] == ["a1", "a2"]


def test_parse_event_without_time_happened_when_received() -> None:
    assert _parse().occurred_at == NOW


def test_parse_event_id_is_client_id_else_a_hash_of_the_event() -> None:
    assert _parse(event_id="run-42").event_id == "run-42"
    first = _parse(time="2024-05-01T10:00:00Z", commits=["a"])
    again = _parse(time="2024-05-01T10:00:00Z", commits=["a"])
    later = _parse(time="2024-05-01T10:00:01Z", commits=["a"])
    assert first.event_id == again.event_id != later.event_id
    assert first.event_id.startswith("h-")


@pytest.mark.parametrize(
    ("doc", "field", "message"),
    [
        ({"service": "web", "kind": "deplo"}, "kind", "Did you mean deploy?"),
        ({"kind": "push"}, "service", "service is required"),
        ({"service": "", "kind": "push"}, "service", "1 to 200 characters"),
        ({"service": "my web", "kind": "push"}, "service", "spaces"),
        ({"service": "web", "kind": "push", "time": "2024-05-01"}, "time", "RFC 3339"),
        ({"service": "web", "kind": "push", "time": "2024-05-01T10:00:00"}, "time", "offset"),
        ({"service": "web", "kind": "push", "time": "2024-02-30T10:00:00Z"}, "time", "not a valid"),
        ({"service": "web", "kind": "push", "time": "2024-05-01T12:06:00Z"}, "time", "ahead"),
        ({"service": "web", "kind": "push", "time": "1969-12-31T23:00:00Z"}, "time", "1970"),
        ({"service": "web", "kind": "push", "metadata": "{}"}, "metadata", "JSON object"),
        ({"service": "web", "kind": "push", "metadata": {"a": "x" * 70000}}, "metadata", "bytes"),
        ({"service": "web", "kind": "push", "rollback": True}, "rollback", "deploy events"),
        ({"service": "web", "kind": "push", "enviroment": "x"}, "enviroment", "environment?"),
        ({"service": "web", "kind": "deploy", "result": "ok"}, "result", "success, failure"),
        ({"service": "web", "kind": "deploy", "hotfix": "yes"}, "hotfix", "true or false"),
        ({"service": "web", "kind": "deploy", "commits": "a1"}, "commits", "list"),
        ({"service": "web", "kind": "deploy", "commits": [1]}, "commits[0]", "string"),
        ({"service": "web", "kind": "push", "commits": ["a"], "commit_ids": ["b"]}, "commit_ids",
         "not both"),
        ({"service": "web", "kind": "incident", "incident_id": "I1"}, "action", "required"),
        ({"service": "web", "kind": "incident", "action": "closed", "incident_id": "I"}, "action",
         "opened, resolved"),
        ({"service": "web", "kind": "change", "action": "merged"}, "change_id", "required"),
        ({"service": "web", "kind": "deploy", "environment": "prod env"}, "environment", "letters"),
        ({"service": "web\u0000", "kind": "push"}, "service", "control"),
        (["not", "an", "object"], "body", "JSON object"),
    ],
)  # fmt: skip
def test_parse_event_rejects_naming_the_field(doc: Any, field: str, message: str) -> None:
    error = _error(doc)
    assert error.field == field
    assert message in error.message


def test_parse_events_batch_keeps_valid_items_and_lists_rejects() -> None:
    rows, rejects = parse_events(
        [{"service": "a", "kind": "push"}, {"service": "b", "kind": "nope"}], received_at=NOW
    )
    assert [r.service for r in rows] == ["a"]
    assert [(r.index, r.field) for r in rejects] == [(1, "kind")]
    assert b'"nope"' in rejects[0].payload


def test_parse_events_idempotency_key_names_single_event_or_each_batch_item() -> None:
    single, _ = parse_events({"service": "a", "kind": "push"}, received_at=NOW,
                             idempotency_key="run-7")  # fmt: skip
    batch, _ = parse_events([{"service": "a", "kind": "push"}] * 2, received_at=NOW,
                            idempotency_key="run-7")  # fmt: skip
    assert [r.event_id for r in single] == ["run-7"]
    assert [r.event_id for r in batch] == ["run-7-0", "run-7-1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [([], "no events"), ("push", "array of events"), ([{}] * 1001, "at most 1000")],
)
def test_parse_events_refuses_whole_bodies(body: Any, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_events(body, received_at=NOW)


def test_parse_events_on_error_raise_stops_at_first() -> None:
    with pytest.raises(SourceError, match="kind"):
        parse_events([{"service": "a", "kind": "x"}], received_at=NOW, on_error="raise")


@pytest.mark.parametrize(
    "raw", [b"{", b'{"a": NaN}', b"[Infinity]", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000]
)
def test_parse_json_refuses_what_json_and_the_store_cannot_hold(raw: bytes) -> None:
    with pytest.raises(SourceError) as caught:
        parse_json(raw)
    assert caught.value.field == "body"


def test_parse_json_refuses_lone_surrogates() -> None:
    with pytest.raises(SourceError, match="lone UTF-16 surrogate") as caught:
        parse_json(b'{"service": "web", "kind": "push", "metadata": {"a": "\\ud800"}}')
    assert caught.value.field == "body"


def test_max_future_is_a_parameter() -> None:
    doc = {"service": "web", "kind": "push", "time": "2024-05-01T13:00:00Z"}
    row = parse_event(doc, received_at=NOW, max_future=timedelta(hours=2))
    assert row.occurred_at == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
