"""API tokens: stored as SHA-256 hashes, shown once, compared in constant time, revocable.

A token reads `sg_<token_id>_<secret>`; the id finds the row, the secret is never stored.
Tokens carry 256 bits of randomness, so a plain SHA-256 is enough (no password stretching).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipgauge.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from shipgauge.store.store import Store

__all__ = ["SCOPES", "ApiToken", "create_token", "list_tokens", "revoke_token", "verify_token"]

SCOPES = ("events:write", "builds:write", "admin")
ANY_SERVICE = "*"


@dataclass(frozen=True)
class ApiToken:
    """A stored token, without its secret."""

    token_id: str
    service: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str, service: str | None = None) -> bool:
        """True when the token has `scope` and covers `service` (if one is named)."""
        if self.revoked_at is not None or scope not in self.scopes:
            return False
        return service is None or self.service in (ANY_SERVICE, service)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(store: Store, *, service: str, scopes: list[str]) -> str:
    """Create a token for `service` (or `*`) with `scopes`; returns the only copy of it."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BadRequest(
            f"unknown scope '{unknown[0] if unknown else ''}'; choose from {', '.join(SCOPES)}",
            field="scope",
        )
    if not service:
        raise BadRequest("a token needs a service name (or * for all)", field="service")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with store.transaction() as tx:
        tx.insert_ignore(
            "api_tokens",
            [
                {
                    "token_id": token_id,
                    "service": service,
                    "scopes": ",".join(sorted(set(scopes))),
                    "token_hash": _hash(secret),
                    "created_at": datetime.now(UTC),
                    "revoked_at": None,
                }
            ],
        )
    return f"sg_{token_id}_{secret}"


def verify_token(store: Store, token: str) -> ApiToken | None:
    """The stored token matching `token`, or None (unknown, malformed or wrong secret)."""
    prefix, _, rest = token.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != "sg" or not token_id or not secret:
        return None
    row = store.query(
        "SELECT token_id, service, scopes, created_at, revoked_at, token_hash "
        "FROM api_tokens WHERE token_id = ?",
        [token_id],
    ).rows
    if not row or not hmac.compare_digest(row[0][5], _hash(secret)):
        return None
    tid, service, scopes, created, revoked, _ = row[0]
    return ApiToken(tid, service, tuple(scopes.split(",")), created, revoked)


def list_tokens(store: Store) -> list[ApiToken]:
    """Every token, newest first, without secrets."""
    rows = store.query(
        "SELECT token_id, service, scopes, created_at, revoked_at FROM api_tokens "
        "ORDER BY created_at DESC"
    ).rows
    return [ApiToken(t, s, tuple(sc.split(",")), c, r) for t, s, sc, c, r in rows]


def revoke_token(store: Store, token_id: str) -> None:
    """Revoke a token by id; later requests with it get 401."""
    if not store.query("SELECT 1 FROM api_tokens WHERE token_id = ?", [token_id]).rows:
        raise NotFound(f"no token with id {token_id}", field="token_id")
    with store.transaction() as tx:
        tx.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            [datetime.now(UTC), token_id],
        )
