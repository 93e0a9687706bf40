"""AsyncHttpConnector (the telemetry pipeline's client) against real local HTTP servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from shipgauge.connectors.async_http import AsyncHttpConnector, EventLoopThread, HttpResponse
from shipgauge.errors import UpstreamError
from tests.support.recorded_http import RecordedHttpServer, Response


def _call(connector: AsyncHttpConnector, method: str, path: str, **kwargs: Any) -> HttpResponse:
    async def call() -> HttpResponse:
        try:
            return await connector.request(method, path, **kwargs)
        finally:
            await connector.aclose()

    return asyncio.run(call())


def test_get_with_params_and_put_json(recorded_http: RecordedHttpServer) -> None:
    recorded_http.add("GET", "/rest/bug/5/attachment", body={"bugs": {"5": []}})
    recorded_http.add("PUT", "/submit/x", body="OK")
    http = AsyncHttpConnector(f"{recorded_http.url}/rest", headers={"X-Key": "k"})
    got = _call(http, "GET", "/bug/5/attachment", params={"exclude_fields": "data"})
    assert (got.status_code, got.json()) == (200, {"bugs": {"5": []}})
    put = _call(AsyncHttpConnector(recorded_http.url), "PUT", "/submit/x", json={"a": "é"})
    assert (put.status_code, put.text) == (200, "OK")
    first, second = recorded_http.requests
    assert first.query == {"exclude_fields": "data"}
    assert first.header("X-Key") == "k" and first.header("User-Agent") == "shipgauge"
    assert second.header("Content-Type") == "application/json"
    assert second.json() == {"a": "é"}


def test_retries_a_5xx_then_answers(recorded_http: RecordedHttpServer) -> None:
    recorded_http.sequence("GET", "/x", [Response(status=503), Response(body={"ok": 1})])
    got = _call(AsyncHttpConnector(recorded_http.url, retries=1, backoff_s=0), "GET", "/x")
    assert got.json() == {"ok": 1}
    assert len(recorded_http.requests) == 2


def test_a_4xx_is_an_answer_or_an_error_at_once(recorded_http: RecordedHttpServer) -> None:
    recorded_http.add("GET", "/gone", status=404, body={"error": "x"})
    http = AsyncHttpConnector(recorded_http.url, name="hg", retries=3, backoff_s=0)
    assert _call(http, "GET", "/gone", ok_statuses=(404,)).status_code == 404
    with pytest.raises(UpstreamError, match=r"^hg: HTTP 404 from http://.*/gone after 1 try;"):
        _call(http, "GET", "/gone")


def test_timeout_and_refused_connection_name_the_failure(
    recorded_http: RecordedHttpServer,
) -> None:
    recorded_http.add("GET", "/slow", body="late", delay=0.5)
    slow = AsyncHttpConnector(recorded_http.url, timeout_s=0.1, retries=0)
    with pytest.raises(UpstreamError, match="ReadTimeout from"):
        _call(slow, "GET", "/slow")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    refused = AsyncHttpConnector(f"http://127.0.0.1:{port}", retries=1, backoff_s=0)
    with pytest.raises(UpstreamError, match=r"ConnectError from .* after 2 tries"):
        _call(refused, "GET", "/")


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _with_server(
    handler: Handler, use: Callable[[AsyncHttpConnector], Awaitable[list[HttpResponse]]]
) -> tuple[list[HttpResponse], int]:
    """Responses of `use` against a raw asyncio server, and how many connections it accepted."""
    accepted = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = AsyncHttpConnector(f"http://127.0.0.1:{port}", retries=0)
    try:
        return await use(http), accepted
    finally:
        await http.aclose()
        server.close()


async def _twice(http: AsyncHttpConnector) -> list[HttpResponse]:
    return [await http.request("GET", "/a"), await http.request("GET", "/b")]


def test_keeps_the_connection_and_reads_chunked_and_close_delimited_bodies() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;x=y\r\nhell\r\n1\r\no\r\n0\r\nTrailer: 1\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil close")
        await writer.drain()

    responses, accepted = asyncio.run(_with_server(handler, _twice))
    assert [r.content for r in responses] == [b"hello", b"until close"]
    assert accepted == 1


def test_a_kept_connection_the_server_closed_is_replaced_without_a_retry() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read(1)  # the start of the next request, then hang up unanswered

    responses, accepted = asyncio.run(_with_server(once, _twice))  # retries=0
    assert [r.content for r in responses] == [b"ok", b"ok"]
    assert accepted == 2


def test_a_response_cut_short_is_a_read_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")
        await writer.drain()

    with pytest.raises(UpstreamError, match=r"ReadError from .* after 1 try"):
        asyncio.run(_with_server(cut, _twice))


def test_event_loop_thread_runs_coroutines_and_cancels_the_rest_on_close() -> None:
    loop = EventLoopThread()

    async def answer() -> int:
        return 42

    assert loop.run(answer()) == 42
    forever = loop.submit(asyncio.sleep(3600))
    loop.close()
    assert forever.cancelled()
    loop.close()  # idempotent
