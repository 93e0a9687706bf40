"""Elasticsearch 6.x aggregations over `build_records`: terms, filter, cardinality, the metrics
min/max/avg/sum/value_count and date_histogram, nested through `aggs`, in ES's answer shape.

Each aggregation's parameters are checked here by name and type before any SQL is built: an
unknown parameter, a metric on a field of the wrong type or a count that is no integer is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipgauge.queries.builds.dates import bucket_starts, iso_millis, millis
from shipgauge.queries.builds.lucene_regexp import lucene_to_regex
from shipgauge.queries.builds.query import Condition, Translation, column_of, translate_query
from shipgauge.queries.builds.values import (
    SearchError,
    check_keys,
    count_param,
    es_error,
    string_list,
    string_param,
)
from shipgauge.sources.archive.paths import version_sort_key
from shipgauge.store import Store

__all__ = ["MODEL", "Agg", "Scan", "parse_aggs", "run_aggs"]

MODEL = "build_records"
MAX_BUCKETS = 10_000
_METRICS = {"min": "min", "max": "max", "avg": "avg", "sum": "sum", "value_count": "count"}
# Field kinds each field aggregation reads; min/max also read dates, avg/sum numbers only.
_KINDS = {
    "min": {"long", "date"}, "max": {"long", "date"}, "avg": {"long"}, "sum": {"long"},
    "value_count": {"long", "date", "keyword"}, "cardinality": {"long", "date", "keyword"},
    "terms": {"long", "date", "keyword"}, "date_histogram": {"date"},
}  # fmt: skip
_PARAMS = {
    "terms": {"field", "size", "order", "min_doc_count", "include", "exclude", "shard_size"},
    "cardinality": {"field", "precision_threshold"},
    "date_histogram": {"field", "interval", "calendar_interval", "fixed_interval",
                       "min_doc_count"},
    **{metric: {"field"} for metric in _METRICS},
}  # fmt: skip
_INTERVALS = {
    "minute": "minute", "1m": "minute", "hour": "hour", "1h": "hour", "day": "day",
    "1d": "day", "week": "week", "1w": "week", "month": "month", "1M": "month",
    "quarter": "quarter", "1q": "quarter", "year": "year", "1y": "year",
}  # fmt: skip


@dataclass(frozen=True)
class Agg:
    """One checked aggregation: its name, kind, parameters, field column and sub-aggregations."""

    name: str
    kind: str
    params: dict[str, Any]
    column: tuple[str, str] | None
    sub: list[Agg]


def parse_aggs(spec: Any, how: Translation) -> list[Agg]:
    """An `aggs` object → checked aggregations; SearchError naming what is refused."""
    if not isinstance(spec, Mapping):
        raise es_error("parsing_exception", "[aggs] must be an object")
    return [_parse_agg(name, body, how) for name, body in spec.items()]


def _parse_agg(name: str, body: Any, how: Translation) -> Agg:
    if not isinstance(body, Mapping):
        raise SearchError({"error": f"Aggregation [{name}] must be an object"})
    kinds = [k for k in body if k not in ("aggs", "aggregations", "meta")]
    unknown = [k for k in kinds if k not in _PARAMS and k != "filter"]
    if unknown:
        raise SearchError({"error": f"DSL class `{unknown[0]}` does not exist in agg."})
    if len(kinds) != 1:
        raise SearchError(
            {"error": 'A() can only accept dict with an aggregation ({"terms": {...}}). '
             f"Instead it got ({dict(body)!r})"}
        )  # fmt: skip
    if "aggs" in body and "aggregations" in body:
        raise es_error("parsing_exception", f"Found two sub aggregation definitions under [{name}]")
    kind, params = kinds[0], body[kinds[0]]
    sub = parse_aggs(body.get("aggs", body.get("aggregations")) or {}, how)
    if kind == "filter":
        where = translate_query(params, how, filtering=True)
        return Agg(name, kind, {"where": where}, None, sub)
    if not isinstance(params, Mapping):
        raise es_error("parsing_exception", f"[{kind}] aggregation [{name}] must be an object")
    check_keys(f"{kind} aggregation", params, frozenset(_PARAMS[kind]))
    field = string_param("field", params.get("field"))
    column = column_of(field)
    if column is not None and column[1] not in _KINDS[kind]:
        raise es_error(
            "illegal_argument_exception",
            f"Field [{field}] of type [{column[1]}] is not supported for aggregation [{kind}]",
        )
    checked = _check_terms(params) if kind == "terms" else dict(params)
    if kind == "cardinality" and "precision_threshold" in params:
        count_param("precision_threshold", params["precision_threshold"])
    if kind == "date_histogram":
        checked = _check_histogram(params)
    return Agg(name, kind, checked, column, sub)


def _check_terms(params: Mapping[str, Any]) -> dict[str, Any]:
    order = params.get("order", {"_count": "desc"})
    orders = order if isinstance(order, list) else [order]
    keys: list[tuple[str, bool]] = []
    for item in orders:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise es_error("parsing_exception", "[terms] order must be {key: direction}")
        by, direction = next(iter(item.items()))
        if by not in ("_count", "_term", "_key") or direction not in ("asc", "desc"):
            raise es_error("illegal_argument_exception", f"[terms] cannot order by [{by}]")
        keys.append(("_count" if by == "_count" else "_key", direction == "desc"))
    patterns = {
        what: _key_filter(params[what]) for what in ("include", "exclude") if what in params
    }
    if "shard_size" in params:
        count_param("shard_size", params["shard_size"], minimum=1)
    return {
        "size": count_param("size", params.get("size", 10), minimum=1, maximum=MAX_BUCKETS),
        "min_doc_count": count_param("min_doc_count", params.get("min_doc_count", 1)),
        "order": keys,
        **patterns,
    }


def _key_filter(value: Any) -> re.Pattern[str] | frozenset[str]:
    # A string is a Lucene regexp on the whole key; a list names exact keys.
    if isinstance(value, str):
        return re.compile(lucene_to_regex(value))
    return frozenset(string_list("include", value))


def _check_histogram(params: Mapping[str, Any]) -> dict[str, Any]:
    interval = (
        params.get("calendar_interval") or params.get("interval") or params.get("fixed_interval")
    )
    part = _INTERVALS.get(interval) if isinstance(interval, str) else None
    if part is None:
        raise es_error(
            "illegal_argument_exception", f"The supplied interval [{interval}] could not be parsed"
        )
    return {
        "part": part,
        "min_doc_count": count_param("min_doc_count", params.get("min_doc_count", 0)),
    }


class Scan:
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


def run_aggs(scan: Scan, where: Condition, aggs: list[Agg]) -> dict[str, Any]:
    """Each aggregation's answer over the rows `where` selects."""
    return {agg.name: _run_agg(scan, where, agg) for agg in aggs}


