"""A real local HTTP server that answers from recorded responses, for connector tests.

Outside services (hg.mozilla.org, Taskcluster, Bugzilla, archive.mozilla.org, telemetry
ingestion, S3) are replaced in tests by :class:`RecordedHttpServer`: a stdlib
``ThreadingHTTPServer`` bound to ``127.0.0.1`` on a free port and run in a daemon thread.
Tests register routes answered from recorded fixture files in ``tests/fixtures/`` (see
:func:`fixtures_dir`) or from test-defined bodies, status codes, headers and delays, then
point the project's base-URL settings at :attr:`RecordedHttpServer.url`.

Use it through the ``recorded_http`` pytest fixture, either with
``from tests.support.recorded_http import recorded_http  # noqa: F401`` in a conftest or with
``pytest_plugins = ["tests.support.recorded_http"]`` in the root conftest.

Example::

    def test_pushes(recorded_http: RecordedHttpServer) -> None:
        recorded_http.add(
            "GET",
            "/integration/autoland/json-pushes",
            query={"version": "2"},
            file=fixtures_dir() / "hgpush/version-control-tools/docs-example.json-pushes.v2.json",
        )
        recorded_http.sequence("GET", "/flaky", [Response(status=503), Response(body={"ok": 1})])
        ...  # run the connector against recorded_http.url
        assert recorded_http.requests[0].query == {"version": "2"}
"""

from __future__ import annotations

import json
import mimetypes
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlsplit

import pytest

__all__ = [
    "Body",
    "RecordedHttpServer",
    "RecordedRequest",
    "Response",
    "Route",
    "fixtures_dir",
    "recorded_http",
]

#: What a test may give as a response body: raw bytes, text, or JSON-encodable dict/list.
Body = bytes | str | dict[str, Any] | list[Any] | None

SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
FIXTURES_ENV_VAR = "SHIPGAUGE_FIXTURES_DIR"


