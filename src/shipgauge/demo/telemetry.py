"""The commit-telemetry part of `shipgauge demo`: a recorded pushlog, pinged end to end.

A local HTTP server, started for the demo and stopped after it, plays hg.mozilla.org, Bugzilla
and telemetry ingestion from the files in `shipgauge/demo_data/telemetry/` (see PROVENANCE.md
there); `backfill` then reads, classifies, stores and "sends" every changeset through the same
connectors as in production. Re-running it sends nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shipgauge.config import load_settings
from shipgauge.demo.loopback import serve_on_loopback
from shipgauge.demo.recorded_times import recording_shift
from shipgauge.pipelines.telemetry.backfill import backfill
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.store import Store

__all__ = ["DEMO_REPO_URL", "load_demo", "moved_pushlog", "pushlog_shift", "recorded_pushlog"]

DEMO_REPO_URL = "https://hg.mozilla.org/mozilla-central"
# Which recorded Bugzilla answer each bug of the sample pushlog gets (made up for the demo);
# bugs not listed have no review attachment.
_BUG_ANSWERS = {
    912385: "phabricator",
    910486: "phabricator",
    909264: "bmo",
    911862: "phabricator",
    907503: "bmo",
    892203: "phabricator",
    904926: "confidential",
    909157: "phabricator",
    906646: "bmo",
    911954: "phabricator",
}


def _data(name: str) -> bytes:
    return (resources.files("shipgauge") / "demo_data" / "telemetry" / name).read_bytes()


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the pipeline opens many connections at once


class _DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pushlog: dict[str, Any]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(200, b"OK", "text/plain")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "rest" and len(parts) == 4:
            self._bugzilla(int(parts[2]), parts[3])
        elif parts[-1] == "json-pushes":
            query = {k: int(v[0]) for k, v in parse_qs(url.query).items() if k.endswith("ID")}
            pushes = self.pushlog["pushes"]
            chosen = {
                k: v for k, v in pushes.items() if query["startID"] < int(k) <= query["endID"]
            }
            self._answer(200, {"lastpushid": self.pushlog["lastpushid"], "pushes": chosen})
        elif len(parts) >= 2 and parts[-2] == "json-rev":
            self._json_rev(parts[-1])
        elif len(parts) >= 2 and parts[-2] == "raw-rev":
            self._answer(200, _data("trivial-patch.txt"), "text/plain; charset=utf-8")
        else:
            self._answer(404, {"error": "not in the demo"})

    def _json_rev(self, node: str) -> None:
        for push_id, push in self.pushlog["pushes"].items():
            for cs in push["changesets"]:
                if cs["node"] == node:
                    rev = {"node": node, "desc": cs["desc"], "user": cs["author"]}
                    rev |= {"parents": ["0" * 40], "pushid": int(push_id)}
                    rev |= {"pushdate": [push["date"], 0], "landingsystem": None}
                    self._answer(200, rev)
                    return
        self._answer(404, {"error": f"unknown revision '{node}'"})

    def _bugzilla(self, bug_id: int, what: str) -> None:
        answer = _BUG_ANSWERS.get(bug_id)
        if answer == "confidential":
            self._answer(401, {"error": True, "message": "You are not authorized"})
        elif what == "history":
            history = json.loads(_data("bmo-bug-history.review-plus.json"))
            self._answer(200, {"bugs": [{"id": bug_id, "history": history}]})
        else:
            files = {"phabricator": "bmo-attachment.phabricator.json",
                     "bmo": "bmo-attachment.raw-patch-review-plus.json"}  # fmt: skip
            found = [json.loads(_data(files[answer]))] if answer in files else []
            self._answer(200, {"bugs": {str(bug_id): found}})


def recorded_pushlog() -> dict[str, Any]:
    """The bundled pushlog (the CI cost demo's is the same file)."""
    pushlog: dict[str, Any] = json.loads(_data("hg_pushlog.v2-full.json"))
    return pushlog


def moved_pushlog(pushlog: dict[str, Any], shift: timedelta) -> dict[str, Any]:
    """`pushlog` with every push date moved by `shift` (whole seconds)."""
    seconds = int(shift.total_seconds())
    pushes = {k: {**p, "date": p["date"] + seconds} for k, p in pushlog["pushes"].items()}
    return {**pushlog, "pushes": pushes}


def pushlog_shift(store: Store) -> timedelta:
    """How far `shipgauge demo` moves the pushlog recording (with its task groups and prices)."""
    newest = max(p["date"] for p in recorded_pushlog()["pushes"].values())
    return recording_shift(store, "pushlog", datetime.fromtimestamp(newest, UTC))


@contextmanager
def demo_server(shift: timedelta = timedelta()) -> Iterator[str]:
    """The demo's stand-in for hg.mozilla.org, Bugzilla and ingestion; yields its base URL."""

    class Handler(_DemoHandler):
        pushlog = moved_pushlog(recorded_pushlog(), shift)

    with serve_on_loopback(Handler, _DemoServer) as url:
        yield url


def load_demo(store: Store, *, move: bool = False) -> None:
    """Backfill the bundled pushlog (pushes 33268-33277) through the demo server; with `move`,
    its push dates moved into the present (`demo.recorded_times`)."""
    with demo_server(pushlog_shift(store) if move else timedelta()) as url:
        settings = load_settings(hg_url=url, bmo_url=url, telemetry_url=url, http_retries=1)
        with TelemetryServices.from_settings(settings) as services:
            backfill(
                store=store,
                services=services,
                repo_url=DEMO_REPO_URL,
                start_id=33267,
                end_id=33277,
            )
