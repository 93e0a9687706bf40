"""Readers for the fields of a delivery event: each returns the clean value or a SourceError."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shipgauge.errors import SourceError

__all__ = [
    "MAX_COMMITS",
    "MAX_ID_CHARS",
    "MAX_METADATA_BYTES",
    "read_bool",
    "read_choice",
    "read_commits",
    "read_environment",
    "read_identifier",
    "read_metadata",
    "read_time",
    "suggest",
]

MAX_ID_CHARS = 200
MAX_COMMITS = 1000
MAX_METADATA_BYTES = 65_536
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?"
)
_ENVIRONMENT = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


def suggest(value: str, choices: Sequence[str]) -> str:
    """` Did you mean x?` when `value` is close to one of `choices`, else an empty string."""
    close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]}?" if close else ""


def read_identifier(value: Any, field: str) -> str:
    """A name or id: a string of 1-200 printable characters without spaces."""
    if not isinstance(value, str):
        raise SourceError(f"{field} must be a string, not {_json_type(value)}", field=field)
    if not value or len(value) > MAX_ID_CHARS:
        raise SourceError(f"{field} must have 1 to {MAX_ID_CHARS} characters", field=field)
    if not value.isprintable() or any(c.isspace() for c in value):
        raise SourceError(f"{field} must not contain spaces or control characters", field=field)
    return value


def read_choice(value: Any, field: str, choices: Sequence[str]) -> str:
    """One of `choices`, with a "Did you mean" for near misses."""
    if not isinstance(value, str) or value not in choices:
        shown = value if isinstance(value, str) else _json_type(value)
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise SourceError(
            f"{field} '{shown}' is not one of {', '.join(choices)}.{hint}".rstrip(), field=field
        )
    return value


def read_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SourceError(f"{field} must be true or false, not {_json_type(value)}", field=field)
    return value


def read_environment(value: Any, field: str) -> str:
    """An environment name, lower-cased: production, staging, test-eu-1…"""
    if not isinstance(value, str) or not _ENVIRONMENT.fullmatch(value.lower()):
        raise SourceError(
            f"{field} must be a name of letters, digits, '.', '_' or '-' such as production",
            field=field,
        )
    return value.lower()


def read_time(
    value: Any,
    field: str,
    *,
    received_at: datetime,
    max_future: timedelta,
    naive_is_utc: bool = False,
) -> datetime:
    """An RFC 3339 time (`2024-05-01T12:00:00Z`), in UTC, not after the server clock + max_future.

    `naive_is_utc` also takes a time without offset as UTC, as the DevOps Toolkit wrote them.
    """
    example = "2024-05-01T12:00:00Z"
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None or (match.group(4) is None and not naive_is_utc):
        shown = value if isinstance(value, str) else _json_type(value)
        raise SourceError(
            f"{field} '{shown}' is not an RFC 3339 time with an offset, such as {example}",
            field=field,
        )
    day, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset in (None, "Z", "z") else offset
    text = f"{day}T{clock}{'.' + fraction[:6].ljust(6, '0') if fraction else ''}{offset}"
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise SourceError(f"{field} '{value}' is not a valid date and time", field=field) from None
    if moment < EARLIEST:
        raise SourceError(f"{field} '{value}' is before 1970", field=field)
    ahead = moment - received_at
    if ahead > max_future:
        raise SourceError(
            f"{field} '{value}' is {int(ahead.total_seconds())} s ahead of the server clock "
            f"(at most {int(max_future.total_seconds())} s allowed); send when the event happened",
            field=field,
        )
    return moment


def read_commits(value: Any, field: str, *, numbers: bool = False) -> tuple[str, ...]:
    """A list of commit ids (strings; also integers when `numbers`, as the seed's tests sent)."""
    if not isinstance(value, list):
        raise SourceError(f"{field} must be a list of commit ids", field=field)
    if len(value) > MAX_COMMITS:
        raise SourceError(f"{field} has {len(value)} commits; at most {MAX_COMMITS}", field=field)
    shas: dict[str, None] = {}
    for i, item in enumerate(value):
        if numbers and isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        shas[read_identifier(item, f"{field}[{i}]")] = None
    return tuple(shas)


def read_metadata(value: Any, field: str) -> dict[str, Any]:
    """A JSON object of at most 64 KiB, storable as JSON text on both engines."""
    if not isinstance(value, dict):
        raise SourceError(f"{field} must be a JSON object, not {_json_type(value)}", field=field)
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise SourceError(f"{field} holds text that is not valid Unicode", field=field) from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise SourceError(
            f"{field} is {len(encoded)} bytes; at most {MAX_METADATA_BYTES}", field=field
        )
    if b"\\u0000" in encoded:
        raise SourceError(f"{field} must not contain NUL characters", field=field)
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