def _run_agg(scan: Scan, where: Condition, agg: Agg) -> dict[str, Any]:
    if agg.kind == "filter":
        scoped = Condition.join([where, agg.params["where"]], "AND", "TRUE")
        return {"doc_count": scan.count(scoped), **run_aggs(scan, scoped, agg.sub)}
    if agg.kind == "terms":
        return _terms(scan, where, agg)
    if agg.column is None:  # an unmapped field: ES answers empty
        return {"buckets": []} if agg.kind == "date_histogram" else {"value": None}
    expr = agg.column[0]
    if agg.kind == "cardinality":
        sql = f"SELECT count(DISTINCT {expr}) FROM {MODEL} WHERE {where.sql}"
        return {"value": int(scan.query(sql, where.params).scalar())}
    if agg.kind == "date_histogram":
        return _date_histogram(scan, where, agg, expr)
    value = scan.query(
        f"SELECT {_METRICS[agg.kind]}({expr}) FROM {MODEL} WHERE {where.sql}", where.params
    ).scalar()
    if isinstance(value, datetime):
        return {"value": float(millis(value)), "value_as_string": iso_millis(value)}
    if agg.kind == "value_count":
        return {"value": int(value or 0)}
    return {"value": None if value is None else float(value)}


Path = tuple[Any, ...]  # the keys of the enclosing terms buckets, outermost first
_EMPTY_TERMS = {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []}
_FEW_KEYS = 64


def _terms(scan: Scan, where: Condition, agg: Agg) -> dict[str, Any]:
    if agg.column is None:
        return dict(_EMPTY_TERMS)
    return _terms_within(scan, where, agg, [], [()])[()][0]


def _terms_within(
    scan: Scan, where: Condition, agg: Agg, parents: list[str], paths: list[Path]
) -> dict[Path, tuple[dict[str, Any], list[Any]]]:
    """A terms aggregation inside each enclosing bucket (`paths`: their keys on the `parents`
    columns), in one grouped query for all of them, not one per bucket: the answer and the
    raw keys of its buckets, per path."""
    assert agg.column is not None
    expr = agg.column[0]
    scope = where
    wanted = list(dict.fromkeys(path[-1] for path in paths)) if parents else []
    if parents and len(wanted) <= _FEW_KEYS:  # few enclosing keys: let the engine skip the rest
        among = Condition(f"{parents[-1]} IN ({', '.join('?' * len(wanted))})", wanted)
        scope = Condition.join([where, among], "AND", "TRUE")
    columns = ", ".join([*parents, expr])
    grouped = scan.query(
        f"SELECT {columns}, count(*) FROM {MODEL} WHERE {scope.sql} GROUP BY {columns}",
        scope.params,
    ).rows
    if not parents:  # NULL keys make no bucket, but their group completes the count of `where`
        scan.counted(where, sum(int(r[-1]) for r in grouped))
    by_path: dict[Path, list[tuple[Any, int]]] = {}
    for *path, key, count in grouped:
        by_path.setdefault(tuple(path), []).append((key, int(count)))
    answers = {path: _bucketed(by_path.get(path, []), expr, agg.params) for path in paths}
    if agg.sub:
        _sub_aggs(scan, where, agg.sub, [*parents, expr], answers)
    return answers


