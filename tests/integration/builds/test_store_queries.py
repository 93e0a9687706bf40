"""Models and search SQL on both engines (DuckDB and PostgreSQL)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shipgauge.pipelines.builds.records import insert_groups
from shipgauge.queries.builds import search as buildhub_search
from shipgauge.queries.builds.lookup import find_builds, latest_builds
from shipgauge.queries.builds.query import SearchError
from shipgauge.queries.builds.search import search_builds
from shipgauge.sources.buildhub_json import build_row, records_to_store
from shipgauge.store import Store
from tests.integration.builds.conftest import load_fixture

DOCS = {
    name: load_fixture(f"buildhub2/buildhub-json/{name}.json")
    for name in (
        "valid-buildhub",
        "valid-buildhub-release-channel",
        "valid-buildhub-fennec-release-channel",
        "docs-example-firefox-68.0b7-candidates-linux-x86_64-en-US",
    )
}


def _seed(store: Store) -> None:
    with store.transaction() as tx:
        for doc in DOCS.values():
            insert_groups(tx, [[build_row(r, origin="test") for r in records_to_store(doc)]])
        older = copy.deepcopy(DOCS["docs-example-firefox-68.0b7-candidates-linux-x86_64-en-US"])
        older["target"]["version"] = "68.0b6"
        older["build"]["id"] = "20190530000000"
        older["build"]["date"] = "2019-05-30T00:00:00Z"
        older["download"]["date"] = "2019-05-30T20:49:46+00:00"
        insert_groups(tx, [[build_row(older, origin="test")]])


def _search(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    return search_builds(store, body)


def _ids(answer: dict[str, Any]) -> list[str]:
    return [h["_source"]["build"]["id"] for h in answer["hits"]["hits"]]


def test_models_on_both_engines(store: Store) -> None:
    _seed(store)
    assert store.count("builds") == 6  # 5 documents + the beta copy of firefox 70.0
    latest = {
        (r["product"], r["channel"], r["platform"]): r["version"] for r in latest_builds(store)
    }
    assert latest[("firefox", "beta", "linux-x86_64")] == "68.0b7"
    assert latest[("firefox", "beta", "win64")] == "70.0"
    assert latest[("firefox", "release", "win64")] == "70.0"
    days = store.query(
        "SELECT day, product, channel, records FROM builds_by_day ORDER BY day, product, channel"
    ).rows
    assert [(str(d), p, c, n) for d, p, c, n in days][:2] == [
        ("2018-05-10", "devedition", "aurora", 1),
        ("2019-05-30", "firefox", "beta", 1),
    ]
    assert [r["document"]["target"]["version"] for r in find_builds(store, "20190603181408")] == [
        "68.0b7"
    ]


QUERIES: list[tuple[dict[str, Any], list[str]]] = [
    ({"term": {"build.id": "20190603181408"}}, ["20190603181408"]),
    (
        {"terms": {"target.channel": ["aurora", "release"]}},
        ["20191016161957", "20190829134413", "20180510160705"],
    ),
    (
        {"range": {"download.date": {"gte": "2019-06-01T00:00:00Z", "lt": "2019-09-01"}}},
        ["20190829134413", "20190603181408"],
    ),
    (
        {"range": {"download.size": {"gt": 60000000}}},
        ["20190603181408", "20190530000000", "20180510160705"],
    ),
    ({"prefix": {"target.version": "68.0b"}}, ["20190603181408", "20190530000000"]),
    ({"wildcard": {"target.platform": "android-*"}}, ["20190829134413"]),
    ({"exists": {"field": "build.number"}}, ["20180510160705"]),
    (
        {
            "bool": {
                "must": [{"term": {"source.product": "firefox"}}],
                "must_not": [{"term": {"target.channel": "beta"}}],
            }
        },
        ["20191016161957"],
    ),
    (
        {
            "bool": {
                "should": [{"term": {"target.locale": "ca"}}, {"term": {"target.os": "android"}}]
            }
        },
        ["20190829134413", "20180510160705"],
    ),
    (
        {
            "query_string": {
                "query": "firefox AND (release OR 68.0b6)",
                "fields": ["source.product", "target.channel", "target.version"],
            }
        },
        ["20191016161957", "20190530000000"],
    ),
    (
        {
            "query_string": {
                "query": "68.0b* -68.0b6",
                "fields": ["target.version"],
                "default_operator": "AND",
            }
        },
        ["20190603181408"],
    ),
    ({"query_string": {"query": 'target.locale:"ca"'}}, ["20180510160705"]),
    ({"match": {"build.cc": DOCS["valid-buildhub"]["build"]["cc"]}}, ["20180510160705"]),
]


def test_search_queries_on_both_engines(store: Store) -> None:
    _seed(store)
    for query, expected in QUERIES:
        answer = _search(store, {"size": 20, "query": query, "sort": [{"download.date": "desc"}]})
        assert sorted(set(_ids(answer)), key=_ids(answer).index) == expected, query


def test_search_pages_alike_by_row_id_and_by_scan(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB ranks few matches by row id; more than FEW_MATCHES take the plain query."""
    _seed(store)
    bodies = [
        {"size": size, "from": start, "query": query, "sort": [{"download.date": "desc"}]}
        for query, _ in QUERIES
        for size, start in ((20, 0), (2, 1))
    ]
    by_row_id = [_search(store, body) for body in bodies]
    monkeypatch.setattr(buildhub_search, "FEW_MATCHES", 0)
    by_scan = [_search(store, body) for body in bodies]
    for body, first, second in zip(bodies, by_row_id, by_scan, strict=True):
        assert first["hits"] == second["hits"], body


