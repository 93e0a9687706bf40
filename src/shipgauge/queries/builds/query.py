"""Elasticsearch 6.x queries (the subset Buildhub's clients send) → SQL conditions with parameters.

Field names map to a fixed set of columns of the `build_records` model; values only ever
travel as parameters. Errors carry the texts Elasticsearch and elasticsearch-dsl gave, since
Buildhub2 passed them through (upstream.md §6.2, api-search-cases.json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shipgauge.errors import BadRequest
from shipgauge.queries.builds.query_string import Condition, parse_query_string

__all__ = ["Condition", "SearchError", "column_of", "es_error", "translate_query"]

# ES field → (SQL expression over build_records, kind). Expressions come from this table only.
_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("build_hash", "keyword"),
    "build.id": ("build_id", "keyword"),
    "build.date": ("build_date", "date"),
    "build.number": ("build_number", "long"),
    "source.product": ("product", "keyword"),
    "source.repository": ("repository", "keyword"),
    "source.tree": ("tree", "keyword"),
    "source.revision": ("revision", "keyword"),
    "target.platform": ("platform", "keyword"),
    "target.os": ("os", "keyword"),
    "target.locale": ("locale", "keyword"),
    "target.version": ("version", "keyword"),
    "target.channel": ("channel", "keyword"),
    "download.url": ("download_url", "keyword"),
    "download.mimetype": ("download_mimetype", "keyword"),
    "download.size": ("download_size", "long"),
    "download.date": ("download_date", "date"),
    **{
        f"build.{name}": (f"json_extract_string(document, '$.build.{name}')", "keyword")
        for name in ("as", "ld", "cc", "cxx", "host", "target")
    },
}
# Fields a query_string searches when it names none: the web UI's list.
DEFAULT_QUERY_FIELDS = (
    "source.product",
    "target.channel",
    "target.version",
    "target.locale",
    "target.platform",
    "build.id",
)


class SearchError(BadRequest):
    """A request Elasticsearch would refuse; `body` is the JSON Buildhub2 answered with."""

    def __init__(self, body: dict[str, Any]) -> None:
        error = body.get("error")
        message = error if isinstance(error, str) else str(body)
        super().__init__(message, field="body")
        self.body = body


def es_error(kind: str, reason: str) -> SearchError:
    """Elasticsearch's own error body, as Buildhub2 passed RequestError through."""
    cause = {"type": kind, "reason": reason}
    return SearchError({"error": {"root_cause": [cause], **cause}, "status": 400})


def column_of(name: str) -> tuple[str, str] | None:
    """The SQL expression and kind of an ES field, or None when the field is unknown."""
    return _FIELDS.get(name)


def _value(kind: str, value: Any) -> Any:
    if kind == "long":
        return int(value)
    if kind == "date":
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, UTC)
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return str(value)


def _single(body: Any) -> tuple[str, Any]:
    if not isinstance(body, Mapping) or len(body) != 1:
        raise es_error("illegal_argument_exception", "field name is null or empty")
    return next(iter(body.items()))


def _compare(name: str, sql_op: str, value: Any) -> Condition:
    column = column_of(name)
    if column is None:
        return Condition("FALSE")  # ES: an unknown field matches nothing
    expr, kind = column
    try:
        return Condition(f"{expr} {sql_op} ?", [_value(kind, value)])
    except (TypeError, ValueError):
        raise es_error("parse_exception", f"failed to parse [{value}] for field [{name}]") from None


def _like(name: str, pattern: str) -> Condition:
    column = column_of(name)
    if column is None or column[1] != "keyword":
        return Condition("FALSE")
    return Condition(f"{column[0]} LIKE ? ESCAPE '\\'", [pattern])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wildcard_pattern(text: str) -> str:
    return _escape_like(text).replace("*", "%").replace("?", "_")


def _term_value(body: Any) -> Any:
    return body.get("value", body.get("query")) if isinstance(body, Mapping) else body


