"""`/api/search` never answers 5xx: hypothesis bodies against a real uvicorn server.

Bodies are built from the Elasticsearch grammar the translator reads (queries nested through
`bool`, aggregations nested through `aggs`, sort, `_source`, `post_filter`), with every value
drawn from hostile JSON (huge and fractional numbers, wrong types, stray keys, Lucene and query
string metacharacters), plus raw text that may not be JSON at all. Every answer must be a 200
with hits, or a 400 in Buildhub2's error shape: `{"error": text}` or Elasticsearch's
`{"error": {"type", "reason", …}, "status": 400}`. Derandomized and bounded (a few hundred
requests, about 30 s), so CI runs the same examples every time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipgauge.pipelines.builds.records import insert_groups
from shipgauge.sources.buildhub_json import build_row
from shipgauge.store import Store
from tests.fuzz.conftest import FUZZ
from tests.integration.builds.conftest import load_fixture
from tests.support.threaded_api import api_in_thread

FIELDS = st.sampled_from(
    ["build.id", "build.date", "build.number", "source.product", "target.version",
     "target.channel", "download.size", "download.date", "id", "nope", ""]
)  # fmt: skip
NUMBERS = (
    st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([2**63, -(2**63) - 1, 1e300, -1e300, 0.5])
)
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=12)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
# Text dense in the characters the Lucene and query-string parsers treat specially.
SYNTAX = st.text(alphabet='()[]{}<>|&~@#"\\*?+-.!:^ ab19', max_size=40)
# Long runs of one opening construct: what a recursive parser would descend into.
DEEP = st.builds(
    lambda n, c: c * n, st.sampled_from([70, 5000]), st.sampled_from(["(", "!", "NOT ", "a{", "~"])
)


def _leaf_queries() -> st.SearchStrategy[dict[str, Any]]:
    field_value = st.dictionaries(FIELDS, SCALARS | ANY_JSON, min_size=1, max_size=2)
    return st.one_of(
        st.builds(lambda b: {"term": b}, field_value),
        st.builds(lambda f, v: {"terms": {f: v}}, FIELDS, st.lists(SCALARS, max_size=3) | ANY_JSON),
        st.builds(
            lambda f, b: {"range": {f: b}},
            FIELDS,
            st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte", "x"]), SCALARS, max_size=2),
        ),
        st.builds(lambda f, v: {"prefix": {f: v}}, FIELDS, SCALARS),
        st.builds(lambda f, v: {"wildcard": {f: v}}, FIELDS, SYNTAX),
        st.builds(lambda f, v: {"regexp": {f: v}}, FIELDS, SYNTAX),
        st.builds(
            lambda f, v, flags: {"regexp": {f: {"value": v, "flags": flags}}},
            FIELDS,
            SYNTAX,
            st.sampled_from(["ALL", "NONE", "ANYSTRING|INTERVAL", "BOGUS"]) | ANY_JSON,
        ),
        st.builds(lambda f: {"exists": {"field": f}}, FIELDS | ANY_JSON),
        st.builds(lambda v: {"ids": {"values": v}}, ANY_JSON),
        st.builds(lambda q: {"query_string": {"query": q}}, SYNTAX | ANY_JSON),
        st.builds(lambda f, v: {"match": {f: v}}, FIELDS, SCALARS),
        st.just({"match_all": {}}),
        st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=2),
    )


QUERIES = st.recursive(
    _leaf_queries(),
    lambda inner: st.builds(
        lambda parts, msm: {"bool": {**parts, **msm}},
        st.dictionaries(
            st.sampled_from(["must", "filter", "should", "must_not"]),
            st.lists(inner, max_size=3) | inner,
            max_size=3,
        ),
        st.just({}) | st.builds(lambda v: {"minimum_should_match": v}, SCALARS),
    ),
    max_leaves=6,
)
AGG_PARAMS = st.fixed_dictionaries(
    {"field": FIELDS | ANY_JSON},
    optional={
        "size": SCALARS, "min_doc_count": SCALARS, "interval": st.sampled_from(["day", "1M", "x"]),
        "order": ANY_JSON | st.sampled_from([{"_term": "desc"}, {"_count": "asc"}]),
        "include": SYNTAX | ANY_JSON,
    },
)  # fmt: skip
AGG_KINDS = st.sampled_from(
    ["terms", "min", "max", "avg", "sum", "value_count", "cardinality", "date_histogram", "bad"]
)
AGGS = st.recursive(
    st.dictionaries(
        st.text(min_size=1, max_size=4),
        st.builds(lambda kind, params: {kind: params}, AGG_KINDS, AGG_PARAMS),
        max_size=2,
    ),
    lambda inner: st.dictionaries(
        st.text(min_size=1, max_size=4),
        st.builds(lambda params, sub: {"terms": params, "aggs": sub}, AGG_PARAMS, inner),
        max_size=2,
    ),
    max_leaves=4,
)
SORTS = ANY_JSON | st.lists(
    FIELDS
    | st.dictionaries(FIELDS, st.sampled_from(["asc", "desc", "up"]) | ANY_JSON, max_size=1)
    | st.dictionaries(
        FIELDS,
        st.dictionaries(st.sampled_from(["order", "missing", "mode"]), SCALARS, max_size=2),
        max_size=1,
    ),
    max_size=3,
)
# Half the bodies keep the envelope valid, so the hostile parts deep inside are reached (the
# first fault found answers, and `size` or a stray key would otherwise be found first).
BODIES = st.fixed_dictionaries(
    {},
    optional={
        "query": QUERIES, "post_filter": QUERIES, "aggs": AGGS, "size": st.integers(0, 20),
        "sort": st.just([{"download.date": "desc"}]),
    },
) | st.fixed_dictionaries(
    {},
    optional={
        "query": QUERIES, "post_filter": QUERIES, "aggs": AGGS, "size": SCALARS,
        "from": SCALARS, "sort": SORTS, "_source": ANY_JSON | st.lists(FIELDS, max_size=2),
        "nonsense": ANY_JSON,
    },
)  # fmt: skip


LEAVES = _leaf_queries()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server over a DuckDB store holding a few build records."""
    db = str(tmp_path_factory.mktemp("fuzz") / "shipgauge.duckdb")
    store = Store.open(db)
    record = load_fixture("buildhub2/buildhub-json/valid-buildhub.json")
    with store.transaction() as tx:
        for version in ("61.0b4rc1", "62.0a1", "60.0.1"):
            doc = copy.deepcopy(record)
            doc["target"]["version"] = version
            insert_groups(tx, [[build_row(doc, origin="fuzz")]])
    with api_in_thread(db, store) as base:
        yield base
    store.close()


