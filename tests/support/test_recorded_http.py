"""Tests of the recorded-response HTTP server itself, over real HTTP with httpx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .recorded_http import RecordedHttpServer, Response, fixtures_dir

PUSHES_V2 = "hgpush/version-control-tools/docs-example.json-pushes.v2.json"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[RecordedHttpServer]:
    with RecordedHttpServer() as srv:
        yield srv


@pytest.fixture
def client(server: RecordedHttpServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0) as c:
        yield c


def test_url_is_local_and_bound(server: RecordedHttpServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0


def test_serves_a_real_recorded_fixture_file(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    fixture = fixtures_dir() / PUSHES_V2
    assert fixture.is_file(), f"fixture missing: {fixture}"
    server.add("GET", "/integration/autoland/json-pushes", file=fixture, query={"version": "2"})

    resp = client.get("/integration/autoland/json-pushes", params={"version": "2", "full": "1"})

    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.content == fixture.read_bytes()
    data = resp.json()
    assert data["lastpushid"] == 21
    assert data["pushes"]["16"]["user"] == "gszorc@mozilla.com"
    assert "91826025c77c6a8e5711735adaa9766dd4eac7fc" in data["pushes"]["16"]["changesets"]


def test_relative_file_resolves_against_fixtures_dir(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/pushes", file=PUSHES_V2)
    assert client.get("/pushes").json()["lastpushid"] == 21


def test_missing_fixture_file_fails_at_registration(server: RecordedHttpServer) -> None:
    with pytest.raises(FileNotFoundError):
        server.add("GET", "/nope", file="does/not/exist.json")


def test_fixtures_dir_honours_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHIPGAUGE_FIXTURES_DIR", str(tmp_path))
    assert fixtures_dir() == tmp_path.resolve()
    monkeypatch.delenv("SHIPGAUGE_FIXTURES_DIR")
    assert fixtures_dir() == REPO_ROOT / "tests" / "fixtures"


def test_fixtures_live_in_the_repository_with_their_provenance() -> None:
    """Each source folder of tests/fixtures says where its files come from, and none is huge."""
    folders = sorted(p for p in (REPO_ROOT / "tests" / "fixtures").iterdir() if p.is_dir())
    assert folders and [p.name for p in folders if not (p / "PROVENANCE.md").is_file()] == []
    files = [p for p in (REPO_ROOT / "tests" / "fixtures").rglob("*") if p.is_file()]
    assert max(p.stat().st_size for p in files) < 4 * 1024 * 1024


def test_body_kinds_and_headers(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.add("GET", "/dict", body={"a": 1})
    server.add("GET", "/list", body=[1, 2])
    server.add("GET", "/text", body="hello", status=201, headers={"X-Trace": "abc"})
    server.add("GET", "/bytes", body=b"\x00\x01", headers={"Content-Type": "application/x-raw"})

    assert client.get("/dict").json() == {"a": 1}
    lst = client.get("/list")
    assert lst.json() == [1, 2]
    assert lst.headers["content-type"] == "application/json"
    text = client.get("/text")
    assert (text.status_code, text.text, text.headers["x-trace"]) == (201, "hello", "abc")
    assert text.headers["content-type"].startswith("text/plain")
    raw = client.get("/bytes")
    assert raw.content == b"\x00\x01"
    assert raw.headers["content-type"] == "application/x-raw"


def test_sequence_503_then_200(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.sequence(
        "GET",
        "/api/queue/v1/task/abc",
        [
            Response(status=503, body={"error": "busy"}, headers={"Retry-After": "0"}),
            Response(body={"taskId": "abc"}),
        ],
    )

    first = client.get("/api/queue/v1/task/abc")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "0"
    second = client.get("/api/queue/v1/task/abc")
    assert (second.status_code, second.json()) == (200, {"taskId": "abc"})
    # The last response repeats.
    assert client.get("/api/queue/v1/task/abc").status_code == 200


def test_times_limits_a_route_then_falls_through(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/x", body="fallback")
    server.add("GET", "/x", body="once", times=1)

    assert client.get("/x").text == "once"
    assert client.get("/x").text == "fallback"


def test_delay_makes_a_short_timeout_client_time_out(server: RecordedHttpServer) -> None:
    server.add("GET", "/slow", body="late", delay=1.0)
    with (
        httpx.Client(base_url=server.url, timeout=0.1) as impatient,
        pytest.raises(httpx.TimeoutException),
    ):
        impatient.get("/slow")


def test_query_matching_prefers_more_specific_then_newest(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/rest/bug", body={"which": "any"})
    server.add("GET", "/rest/bug", body={"which": "product"}, query={"product": "Firefox"})
    server.add(
        "GET",
        "/rest/bug",
        body={"which": "product+status"},
        query={"product": "Firefox", "status": "NEW"},
    )
    server.add("GET", "/rest/bug", body={"which": "newer-any"})

    def which(params: dict[str, str]) -> str:
        return str(client.get("/rest/bug", params=params).json()["which"])

    assert which({}) == "newer-any"
    assert which({"product": "Core"}) == "newer-any"
    assert which({"product": "Firefox", "limit": "10"}) == "product"
    assert which({"status": "NEW", "product": "Firefox"}) == "product+status"


def test_query_only_route_does_not_match_without_params(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/json-pushes", body=[], query={"version": "2"})
    assert client.get("/json-pushes", params={"version": "1"}).status_code == 404


def test_unmatched_request_is_404_with_json_error(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/known", body="ok")

    resp = client.post("/unknown/path", params={"a": "1", "b": "x y"})

    assert resp.status_code == 404
    assert resp.json() == {"error": "no recorded response for POST /unknown/path?a=1&b=x+y"}
    assert client.get("/other").json() == {"error": "no recorded response for GET /other"}


def test_methods_are_matched_separately(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.add("PUT", "/bucket/key", status=200, body="")
    server.add("DELETE", "/bucket/key", status=204)

    assert client.put("/bucket/key", content=b"data").status_code == 200
    assert client.delete("/bucket/key").status_code == 204
    assert client.get("/bucket/key").status_code == 404


def test_head_returns_headers_only_and_falls_back_to_get(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/pub/firefox/releases/", body="<html>index</html>")

    resp = client.head("/pub/firefox/releases/")

    assert resp.status_code == 200
    assert resp.content == b""
    assert resp.headers["content-length"] == str(len("<html>index</html>"))
    # The connection is still usable after a body-less HEAD answer.
    assert client.get("/pub/firefox/releases/").text == "<html>index</html>"


def test_requests_are_recorded(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.add("POST", "/submit/telemetry/abc", status=200, body="")

    client.post(
        "/submit/telemetry/abc",
        params={"v": "4"},
        json={"ping": True},
        headers={"X-Debug-ID": "shipgauge"},
    )
    client.get("/unmatched")

    reqs = server.requests
    assert [(r.method, r.path) for r in reqs] == [
        ("POST", "/submit/telemetry/abc"),
        ("GET", "/unmatched"),
    ]
    sent = reqs[0]
    assert sent.query == {"v": "4"}
    assert sent.header("x-debug-id") == "shipgauge"
    assert sent.header("Content-Type") == "application/json"
    assert json.loads(sent.body) == {"ping": True}
    assert sent.json() == {"ping": True}
    assert server.requests_to("/submit/telemetry/abc", "POST") == [sent]


def test_chunked_request_body_is_recorded(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.add("PUT", "/upload", body="")

    def chunks() -> Iterator[bytes]:
        yield b"hello "
        yield b"world"

    client.put("/upload", content=chunks())
    assert server.requests[0].body == b"hello world"


def test_etag_if_none_match_answers_304(server: RecordedHttpServer, client: httpx.Client) -> None:
    server.add("GET", "/api/index/v1/task/x", body={"v": 1}, headers={"ETag": '"abc123"'})

    fresh = client.get("/api/index/v1/task/x")
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"abc123"'

    cached = client.get("/api/index/v1/task/x", headers={"If-None-Match": '"abc123"'})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == '"abc123"'

    stale = client.get("/api/index/v1/task/x", headers={"If-None-Match": '"old"'})
    assert (stale.status_code, stale.json()) == (200, {"v": 1})


def test_reset_forgets_routes_and_requests(
    server: RecordedHttpServer, client: httpx.Client
) -> None:
    server.add("GET", "/a", body="a")
    client.get("/a")
    server.reset()

    assert server.requests == []
    assert server.routes == []
    assert client.get("/a").status_code == 404


def test_stop_is_idempotent_and_url_needs_a_running_server() -> None:
    srv = RecordedHttpServer().start()
    assert srv.running
    srv.stop()
    srv.stop()
    assert not srv.running
    with pytest.raises(RuntimeError):
        _ = srv.url


def test_invalid_registrations_are_rejected(server: RecordedHttpServer) -> None:
    with pytest.raises(ValueError, match="unsupported method"):
        server.add("TRACE", "/x")
    with pytest.raises(ValueError, match="query"):
        server.add("GET", "/x?a=1")
    with pytest.raises(ValueError, match="either body or file"):
        server.add("GET", "/x", body="a", file=PUSHES_V2)
    with pytest.raises(ValueError, match="at least one response"):
        server.sequence("GET", "/x", [])


@pytest.mark.parametrize(
    "conftest",
    [
        "from tests.support.recorded_http import recorded_http  # noqa: F401\n",
        'pytest_plugins = ["tests.support.recorded_http"]\n',
    ],
    ids=["import", "pytest_plugins"],
)
def test_recorded_http_fixture_loads_both_ways(tmp_path: Path, conftest: str) -> None:
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_uses_fixture.py").write_text(
        textwrap.dedent(
            """
            import urllib.request

            def test_it(recorded_http):
                recorded_http.add("GET", "/hello", body={"hi": 1})
                with urllib.request.urlopen(recorded_http.url + "/hello") as resp:
                    assert resp.read() == b'{"hi": 1}'
                assert recorded_http.requests[0].path == "/hello"
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