def fixtures_dir() -> Path:
    """Return the recorded-fixtures folder: the one place tests and benchmarks find fixtures.

    ``$SHIPGAUGE_FIXTURES_DIR`` if set, else ``tests/fixtures`` of this repository (each source
    folder there has a PROVENANCE.md).
    """
    override = os.environ.get(FIXTURES_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[1] / "fixtures"


#: The delivery seed's own events (`Time,Repo,Event,Metadata`), which `events import` reads.
DELIVERY_SEED_CSV = fixtures_dir() / "taskcluster" / "devops-toolkit-metrics" / "fake_db_events.csv"


def _guess_content_type(path: Path) -> str:
    """Content type for a recorded file, from its suffix (``.json`` is ``application/json``)."""
    if path.suffix.lower() == ".json":
        return "application/json"
    guessed, encoding = mimetypes.guess_type(path.name)
    if encoding is not None:  # e.g. ``.json.gz``: the bytes are compressed, not JSON.
        return {"gzip": "application/gzip", "bzip2": "application/x-bzip2"}.get(
            encoding, "application/octet-stream"
        )
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/xml", "application/javascript"):
        return f"{guessed}; charset=utf-8"
    return guessed


def _resolve_file(file: Path | str) -> Path:
    """Resolve a fixture path; relative paths are taken relative to :func:`fixtures_dir`."""
    path = Path(file)
    if not path.is_absolute():
        path = fixtures_dir() / path
    if not path.is_file():
        raise FileNotFoundError(f"recorded fixture file not found: {path}")
    return path


@dataclass(frozen=True)
class Response:
    """One canned response: a body (or recorded ``file``), status, headers and delay.

    ``dict``/``list`` bodies are JSON-encoded as ``application/json``; ``str`` bodies are sent
    as ``text/plain; charset=utf-8``; ``bytes`` as ``application/octet-stream``. A ``file`` is
    read when the response is created; relative paths resolve against :func:`fixtures_dir`.
    Explicit ``headers`` override the derived ``Content-Type``. ``delay`` (seconds) is slept
    before answering.
    """

    body: Body = None
    file: Path | str | None = None
    status: int = 200
    headers: Mapping[str, str] | None = None
    delay: float = 0.0
    _payload: bytes = field(init=False, repr=False, compare=False, default=b"")
    _headers: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if self.body is not None and self.file is not None:
            raise ValueError("give either body or file, not both")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        content_type: str | None
        if self.file is not None:
            path = _resolve_file(self.file)
            payload, content_type = path.read_bytes(), _guess_content_type(path)
        elif isinstance(self.body, dict | list):
            payload, content_type = json.dumps(self.body).encode(), "application/json"
        elif isinstance(self.body, str):
            payload, content_type = self.body.encode(), "text/plain; charset=utf-8"
        elif isinstance(self.body, bytes):
            payload, content_type = self.body, "application/octet-stream"
        else:
            payload, content_type = b"", None
        merged: dict[str, tuple[str, str]] = {}
        if content_type is not None:
            merged["content-type"] = ("Content-Type", content_type)
        for name, value in (self.headers or {}).items():
            merged[name.lower()] = (name, str(value))
        object.__setattr__(self, "_payload", payload)
        object.__setattr__(self, "_headers", tuple(merged.values()))

    @property
    def payload(self) -> bytes:
        """The encoded body bytes."""
        return self._payload

    @property
    def header_items(self) -> tuple[tuple[str, str], ...]:
        """Headers to send (derived ``Content-Type`` merged with explicit ``headers``)."""
        return self._headers

    def header(self, name: str) -> str | None:
        """Case-insensitive lookup of a response header."""
        wanted = name.lower()
        return next((v for k, v in self._headers if k.lower() == wanted), None)


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received, as the connector sent it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        """Case-insensitive lookup of a request header."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


class Route:
    """A registered route: method, exact path, optional query subset, and its responses."""

    def __init__(
        self,
        method: str,
        path: str,
        responses: Sequence[Response],
        *,
        query: Mapping[str, str] | None = None,
        times: int | None = None,
        order: int = 0,
    ) -> None:
        if not responses:
            raise ValueError("a route needs at least one response")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for unlimited)")
        self.method = method.upper()
        self.path = path
        self.query: dict[str, str] = {str(k): str(v) for k, v in (query or {}).items()}
        self.responses: tuple[Response, ...] = tuple(responses)
        self.times = times
        self.order = order
        self.hits = 0

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        """Whether this route answers the request (ignoring exhaustion)."""
        return (
            self.method == method
            and self.path == path
            and all(query.get(k) == v for k, v in self.query.items())
        )

    @property
    def exhausted(self) -> bool:
        """True once a route limited by ``times`` has answered that many requests."""
        return self.times is not None and self.hits >= self.times

    def next_response(self) -> Response:
        """Consume the next response; the last one repeats. Caller must hold the server lock."""
        response = self.responses[min(self.hits, len(self.responses) - 1)]
        self.hits += 1
        return response

    def __repr__(self) -> str:
        return f"Route({self.method} {self.path} query={self.query} hits={self.hits})"


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of an ``If-None-Match`` header against an ETag."""
    if if_none_match.strip() == "*":
        return True

    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return any(opaque(candidate) == opaque(etag) for candidate in if_none_match.split(","))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    recorder: RecordedHttpServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up early (e.g. after a client-side timeout)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes
    server_version = "shipgauge-recorded-http/1"
    sys_version = ""

    @property
    def _recorder(self) -> RecordedHttpServer:
        return cast(_Server, self.server).recorder

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            body=self._read_body(),
            raw_query=split.query,
        )
        response = self._recorder._dispatch(request)
        if response is None:
            target = request.path + (f"?{request.raw_query}" if request.raw_query else "")
            response = Response(
                status=404,
                body={"error": f"no recorded response for {request.method} {target}"},
            )
        if response.delay:
            time.sleep(response.delay)

        status, payload = response.status, response.payload
        etag = response.header("ETag")
        if_none_match = request.header("If-None-Match")
        not_modified = (
            etag is not None
            and if_none_match is not None
            and 200 <= status < 300
            and request.method in ("GET", "HEAD")
            and _etag_matches(if_none_match, etag)
        )
        if not_modified:
            status, payload = 304, b""

        self.send_response(status)
        sent_length = False
        for name, value in response.header_items:
            lowered = name.lower()
            if not_modified and lowered not in ("etag", "cache-control", "expires", "vary"):
                continue
            if lowered == "content-length":
                sent_length = True
            self.send_header(name, value)
        if not sent_length and status != 304 and not 100 <= status < 200 and status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if request.method != "HEAD" and payload and not not_modified:
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


