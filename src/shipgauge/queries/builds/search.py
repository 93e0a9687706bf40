"""Buildhub's `/api/search`: an Elasticsearch 6.x request body run as SQL over `build_records`.

Hits, `size`/`from`, `sort`, `_source` filtering, `post_filter` and the aggregations Buildhub's
web UI and clients use (`aggs.py`), answered in Elasticsearch's response shape. The body is
decoded by `json_input.load_json` (depth and number limits); every key it carries is read here
or refused with a 400 naming it. Limits and error texts are Buildhub2's (upstream.md §6.2).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from shipgauge.errors import BadRequest
from shipgauge.json_input import DEFAULT_MAX_JSON_DEPTH, load_json
from shipgauge.queries.builds.aggs import MODEL, Agg, Scan, parse_aggs, run_aggs
from shipgauge.queries.builds.query import (
    FEW_VALUED_COLUMNS,
    Condition,
    Translation,
    column_of,
    translate_query,
)
from shipgauge.queries.builds.query_string import DEFAULT_MAX_QUERY_STRING_CHARS
from shipgauge.queries.builds.values import (
    SearchError,
    check_keys,
    count_param,
    es_error,
    string_list,
)
from shipgauge.store import Store

__all__ = ["DEFAULT_MAX_SEARCH_SIZE", "MAX_RESULT_WINDOW", "count_builds", "search_builds"]

DEFAULT_MAX_SEARCH_SIZE = 1000
MAX_RESULT_WINDOW = 10_000
INDEX_NAME = "buildhub2"
TABLE = "builds"  # the model's table, for DuckDB's row ids
# Up to this many matches, DuckDB ranks a search's hits by row id (see `_page`).
FEW_MATCHES = 2000
_BODY_KEYS = frozenset({"query", "post_filter", "aggs", "aggregations", "size", "from", "sort",
                        "_source"})  # fmt: skip
_TOKEN_NAMES = {bool: "VALUE_BOOLEAN", int: "VALUE_NUMBER", float: "VALUE_NUMBER",
                str: "VALUE_STRING", dict: "START_OBJECT", list: "START_ARRAY"}  # fmt: skip


@dataclass(frozen=True)
class _Request:
    """A search body, every part checked: nothing is run before all of it is read."""

    size: int
    offset: int
    where: Condition
    post_filter: Condition | None
    aggs: list[Agg]
    order: str
    source: Any


def _decode(body: bytes | str | Mapping[str, Any] | None, max_depth: int) -> dict[str, Any]:
    if body is None or (isinstance(body, bytes | str) and not body.strip()):
        return {}
    if isinstance(body, Mapping):
        return dict(body)
    try:
        doc = load_json(body, max_depth=max_depth)
    except BadRequest as exc:
        # Buildhub2 answered the decoder's own text ("Expecting value: line 1 column 1 …").
        raise SearchError({"error": _decoder_text(body) or exc.message}) from None
    if not isinstance(doc, dict):
        raise SearchError({"error": "request body must be a JSON object"})
    return doc


def _decoder_text(body: bytes | str) -> str | None:
    """The decoder's own error for text the bounded decoding refused, if it has one: text too
    deep for the decoder itself ends in RecursionError, which is caught, not its text."""
    try:
        json.loads(body)
    except RecursionError:
        return None
    except ValueError as exc:
        return str(exc)
    return None


def _window(request: Mapping[str, Any], max_size: int) -> tuple[int, int]:
    size = count_param("size", request.get("size", 10))
    offset = count_param("from", request.get("from", 0))
    if size > max_size:
        raise SearchError({"error": f"Search size too large ({size})"})
    if offset + size > MAX_RESULT_WINDOW:
        raise SearchError(
            {
                "error": "Result window is too large, from + size must be less than or equal "
                f"to: [{MAX_RESULT_WINDOW}] but was [{offset + size}]. See the scroll api for a "
                "more efficient way to request large data sets. This limit can be set by "
                "changing the [index.max_result_window] index level setting."
            }
        )
    return size, offset


def _read_request(body: Mapping[str, Any], max_size: int, how: Translation) -> _Request:
    for key, value in body.items():
        if key not in _BODY_KEYS:
            token = _TOKEN_NAMES.get(type(value), "VALUE_NULL")
            raise es_error("parsing_exception", f"Unknown key for a {token} in [{key}].")
    if "aggs" in body and "aggregations" in body:
        raise es_error("parsing_exception", "Found two aggregation definitions: [aggregations]")
    size, offset = _window(body, max_size)
    aggs_spec = body.get("aggs", body.get("aggregations"))
    post = body.get("post_filter")
    source = body.get("_source", True)
    try:
        return _Request(
            size=size,
            offset=offset,
            where=translate_query(body.get("query", {"match_all": {}}), how),
            post_filter=(translate_query(post, how, filtering=True) if post is not None else None),
            aggs=parse_aggs(aggs_spec, how) if aggs_spec else [],
            order=_order_by(body.get("sort")),
            source=source if isinstance(source, bool) else _source_spec(source),
        )
    except SearchError:
        raise
    except BadRequest as exc:  # a query string or regexp the parsers refused
        raise es_error("query_shard_exception", str(exc)) from None


class _ColumnValues:
    """Every value of a few-valued column, read once per request (for `regexp`, query.py)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._read: dict[str, list[str]] = {}

    def __call__(self, expr: str) -> list[str] | None:
        if expr not in FEW_VALUED_COLUMNS:
            return None
        if expr not in self._read:
            sql = f"SELECT DISTINCT {expr} FROM {TABLE} WHERE {expr} IS NOT NULL"
            self._read[expr] = [row[0] for row in self.store.query(sql).rows]
        return self._read[expr]


