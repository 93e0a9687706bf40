"""One error shape for every 4xx/5xx: `{"error": {"field": …, "message": …}}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipgauge.errors import ShipgaugeError, Unauthorized

__all__ = ["error_response", "install_error_handlers"]


def error_response(
    status: int, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    """The JSON error body, with `WWW-Authenticate` on 401 as RFC 6750 asks."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body: dict[str, Any] = {"error": {"field": field, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "events", 0, "time") → "events[0].time"; the "body"/"query" root says little.
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or str(loc[0] if loc else "body")


def install_error_handlers(app: FastAPI) -> None:
    """Map our exceptions, FastAPI validation and Starlette HTTP errors to the one shape."""

    @app.exception_handler(ShipgaugeError)
    async def _shipgauge(_: Request, exc: ShipgaugeError) -> JSONResponse:
        status = 403 if isinstance(exc, Unauthorized) and exc.field == "scope" else exc.status
        return error_response(status, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return error_response(400, "request body is not valid JSON", "body")
        field = _field_name(tuple(first.get("loc", ())))
        return error_response(422, f"{field}: {first.get('msg', 'invalid')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"internal error: {type(exc).__name__}")
