"""The one check of every number and value shape an `/api/search` body carries.

The translator takes values from here only, so a value no column can hold (a long past 64 bits,
a date past year 9999, a count given as `"x"`, a list where a string belongs) is a 400 in
Elasticsearch's error shape, naming the field or parameter, before any SQL is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shipgauge.errors import BadRequest

__all__ = [
    "LONG_MAX",
    "LONG_MIN",
    "SearchError",
    "check_keys",
    "count_param",
    "es_error",
    "field_value",
    "minimum_should_match",
    "string_list",
    "string_param",
]

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_DATE_MILLIS = (
    int(datetime(1, 1, 1, tzinfo=UTC).timestamp() * 1000),
    int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000),
)
_PERCENT = re.compile(r"-?\d{1,3}%")


class SearchError(BadRequest):
    """A request Elasticsearch would refuse; `body` is the JSON Buildhub2 answered with."""

    def __init__(self, body: dict[str, Any]) -> None:
        error = body.get("error")
        message = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
        super().__init__(message, field="body")
        self.body = body


def es_error(kind: str, reason: str) -> SearchError:
    """Elasticsearch's own error body, as Buildhub2 passed RequestError through."""
    cause = {"type": kind, "reason": reason}
    return SearchError({"error": {"root_cause": [cause], **cause}, "status": 400})


def check_keys(where: str, body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Refuse the first key of `body` outside `allowed`: nothing is silently ignored."""
    for key in body:
        if key not in allowed:
            raise es_error("parsing_exception", f"[{where}] unknown field [{key}]")


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip()):
        return int(value)
    return None


def count_param(name: str, value: Any, *, minimum: int = 0, maximum: int = LONG_MAX) -> int:
    """An integer parameter (`size`, `from`, `min_doc_count` …); ES also takes numeric strings."""
    number = _integer(value)
    if number is None:
        raise es_error("number_format_exception", f"[{name}] must be an integer, got [{value}]")
    if not minimum <= number <= maximum:
        raise es_error(
            "illegal_argument_exception", f"[{name}] must be in [{minimum}, {maximum}]: [{value}]"
        )
    return number


def string_param(name: str, value: Any) -> str:
    """A parameter that must be a string (a field name, a pattern, an order)."""
    if not isinstance(value, str):
        raise es_error("parsing_exception", f"[{name}] must be a string, got [{value!r}]")
    return value


def string_list(name: str, value: Any) -> list[str]:
    """A string or a list of strings (`_source`, `fields`, `include`)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise es_error("parsing_exception", f"[{name}] must be a string or a list of strings")
    return items


def field_value(name: str, kind: str, value: Any) -> Any:
    """A query value for a field of `kind` (keyword, long, date); ES's parse error otherwise."""
    if isinstance(value, dict | list) or value is None:
        raise es_error("parsing_exception", f"[{name}] value must be a string or a number")
    try:
        if kind == "long":
            return _long(value)
        if kind == "date":
            return _date(value)
    except (TypeError, ValueError, OverflowError):
        raise es_error("parse_exception", f"failed to parse [{value}] for field [{name}]") from None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _long(value: Any) -> int:
    number = _integer(value)
    if number is None or not LONG_MIN <= number <= LONG_MAX:
        raise ValueError(value)
    return number


def _date(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):  # epoch milliseconds, within the years a date holds
        if not _DATE_MILLIS[0] <= value <= _DATE_MILLIS[1]:
            raise ValueError(value)
        return datetime.fromtimestamp(value / 1000, UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def minimum_should_match(value: Any, optional: int) -> int:
    """How many of `optional` should clauses must match: an integer or a percentage, ES style."""
    if isinstance(value, str) and _PERCENT.fullmatch(value.strip()):
        percent = int(value.strip()[:-1])
        wanted = optional * abs(percent) // 100
        return wanted if percent >= 0 else optional - wanted
    number = _integer(value)
    if number is None:
        raise es_error(
            "query_shard_exception", f"[minimum_should_match] must be a number, got [{value}]"
        )
    return number if number >= 0 else max(optional + number, 0)