def test_search_aggregations_on_both_engines(store: Store) -> None:
    _seed(store)
    answer = _search(
        store,
        {
            "size": 0,
            "aggs": {
                "products": {"terms": {"field": "source.product", "size": 2}},
                "channels": {"cardinality": {"field": "target.channel"}},
                "firefox": {
                    "filter": {"term": {"source.product": "firefox"}},
                    "aggs": {
                        "newest": {"max": {"field": "build.date"}},
                        "bytes": {"sum": {"field": "download.size"}},
                    },
                },
                "monthly": {"date_histogram": {"field": "download.date", "interval": "month"}},
                "versions": {
                    "terms": {"field": "target.version", "order": {"_term": "asc"}, "size": 3}
                },
            },
        },
    )
    aggs = answer["aggregations"]
    assert aggs["products"]["buckets"] == [
        {"key": "firefox", "doc_count": 4},
        {"key": "devedition", "doc_count": 1},
    ]
    assert aggs["products"]["sum_other_doc_count"] == 1
    assert aggs["channels"] == {"value": 3}
    assert aggs["firefox"]["doc_count"] == 4
    assert aggs["firefox"]["newest"]["value_as_string"] == "2019-10-16T16:19:57.000Z"
    # ES 6 (min_doc_count 0) fills the months between the first and the last with empty buckets.
    monthly = {b["key_as_string"][:7]: b["doc_count"] for b in aggs["monthly"]["buckets"]}
    months = list(monthly)
    assert (len(months), months[0], months[-1]) == (18, "2018-05", "2019-10")
    assert {month for month, count in monthly.items() if count} == {
        "2018-05",
        "2019-05",
        "2019-06",
        "2019-08",
        "2019-10",
    }
    assert [b["key"] for b in aggs["versions"]["buckets"]] == ["61.0b4rc1", "68.0b6", "68.0b7"]


REFUSED = [
    ({"query": {"nope": {}}}, "DSL class `nope` does not exist in query."),
    (
        {"size": 0, "aggs": {"x": {"terms": {"field": "a"}, "max": {"field": "b"}}}},
        "A() can only accept",
    ),
    ({"sort": [{"no.field": "asc"}]}, "No mapping found for [no.field] in order to sort on"),
]


@pytest.mark.parametrize(("body", "error"), REFUSED)
def test_search_refuses_like_elasticsearch(
    body: dict[str, Any], error: str, duckdb_url: str
) -> None:
    with Store.open(duckdb_url) as store, pytest.raises(SearchError) as raised:
        _search(store, body)
    assert error in str(raised.value.body)
