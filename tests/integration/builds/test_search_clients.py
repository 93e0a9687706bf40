"""The bodies Buildhub's real clients send to `/api/search`, over a known dataset, on both engines.

Each body is copied from the client's source (repository, commit and path beside it; the
client's variables filled in as the comment says). The expected answer is what Elasticsearch 6
gives on Buildhub2's mapping (every string a keyword, compared byte for byte; `build.date` and
`download.date` dates), worked out by hand from `DATASET` below: the reasoning is next to
each expectation. One documented difference stays: `_term` order on `target.version` is version
order (docs/builds.md), where ES compares the strings.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shipgauge.pipelines.builds.records import insert_groups
from shipgauge.queries.builds.search import search_builds
from shipgauge.queries.builds.values import SearchError
from shipgauge.sources.buildhub_json import build_row
from shipgauge.store import Store
from tests.integration.builds.conftest import load_fixture
from tests.support.buildhub_clients import (
    CHANNELS,
    VERSION_PAT,
    VERSION_PATS,
    VERSION_RC_PAT,
    bugzy_first_nightly,
    clouseau_two_last,
    crash_stop,
)

BASE = load_fixture("buildhub2/buildhub-json/valid-buildhub-release-channel.json")

# product, channel, version, build id, revision, download date, platform, locale
DATASET = [
    ("firefox", "nightly", "63.0a1", "20180701100000", "a1", "2018-07-01T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "nightly", "63.0a1", "20180702100000", "a2", "2018-07-02T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "nightly", "64.0a1", "20180905100000", "a3", "2018-09-05T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "beta", "62.0b4", "20180625000000", "b1", "2018-06-25T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "beta", "62.0b5", "20180628000000", "b2", "2018-06-28T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "release", "61.0.1", "20180704000000", "c1", "2018-07-04T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "release", "61.0rc2", "20180620000000", "c2", "2018-06-20T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("devedition", "aurora", "62.0b1", "20180620110000", "d1", "2018-06-20T13:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("firefox", "esr", "60.1.0esr", "20180626000000", "e1", "2018-06-26T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("thunderbird", "nightly", "63.0a1", "20180630100000", "t1", "2018-06-30T12:00:00Z", "linux-x86_64", "en-US"),  # noqa: E501
    ("fennec", "nightly", "63.0a1", "20180701100000", "f1", "2018-07-01T13:00:00Z", "android-api-16", "multi"),  # noqa: E501
]  # fmt: skip


@pytest.fixture
def catalog(store: Store) -> Store:
    """DATASET stored as it is written (no beta copies: the rows are the index's documents)."""
    with store.transaction() as tx:
        for product, channel, version, build_id, revision, date, platform, locale in DATASET:
            doc = copy.deepcopy(BASE)
            doc["source"].update(product=product, revision=revision)
            doc["target"].update(channel=channel, version=version, platform=platform, locale=locale)
            doc["build"]["id"] = build_id
            doc["download"]["date"] = date
            insert_groups(tx, [[build_row(doc, origin="test")]])
    return store


def _buckets(agg: dict[str, Any]) -> list[tuple[Any, int]]:
    return [(b["key"], b["doc_count"]) for b in agg["buckets"]]


def test_clouseau_get(catalog: Store) -> None:
    """crash-clouseau `get("20180701000000", "nightly")`: products firefox, fennec, thunderbird."""
    prods = ["firefox", "fennec", "thunderbird"]
    body = {
        "aggs": {
            "products": {
                "terms": {"field": "source.product", "size": len(prods)},
                "aggs": {
                    "channels": {
                        "terms": {"field": "target.channel", "size": 1},
                        "aggs": {
                            "buildids": {
                                "terms": {"field": "build.id", "size": 1000},
                                "aggs": {
                                    "revisions": {"terms": {"field": "source.revision", "size": 1}},
                                    "versions": {"terms": {"field": "target.version", "size": 1}},
                                },
                            }
                        },
                    }
                },
            }
        },
        "query": {
            "bool": {
                "filter": [
                    {"term": {"target.channel": "nightly"}},
                    {"terms": {"source.product": prods}},
                    {"range": {"build.id": {"gte": "20180701000000"}}},
                    {"regexp": {"target.version": VERSION_PATS["nightly"]}},
                ]
            }
        },
        "size": 0,
    }
    answer = search_builds(catalog, body)
    # Nightlies of the three products with build id >= 20180701000000 (string order) and a
    # version that is digits + ".0a1": firefox a1, a2, a3 and fennec f1; thunderbird's
    # 20180630100000 is older.
    assert answer["hits"] == {"total": 4, "max_score": None, "hits": []}
    products = answer["aggregations"]["products"]
    assert _buckets(products) == [("firefox", 3), ("fennec", 1)]  # _count desc
    firefox = products["buckets"][0]["channels"]["buckets"][0]
    assert firefox["key"] == "nightly"
    # Equal counts: ES breaks ties by key, ascending.
    assert [
        (b["key"], b["revisions"]["buckets"][0]["key"], b["versions"]["buckets"][0]["key"])
        for b in firefox["buildids"]["buckets"]
    ] == [
        ("20180701100000", "a1", "63.0a1"),
        ("20180702100000", "a2", "63.0a1"),
        ("20180905100000", "a3", "64.0a1"),
    ]


def test_clouseau_get_rev_from(catalog: Store) -> None:
    """crash-clouseau `get_rev_from("20180702100000", "nightly", "Firefox")`."""
    body = {
        "aggs": {"revisions": {"terms": {"field": "source.revision", "size": 1}}},
        "query": {
            "bool": {
                "filter": [
                    {"term": {"target.channel": "nightly"}},
                    {"term": {"source.product": "firefox"}},
                    {"term": {"build.id": "20180702100000"}},
                ]
            }
        },
        "size": 0,
    }
    assert _buckets(search_builds(catalog, body)["aggregations"]["revisions"]) == [("a2", 1)]


@pytest.mark.parametrize(
    ("build_id", "channel", "expected"),
    [
        # Firefox nightlies up to 20180702100000: a2 then a1 (_term desc); a3 is newer.
        ("20180702100000", "nightly", [("20180702100000", "a2"), ("20180701100000", "a1")]),
        # Betas: "62.0b5" and "62.0b4" are digits + ".0b" + digits.
        ("20180628000000", "beta", [("20180628000000", "b2"), ("20180625000000", "b1")]),
        # Release pattern: 61.0.1 is <n>.<n>.<n>, 61.0rc2 is not; 20180704000000 is its id.
        ("20180704000000", "release", [("20180704000000", "c1")]),
        # No pattern for esr: the client sends "*", which Lucene reads as the literal
        # character `*` (a repeat with nothing before it), so nothing matches.
        ("20180701000000", "esr", []),
    ],
)
def test_clouseau_get_two_last(
    catalog: Store, build_id: str, channel: str, expected: list[tuple[str, str]]
) -> None:
    answer = search_builds(catalog, clouseau_two_last(build_id, channel, "firefox"))
    buckets = answer["aggregations"]["buildids"]["buckets"]
    assert [(b["key"], b["revisions"]["buckets"][0]["key"]) for b in buckets] == expected


def test_clouseau_enclosing_builds(catalog: Store) -> None:
    """crash-clouseau `get_enclosing_builds_helper` for push date 20180702000000: its `lt` body,
    and the `gte` copy with `_term` asc that the client derives from it."""
    lt_body = clouseau_two_last("x", "nightly", "firefox")
    lt_body["aggs"]["buildids"]["terms"]["size"] = 1
    lt_body["query"]["bool"]["filter"][2] = {"range": {"build.id": {"lt": "20180702000000"}}}
    gte_body = copy.deepcopy(lt_body)
    gte_body["aggs"]["buildids"]["terms"]["order"]["_term"] = "asc"
    gte_body["query"]["bool"]["filter"][2]["range"]["build.id"] = {"gte": "20180702000000"}
    before = search_builds(catalog, lt_body)["aggregations"]["buildids"]
    after = search_builds(catalog, gte_body)["aggregations"]["buildids"]
    assert _buckets(before) == [("20180701100000", 1)]  # a1 is the only earlier nightly
    # a2 and a3 are at or after it; size 1 keeps the first ascending, one document left over.
    assert _buckets(after) == [("20180702100000", 1)]
    assert after["sum_other_doc_count"] == 1


def test_crash_stop_query(catalog: Store) -> None:
    answer = search_builds(
        catalog, crash_stop(VERSION_PAT, {"terms": {"target.channel": CHANNELS}}, len(CHANNELS))
    )
    # Firefox and devedition with a version of digits and dots, then optionally a<n>, b<n> or
    # esr: every such row but 61.0rc2 (8); thunderbird and fennec are other products.
    assert answer["hits"]["total"] == 8
    products = answer["aggregations"]["products"]
    assert _buckets(products) == [("firefox", 7), ("devedition", 1)]
    firefox = products["buckets"][0]["channels"]
    assert _buckets(firefox) == [("nightly", 3), ("beta", 2), ("esr", 1), ("release", 1)]
    nightly = firefox["buckets"][0]["buildids"]["buckets"]
    assert [(b["key"], b["versions"]["buckets"][0]["key"]) for b in nightly] == [
        ("20180905100000", "64.0a1"),
        ("20180702100000", "63.0a1"),
        ("20180701100000", "63.0a1"),
    ]
    aurora = products["buckets"][1]["channels"]["buckets"]
    assert [(c["key"], _buckets(c["buildids"])) for c in aurora] == [
        ("aurora", [("20180620110000", 1)])
    ]


def test_crash_stop_rc_query(catalog: Store) -> None:
    answer = search_builds(
        catalog, crash_stop(VERSION_RC_PAT, {"term": {"target.channel": "release"}}, 1)
    )
    # Only 61.0rc2 is digits and dots + "rc" + digits.
    channel = answer["aggregations"]["products"]["buckets"][0]["channels"]["buckets"][0]
    versions = channel["buildids"]["buckets"][0]["versions"]
    assert channel["key"] == "release"
    assert _buckets(channel["buildids"]) == [("20180620000000", 1)]
    assert _buckets(versions) == [("61.0rc2", 1)]


def test_bugzy_post_filter_narrows_hits(catalog: Store) -> None:
    answer = search_builds(catalog, bugzy_first_nightly("63"))
    # Firefox nightlies 63.0a1: a1 (07-01) and a2 (07-02); thunderbird's and fennec's are other
    # products. Without the post_filter the earliest build of all (61.0rc2, 06-20) would come.
    assert answer["hits"]["total"] == 2
    assert [h["_source"]["source"]["revision"] for h in answer["hits"]["hits"]] == ["a1"]
    assert answer["hits"]["hits"][0]["_source"]["download"]["date"][:10] == "2018-07-01"


def test_post_filter_leaves_aggregations_alone(catalog: Store) -> None:
    body = {
        **bugzy_first_nightly("63"),
        "aggs": {"products": {"terms": {"field": "source.product"}}},
    }
    answer = search_builds(catalog, body)
    assert answer["hits"]["total"] == 2
    # The aggregation counts everything the (absent) query matches: all 11 rows.
    assert _buckets(answer["aggregations"]["products"]) == [
        ("firefox", 8),
        ("devedition", 1),
        ("fennec", 1),
        ("thunderbird", 1),
    ]


def test_pollbot_releases(catalog: Store) -> None:
    """mozilla/PollBot @ 6597433, pollbot/tasks/buildhub.py (`get_releases("firefox")`)."""
    body = {
        "aggs": {
            "by_version": {
                "terms": {"field": "target.version", "size": 1000, "order": {"_term": "desc"}}
            }
        },
        "query": {
            "bool": {
                "filter": [
                    {"term": {"source.product": "firefox"}},
                    {"term": {"target.channel": "release"}},
                ]
            }
        },
        "size": 0,
    }
    buckets = search_builds(catalog, body)["aggregations"]["by_version"]
    # Version order (documented): 61.0.1 is after 61.0rc2. ES's string order would put
    # "61.0rc2" first ("r" > "."); PollBot sorts the keys itself, so either serves it.
    assert _buckets(buckets) == [("61.0.1", 1), ("61.0rc2", 1)]


def _probe_scraper(min_version: int) -> dict[str, Any]:
    """mozilla/probe-scraper @ 1125ebb, probe_scraper/scrapers/buildhub.py
    (`_paginate_revision_dates`, first page, min_version < 100, no max_version)."""
    query_str = [
        {"term": {"source.product": "firefox"}},
        {"term": {"target.channel": "nightly"}},
        {"term": {"target.locale": "en-US"}},
        {"term": {"target.platform": "linux-x86_64"}},
        {
            "bool": {
                "should": [
                    {"range": {"target.version": {"gte": str(min_version)}}},
                    {
                        "bool": {
                            "must": [
                                {"range": {"target.version": {"gte": "100"}}},
                                {"range": {"target.version": {"lt": "200"}}},
                            ]
                        }
                    },
                ]
            }
        },
    ]
    return {"query": {"bool": {"filter": query_str}}, "size": 1000}


@pytest.mark.parametrize(
    ("min_version", "revisions"),
    # Versions compare as strings: "63.0a1" >= "61" and "64.0a1" >= "61"; with 64 only
    # "64.0a1" (a longer string with an equal prefix is greater), "63.0a1" < "64".
    [(61, ["a3", "a2", "a1"]), (64, ["a3"])],
)
def test_probe_scraper_range_on_keywords(
    catalog: Store, min_version: int, revisions: list[str]
) -> None:
    answer = search_builds(catalog, _probe_scraper(min_version))
    # No sort: ES gives filter hits in index order, so the set is what is compared.
    assert sorted(h["_source"]["source"]["revision"] for h in answer["hits"]["hits"]) == sorted(
        revisions
    )


def test_buildhub2_docs_examples(catalog: Store) -> None:
    """mozilla-releng/buildhub2 docs/user.rst: "is this build id official", "platforms"."""
    official = search_builds(
        catalog, {"size": 0, "query": {"term": {"build.id": "20180701100000"}}}
    )
    assert official["hits"]["total"] == 2  # firefox a1 and fennec f1 share it
    platforms = search_builds(
        catalog,
        {
            "size": 0,
            "query": {"term": {"build.id": "20180701100000"}},
            "aggs": {"platforms": {"terms": {"field": "target.platform"}}},
        },
    )
    assert _buckets(platforms["aggregations"]["platforms"]) == [
        ("android-api-16", 1),
        ("linux-x86_64", 1),
    ]


def test_date_histogram_fills_gaps_and_bounds_buckets(catalog: Store) -> None:
    histogram: dict[str, Any] = {"field": "download.date", "interval": "month"}
    body = {"size": 0, "aggs": {"d": {"date_histogram": histogram}}}
    monthly = search_builds(catalog, body)["aggregations"]["d"]["buckets"]
    # Downloads from 2018-06-20 to 2018-09-05: June 6 (b1, b2, c2, d1, e1, t1), July 4 (a1, a2,
    # c1, f1), August none (an empty bucket, as min_doc_count 0 gives), September 1 (a3).
    assert [(b["key_as_string"][:7], b["doc_count"]) for b in monthly] == [
        ("2018-06", 6),
        ("2018-07", 4),
        ("2018-08", 0),
        ("2018-09", 1),
    ]
    histogram["interval"] = "minute"  # 110,000 minutes
    with pytest.raises(SearchError, match="more than 10000 buckets"):
        search_builds(catalog, body)
