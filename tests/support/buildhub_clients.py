"""The request bodies Buildhub's real clients send to `/api/search`, copied from their source
(repository, commit and path beside each; the client's variables are parameters).

Shared by tests/integration/builds/test_search_clients.py, which checks Elasticsearch 6's answer
to each over a known dataset, and bench/bench_builds_search.py, which times them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CHANNELS",
    "PRODUCTS",
    "VERSION_PAT",
    "VERSION_PATS",
    "VERSION_RC_PAT",
    "bugzy_first_nightly",
    "clouseau_two_last",
    "crash_stop",
]

# mozilla/crash-clouseau @ e6ef770, crashclouseau/buildhub.py
VERSION_PATS = {
    "nightly": r'[0-9]+".0a1"',
    "beta": r'[0-9]+".0b"[0-9]+',
    "release": r"[0-9]+\.[0-9]+(\.[0-9]+)?",
}


def clouseau_two_last(build_id: str, channel: str, product: str) -> dict[str, Any]:
    """crash-clouseau `get_two_last` (crashclouseau/buildhub.py)."""
    return {
        "aggs": {
            "buildids": {
                "terms": {"field": "build.id", "size": 2, "order": {"_term": "desc"}},
                "aggs": {
                    "revisions": {"terms": {"field": "source.revision", "size": 1}},
                    "versions": {"terms": {"field": "target.version", "size": 1}},
                },
            }
        },
        "query": {
            "bool": {
                "filter": [
                    {"term": {"target.channel": channel}},
                    {"term": {"source.product": product}},
                    {"range": {"build.id": {"lte": build_id}}},
                    {"regexp": {"target.version": VERSION_PATS.get(channel, "*")}},
                ]
            }
        },
        "size": 0,
    }


# mozilla/crash-stop-addon @ b6d7034, crashstop/buildhub.py (`get_query`, `get_rc_query`):
# VERSION_PAT, VERSION_RC_PAT, CHANNELS and PRODUCTS as there; the number of build ids per
# channel (config.get_versions('Firefox', 'nightly') * 4) taken as 12.
VERSION_PAT = r"[0-9\.]+(([ab][0-9]+)|esr)?"
VERSION_RC_PAT = r"[0-9\.]+rc[0-9]+"
CHANNELS = ["nightly", "beta", "release", "esr", "aurora"]
PRODUCTS = ["firefox", "devedition"]


def crash_stop(pattern: str, channel_filter: dict[str, Any], size: int) -> dict[str, Any]:
    """crash-stop-addon `get_query` (VERSION_PAT, every channel) and `get_rc_query`
    (VERSION_RC_PAT, release): builds per product and channel, newest first."""
    return {
        "aggs": {
            "products": {
                "terms": {"field": "source.product", "size": len(PRODUCTS)},
                "aggs": {
                    "channels": {
                        "terms": {"field": "target.channel", "size": size},
                        "aggs": {
                            "buildids": {
                                "terms": {
                                    "field": "build.id",
                                    "size": 12 if size > 1 else 10,
                                    "order": {"_term": "desc"},
                                },
                                "aggs": {
                                    "versions": {
                                        "terms": {
                                            "field": "target.version",
                                            "size": 1,
                                            "order": {"_term": "desc"},
                                        }
                                    }
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
                    {"regexp": {"target.version": {"value": pattern}}},
                    channel_filter,
                    {"terms": {"source.product": PRODUCTS}},
                ]
            }
        },
        "size": 0,
    }


def bugzy_first_nightly(version: str) -> dict[str, Any]:
    """mozilla/bugzy @ 48abad9, src/server/queryUtils.ts (`fetchReleaseData`): the first
    nightly of a version, for `${rv[key].version}.0a1`."""
    return {
        "post_filter": {
            "bool": {
                "must": [
                    {"term": {"target.version": f"{version}.0a1"}},
                    {"term": {"target.channel": "nightly"}},
                    {"term": {"source.product": "firefox"}},
                ],
            },
        },
        "size": 1,
        "sort": [{"download.date": "asc"}],
    }