def count_builds(store: Store) -> int:
    """How many build records the store holds (`/api/records`)."""
    return int(store.query(f"SELECT count(*) FROM {MODEL}").scalar())


def search_builds(
    store: Store,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    max_size: int = DEFAULT_MAX_SEARCH_SIZE,
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
    max_query_string_chars: int = DEFAULT_MAX_QUERY_STRING_CHARS,
) -> dict[str, Any]:
    """Answer an Elasticsearch request body as Buildhub2 did; SearchError when refused.

    `post_filter` narrows the hits and their total, never the aggregations.
    """
    started = time.perf_counter()
    how = Translation(max_query_string_chars, _ColumnValues(store))
    request = _read_request(_decode(body, max_json_depth), max_size, how)
    scan = Scan(store)
    aggregations = run_aggs(scan, request.where, request.aggs) if request.aggs else None
    matched = (
        Condition.join([request.where, request.post_filter], "AND", "TRUE")
        if request.post_filter is not None
        else request.where
    )
    rows = (
        _page(store, scan, matched, request.order, request.size, request.offset)
        if request.size
        else []
    )
    total = scan.count(matched)
    hits = [
        {"_index": INDEX_NAME, "_type": "doc", "_id": build_hash, "_score": 1.0,
         **({"_source": _source_of(_document(doc), request.source)}
            if request.source is not False else {})}
        for build_hash, doc in rows
    ]  # fmt: skip
    response: dict[str, Any] = {
        "took": 0,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": total, "max_score": 1.0 if hits else None, "hits": hits},
    }
    if aggregations is not None:
        response["aggregations"] = aggregations
    response["took"] = int((time.perf_counter() - started) * 1000)
    return response


