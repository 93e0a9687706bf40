"""The input limits every route keeps, enforced once in front of the routers (docs/security.md).

- a URL's query string longer than `max_query_string_chars`: 414, before any route runs;
- a body longer than `max_body_bytes`: 413, from its Content-Length before it is read, or as
  soon as a body sent in chunks passes the limit (raised where the route reads it, so the one
  error handler answers);
- page sizes (`limit`, `size`) over `max_page_size`: 422 (`page_size`, a route's dependency).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipgauge.api.deps import app_settings
from shipgauge.api.errors import error_response
from shipgauge.errors import BadRequest, PayloadTooLarge, SourceError

__all__ = ["RequestLimits", "page_size", "read_body"]


class RequestLimits:
    """ASGI middleware: the query-string and body limits, the same on every route."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_query_string_chars: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_string_chars = max_query_string_chars

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query_chars = len(scope.get("query_string", b""))
        if query_chars > self.max_query_string_chars:
            message = (
                f"the query string is {query_chars} characters; "
                f"at most {self.max_query_string_chars} (max_query_string_chars)"
            )
            await error_response(414, message, "query")(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await error_response(413, self._too_large().message, "body")(scope, receive, send)
            return
        await self.app(scope, self._counted(receive), send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the body is over the limit of {self.max_body_bytes} bytes (max_body_bytes)",
            field="body",
        )

    def _counted(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
            return message

        return counted


async def read_body(request: Request, *, send: str) -> bytes:
    """The request body, which `RequestLimits` holds within `max_body_bytes`; an empty one is a
    SourceError saying what to `send`."""
    body = await request.body()
    if not body:
        raise SourceError(f"the body is empty; send {send}", field="body")
    return body


def page_size(default: int, *, least: int = 1) -> Any:
    """A route's `limit` parameter: at least `least`, at most `max_page_size`, as a dependency
    (`limit: Annotated[int, page_size(100)]`) so every route's cap is the one setting."""

    # The Query is a default value, not an annotation: annotations are strings here, and one
    # naming `least` could not be resolved outside this function.
    def limit_within(
        request: Request,
        limit: int = Query(default, ge=least, description="Rows at most; max_page_size caps it"),
    ) -> int:
        most = app_settings(request).max_page_size
        if limit > most:
            raise BadRequest(f"limit {limit} is over max_page_size ({most})", field="limit")
        return limit

    return Depends(limit_within)