class RecordedHttpServer:
    """Local HTTP server answering registered routes from recorded or test-defined responses.

    Matching is on method and exact path, plus (when a route has ``query``) those query
    parameters being present with those values. The most specific route (most query
    parameters) wins, then the most recently added. A ``HEAD`` request with no ``HEAD`` route
    falls back to the ``GET`` routes and gets headers only. Unmatched requests get a 404 with
    ``{"error": "no recorded response for METHOD PATH?QUERY"}``. If a chosen response has an
    ``ETag`` and the request's ``If-None-Match`` matches it, the answer is ``304``.
    """

    methods: ClassVar[tuple[str, ...]] = SUPPORTED_METHODS

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._routes: list[Route] = []
        self._requests: list[RecordedRequest] = []
        self._order = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> RecordedHttpServer:
        """Bind and start serving in a daemon thread (idempotent). Returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _Handler)
        server.recorder = self
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"recorded-http-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> RecordedHttpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is currently serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._server is None:
            raise RuntimeError("RecordedHttpServer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._host}:{self.port}"

    def url_for(self, path: str) -> str:
        """Absolute URL for ``path`` on this server."""
        return self.url + (path if path.startswith("/") else f"/{path}")

    # -- routes ------------------------------------------------------------------------------

    def add(
        self,
        method: str,
        path: str,
        *,
        body: Body = None,
        file: Path | str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        query: Mapping[str, str] | None = None,
        times: int | None = None,
    ) -> Route:
        """Register one response for ``method path`` (answered at most ``times`` times)."""
        response = Response(body=body, file=file, status=status, headers=headers, delay=delay)
        return self._register(method, path, [response], query=query, times=times)

    def sequence(
        self,
        method: str,
        path: str,
        responses: Sequence[Response],
        *,
        query: Mapping[str, str] | None = None,
    ) -> Route:
        """Register responses served in order, one per request; the last one repeats."""
        return self._register(method, path, responses, query=query, times=None)

    def _register(
        self,
        method: str,
        path: str,
        responses: Sequence[Response],
        *,
        query: Mapping[str, str] | None,
        times: int | None,
    ) -> Route:
        method = method.upper()
        if method not in SUPPORTED_METHODS:
            raise ValueError(f"unsupported method {method!r}; use one of {SUPPORTED_METHODS}")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        if "?" in path:
            raise ValueError("put query parameters in query=..., not in the path")
        with self._lock:
            self._order += 1
            route = Route(method, path, responses, query=query, times=times, order=self._order)
            self._routes.append(route)
        return route

    @property
    def routes(self) -> list[Route]:
        """A snapshot of the registered routes."""
        with self._lock:
            return list(self._routes)

    def reset(self) -> None:
        """Forget all routes and recorded requests."""
        with self._lock:
            self._routes.clear()
            self._requests.clear()

    # -- recorded requests -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot (copy) of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests for ``path`` (and ``method``, if given)."""
        wanted = method.upper() if method else None
        return [
            r for r in self.requests if r.path == path and (wanted is None or r.method == wanted)
        ]

    def _dispatch(self, request: RecordedRequest) -> Response | None:
        """Record ``request`` and pick (consuming) its response, or ``None`` if unmatched."""
        with self._lock:
            self._requests.append(request)
            methods = [request.method] + (["GET"] if request.method == "HEAD" else [])
            for method in methods:
                candidates = [
                    r
                    for r in self._routes
                    if not r.exhausted and r.matches(method, request.path, request.query)
                ]
                if candidates:
                    route = max(candidates, key=lambda r: (len(r.query), r.order))
                    return route.next_response()
        return None


@pytest.fixture
def recorded_http() -> Iterator[RecordedHttpServer]:
    """A fresh, started :class:`RecordedHttpServer`, stopped after the test."""
    with RecordedHttpServer() as server:
        yield server