def translate_query(query: Any) -> Condition:
    """An ES query object → a SQL condition; SearchError with ES's text when it is not valid."""
    if not isinstance(query, Mapping) or len(query) != 1:
        shown = repr(dict(query)) if isinstance(query, Mapping) else repr(query)
        raise SearchError(
            {
                "error": 'Q() can only accept dict with a single query ({"match": {...}}). '
                f"Instead it got ({shown})"
            }
        )
    kind, body = next(iter(query.items()))
    handler = _QUERIES.get(kind)
    if handler is None:
        raise SearchError({"error": f"DSL class `{kind}` does not exist in query."})
    return handler(body)


def _match_all(_: Any) -> Condition:
    return Condition("TRUE")


def _match_none(_: Any) -> Condition:
    return Condition("FALSE")


def _term(body: Any) -> Condition:
    name, value = _single(body)
    return _compare(name, "=", _term_value(value))


def _terms(body: Any) -> Condition:
    entries = (
        {k: v for k, v in dict(body).items() if k != "boost"} if isinstance(body, Mapping) else {}
    )
    name, values = _single(entries)
    if not isinstance(values, list):
        raise es_error("parsing_exception", "[terms] query does not support [" + name + "]")
    return Condition.join([_compare(name, "=", v) for v in values], "OR", "FALSE")


def _range(body: Any) -> Condition:
    name, bounds = _single(body)
    ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
    parts = [_compare(name, ops[k], v) for k, v in dict(bounds).items() if k in ops]
    return Condition.join(parts, "AND", "TRUE")


def _prefix(body: Any) -> Condition:
    name, value = _single(body)
    return _like(name, _escape_like(str(_term_value(value))) + "%")


def _wildcard(body: Any) -> Condition:
    name, value = _single(body)
    return _like(name, _wildcard_pattern(str(_term_value(value))))


def _exists(body: Any) -> Condition:
    column = column_of(str(body.get("field", ""))) if isinstance(body, Mapping) else None
    return Condition(f"{column[0]} IS NOT NULL") if column else Condition("FALSE")


def _ids(body: Any) -> Condition:
    values = body.get("values", []) if isinstance(body, Mapping) else []
    return Condition.join([_compare("id", "=", v) for v in values], "OR", "FALSE")


def _clauses(body: Mapping[str, Any], key: str) -> list[Condition]:
    value = body.get(key, [])
    items = value if isinstance(value, list) else [value]
    return [translate_query(q) for q in items]


def _bool(body: Any) -> Condition:
    body = body if isinstance(body, Mapping) else {}
    required = _clauses(body, "must") + _clauses(body, "filter")
    should = _clauses(body, "should")
    excluded = _clauses(body, "must_not")
    minimum = body.get("minimum_should_match", 0 if required else 1)
    if should and int(minimum) > 0:
        required.append(Condition.join(should, "OR", "TRUE"))
    required += [Condition(f"NOT {c.sql}", c.params) for c in excluded]
    return Condition.join(required, "AND", "TRUE")


def _query_string(body: Any) -> Condition:
    body = body if isinstance(body, Mapping) else {"query": str(body)}
    fields = [re.sub(r"\^[\d.]+$", "", f) for f in body.get("fields", DEFAULT_QUERY_FIELDS)]
    return parse_query_string(
        str(body.get("query", "")),
        fields=fields,
        default_and=str(body.get("default_operator", "OR")).upper() == "AND",
        compare=_compare,
        like=lambda name, text: _like(name, _wildcard_pattern(text)),
    )


_QUERIES = {
    "match_all": _match_all,
    "match_none": _match_none,
    "term": _term,
    "match": _term,
    "match_phrase": _term,
    "terms": _terms,
    "range": _range,
    "prefix": _prefix,
    "wildcard": _wildcard,
    "exists": _exists,
    "ids": _ids,
    "bool": _bool,
    "query_string": _query_string,
}
