"""Elasticsearch 6.x queries (the subset Buildhub's clients send) → SQL conditions with parameters.

Field names map to a fixed set of columns of the `build_records` model; values only ever
travel as parameters. Errors carry the texts Elasticsearch and elasticsearch-dsl gave, since
Buildhub2 passed them through (upstream.md §6.2, api-search-cases.json).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipgauge.queries.builds.lucene_regexp import ALL_FLAGS, lucene_flags, lucene_to_regex
from shipgauge.queries.builds.query_string import (
    DEFAULT_MAX_QUERY_STRING_CHARS,
    Condition,
    parse_query_string,
)
from shipgauge.queries.builds.values import (
    SearchError,
    check_keys,
    es_error,
    field_value,
    minimum_should_match,
    string_list,
    string_param,
)
from shipgauge.store import in_text_list

__all__ = [
    "FEW_VALUED_COLUMNS",
    "Condition",
    "SearchError",
    "Translation",
    "column_of",
    "es_error",
    "translate_query",
]

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
# Columns with few distinct values (hundreds, not millions): a regexp is matched on their values.
FEW_VALUED_COLUMNS = frozenset(
    {"product", "channel", "version", "platform", "os", "locale", "tree", "repository",
     "download_mimetype"}
)  # fmt: skip
_FEW_PLACEHOLDERS = 64
# Fields a query_string searches when it names none: the web UI's list.
DEFAULT_QUERY_FIELDS = (
    "source.product",
    "target.channel",
    "target.version",
    "target.locale",
    "target.platform",
    "build.id",
)


def column_of(name: str) -> tuple[str, str] | None:
    """The SQL expression and kind of an ES field, or None when the field is unknown."""
    return _FIELDS.get(name)


def _single(body: Any, where: str) -> tuple[str, Any]:
    entries = (
        {k: v for k, v in body.items() if k not in ("boost", "_name")}
        if isinstance(body, Mapping)
        else body
    )
    if not isinstance(entries, Mapping) or len(entries) != 1:
        if isinstance(entries, Mapping) and len(entries) > 1:
            raise es_error("parsing_exception", f"[{where}] query doesn't support multiple fields")
        raise es_error("illegal_argument_exception", "field name is null or empty")
    return next(iter(entries.items()))


def _compare(name: str, sql_op: str, value: Any) -> Condition:
    column = column_of(name)
    if column is None:
        return Condition("FALSE")  # ES: an unknown field matches nothing
    expr, kind = column
    return Condition(f"{expr} {sql_op} ?", [field_value(name, kind, value)])


def _keyword_test(name: str, sql: str, argument: str) -> Condition:
    # Patterns (prefix, wildcard, regexp) apply to keywords; on other fields they match nothing.
    column = column_of(name)
    if column is None or column[1] != "keyword":
        return Condition("FALSE")
    return Condition(sql.format(column[0]), [argument])


def _like(name: str, pattern: str) -> Condition:
    return _keyword_test(name, "{} LIKE ? ESCAPE '\\'", pattern)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wildcard_pattern(text: str) -> str:
    return _escape_like(text).replace("*", "%").replace("?", "_")


def _term_value(where: str, body: Any, allowed: frozenset[str]) -> Any:
    """`{"field": value}` or `{"field": {"value": value, …}}`; the options checked by name."""
    if not isinstance(body, Mapping):
        return body
    check_keys(where, body, allowed)
    if "value" not in body and "query" not in body:
        raise es_error("parsing_exception", f"[{where}] requires a value")
    return body.get("value", body.get("query"))


_TERM_OPTIONS = frozenset({"value", "boost", "_name"})
_MATCH_OPTIONS = frozenset({"query", "operator", "boost", "_name", "slop", "analyzer"})
_REGEXP_OPTIONS = frozenset({"value", "flags", "flags_value", "max_determinized_states", "boost",
                             "_name", "rewrite"})  # fmt: skip


@dataclass(frozen=True)
class Translation:
    """What reading a request's queries needs beyond the query: the query-string length limit,
    and where to find every value of a few-valued column (see `_regexp`)."""

    max_query_string_chars: int = DEFAULT_MAX_QUERY_STRING_CHARS
    column_values: Callable[[str], Sequence[str] | None] | None = None


def translate_query(
    query: Any, how: Translation = Translation(), *, filtering: bool = False
) -> Condition:
    """An ES query object → a SQL condition; SearchError with ES's text when it is not valid.

    `filtering`: the query is in filter context (a `filter` or `must_not` clause, `post_filter`,
    a filter aggregation), where ES 6 requires one `should` clause of a bool to match.
    """
    if not isinstance(query, Mapping) or len(query) != 1:
        shown = repr(dict(query)) if isinstance(query, Mapping) else repr(query)
        raise SearchError(
            {
                "error": 'Q() can only accept dict with a single query ({"match": {...}}). '
                f"Instead it got ({shown})"
            }
        )
    kind, body = next(iter(query.items()))
    if kind == "bool":
        return _bool(body, how, filtering)
    if kind == "query_string":
        return _query_string(body, how.max_query_string_chars)
    if kind == "regexp":
        return _regexp(body, how)
    handler = _QUERIES.get(kind)
    if handler is None:
        raise SearchError({"error": f"DSL class `{kind}` does not exist in query."})
    return handler(body)


def _match_all(body: Any) -> Condition:
    check_keys("match_all", body if isinstance(body, Mapping) else {}, frozenset({"boost"}))
    return Condition("TRUE")


def _match_none(_: Any) -> Condition:
    return Condition("FALSE")


def _term(body: Any) -> Condition:
    name, value = _single(body, "term")
    return _compare(name, "=", _term_value("term", value, _TERM_OPTIONS))


def _match(body: Any) -> Condition:
    # Every field is a keyword (or a date or long): the whole value is the one term.
    name, value = _single(body, "match")
    return _compare(name, "=", _term_value("match", value, _MATCH_OPTIONS))


def _terms(body: Any) -> Condition:
    name, values = _single(body, "terms")
    if not isinstance(values, list):
        raise es_error("parsing_exception", "[terms] query does not support [" + name + "]")
    return Condition.join([_compare(name, "=", v) for v in values], "OR", "FALSE")


_RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "from": ">=", "to": "<="}


def _range(body: Any) -> Condition:
    name, bounds = _single(body, "range")
    if not isinstance(bounds, Mapping):
        raise es_error(
            "parsing_exception", f"[range] query malformed, no start_object after {name}"
        )
    check_keys("range", bounds, frozenset({*_RANGE_OPS, "boost", "format", "time_zone"}))
    if "format" in bounds or "time_zone" in bounds:
        raise es_error("parsing_exception", "[range] format and time_zone are not supported")
    parts = [_compare(name, _RANGE_OPS[k], v) for k, v in bounds.items() if k in _RANGE_OPS]
    return Condition.join(parts, "AND", "TRUE")


def _prefix(body: Any) -> Condition:
    name, value = _single(body, "prefix")
    text = string_param("prefix", _term_value("prefix", value, _TERM_OPTIONS))
    return _like(name, _escape_like(text) + "%")


def _wildcard(body: Any) -> Condition:
    name, value = _single(body, "wildcard")
    text = string_param("wildcard", _term_value("wildcard", value, _TERM_OPTIONS | {"wildcard"}))
    return _like(name, _wildcard_pattern(text))


def _regexp(body: Any, how: Translation) -> Condition:
    name, value = _single(body, "regexp")
    pattern = string_param("regexp", _term_value("regexp", value, _REGEXP_OPTIONS))
    flags = ALL_FLAGS
    if isinstance(value, Mapping) and "flags" in value:
        flags = lucene_flags(string_param("flags", value["flags"]))
    if isinstance(value, Mapping) and "flags_value" in value:
        raise es_error("parsing_exception", "[regexp] flags_value is not supported; use flags")
    regex = lucene_to_regex(pattern, flags)
    column = column_of(name)
    if column is None or column[1] != "keyword":
        return Condition("FALSE")
    # A column of few values (versions, channels …) is matched value by value, once: the engine
    # would run the regex on every row, in every scan of the request (1M rows: ~100 ms each).
    values = how.column_values(column[0]) if how.column_values else None
    if values is None:
        return Condition(f"regexp_matches({column[0]}, ?)", [regex])
    compiled = re.compile(regex)
    matching = [v for v in values if compiled.fullmatch(v)]
    if not matching:
        return Condition("FALSE")
    if len(matching) > _FEW_PLACEHOLDERS:
        return Condition(in_text_list(column[0]), [matching])
    # A short IN list of placeholders keeps the engine's filter pushdown (DuckDB plans the
    # one-list-parameter form as a join, and then scans every row group).
    return Condition(f"{column[0]} IN ({', '.join('?' * len(matching))})", matching)


def _exists(body: Any) -> Condition:
    if not isinstance(body, Mapping):
        raise es_error("parsing_exception", "[exists] query malformed")
    check_keys("exists", body, frozenset({"field", "boost", "_name"}))
    column = column_of(string_param("field", body.get("field")))
    return Condition(f"{column[0]} IS NOT NULL") if column else Condition("FALSE")


def _ids(body: Any) -> Condition:
    if not isinstance(body, Mapping):
        raise es_error("parsing_exception", "[ids] query malformed")
    check_keys("ids", body, frozenset({"values", "type", "boost", "_name"}))
    values = body.get("values", [])
    if not isinstance(values, list):
        raise es_error("parsing_exception", "[ids] values must be an array")
    return Condition.join([_compare("id", "=", v) for v in values], "OR", "FALSE")


def _clauses(
    body: Mapping[str, Any], key: str, how: Translation, filtering: bool
) -> list[Condition]:
    value = body.get(key, [])
    items = value if isinstance(value, list) else [value]
    in_filter = filtering or key in ("filter", "must_not")
    return [translate_query(q, how, filtering=in_filter) for q in items]


_BOOL_KEYS = frozenset({"must", "filter", "should", "must_not", "minimum_should_match",
                        "boost", "_name", "disable_coord", "adjust_pure_negative"})  # fmt: skip


def _bool(body: Any, how: Translation, filtering: bool) -> Condition:
    if not isinstance(body, Mapping):
        raise es_error("parsing_exception", "[bool] query malformed")
    check_keys("bool", body, _BOOL_KEYS)
    required = [
        *_clauses(body, "must", how, filtering),
        *_clauses(body, "filter", how, filtering),
    ]
    should = _clauses(body, "should", how, filtering)
    excluded = _clauses(body, "must_not", how, filtering)
    # ES 6: in filter context, or with no must/filter clause, one should clause must match;
    # otherwise should clauses only score.
    optional = (required or excluded) and not filtering
    wanted = minimum_should_match(
        body.get("minimum_should_match", 0 if optional else 1), len(should)
    )
    if should and wanted > 0:
        required.append(_at_least(should, wanted))
    required += [c.negated() for c in excluded]
    return Condition.join(required, "AND", "TRUE")


def _at_least(clauses: list[Condition], wanted: int) -> Condition:
    if wanted > len(clauses):
        return Condition("FALSE")
    if wanted == 1:
        return Condition.join(clauses, "OR", "FALSE")
    counted = " + ".join(f"(CASE WHEN {c.sql} THEN 1 ELSE 0 END)" for c in clauses)
    return Condition(f"({counted}) >= {int(wanted)}", [p for c in clauses for p in c.params])


_QUERY_STRING_KEYS = frozenset({"query", "fields", "default_field", "default_operator", "boost",
                                "analyze_wildcard", "phrase_slop", "lenient", "_name"})  # fmt: skip


def _query_string(body: Any, max_chars: int) -> Condition:
    body = body if isinstance(body, Mapping) else {"query": body}
    check_keys("query_string", body, _QUERY_STRING_KEYS)
    default = [body["default_field"]] if "default_field" in body else list(DEFAULT_QUERY_FIELDS)
    fields = [
        re.sub(r"\^[\d.]+$", "", f) for f in string_list("fields", body.get("fields", default))
    ]
    operator = string_param("default_operator", body.get("default_operator", "OR"))
    return parse_query_string(
        string_param("query", body.get("query", "")),
        fields=fields,
        default_and=operator.upper() == "AND",
        compare=_compare,
        like=lambda name, text: _like(name, _wildcard_pattern(text)),
        max_chars=max_chars,
    )


_QUERIES = {
    "match_all": _match_all,
    "match_none": _match_none,
    "term": _term,
    "match": _match,
    "match_phrase": _match,
    "terms": _terms,
    "range": _range,
    "prefix": _prefix,
    "wildcard": _wildcard,
    "exists": _exists,
    "ids": _ids,
}
