"""scan_pushlog against a recorded pushlog server, on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import SourceError
from shipgauge.pipelines.dead_letters import retry_dead_letters
from shipgauge.pipelines.pushlog import retry_pushlog_letter, scan_pushlog
from shipgauge.store import Store
from shipgauge.store.dead_letters import DeadLetter, list_dead_letters
from tests.integration.telemetry.fake_mozilla import FakeMozilla, push_doc
from tests.support.recorded_http import RecordedHttpServer, Response, fixtures_dir

RECORDED_PAGE = fixtures_dir() / "hgpush" / "treeherder" / "hg_pushlog.v2-full.json"
REPO = "integration/autoland"


@pytest.fixture
def http(recorded_http: RecordedHttpServer) -> Iterator[HttpConnector]:
    with HttpConnector(recorded_http.url, name="hg pushlog", retries=1, backoff_s=0.01) as conn:
        yield conn


def _letters(store: Store) -> list[DeadLetter]:
    # filtered here: list_dead_letters(source=...) numbers its PostgreSQL parameters wrongly
    return [d for d in list_dead_letters(store) if d.source == "hg.pushlog"]


def _pages(mozilla: FakeMozilla, last: int, size: int) -> None:
    """The pages a scan from 0 asks for, of a repository whose pushes 1..last have a changeset."""
    for start in range(0, last, size):
        end = start + size if start == 0 else min(start + size, last)
        pushes: dict[str, Any] = {}
        for push_id in range(start + 1, min(end, last) + 1):
            pushes |= push_doc(push_id, [f"{push_id:040x}"], date=1_600_000_000 + push_id)["pushes"]
        mozilla.pushlog(REPO, {"lastpushid": last, "pushes": pushes}, start, end)


def test_scan_pushlog_stores_the_recorded_page(
    store: Store, recorded_http: RecordedHttpServer, http: HttpConnector
) -> None:
    query = {"version": "2", "full": "1", "startID": "33267", "endID": "33277"}
    recorded_http.add("GET", "/mozilla-central/json-pushes", file=RECORDED_PAGE, query=query)
    result = scan_pushlog(
        store=store, http=http, repo="mozilla-central", start_id=33267, end_id=33277
    )
    assert (result.pages, result.pushes, result.changesets, result.last_push_id) == (
        1,
        10,
        15,
        33277,
    )
    assert result.checkpoint == 0  # an explicit old range is not contiguous with checkpoint 0
    rows = store.query(
        "SELECT push_id, changeset_count, tip_node FROM pushes WHERE push_id = 33274"
    ).rows
    assert rows == [(33274, 3, "f186c97c90117a68f1dc91793e5a9e6e8f07b1a4")]
    assert (
        store.query("SELECT count(*) FROM changesets WHERE repo = 'mozilla-central'").scalar() == 15
    )
    desc = store.query(
        "SELECT description FROM changesets WHERE node = 'e1976a0ce384ed6601cfbf2903dfc6f5aa638547'"
    ).scalar()
    assert desc.startswith("Backed out changeset 69be1a2ffd39")


def test_scan_pushlog_pages_from_the_checkpoint_and_stops_at_lastpushid(
    store: Store, recorded_http: RecordedHttpServer, mozilla: FakeMozilla, http: HttpConnector
) -> None:
    _pages(mozilla, last=5, size=2)
    first = scan_pushlog(store=store, http=http, repo=REPO, page_size=2)
    assert (first.pages, first.pushes, first.checkpoint) == (3, 5, 5)
    assert store.checkpoint("hg:integration/autoland") == "5"
    asked = sorted((r.query["startID"], r.query["endID"]) for r in recorded_http.requests)
    assert asked == [("0", "2"), ("2", "4"), ("4", "5")]  # pages after the first come at once
    mozilla.pushlog(REPO, {"lastpushid": 5, "pushes": {}}, 5, 7)
    again = scan_pushlog(store=store, http=http, repo=REPO, page_size=2)
    assert (again.pages, again.pushes, again.checkpoint) == (1, 0, 5)
    ids = [r[0] for r in store.query("SELECT push_id FROM pushes ORDER BY push_id").rows]
    assert ids == [1, 2, 3, 4, 5]


def test_scan_pushlog_dead_letters_a_page_that_is_not_json_and_stops(
    store: Store, recorded_http: RecordedHttpServer, mozilla: FakeMozilla, http: HttpConnector
) -> None:
    _pages(mozilla, last=6, size=2)
    bad = {"startID": "2", "endID": "4"}
    recorded_http.add("GET", f"/{REPO}/json-pushes", body="<html>oops</html>", query=bad, times=1)
    result = scan_pushlog(store=store, http=http, repo=REPO, page_size=2)
    assert (
        result.checkpoint == 2
        and result.error == "pushlog of integration/autoland is not JSON: b'<html>oops</html>'"
    )
    (letter,) = _letters(store)
    assert (letter.key, letter.payload) == (f"{REPO}:2-4", b"<html>oops</html>")
    retried = retry_dead_letters(store, [letter])
    assert "not JSON" in retried.failed[letter.id]
    resumed = scan_pushlog(store=store, http=http, repo=REPO, page_size=2)  # the server recovered
    assert (resumed.pushes, resumed.checkpoint) == (4, 6)


def test_scan_pushlog_retries_a_503_page(
    store: Store, recorded_http: RecordedHttpServer, http: HttpConnector
) -> None:
    doc = push_doc(1, ["a" * 40])
    recorded_http.sequence(
        "GET", f"/{REPO}/json-pushes", [Response(status=503), Response(body=doc)]
    )
    result = scan_pushlog(store=store, http=http, repo=REPO)
    assert (result.pushes, result.checkpoint) == (1, 1)


def test_scan_pushlog_keeps_full_metadata_when_a_plain_page_follows(
    store: Store, recorded_http: RecordedHttpServer, http: HttpConnector
) -> None:
    full = push_doc(1, ["a" * 40])
    plain = {"lastpushid": 1, "pushes": {"1": {"changesets": ["a" * 40], "date": 1, "user": "u"}}}
    recorded_http.sequence(
        "GET", f"/{REPO}/json-pushes", [Response(body=full), Response(body=plain)]
    )
    scan_pushlog(store=store, http=http, repo=REPO, start_id=0)
    scan_pushlog(store=store, http=http, repo=REPO, start_id=0)
    row = store.query("SELECT author, description, parents FROM changesets").dicts()[0]
    assert (row["author"], row["description"]) == ("Dev <dev@mozilla.com>", "change 0")


def test_scan_pushlog_dead_letters_one_bad_push_and_stores_the_rest(
    store: Store, recorded_http: RecordedHttpServer, http: HttpConnector
) -> None:
    doc = push_doc(2, ["b" * 40], last=2)
    doc["pushes"]["1"] = {"changesets": [42], "date": 1, "user": "u"}
    recorded_http.add("GET", f"/{REPO}/json-pushes", body=doc)
    result = scan_pushlog(store=store, http=http, repo=REPO)
    assert (result.pushes, result.rejected, result.checkpoint) == (1, 1, 2)
    (letter,) = _letters(store)
    assert letter.key == f"{REPO}:1"
    with (
        pytest.raises(SourceError, match="neither a node nor an object"),
        store.transaction() as tx,
    ):
        retry_pushlog_letter(tx, letter)
