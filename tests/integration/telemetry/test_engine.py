"""compute_ping and the Bugzilla client over HTTP, against the recorded upstream answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from shipgauge.errors import UpstreamError
from shipgauge.pipelines.telemetry import ChangesetWork, PingResult, TelemetryServices
from shipgauge.pipelines.telemetry.bugzilla import BugzillaClient
from shipgauge.pipelines.telemetry.engine import compute_ping, send_ping
from shipgauge.sources.review import BugReview
from shipgauge.store import Store
from tests.integration.telemetry.fake_mozilla import FakeMozilla, recorded
from tests.support.recorded_http import RecordedHttpServer, Response

REPO = "integration/autoland"
URL = "https://hg.mozilla.org/integration/autoland"
NODE = "1234567812345678123456781234567812345678"
OBSERVED = recorded("observed-classifier-behaviour.json")["determine_review_system"]


def _compute(services: TelemetryServices, work: ChangesetWork) -> PingResult:
    return services.run(compute_ping(services, work))


def _send(services: TelemetryServices, work: ChangesetWork) -> PingResult:
    return services.run(send_ping(services, _compute(services, work)))


def _review(services: TelemetryServices, bug: int) -> BugReview:
    return services.run(services.bugzilla.review(bug))


def _serve_bug_state(
    server: RecordedHttpServer, mozilla: FakeMozilla, bug: int, state: str
) -> None:
    """Answer Bugzilla the way an observed case describes it."""
    if state.startswith("BMO answers 401"):
        server.add("GET", f"/rest/bug/{bug}/attachment", status=401, body={"error": True})
    elif state.startswith("BMO answers HTTP error"):
        server.add("GET", f"/rest/bug/{bug}/attachment", status=403, body={"message": "no"})
    elif state.startswith("bug has no attachments"):
        mozilla.bug(bug, [])
    elif state == "one active text/x-phabricator-request attachment":
        mozilla.bug(bug, ["phabricator"])
    elif state.startswith("one active is_patch=1 attachment + history"):
        mozilla.bug(bug, ["raw patch"], history=True)
    elif state == "one active is_patch=1 attachment, empty history":
        mozilla.bug(bug, ["raw patch"])
    elif state == "one active text/x-review-board-request attachment + review+ history":
        mozilla.bug(bug, ["mozreview"], history=True)
    else:
        raise AssertionError(state)


@pytest.mark.parametrize(
    "case", OBSERVED, ids=[f"{i}-{c['desc'][:40]}" for i, c in enumerate(OBSERVED)]
)
def test_compute_ping_reproduces_observed_upstream_behaviour_over_http(
    case: dict[str, Any],
    recorded_http: RecordedHttpServer,
    mozilla: FakeMozilla,
    services: TelemetryServices,
) -> None:
    mozilla.json_rev(
        REPO, NODE, desc=case["desc"], user=case["author"], parents=["b" * 40] * case["parents"]
    )
    mozilla.raw_rev(REPO, NODE)
    if case["bug_looked_up"] is not None:
        _serve_bug_state(recorded_http, mozilla, case["bug_looked_up"], case["bmo_state"])
    result = _compute(services, ChangesetWork(REPO, URL, NODE))
    assert result.status == "pending", result.error
    assert result.ping is not None
    assert result.ping["reviewSystemUsed"] == case["result"]
    asked = {int(r.path.split("/")[3]) for r in recorded_http.requests if "/rest/bug/" in r.path}
    assert asked == ({case["bug_looked_up"]} if case["bug_looked_up"] is not None else set())
    has_diffstat = case["result"] in ("phabricator", "bmo")
    assert result.ping["diffstat"] == ({"additions": 1, "changedFiles": 1, "deletions": 1}
                                       if has_diffstat else None)  # fmt: skip
    assert bool(recorded_http.requests_to(f"/{REPO}/raw-rev/{NODE}")) is has_diffstat


def test_compute_ping_builds_the_upstream_ping_of_the_sample(
    mozilla: FakeMozilla, services: TelemetryServices
) -> None:
    mozilla.json_rev(REPO, NODE)
    mozilla.raw_rev(REPO, NODE)
    mozilla.bug(1463962, ["phabricator", "raw patch"])
    result = _compute(services, ChangesetWork(REPO, URL, NODE, 64752, 1))
    assert result.ping == {
        "changesetID": NODE,
        "diffstat": {"additions": 1, "changedFiles": 1, "deletions": 1},
        "landingSystem": None,
        "pushDate": 1537966541,
        "repository": URL,
        "reviewSystemUsed": "phabricator",
    }
    assert result.document_id == "12345678-1234-5678-1234-567812345678"
    assert result.classification is not None and result.classification.bug_id == 1463962


def test_compute_ping_reports_an_unknown_changeset(
    recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    recorded_http.add("GET", f"/{REPO}/json-rev/{NODE}", status=404, body={"error": "unknown"})
    result = _compute(services, ChangesetWork(REPO, URL, NODE))
    assert (result.status, result.error) == ("error", f"no changeset {NODE} in {REPO}")


def test_compute_ping_marks_a_ping_that_breaks_the_schema_invalid(
    mozilla: FakeMozilla, services: TelemetryServices
) -> None:
    mozilla.json_rev(REPO, NODE, desc="No bug - x", pushdate=[-5, 0])
    result = _compute(services, ChangesetWork(REPO, URL, NODE))
    assert result.status == "invalid"
    assert (
        result.error == "hgpush ping fails its schema at pushDate: -5 is less than the minimum of 0"
    )


def test_send_ping_puts_json_to_the_document_url(
    mozilla: FakeMozilla, recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    mozilla.json_rev(REPO, NODE, desc="No bug - x")
    path = mozilla.ingestion(NODE)
    result = _send(services, ChangesetWork(REPO, URL, NODE))
    assert (result.status, result.http_status, result.attempts) == ("sent", 200, 1)
    (put,) = mozilla.pings()
    assert put.path == path == "/submit/eng-workflow/hgpush/1/12345678-1234-5678-1234-567812345678"
    assert put.header("Content-Type") == "application/json"
    assert put.json() == result.ping


def test_send_ping_retries_then_keeps_the_failure(
    mozilla: FakeMozilla, recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    mozilla.json_rev(REPO, NODE, desc="No bug - x")
    mozilla.ingestion(NODE, status=503)
    result = _send(services, ChangesetWork(REPO, URL, NODE))
    assert (result.status, result.attempts) == ("failed", 1)
    assert "HTTP 503" in (result.error or "")
    assert len(mozilla.pings()) == 2  # http_retries=1: one try and one retry


def test_bugzilla_looks_each_bug_up_once_and_sends_the_api_key(
    mozilla: FakeMozilla, recorded_http: RecordedHttpServer, settings: Any
) -> None:
    mozilla.bug(5, ["raw patch"], history=True)
    keyed = settings.model_copy(update={"bmo_api_key": SecretStr("secret-key")})
    with TelemetryServices.from_settings(keyed) as services:

        async def eight_askers() -> list[BugReview]:
            return await asyncio.gather(*(services.bugzilla.review(5) for _ in range(8)))

        results = services.run(eight_askers())
    assert set(results) == {BugReview("ok", raw_patch=True, review_granted=True)}
    paths = [r.path for r in recorded_http.requests]
    assert paths == ["/rest/bug/5/attachment", "/rest/bug/5/history"]
    assert recorded_http.requests[0].header("X-BUGZILLA-API-KEY") == "secret-key"
    assert recorded_http.requests[0].query == {"exclude_fields": "data"}
    assert services.bugzilla.take_fetched()[0]["bug_id"] == 5


def test_bugzilla_error_body_with_200_means_inaccessible(
    recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    recorded_http.add("GET", "/rest/bug/7/attachment", body={"error": True, "code": 102})
    assert _review(services, 7) == BugReview("inaccessible")


def test_bugzilla_5xx_raises_and_is_not_cached(
    recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    recorded_http.sequence(
        "GET",
        "/rest/bug/9/attachment",
        [Response(status=502), Response(status=502), Response(body={"bugs": {"9": []}})],
    )
    with pytest.raises(UpstreamError, match="HTTP 502"):
        _review(services, 9)
    assert _review(services, 9) == BugReview("ok")  # asked again, now answered
    assert services.bugzilla.take_fetched()[0]["status"] == "ok"


def test_bugzilla_body_that_is_not_json_raises(
    recorded_http: RecordedHttpServer, services: TelemetryServices
) -> None:
    recorded_http.add("GET", "/rest/bug/11/attachment", body="<html>maintenance</html>")
    with pytest.raises(UpstreamError, match="not JSON"):
        _review(services, 11)


def test_bugzilla_keeps_the_newest_answers_up_to_its_bound(
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    services: TelemetryServices,
    duckdb_url: str,
) -> None:
    """A consumer runs for months: its cache holds `max_bugs` answers, the first to expire
    leaving first, and loads only the newest stored ones younger than the TTL."""
    stored = BugReview("ok", phabricator=True)
    now = datetime.now(UTC)
    with Store.open(duckdb_url) as store:
        with store.transaction() as tx:
            tx.upsert(
                "bugzilla_bug_reviews",
                [
                    {"bug_id": bug, "status": "ok", "phabricator": True, "raw_patch": False,
                     "review_granted": None, "fetched_at": now - timedelta(minutes=age)}
                    for bug, age in ((1, 90), (2, 30), (3, 20), (4, 10))
                ],
            )  # fmt: skip
        bugzilla = BugzillaClient(services.bugzilla.http, ttl_s=3600, max_bugs=2)
        bugzilla.preload(store)
    for bug in (1, 2, 3):
        mozilla.bug(bug, ["phabricator"])

    def asked() -> list[str]:
        return [r.path for r in recorded_http.requests]

    assert [services.run(bugzilla.review(b)) for b in (3, 4)] == [stored, stored]
    assert asked() == []
    services.run(bugzilla.review(2))  # stored, but past the bound
    services.run(bugzilla.review(1))  # stored, but past the TTL
    assert asked() == ["/rest/bug/2/attachment", "/rest/bug/1/attachment"]
    assert services.run(bugzilla.review(3)) == stored  # asked again
    assert asked()[-1] == "/rest/bug/3/attachment"
    with Store.open(duckdb_url) as store:  # a TTL past the calendar: every answer is fresh
        forever = BugzillaClient(services.bugzilla.http, ttl_s=float("inf"), max_bugs=4)
        forever.preload(store)
    assert services.run(forever.review(1)) == stored
    assert len(asked()) == 3
