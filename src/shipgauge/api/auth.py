"""Bearer-token authentication for write routes, scoped per service.

`Authorization: Bearer <token>` is the standard; `X-Secret-Token` is also read so the DevOps
Toolkit's existing reporters keep working.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from shipgauge.errors import Unauthorized
from shipgauge.store.tokens import ApiToken, verify_token

__all__ = ["require_scope"]


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-secret-token") or None


def require_scope(scope: str) -> Callable[[Request], ApiToken]:
    """A FastAPI dependency: the caller's token, which must be valid and hold `scope`."""

    def dependency(request: Request) -> ApiToken:
        presented = _presented_token(request)
        if presented is None:
            raise Unauthorized(
                "missing bearer token (Authorization: Bearer …)", field="Authorization"
            )
        token = verify_token(request.app.state.store, presented)
        if token is None or token.revoked_at is not None:
            raise Unauthorized("invalid or revoked token", field="Authorization")
        if scope not in token.scopes:
            raise Unauthorized(f"token lacks scope '{scope}'", field="scope")
        return token

    return dependency