def _bucketed(
    grouped: list[tuple[Any, int]], expr: str, params: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Any]]:
    # Versions rank by their sort key: the stored `version_key` is this function of the
    # version, and computing it per bucket spares the scan a third of its cost.
    rows = [
        (key, version_sort_key(key) if expr == "version" else key, count)
        for key, count in grouped
        if key is not None and _kept(key, params)
    ]
    # Stable sorts, least significant key first: ties end in key order, as in ES.
    rows.sort(key=lambda r: (r[1], r[0]))
    for by, descending in reversed(params["order"]):
        if by == "_count":
            rows.sort(key=lambda r: r[2], reverse=descending)
        else:
            rows.sort(key=lambda r: (r[1], r[0]), reverse=descending)
    chosen = [r for r in rows if r[2] >= params["min_doc_count"]][: params["size"]]
    buckets = []
    for key, _, count in chosen:
        bucket: dict[str, Any] = {"key": millis(key) if isinstance(key, datetime) else key}
        if isinstance(key, datetime):
            bucket["key_as_string"] = iso_millis(key)
        bucket["doc_count"] = count
        buckets.append(bucket)
    other = sum(r[2] for r in rows) - sum(b["doc_count"] for b in buckets)
    return {**_EMPTY_TERMS, "sum_other_doc_count": other, "buckets": buckets}, [
        r[0] for r in chosen
    ]


def _sub_aggs(
    scan: Scan,
    where: Condition,
    subs: list[Agg],
    columns: list[str],
    answers: dict[Path, tuple[dict[str, Any], list[Any]]],
) -> None:
    """Each bucket's sub-aggregations: a terms one for all buckets at once, others per bucket."""
    children = [
        (bucket, (*path, key))
        for path, (answer, keys) in answers.items()
        for bucket, key in zip(answer["buckets"], keys, strict=True)
    ]
    if not children:
        return
    for sub in subs:
        if sub.kind == "terms" and sub.column is not None:
            found = _terms_within(scan, where, sub, columns, [path for _, path in children])
            for bucket, path in children:
                bucket[sub.name] = found[path][0]
            continue
        for bucket, path in children:
            tests = [Condition(f"{c} = ?", [v]) for c, v in zip(columns, path, strict=True)]
            bucket[sub.name] = _run_agg(scan, Condition.join([where, *tests], "AND", "TRUE"), sub)


def _kept(key: Any, params: Mapping[str, Any]) -> bool:
    def matches(test: re.Pattern[str] | frozenset[str]) -> bool:
        text = str(key)
        return bool(test.fullmatch(text)) if isinstance(test, re.Pattern) else text in test

    include, exclude = params.get("include"), params.get("exclude")
    return (include is None or matches(include)) and (exclude is None or not matches(exclude))


def _date_histogram(scan: Scan, where: Condition, agg: Agg, expr: str) -> dict[str, Any]:
    part = agg.params["part"]
    bucket_expr = f"date_trunc('{part}', {expr})"
    rows = scan.query(
        f"SELECT {bucket_expr} AS bucket, count(*) FROM {MODEL} WHERE {where.sql} "
        f"AND {expr} IS NOT NULL GROUP BY bucket ORDER BY bucket",
        where.params,
    ).rows
    counts = {start: int(count) for start, count in rows}
    # ES fills the buckets between the first and the last with empty ones (min_doc_count 0).
    try:
        starts = bucket_starts(rows[0][0], rows[-1][0], part, MAX_BUCKETS) if rows else []
    except ValueError as exc:
        raise es_error("too_many_buckets_exception", f"[{agg.name}] would make {exc}") from None
    buckets = []
    for start in starts:
        count = counts.get(start, 0)
        if count < agg.params["min_doc_count"]:
            continue
        bucket: dict[str, Any] = {
            "key_as_string": iso_millis(start), "key": millis(start), "doc_count": count,
        }  # fmt: skip
        if agg.sub:
            scoped = Condition.join(
                [where, Condition(f"{bucket_expr} = ?", [start])], "AND", "TRUE"
            )
            bucket.update(run_aggs(scan, scoped, agg.sub))
        buckets.append(bucket)
    return {"buckets": buckets}
