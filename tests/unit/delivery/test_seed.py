"""The DevOps Toolkit's formats, on its own test vectors (docs/upstream.md, DevOps Toolkit B.6)."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.delivery import (
    DeliveryEventRow,
    Reject,
    parse_event_lines,
    parse_seed_csv,
    parse_seed_event,
)
from tests.support.recorded_http import fixtures_dir

FIXTURES = fixtures_dir() / "taskcluster" / "devops-toolkit-metrics"
VECTORS = json.loads((FIXTURES / "devops_metrics_test_vectors.json").read_text())
NOW = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("case", VECTORS["payload_validator"], ids=lambda c: str(c["valid"]))
def test_parse_seed_event_matches_upstream_validator(case: dict[str, Any]) -> None:
    if case["valid"]:
        row = parse_seed_event(case["payload"], received_at=NOW)
        assert (row.service, row.kind, row.occurred_at) == ("test_repo", "push", NOW)
    else:
        with pytest.raises(SourceError) as caught:
            parse_seed_event(case["payload"], received_at=NOW)
        assert caught.value.field == "Event"


@pytest.mark.parametrize("name", sorted(VECTORS["example_payloads"]))
def test_parse_seed_event_reads_every_example_payload(name: str) -> None:
    payload = VECTORS["example_payloads"][name]
    if payload["Event"].startswith("calc_"):
        with pytest.raises(SourceError, match="computed by shipgauge"):
            parse_seed_event(payload, received_at=NOW)
        return
    row = parse_seed_event(payload, received_at=NOW)
    assert row.kind == payload["Event"]
    assert isinstance(row.metadata, dict)


def test_parse_seed_event_keeps_commits_time_and_free_text() -> None:
    ci_push = parse_seed_event(VECTORS["example_payloads"]["ci_commit_push"], received_at=NOW)
    assert ci_push.commits == ("caa3fdd16ce75c2fb361905e2767602d95f6d33b",)
    readme = parse_seed_event(VECTORS["example_payloads"]["readme_push"], received_at=NOW)
    assert readme.metadata == {"text": "{test_metadata: value}"}
    assert readme.occurred_at == datetime(2021, 1, 1, tzinfo=UTC)
    nightly = parse_seed_event(
        {"Repo": "r", "Event": "test_run", "Metadata": '{"pass": "false"}'}, received_at=NOW
    )
    assert nightly.result == "failure"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({}, "body"),
        ({"Event": "push"}, "Repo"),
        ({"Repo": "r", "Event": "push", "Extra": 1}, "Extra"),
        ({"Repo": "r", "Event": "push", "Metadata": 5}, "Metadata"),
        ({"Repo": "r", "Event": "deploy", "Metadata": '{"commit_ids": "x"}'},
         "Metadata.commit_ids"),
        ({"Repo": "r", "Event": "push", "Time": "yesterday"}, "Time"),
    ],
)  # fmt: skip
def test_parse_seed_event_rejects_with_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_seed_event(doc, received_at=NOW)
    assert caught.value.field == field


def test_parse_seed_event_checks_the_idempotency_key() -> None:
    doc = {"Repo": "r", "Event": "push"}
    assert parse_seed_event(doc, received_at=NOW, event_id="run-1").event_id == "run-1"
    with pytest.raises(SourceError) as caught:
        parse_seed_event(doc, received_at=NOW, event_id="has space")
    assert caught.value.field == "Idempotency-Key"


def test_parse_seed_csv_reads_the_upstream_fake_db() -> None:
    with (FIXTURES / "fake_db_events.csv").open() as lines:
        rows, rejects = _split(parse_seed_csv(lines, received_at=datetime(2024, 3, 1, tzinfo=UTC)))
    assert len(rows) + len(rejects) == 519
    assert Counter(r.kind for r in rows) == {"push": 175, "deploy": 112, "test_pass": 53,
                                             "test_run": 33}  # fmt: skip
    assert len(rejects) == 136 + 10  # the calc_* rows the seed wrote for itself
    assert len({r.event_id for r in rows}) == 237  # identical rows are one event
    deploy = next(r for r in rows if r.commits and r.kind == "deploy")
    assert deploy.commits == ("100", "200", "300")
    assert json.loads(rejects[0].payload)["Event"] == "calc_deploy_frequency"


def test_parse_seed_csv_needs_its_header() -> None:
    with pytest.raises(SourceError, match="header"):
        next(parse_seed_csv(["a,b,c\n"], received_at=NOW))


def test_parse_event_lines_mixes_seed_and_shipgauge_events() -> None:
    text = "\n".join(
        [
            '{"Repo": "r", "Event": "push"}',
            '{"service": "r", "kind": "deploy", "time": "2024-01-01T00:00:00Z"}',
            "",
            "not json",
        ]
    )
    rows, rejects = _split(parse_event_lines(io.StringIO(text), received_at=NOW))
    assert [(r.kind, r.origin) for r in rows] == [("push", "import"), ("deploy", "import")]
    assert [(r.index, r.field) for r in rejects] == [(4, "line")]


def _split(
    items: Iterable[DeliveryEventRow | Reject],
) -> tuple[list[DeliveryEventRow], list[Reject]]:
    found = list(items)
    rows = [item for item in found if isinstance(item, DeliveryEventRow)]
    return rows, [item for item in found if isinstance(item, Reject)]
