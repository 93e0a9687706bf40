"""Buildhub's `/api/search`: an Elasticsearch 6.x request body run as SQL over `build_records`.

Hits, `size`/`from`, `sort`, `_source` filtering and the aggregations Buildhub's web UI and
documented clients use (terms, cardinality, filter, min/max/avg/sum/value_count,
date_histogram), answered in Elasticsearch's response shape. Limits and error texts are
Buildhub2's (upstream.md §6.2).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from shipgauge.queries.builds.query import (
    Condition,
    SearchError,
    column_of,
    es_error,
    translate_query,
)
from shipgauge.sources.archive.paths import version_sort_key
from shipgauge.store import Store

__all__ = ["DEFAULT_MAX_SEARCH_SIZE", "MAX_RESULT_WINDOW", "count_builds", "search_builds"]

DEFAULT_MAX_SEARCH_SIZE = 1000
MAX_RESULT_WINDOW = 10_000
INDEX_NAME = "buildhub2"
MODEL = "build_records"
TABLE = "builds"  # the model's table, for DuckDB's row ids
# Up to this many matches, DuckDB ranks a search's hits by row id (see `_page`).
FEW_MATCHES = 2000
_METRICS = {"min": "min", "max": "max", "avg": "avg", "sum": "sum", "value_count": "count"}
_INTERVALS = {
    "minute": "minute", "1m": "minute", "hour": "hour", "1h": "hour", "day": "day",
    "1d": "day", "week": "week", "1w": "week", "month": "month", "1M": "month",
    "quarter": "quarter", "1q": "quarter", "year": "year", "1y": "year",
}  # fmt: skip
_AGG_KINDS = frozenset({"terms", "cardinality", "filter", "date_histogram", *_METRICS})


def _request(body: bytes | str | Mapping[str, Any] | None) -> dict[str, Any]:
    if body is None or (isinstance(body, bytes | str) and not body.strip()):
        return {}
    if isinstance(body, Mapping):
        return dict(body)
    try:
        doc = json.loads(body)
    except ValueError as exc:  # Buildhub2 answered JSONDecodeError's own text
        raise SearchError({"error": str(exc)}) from None
    if not isinstance(doc, dict):
        raise SearchError({"error": "request body must be a JSON object"})
    return doc


def _window(request: Mapping[str, Any], max_size: int) -> tuple[int, int]:
    try:
        size, offset = int(request.get("size", 10)), int(request.get("from", 0))
    except (TypeError, ValueError):
        raise es_error("number_format_exception", "size and from must be integers") from None
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
    return max(size, 0), max(offset, 0)


def count_builds(store: Store) -> int:
    """How many build records the store holds (`/api/records`)."""
    return int(store.query(f"SELECT count(*) FROM {MODEL}").scalar())


def search_builds(
    store: Store,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    max_size: int = DEFAULT_MAX_SEARCH_SIZE,
) -> dict[str, Any]:
    """Answer an Elasticsearch request body as Buildhub2 did; SearchError when refused."""
    started = time.perf_counter()
    request = _request(body)
    size, offset = _window(request, max_size)
    where = translate_query(request.get("query", {"match_all": {}}))
    aggs = _parse_aggs(request.get("aggs", request.get("aggregations")) or {})
    order = _order_by(request.get("sort"))
    scan = _Scan(store)
    aggregations = _run_aggs(scan, where, aggs) if aggs else None
    rows = _page(store, scan, where, order, size, offset) if size else []
    total = scan.count(where)
    source = request.get("_source", True)
    hits = [
        {"_index": INDEX_NAME, "_type": "doc", "_id": build_hash, "_score": 1.0,
         **({"_source": _source_of(_document(doc), source)} if source is not False else {})}
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
    store: Store, scan: _Scan, where: Condition, order: str, size: int, offset: int
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


def _order_by(sort: Any) -> str:
    items = sort if isinstance(sort, list) else [sort] if sort else []
    parts: list[str] = []
    for item in items:
        name, direction = (item, "asc") if isinstance(item, str) else next(iter(dict(item).items()))
        if isinstance(direction, Mapping):
            direction = direction.get("order", "asc")
        if name in ("_score", "_doc"):
            continue
        column = column_of(name)
        if column is None:
            raise es_error(
                "query_shard_exception", f"No mapping found for [{name}] in order to sort on"
            )
        word = "DESC" if str(direction).lower() == "desc" else "ASC"
        expr = "version_key" if name == "target.version" else column[0]
        parts.append(f"{expr} {word} NULLS LAST")
    # Buildhub's UI sorts by download date, newest first; the hash makes pages stable.
    return ", ".join([*(parts or ["download_date DESC NULLS LAST"]), "build_hash"])


def _source_of(doc: dict[str, Any], spec: Any) -> dict[str, Any]:
    if spec is True or spec is None:
        return doc
    includes = [spec] if isinstance(spec, str) else spec if isinstance(spec, list) else []
    excludes: list[str] = []
    if isinstance(spec, Mapping):
        includes, excludes = list(spec.get("includes", [])), list(spec.get("excludes", []))
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


Agg = tuple[str, str, dict[str, Any], dict[str, Any]]  # name, kind, params, sub-aggs


def _parse_aggs(spec: Mapping[str, Any]) -> list[Agg]:
    parsed: list[Agg] = []
    for name, body in spec.items():
        if not isinstance(body, Mapping):
            raise SearchError({"error": f"Aggregation [{name}] must be an object"})
        kinds = [k for k in body if k not in ("aggs", "aggregations", "meta")]
        unknown = [k for k in kinds if k not in _AGG_KINDS]
        if unknown:
            raise SearchError({"error": f"DSL class `{unknown[0]}` does not exist in agg."})
        if len(kinds) != 1:
            raise SearchError(
                {"error": 'A() can only accept dict with an aggregation ({"terms": {...}}). '
                 f"Instead it got ({dict(body)!r})"}
            )  # fmt: skip
        sub = body.get("aggs", body.get("aggregations")) or {}
        _parse_aggs(sub)
        parsed.append((name, kinds[0], dict(body[kinds[0]] or {}), dict(sub)))
    return parsed


class _Scan:
    """One request's reads of the model; a count a terms aggregation already gave is reused.

    A facet request (`size: 0` + terms) then scans the model once, not twice.
    """

    def __init__(self, store: Store) -> None:
        self.query = store.query
        self._counts: dict[tuple[str, str], int] = {}

    def count(self, where: Condition) -> int:
        key = (where.sql, repr(where.params))
        if key not in self._counts:
            sql = f"SELECT count(*) FROM {MODEL} WHERE {where.sql}"
            self._counts[key] = int(self.query(sql, where.params).scalar())
        return self._counts[key]

    def counted(self, where: Condition, total: int) -> None:
        self._counts[(where.sql, repr(where.params))] = total


def _run_aggs(scan: _Scan, where: Condition, aggs: list[Agg]) -> dict[str, Any]:
    return {name: _run_agg(scan, where, kind, params, sub) for name, kind, params, sub in aggs}


def _field(params: Mapping[str, Any]) -> tuple[str, str] | None:
    return column_of(str(params.get("field", "")))


def _run_agg(
    scan: _Scan, where: Condition, kind: str, params: dict[str, Any], sub: dict[str, Any]
) -> dict[str, Any]:
    if kind == "filter":
        scoped = Condition.join([where, translate_query(params)], "AND", "TRUE")
        return {"doc_count": scan.count(scoped), **_run_aggs(scan, scoped, _parse_aggs(sub))}
    column = _field(params)
    if kind == "terms":
        return _terms(scan, where, params, column, sub)
    if column is None:
        return {"value": None} if kind != "date_histogram" else {"buckets": []}
    expr, _field_kind = column
    if kind == "cardinality":
        sql = f"SELECT count(DISTINCT {expr}) FROM {MODEL} WHERE {where.sql}"
        return {"value": int(scan.query(sql, where.params).scalar())}
    if kind == "date_histogram":
        return _date_histogram(scan, where, params, expr, sub)
    value = scan.query(
        f"SELECT {_METRICS[kind]}({expr}) FROM {MODEL} WHERE {where.sql}", where.params
    ).scalar()
    if isinstance(value, datetime):
        return {"value": value.timestamp() * 1000, "value_as_string": _iso(value)}
    return {
        "value": None if value is None else (int(value) if kind == "value_count" else float(value))
    }


def _terms(
    scan: _Scan,
    where: Condition,
    params: dict[str, Any],
    column: tuple[str, str] | None,
    sub: dict[str, Any],
) -> dict[str, Any]:
    if column is None:
        return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []}
    expr, _ = column
    # NULL keys make no bucket, but their group completes the count of `where` for free.
    grouped = scan.query(
        f"SELECT {expr}, count(*) FROM {MODEL} WHERE {where.sql} GROUP BY {expr}", where.params
    ).rows
    scan.counted(where, sum(int(r[1]) for r in grouped))
    # Versions rank by their sort key: the stored `version_key` is this function of the
    # version, and computing it per bucket spares the scan a third of its cost.
    rows = [
        (key, version_sort_key(key) if expr == "version" else key, count)
        for key, count in grouped
        if key is not None
    ]
    include = params.get("include")
    if isinstance(include, str):
        rows = [r for r in rows if re.fullmatch(include, str(r[0]))]
    elif isinstance(include, list):
        rows = [r for r in rows if r[0] in include]
    order = params.get("order", {"_count": "desc"})
    by, direction = (
        next(iter(dict(order).items())) if isinstance(order, Mapping) else ("_count", "desc")
    )
    reverse = str(direction).lower() == "desc"
    if by in ("_term", "_key"):
        rows.sort(key=lambda r: (r[1] or "", str(r[0])), reverse=reverse)
    else:
        rows.sort(key=lambda r: str(r[1] or ""))
        rows.sort(key=lambda r: r[2], reverse=reverse)
    size = int(params.get("size", 10))
    minimum = int(params.get("min_doc_count", 1))
    chosen = [r for r in rows if r[2] >= minimum][:size]
    buckets = []
    for key, _, count in chosen:
        bucket: dict[str, Any] = {"key": _key(key), "doc_count": int(count)}
        if isinstance(key, datetime):
            bucket["key_as_string"] = _iso(key)
        if sub:
            scoped = Condition.join([where, Condition(f"{expr} = ?", [key])], "AND", "TRUE")
            bucket.update(_run_aggs(scan, scoped, _parse_aggs(sub)))
        buckets.append(bucket)
    return {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": int(sum(r[2] for r in rows) - sum(b["doc_count"] for b in buckets)),
        "buckets": buckets,
    }


def _date_histogram(
    scan: _Scan, where: Condition, params: dict[str, Any], expr: str, sub: dict[str, Any]
) -> dict[str, Any]:
    interval = (
        params.get("calendar_interval") or params.get("interval") or params.get("fixed_interval")
    )
    part = _INTERVALS.get(str(interval))
    if part is None:
        raise es_error(
            "illegal_argument_exception", f"The supplied interval [{interval}] could not be parsed"
        )
    bucket_expr = f"date_trunc('{part}', {expr})"
    rows = scan.query(
        f"SELECT {bucket_expr} AS bucket, count(*) FROM {MODEL} WHERE {where.sql} "
        f"AND {expr} IS NOT NULL GROUP BY bucket ORDER BY bucket",
        where.params,
    ).rows
    buckets = []
    for start, count in rows:
        bucket: dict[str, Any] = {
            "key_as_string": _iso(start),
            "key": _key(start),
            "doc_count": int(count),
        }
        if sub:
            scoped = Condition.join(
                [where, Condition(f"{bucket_expr} = ?", [start])], "AND", "TRUE"
            )
            bucket.update(_run_aggs(scan, scoped, _parse_aggs(sub)))
        buckets.append(bucket)
    return {"buckets": buckets}


def _key(value: Any) -> Any:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
