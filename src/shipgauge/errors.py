"""The shipgauge exception tree: every error the product raises on purpose.

ShipgaugeError
 ├── ConfigError        a setting is unknown or malformed (CLI exit 2)
 ├── StoreError         the store cannot be opened or a statement failed (CLI exit 1)
 ├── SourceError        input that a parser cannot read or validate (becomes a dead letter)
 ├── UpstreamError      an outside HTTP service or broker failed after retries
 ├── NotFound           a named thing does not exist (HTTP 404)
 ├── BadRequest         a request or argument is wrong (HTTP 400), names the field
 └── Unauthorized       no valid token, or the token lacks the scope (HTTP 401/403)
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "ConfigError",
    "NotFound",
    "PayloadTooLarge",
    "ServiceForbidden",
    "ShipgaugeError",
    "SourceError",
    "StoreError",
    "Unauthorized",
    "UpstreamError",
]


class ShipgaugeError(Exception):
    """Base of every error shipgauge raises on purpose; `field` names the input at fault."""

    status = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(ShipgaugeError):
    """A setting is unknown or has a malformed value."""

    status = 400


class StoreError(ShipgaugeError):
    """The store cannot be opened, migrated or written."""

    status = 503


class SourceError(ShipgaugeError):
    """Input that a parser cannot read or that fails its schema."""

    status = 400


class UpstreamError(ShipgaugeError):
    """An outside service (HTTP, broker) kept failing after retries."""

    status = 502


class NotFound(ShipgaugeError):
    """A named thing (dead letter, token, record) does not exist."""

    status = 404


class BadRequest(ShipgaugeError):
    """A request body, parameter or argument is wrong."""

    status = 400


class Unauthorized(ShipgaugeError):
    """No token, an unknown or revoked token, or a token without the needed scope."""

    status = 401


class PayloadTooLarge(BadRequest):
    """A request body over its size limit."""

    status = 413


class ServiceForbidden(Unauthorized):
    """A valid token used for a service it does not cover."""

    status = 403
