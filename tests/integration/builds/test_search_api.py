"""Every case of api-search-cases.json against a real uvicorn server, and the demo curl."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipgauge.pipelines.builds.records import insert_groups
from shipgauge.sources.buildhub_json import build_row
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.builds.conftest import BUILDHUB, load_fixture
from tests.support.threaded_api import api_in_thread

CASES = load_fixture("buildhub2/api-search-cases.json")["cases"]
VALID = load_fixture("buildhub2/buildhub-json/valid-buildhub.json")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    """A real uvicorn server in a thread over a DuckDB store the test can also write."""
    db = str(tmp_path_factory.mktemp("api") / "shipgauge.duckdb")
    with Store.open(db) as store, api_in_thread(db, store) as base:
        yield base, store


def _seed(store: Store, versions: list[str]) -> None:
    with store.transaction() as tx:
        tx.delete("builds", "TRUE")
        for version in versions:
            doc = copy.deepcopy(VALID)
            doc["target"]["version"] = version
            insert_groups(tx, [[build_row(doc, origin="test")]])


def _path(doc: Any, dotted: str) -> Any:
    # "aggregations.versions['target.version'].buckets" and "hits.hits[0]._source.target.version"
    for quoted, index, name in re.findall(r"\['([^']+)'\]|\[(\d+)\]|([^.\[\]]+)", dotted):
        doc = doc[int(index)] if index else doc[quoted or name]
    return doc


def _send(base: str, case: dict[str, Any], body: Any = None) -> httpx.Response:
    url = base + case.get("path", "/api/search")
    if "raw_body" in case:
        return httpx.request(case["method"], url, content=case["raw_body"])
    payload = body if body is not None else case.get("body")
    if payload is None:
        return httpx.request(case["method"], url)
    return httpx.request(case["method"], url, json=payload)


SEARCH_CASES = [c for c in CASES if c["test"] not in ("test_happy_path_records",)]


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c["test"] for c in SEARCH_CASES])
def test_api_search_case(case: dict[str, Any], api: tuple[str, Store]) -> None:
    base, store = api
    versions = (
        ["60.0.1", "60.0.2", "60.1"]
        if case["test"] == "test_search_aggregations"
        else ["61.0b4rc1"]
    )
    _seed(store, versions)
    response = _send(base, case)
    assert response.status_code == case["expect_status"]
    answer = response.json()
    for dotted, expected in case["expect"].items():
        if dotted == "error_contains":
            assert expected in answer["error"]
        else:
            assert _path(answer, dotted) == expected
    if case["test"] == "test_search_aggregations":
        narrowed = copy.deepcopy(case["body"])
        narrowed["aggs"]["versions"]["aggs"]["target.version"]["terms"]["include"] = "60.0.*"
        again = _send(base, case, narrowed).json()
        buckets = _path(again, "aggregations.versions['target.version'].buckets")
        assert buckets == case["then_with_include_60.0.*"]
        assert _path(again, "aggregations.versions['target.version_count'].value") == 3


def test_api_records_counts_builds(api: tuple[str, Store]) -> None:
    base, store = api
    _seed(store, [])
    assert httpx.get(f"{base}/api/records").json() == {"builds": {"total": 0}}
    _seed(store, ["61.0b4rc1"])
    assert httpx.get(f"{base}/api/records").json() == {"builds": {"total": 1}}


def test_legacy_kinto_search_url_redirects(api: tuple[str, Store]) -> None:
    base, _ = api
    response = httpx.get(f"{base}/v1/buckets/build-hub/collections/releases/search?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/api/search?x=1"


def test_search_web_ui_queries(api: tuple[str, Store]) -> None:
    base, store = api
    _seed(store, ["61.0b4rc1", "61.0b5rc1", "60.0"])
    query = {
        "size": 30,
        "query": {
            "query_string": {
                "query": "devedition 61.0b4rc1 ca",
                "fields": ["source.product", "target.channel^1.2", "target.version^10",
                           "target.locale^3", "target.platform^2", "build.id"],
                "default_operator": "AND",
            }
        },
        "sort": [{"download.date": "desc"}],
        "_source": ["target"],
    }  # fmt: skip
    found = httpx.post(f"{base}/api/search", json=query).json()
    assert found["hits"]["total"] == 1
    assert found["hits"]["hits"][0]["_source"] == {"target": VALID["target"]}
    facet = {
        "size": 0,
        "aggs": {
            "versions": {"terms": {"field": "target.version", "order": {"_term": "desc"}}},
            "first": {"min": {"field": "download.date"}},
        },
        "query": {"bool": {"must_not": [{"prefix": {"target.version": "60"}}]}},
    }
    answer = httpx.post(f"{base}/api/search", json=facet).json()
    assert [b["key"] for b in answer["aggregations"]["versions"]["buckets"]] == [
        "61.0b5rc1",
        "61.0b4rc1",
    ]
    assert answer["aggregations"]["first"]["value_as_string"].startswith("2018-05-")


def test_demo_then_curl_answers_as_buildhub2(
    tmp_path: Path, start_server: Callable[[str], str]
) -> None:
    db = str(tmp_path / "demo.duckdb")
    done = run_cli("demo", "--json", db=db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loaded"]["builds"] == 15
    base = start_server(db)
    body = {"size": 0, "query": {"term": {"build.id": "20170713130618"}}}
    answer = httpx.post(f"{base}/api/search", json=body).json()
    assert answer["hits"] == {"total": 1, "max_score": None, "hits": []}
    assert sorted(answer) == ["_shards", "hits", "timed_out", "took"]
    revision = {"size": 1, "query": {"term": {"build.id": "20191016161957"}}}
    hits = httpx.post(f"{base}/api/search", json=revision).json()["hits"]
    assert hits["total"] == 2  # firefox 70.0 release, and its beta copy
    assert (
        hits["hits"][0]["_source"]["source"]["revision"]
        == (
            load_fixture("buildhub2/buildhub-json/valid-buildhub-release-channel.json")["source"][
                "revision"
            ]
        )
    )
    assert BUILDHUB.is_dir()


# Issue 15's reproductions: each answered 500 before; each is a 400 in Buildhub2's error shape
# (`{"error": text}` or Elasticsearch's `{"error": {"type", "reason", …}, "status": 400}`).
HOSTILE_BODIES: list[tuple[str, str]] = [
    ('{"size":1e400}', "1e400"),
    ('{"from":1e400}', "1e400"),
    ('{"query":{"term":{"build.number":1e400}}}', "1e400"),
    ('{"query":{"term":{"download.size":' + "9" * 61 + "}}}", "out of range"),
    ('{"query":{"term":{"download.size":"' + "9" * 61 + '"}}}', "download.size"),
    ('{"query":{"range":{"build.date":{"gte":1e300}}}}', "build.date"),
    ('{"query":{"ids":{"values":1}}}', "values"),
    ('{"sort":5}', "sort"),
    ('{"sort":[{}]}', "sort"),
    ('{"sort":[[1]]}', "sort"),
    ('{"_source":[5]}', "_source"),
    ('{"aggs":{"a":{"avg":{"field":"target.version"}}}}', "avg"),
    ('{"aggs":{"a":{"sum":{"field":"download.date"}}}}', "sum"),
    ('{"aggs":{"a":{"max":{"field":"target.version"}}}}', "max"),
    ('{"aggs":{"a":{"date_histogram":{"field":"target.version","interval":"day"}}}}', "date_histogram"),  # noqa: E501
    ('{"aggs":{"a":{"terms":{"field":"target.version","size":"x"}}}}', "size"),
    ('{"aggs":{"a":{"terms":{"field":"target.version","min_doc_count":"x"}}}}', "min_doc_count"),
    ('{"query":{"bool":{"should":[{"match_all":{}}],"minimum_should_match":"abc"}}}', "minimum_should_match"),  # noqa: E501
    ('{"query":{"query_string":{"query":"' + "(" * 5000 + '"}}}', "nested"),
    ("[" * 50_000 + "]" * 50_000, "nested"),
    ('{"query":' + '{"bool":{"must":' * 2000 + "{}" + "}}" * 2000 + "}", "nested"),
    ('{"size":1,"nonsense":1}', "nonsense"),
    ('{"query":{"regexp":{"target.version":"~(61.*)"}}}', "complement"),
    ('{"query":{"term":{"target.version":{"value":"1","bogus":2}}}}', "bogus"),
    ('{"aggs":{},"aggregations":{}}', "two aggregation definitions"),
    ('{"query":{"range":{"target.version":{"gte":"1","format":"x"}}}}', "format"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "named"), HOSTILE_BODIES, ids=[n for _, n in HOSTILE_BODIES])
def test_hostile_bodies_are_400_naming_the_fault(
    body: str, named: str, api: tuple[str, Store]
) -> None:
    base, _ = api
    response = httpx.post(f"{base}/api/search", content=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    text = error if isinstance(error, str) else f"{error['type']}: {error['reason']}"
    assert named in text


def test_regexp_and_post_filter_over_http(api: tuple[str, Store]) -> None:
    base, store = api
    _seed(store, ["61.0b4rc1", "61.0b5rc1", "60.0"])
    regexp = {"size": 10, "query": {"regexp": {"target.version": r'[0-9]+".0b"[0-9]+rc1'}}}
    answer = httpx.post(f"{base}/api/search", json=regexp).json()
    assert sorted(h["_source"]["target"]["version"] for h in answer["hits"]["hits"]) == [
        "61.0b4rc1",
        "61.0b5rc1",
    ]
    narrowed = {
        "post_filter": {"term": {"target.version": "60.0"}},
        "aggs": {"versions": {"cardinality": {"field": "target.version"}}},
    }
    answer = httpx.post(f"{base}/api/search", json=narrowed).json()
    assert answer["hits"]["total"] == 1
    assert answer["aggregations"]["versions"]["value"] == 3
