"""hg.mozilla.org formats: json-pushes v1/v2 (plain and full=1), json-rev, Pulse hgpushes v1/v2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources import hg
from tests.support.recorded_http import fixtures_dir

HGPUSH = fixtures_dir() / "hgpush"
VCT = HGPUSH / "version-control-tools"
TREEHERDER = HGPUSH / "treeherder"
CTS = HGPUSH / "commit-telemetry-service"


def _load(path: Any) -> Any:
    return json.loads(path.read_text())


def test_parse_pushlog_reads_version_1_without_lastpushid() -> None:
    page = hg.parse_pushlog(_load(VCT / "docs-example.json-pushes.v1.json"), repo="mozilla-central")
    assert page.last_push_id is None
    assert page.pushes == [
        hg.PushRow(
            "mozilla-central",
            16,
            datetime(2008, 11, 20, 15, 53, 16, tzinfo=UTC),
            "gszorc@mozilla.com",
            2,
            "25f2a69ac7ac2919ef35c0b937b862fbb9e7e1f7",
        )
    ]
    assert [(c.node, c.position_in_push, c.full) for c in page.changesets] == [
        ("91826025c77c6a8e5711735adaa9766dd4eac7fc", 0, False),
        ("25f2a69ac7ac2919ef35c0b937b862fbb9e7e1f7", 1, False),
    ]


def test_parse_pushlog_reads_version_2() -> None:
    page = hg.parse_pushlog(_load(VCT / "docs-example.json-pushes.v2.json"), repo="try")
    assert page.last_push_id == 21
    assert [p.push_id for p in page.pushes] == [16]
    assert page.pushes[0].tip_node == "25f2a69ac7ac2919ef35c0b937b862fbb9e7e1f7"


def test_parse_pushlog_reads_a_recorded_full_page() -> None:
    page = hg.parse_pushlog(_load(TREEHERDER / "hg_pushlog.v2-full.json"), repo="mozilla-central")
    assert page.last_push_id == 33277
    assert [p.push_id for p in page.pushes] == list(range(33268, 33278))
    assert len(page.changesets) == 15
    assert sum(p.changeset_count for p in page.pushes) == 15
    backout = next(c for c in page.changesets if c.push_id == 33271)
    assert backout.description is not None and backout.description.startswith("Backed out")
    assert backout.author == "John Doe <jdoe@mozilla.com>"
    assert backout.parents is None  # this recording has no parents or files
    assert page.rejects == []


def test_parse_pushlog_keeps_parents_and_files_of_full_changesets() -> None:
    page = hg.parse_pushlog(_load(TREEHERDER / "hg_push_commits.v2-full.json"), repo="try")
    first, tip = page.changesets
    assert first.parents == ["ae327128aed16186be41d27e5cddb43f60133718"]
    assert first.files is not None and len(first.files) == 2
    assert tip.files == [] and tip.position_in_push == 1
    assert page.pushes[0].tip_node == tip.node == "2f77bc4f354d9ba67ea5270b2fc789f4b0521287"


def test_parse_push_reads_the_documented_full_changeset_entry() -> None:
    entry = _load(VCT / "docs-example.json-pushes.full-changeset-entry.json")
    push, (changeset,) = hg.parse_push(
        "7", {"changesets": [entry], "date": 1, "user": "u"}, repo="r"
    )
    assert (push.push_id, changeset.branch, changeset.files) == (
        7,
        "default",
        ["other-licenses/android/res_init.c"],
    )
    assert changeset.description == entry["desc"]


def test_parse_pushlog_orders_push_ids_as_numbers_and_keeps_empty_pushes() -> None:
    doc = {
        "lastpushid": 10000,
        "pushes": {
            "10000": {"changesets": ["a" * 40], "date": 2, "user": "u"},
            "9999": {"changesets": [], "obsoletechangesets": ["b" * 40], "date": 1, "user": "u"},
        },
    }
    page = hg.parse_pushlog(doc, repo="integration/autoland")
    assert [p.push_id for p in page.pushes] == [9999, 10000]
    assert (page.pushes[0].changeset_count, page.pushes[0].tip_node) == (0, None)


def test_parse_pushlog_collects_or_raises_on_a_bad_push() -> None:
    bad = {"changesets": ["not-a-node"], "date": 1, "user": "u"}
    doc = {"lastpushid": 2, "pushes": {"1": bad, "2": {"changesets": ["c" * 40], "date": 2}}}
    page = hg.parse_pushlog(doc, repo="r")
    assert [p.push_id for p in page.pushes] == [2]
    (reject,) = page.rejects
    assert reject.key == "r:1" and "40-hex" in reject.error
    assert json.loads(reject.payload) == {"1": bad}
    with pytest.raises(SourceError, match="changeset 0 of push r/1"):
        hg.parse_pushlog(doc, repo="r", on_error="raise")


def test_parse_pushlog_reads_the_past_last_push_error_as_an_empty_page() -> None:
    doc = {"errorcode": "PUSH_ID_GREATER_THAN_AVAILABLE", "lastpushid": 5, "error": "x"}
    page = hg.parse_pushlog(doc, repo="r")
    assert (page.last_push_id, page.pushes) == (5, [])


def test_parse_pushlog_bytes_refuses_a_page_that_is_not_json() -> None:
    with pytest.raises(SourceError, match="pushlog of r is not JSON"):
        hg.parse_pushlog_bytes(b"<html>502 Bad Gateway</html>", repo="r")


def test_parse_json_rev_reads_the_upstream_sample() -> None:
    revision = hg.parse_json_rev(_load(CTS / "hgweb-json-rev.sample.json"))
    assert revision == hg.Revision(
        node="445d1a7b050419f0ea266b0c191001d788f7850d",
        description="Bug 1463962 - crash near null in [@ mozilla::a11y::DocAccessible::"
        "BindToDocument], r=jamie",
        author="Test User <author@mozilla.com>",
        parents=["83f4bc25eec8e4ff1b340d8a33e10baf62aa36d1"],
        push_id=34713,
        push_date=1537966541,
        landing_system=None,
    )


def test_parse_push_message_reads_the_v2_test_message() -> None:
    message = hg.parse_push_message((CTS / "pulse-hgpush-message.test.json").read_bytes())
    assert (message.version, message.type, message.repo) == (
        "v2",
        "changegroup.1",
        "integration/autoland",
    )
    assert message.pushes == [
        hg.PushRef(
            64752,
            "someuser@mozilla.org",
            "https://hg.mozilla.org/integration/autoland/json-pushes?version=2&startID=64751&endID=64752",
        )
    ]
    assert message.heads == ["ebe99842f5f8d543e5453ce78b1eae3641830b13"]


def test_parse_push_message_reads_the_documented_v2_payload() -> None:
    payload = _load(VCT / "docs-example.changegroup.1.payload.json")
    message = hg.parse_push_message({"payload": payload})
    assert (message.repo, message.pushes[0].push_id) == ("try", 120040)


def test_parse_push_message_reads_the_recorded_v1_message() -> None:
    message = hg.parse_push_message((TREEHERDER / "pulse_hg_push.v1-message.json").read_bytes())
    assert (message.version, message.type, message.repo) == ("v1", "changegroup.1", "try")
    assert message.pushes[0].push_id == 136598
    assert message.pushes[0].user == "james@hoppipolla.co.uk"  # upstream mangled a leading space


def test_parse_push_message_returns_other_types_without_pushes() -> None:
    body = {"payload": {"type": "obsolete.1", "data": {"repo_url": "https://hg/x"}}}
    message = hg.parse_push_message(json.dumps(body))
    assert (message.type, message.pushes) == ("obsolete.1", [])


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"not json", "not JSON"),
        (b'{"payload": {"something": "else"}}', "neither hgpushes v1 nor v2"),
        (b'{"no": "payload"}', "no payload object"),
        (b'{"payload": {"type": "changegroup.1", "data": {"repo_url": "u"}}}', "pushlog_pushes"),
    ],
)
def test_parse_push_message_refuses_other_shapes(body: bytes, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        hg.parse_push_message(body)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://hg.mozilla.org/integration/autoland", "integration/autoland"),
        ("https://hg.mozilla.org/mozilla-central/", "mozilla-central"),
        ("integration/autoland", "integration/autoland"),
    ],
)
def test_repo_path_is_the_full_path(url: str, path: str) -> None:
    assert hg.repo_path(url) == path