def _page(
    store: Store, scan: Scan, where: Condition, order: str, size: int, offset: int
) -> list[tuple[Any, ...]]:
    """The hits' (build_hash, document), in `order`.

    A filter over several columns (a query string's terms, each tried on every UI field) is
    no scan filter for DuckDB: the plain query would decode the hash and document of every
    row to rank the few that match. On DuckDB a selective search therefore first takes the
    matching row ids (the filter's columns only; their number is the total), then reads and
    ranks just those rows. `build_records` is `builds` column for column, so the condition
    reads the same on the table whose row ids these are.
    """
    if store.engine.name == "duckdb":
        found = store.query(
            f"SELECT rowid FROM {TABLE} WHERE {where.sql} LIMIT ?", [*where.params, FEW_MATCHES + 1]
        ).rows
        if len(found) <= FEW_MATCHES:
            scan.counted(where, len(found))
            return store.query(
                f"SELECT build_hash, document FROM {TABLE} WHERE rowid = ANY(?) ORDER BY {order} "
                "LIMIT ? OFFSET ?",
                [[r[0] for r in found], size, offset],
            ).rows
    sql = f"SELECT build_hash, document FROM {MODEL} WHERE {where.sql} ORDER BY {order} "
    return store.query(sql + "LIMIT ? OFFSET ?", [*where.params, size, offset]).rows


def _document(value: Any) -> dict[str, Any]:
    doc = json.loads(value) if isinstance(value, str) else value
    assert isinstance(doc, dict)
    return doc


_SORT_OPTIONS = frozenset({"order", "missing", "unmapped_type"})


def _order_by(sort: Any) -> str:
    """ES `sort` → ORDER BY: a field name, `{field: order}` or `{field: {order, missing}}`."""
    items = sort if isinstance(sort, list) else [sort] if sort is not None else []
    parts: list[str] = []
    for item in items:
        name, options = _sort_item(item)
        if name in ("_score", "_doc"):  # every hit scores 1.0; the index order is no order
            continue
        column = column_of(name)
        if column is None:
            if "unmapped_type" in options:
                continue  # ES sorts an unmapped field as missing everywhere
            raise es_error(
                "query_shard_exception", f"No mapping found for [{name}] in order to sort on"
            )
        word = options.get("order", "asc")
        missing = options.get("missing", "_last")
        if word not in ("asc", "desc") or missing not in ("_last", "_first"):
            raise es_error("parsing_exception", f"[sort] of [{name}]: bad order or missing")
        expr = "version_key" if name == "target.version" else column[0]
        parts.append(f"{expr} {word.upper()} NULLS {missing[1:].upper()}")
    # Buildhub's UI sorts by download date, newest first; the hash makes pages stable.
    return ", ".join([*(parts or ["download_date DESC NULLS LAST"]), "build_hash"])


def _sort_item(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {"order": "desc" if item == "_score" else "asc"}
    if isinstance(item, Mapping) and len(item) == 1:
        name, spec = next(iter(item.items()))
        if isinstance(spec, str):
            return name, {"order": spec}
        if isinstance(spec, Mapping):
            check_keys("sort", spec, _SORT_OPTIONS)
            return name, {"order": "asc", **spec}
    raise es_error("parsing_exception", f"[sort] malformed: [{json.dumps(item)}]")


def _source_spec(spec: Any) -> tuple[list[str], list[str]]:
    """`_source` as (includes, excludes): a pattern, a list of them, or includes/excludes."""
    if isinstance(spec, Mapping):
        check_keys("_source", spec, frozenset({"includes", "excludes", "include", "exclude"}))
        return (
            string_list("includes", spec.get("includes", spec.get("include", []))),
            string_list("excludes", spec.get("excludes", spec.get("exclude", []))),
        )
    return string_list("_source", spec), []


def _source_of(doc: dict[str, Any], spec: bool | tuple[list[str], list[str]]) -> dict[str, Any]:
    if spec is True:
        return doc
    includes, excludes = spec if isinstance(spec, tuple) else ([], [])
    out: dict[str, Any] = {}
    for part, fields in doc.items():
        for name, value in fields.items() if isinstance(fields, dict) else []:
            path = f"{part}.{name}"
            wanted = not includes or any(_glob(p, path) for p in includes)
            if wanted and not any(_glob(p, path) for p in excludes):
                out.setdefault(part, {})[name] = value
    return out


def _glob(pattern: str, path: str) -> bool:
    # `target` selects the whole object, `target.*` and `*.version` select by wildcard.
    return fnmatchcase(path, pattern) or fnmatchcase(path.split(".")[0], pattern)
