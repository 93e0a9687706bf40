"""A recorded hg.mozilla.org, Bugzilla and telemetry ingestion for the commit-telemetry tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shipgauge.sources.hgpush_ping import document_id
from shipgauge.sources.review import parse_bugs
from tests.support.recorded_http import RecordedHttpServer, RecordedRequest, fixtures_dir

HGPUSH = fixtures_dir() / "hgpush"
CTS = HGPUSH / "commit-telemetry-service"
ATTACHMENT_FILES = {
    "phabricator": "bmo-attachment.phabricator.json",
    "raw patch": "bmo-attachment.raw-patch-review-plus.json",
    "mozreview": "bmo-attachment.mozreview.json",
}
INGESTION_PREFIX = "/submit/eng-workflow/hgpush/1/"


def recorded(name: str) -> Any:
    """A recorded commit-telemetry-service fixture, parsed."""
    return json.loads((CTS / name).read_text())


class FakeMozilla:
    """Registers the upstream answers a test needs on one recorded-HTTP server."""

    def __init__(self, server: RecordedHttpServer) -> None:
        self.server = server

    def pushlog(self, repo: str, doc: dict[str, Any] | bytes, start: int, end: int) -> None:
        query = {"startID": str(start), "endID": str(end)}
        self.server.add("GET", f"/{repo}/json-pushes", body=doc, query=query)

    def json_rev(self, repo: str, node: str, **fields: Any) -> dict[str, Any]:
        """A json-rev answer: the upstream sample with `fields` changed."""
        record = {**recorded("hgweb-json-rev.sample.json"), "node": node, **fields}
        self.server.add("GET", f"/{repo}/json-rev/{node}", body=record)
        return record

    def raw_rev(self, repo: str, node: str, sample: str = "trivial-patch.txt") -> None:
        self.server.add("GET", f"/{repo}/raw-rev/{node}", file=CTS / "patch-samples" / sample)

    def bug(self, bug_id: int, attachments: list[str], *, history: bool = False) -> None:
        found = [recorded(ATTACHMENT_FILES[a]) for a in attachments]
        entries = recorded("bmo-bug-history.review-plus.json") if history else []
        self.server.add(
            "GET", f"/rest/bug/{bug_id}/attachment", body={"bugs": {str(bug_id): found}}
        )
        self.server.add("GET", f"/rest/bug/{bug_id}/history", body={"bugs": [{"history": entries}]})

    def ingestion(self, node: str, status: int = 200) -> str:
        path = INGESTION_PREFIX + document_id(node)
        self.server.add("PUT", path, body="OK", status=status)
        return path

    def pings(self) -> list[RecordedRequest]:
        """The ping PUTs received, oldest first."""
        return [
            r
            for r in self.server.requests
            if r.method == "PUT" and r.path.startswith(INGESTION_PREFIX)
        ]


def push_doc(
    push_id: int, nodes: list[str], *, date: int = 1537966541, last: int | None = None
) -> dict[str, Any]:
    """A json-pushes version 2 `full=1` answer holding one push."""
    changesets = [
        {
            "node": node,
            "author": "Dev <dev@mozilla.com>",
            "desc": f"change {i}",
            "branch": "default",
            "parents": ["0" * 40],
            "files": [],
            "tags": [],
        }
        for i, node in enumerate(nodes)
    ]
    push = {"changesets": changesets, "date": date, "user": "dev@mozilla.com"}
    return {"lastpushid": last or push_id, "pushes": {str(push_id): push}}


def settings_overrides(url: str) -> dict[str, Any]:
    """Every outside service at `url`, a private queue and exchange, few retries."""
    return {
        "hg_url": url,
        "bmo_url": url,
        "telemetry_url": url,
        "http_retries": 1,
        "http_timeout_s": 10.0,
        "telemetry_queue_name": f"test-{uuid.uuid4().hex[:8]}",
        "telemetry_exchange": f"exchange/test/hgpushes-{uuid.uuid4().hex[:8]}",
        "telemetry_concurrency": 4,
    }


def env_of(overrides: dict[str, Any]) -> dict[str, str]:
    """The same settings as SHIPGAUGE_* environment variables, for CLI subprocesses."""
    return {f"SHIPGAUGE_{k.upper()}": str(v) for k, v in overrides.items()}


AUTOLAND_NODE = "1234567812345678123456781234567812345678"
TREEHERDER = HGPUSH / "treeherder"


def serve_v2_test_message(mozilla: FakeMozilla) -> tuple[bytes, list[dict[str, Any]]]:
    """commit-telemetry-service's test message (autoland push 64752, one changeset) and its
    upstream answers; returns the message body and the pings it must produce."""
    mozilla.pushlog("integration/autoland", push_doc(64752, [AUTOLAND_NODE]), 64751, 64752)
    mozilla.json_rev("integration/autoland", AUTOLAND_NODE)  # bug 1463962, r=jamie
    mozilla.bug(1463962, ["phabricator", "raw patch"])
    mozilla.raw_rev("integration/autoland", AUTOLAND_NODE)
    mozilla.ingestion(AUTOLAND_NODE)
    ping = {
        "changesetID": AUTOLAND_NODE,
        "diffstat": {"additions": 1, "changedFiles": 1, "deletions": 1},
        "landingSystem": None,
        "pushDate": 1537966541,
        "repository": "https://hg.mozilla.org/integration/autoland",
        "reviewSystemUsed": "phabricator",
    }
    return (CTS / "pulse-hgpush-message.test.json").read_bytes(), [ping]


def serve_v1_recorded_message(mozilla: FakeMozilla) -> tuple[bytes, list[dict[str, Any]]]:
    """Treeherder's recorded v1 message (try push 136598) with its recorded full pushlog; each
    changeset's json-rev is built from its pushlog entry. Neither summary names a bug."""
    pushlog = json.loads((TREEHERDER / "hg_push_commits.v2-full.json").read_text())
    mozilla.pushlog("try", pushlog, 136597, 136598)
    push = pushlog["pushes"]["136598"]
    pings = []
    for cs in push["changesets"]:
        mozilla.json_rev(
            "try",
            cs["node"],
            desc=cs["desc"],
            user=cs["author"],
            parents=cs["parents"],
            pushid=136598,
            pushdate=[push["date"], 0],
        )
        mozilla.ingestion(cs["node"])
        pings.append(
            {
                "changesetID": cs["node"],
                "diffstat": None,
                "landingSystem": None,
                "pushDate": push["date"],
                "repository": "https://hg.mozilla.org/try",
                "reviewSystemUsed": "unknown",
            }
        )
    return (TREEHERDER / "pulse_hg_push.v1-message.json").read_bytes(), pings


