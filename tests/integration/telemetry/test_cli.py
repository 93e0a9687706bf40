"""`shipgauge telemetry dump|backfill|reviews` as real subprocesses against recorded servers."""

from __future__ import annotations

import json
from typing import Any

from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.telemetry.fake_mozilla import (
    AUTOLAND_NODE,
    FakeMozilla,
    env_of,
    push_doc,
    serve_recorded_pushlog,
)
from tests.support.recorded_http import RecordedHttpServer

CENTRAL = "https://hg.mozilla.org/mozilla-central"


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_dump_prints_the_ping_and_sends_nothing(
    duckdb_url: str, mozilla: FakeMozilla, overrides: dict[str, Any]
) -> None:
    mozilla.json_rev("integration/autoland", AUTOLAND_NODE, landingsystem="lando")
    mozilla.bug(1463962, ["mozreview", "raw patch"], history=True)
    mozilla.raw_rev("integration/autoland", AUTOLAND_NODE, "large-patch.txt")
    done = run_cli(
        "telemetry", "dump", AUTOLAND_NODE, "--repo", "https://hg.mozilla.org/integration/autoland",
        db=duckdb_url, env=env_of(overrides),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = {
        "changesetID": AUTOLAND_NODE,
        "diffstat": {"additions": 19, "changedFiles": 2, "deletions": 3},
        "landingSystem": "lando",
        "pushDate": 1537966541,
        "repository": "https://hg.mozilla.org/integration/autoland",
        "reviewSystemUsed": "bmo",
    }
    assert done.stdout == json.dumps(expected, indent=4, sort_keys=True) + "\n"
    assert mozilla.pings() == []


def test_dump_defaults_to_mozilla_central_under_the_hg_url(
    duckdb_url: str,
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    overrides: dict[str, Any],
) -> None:
    mozilla.json_rev("mozilla-central", AUTOLAND_NODE, desc="No bug - tidy")
    done = run_cli("telemetry", "dump", AUTOLAND_NODE, db=duckdb_url, env=env_of(overrides))
    assert done.returncode == 0, done.stderr
    ping = json.loads(done.stdout)
    assert (ping["repository"], ping["reviewSystemUsed"]) == (
        f"{recorded_http.url}/mozilla-central",
        "no_bug",
    )


def test_dump_bad_sha_is_bad_usage_unknown_sha_and_unreachable_server_exit_1_with_one_line(
    duckdb_url: str, recorded_http: RecordedHttpServer, overrides: dict[str, Any]
) -> None:
    bad = run_cli("telemetry", "dump", "not-a-sha!", db=duckdb_url, env=env_of(overrides))
    assert bad.returncode == 2 and bad.stderr.startswith("Usage: shipgauge telemetry dump")
    assert "'not-a-sha!' is not a changeset id (1 to 40 hex digits)" in bad.stderr
    recorded_http.add("GET", "/mozilla-central/json-rev/abcdef", status=404, body={"error": "x"})
    unknown = run_cli("telemetry", "dump", "abcdef", db=duckdb_url, env=env_of(overrides))
    assert unknown.returncode == 1
    assert _one_line_error(unknown.stderr) == "error: no changeset abcdef in mozilla-central"
    down = {**overrides, "hg_url": "http://127.0.0.1:9", "http_retries": 0}
    gone = run_cli("telemetry", "dump", "abcdef", db=duckdb_url, env=env_of(down))
    assert gone.returncode == 1
    assert _one_line_error(gone.stderr).startswith("error: hg.mozilla.org: ConnectError from")


def test_backfill_pings_a_recorded_range_once_and_reviews_shows_it(
    duckdb_url: str, mozilla: FakeMozilla, overrides: dict[str, Any]
) -> None:
    expected = serve_recorded_pushlog(mozilla)
    args = ("telemetry", "backfill", CENTRAL, "33267", "33277")
    done = run_cli(*args, db=duckdb_url, env=env_of(overrides))
    assert done.returncode == 0, done.stderr
    assert "10 pushes, 15 changesets (0 already sent); pings: 15 sent, 0 failed" in done.stderr
    assert {p.json()["changesetID"]: p.json()["reviewSystemUsed"] for p in mozilla.pings()} == (
        expected
    )
    again = run_cli(*args, db=duckdb_url, env=env_of(overrides))
    assert again.returncode == 0, again.stderr
    assert "15 changesets (15 already sent); pings: 0 sent" in again.stderr
    assert len(mozilla.pings()) == 15
    with Store.open(duckdb_url) as store:
        assert store.count("hgpush_pings") == 15
        assert store.count("pushes") == 10
    monthly = run_cli("telemetry", "reviews", "--interval", "month", "--json", db=duckdb_url)
    assert monthly.returncode == 0, monthly.stderr
    assert [
        (r["period"], r["review_system"], r["changesets"]) for r in json.loads(monthly.stdout)
    ] == [
        ("2013-09-01", "unknown", 14),
        ("2013-09-01", "review_unneeded", 1),
    ]
    wide = {"COLUMNS": "200"}  # Typer's error box wraps at the terminal's width
    bad = run_cli("telemetry", "reviews", "--interval", "year", db=duckdb_url, env=wide)
    assert bad.returncode == 2
    assert "'year' is not one of 'day', 'week', 'month'" in bad.stderr


def test_backfill_no_send_prints_the_pings_and_stores_nothing(
    duckdb_url: str, mozilla: FakeMozilla, overrides: dict[str, Any]
) -> None:
    expected = serve_recorded_pushlog(mozilla)
    done = run_cli(
        "telemetry", "backfill", CENTRAL, "33267", "33277", "--no-send",
        db=duckdb_url, env=env_of(overrides),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = {
        p["changesetID"]: p["reviewSystemUsed"] for p in map(json.loads, done.stdout.splitlines())
    }
    assert printed == expected
    assert mozilla.pings() == []
    with Store.open(duckdb_url) as store:
        assert store.count("hgpush_pings") == store.count("pushes") == 0


def test_backfill_unknown_repository_exits_1_with_one_line(
    duckdb_url: str, recorded_http: RecordedHttpServer, overrides: dict[str, Any]
) -> None:
    recorded_http.add("GET", "/nope/json-pushes", status=404, body={"error": "unknown repo"})
    done = run_cli("telemetry", "backfill", "nope", "0", "10", db=duckdb_url, env=env_of(overrides))
    assert done.returncode == 1
    assert _one_line_error(done.stderr).startswith("error: hg.mozilla.org: HTTP 404 from")


def test_dead_letters_retry_sends_a_changeset_once_hg_knows_it(
    duckdb_url: str,
    mozilla: FakeMozilla,
    recorded_http: RecordedHttpServer,
    overrides: dict[str, Any],
) -> None:
    node = "cd" * 20
    mozilla.pushlog("mozilla-central", push_doc(7, [node]), 6, 7)
    recorded_http.add("GET", f"/mozilla-central/json-rev/{node}", status=404, body={"error": "x"})
    mozilla.ingestion(node)
    env = env_of(overrides)
    first = run_cli("telemetry", "backfill", CENTRAL, "6", "7", db=duckdb_url, env=env)
    assert first.returncode == 0, first.stderr
    assert "1 not found or unreachable" in first.stderr
    mozilla.json_rev("mozilla-central", node, desc="No bug - now replicated")
    retried = run_cli(
        "dead-letters", "retry", "--source", "telemetry.changeset", db=duckdb_url, env=env
    )
    assert retried.returncode == 0, retried.stderr
    assert "ingested 1, still failing 0" in retried.stdout
    assert [p.json()["reviewSystemUsed"] for p in mozilla.pings()] == ["no_bug"]
    with Store.open(duckdb_url) as store:
        assert store.query("SELECT status FROM hgpush_pings").rows == [("sent",)]
        assert store.count("dead_letters") == 0