def _check_answer(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text[:500])
    answer = response.json()
    if response.status_code == 200:
        assert isinstance(answer["hits"]["total"], int)
        return
    error = answer["error"]
    if isinstance(error, dict):  # Elasticsearch's own error body
        assert isinstance(error["type"], str) and isinstance(error["reason"], str)
        assert answer["status"] == 400
    else:
        assert isinstance(error, str) and error


@settings(FUZZ, max_examples=60)
@given(body=BODIES)
def test_structured_bodies_never_5xx(base_url: str, body: dict[str, Any]) -> None:
    _check_answer(httpx.post(f"{base_url}/api/search", json=body, timeout=30))


@settings(FUZZ, max_examples=60)
@given(query=LEAVES, wrap=st.sampled_from(["query", "post_filter", "filter_agg", "bool"]))
def test_single_clauses_never_5xx(base_url: str, query: dict[str, Any], wrap: str) -> None:
    """One clause in a valid body, so every clause's own checks are reached."""
    body: dict[str, Any] = {"size": 1}
    if wrap == "filter_agg":
        body["aggs"] = {"f": {"filter": query}}
    elif wrap == "bool":
        body["query"] = {"bool": {"filter": [query], "must_not": [query]}}
    else:
        body[wrap] = query
    _check_answer(httpx.post(f"{base_url}/api/search", json=body, timeout=30))


@settings(FUZZ, max_examples=60)
@given(
    text=DEEP | SYNTAX,
    where=st.sampled_from(["query_string", "regexp", "wildcard", "include", "flags"]),
)
def test_parser_text_never_5xx(base_url: str, text: str, where: str) -> None:
    """Text for the query-string and Lucene-regexp parsers, where they read it."""
    clauses: dict[str, dict[str, Any]] = {
        "query_string": {"query_string": {"query": text}},
        "regexp": {"regexp": {"target.version": text}},
        "wildcard": {"wildcard": {"target.version": text}},
        "flags": {"regexp": {"target.version": {"value": text, "flags": "NONE"}}},
    }
    query = clauses.get(where, {"match_all": {}})
    aggs = {"v": {"terms": {"field": "target.version", "include": text}}}
    body = {"size": 1, "query": query, **({"aggs": aggs} if where == "include" else {})}
    _check_answer(httpx.post(f"{base_url}/api/search", json=body, timeout=30))


@settings(FUZZ, max_examples=30)
@given(
    text=st.text(max_size=200)
    | st.builds(
        lambda n, c: c * n, st.integers(1, 60_000), st.sampled_from(["[", "{", "(", '{"a":'])
    )
)
def test_raw_bodies_never_5xx(base_url: str, text: str) -> None:
    _check_answer(
        httpx.post(f"{base_url}/api/search", content=text.encode("utf-8", "replace"), timeout=30)
    )