def v2_message(repo_url: str, push_id: int) -> bytes:
    """A changegroup.1 message on exchange/hgpushes/v2 for one push."""
    push = {"pushid": push_id, "time": 1, "user": "dev@mozilla.com"}
    payload = {
        "type": "changegroup.1",
        "data": {"repo_url": repo_url, "heads": [], "pushlog_pushes": [push]},
    }
    return json.dumps({"payload": payload}).encode()


def serve_recorded_pushlog(mozilla: FakeMozilla) -> dict[str, str]:
    """Treeherder's recorded mozilla-central page (pushes 33268-33277, 15 changesets) with a
    json-rev per changeset built from its entry, Bugzilla bugs without review attachments, and
    ingestion; returns node → the review system its ping must carry."""
    pushlog = json.loads((TREEHERDER / "hg_pushlog.v2-full.json").read_text())
    mozilla.pushlog("mozilla-central", pushlog, 33267, 33277)
    expected = {}
    for push_id, push in pushlog["pushes"].items():
        for cs in push["changesets"]:
            mozilla.json_rev(
                "mozilla-central",
                cs["node"],
                desc=cs["desc"],
                user=cs["author"],
                parents=["0" * 40],
                pushid=int(push_id),
                pushdate=[push["date"], 0],
            )
            mozilla.ingestion(cs["node"])
            backout = cs["desc"].startswith("Backed out")
            if not backout:
                mozilla.bug(parse_bugs(cs["desc"])[0], [])
            expected[cs["node"]] = "review_unneeded" if backout else "unknown"
    return expected
