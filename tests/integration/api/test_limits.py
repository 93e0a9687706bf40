"""The one set of input limits holds on every route, whatever the route does with its input."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.store import Store
from shipgauge.store.tokens import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette now prefers httpx2
    from starlette.testclient import TestClient

LIMITS = {"max_body_bytes": 100, "max_query_string_chars": 50, "max_page_size": 20}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Store.open(str(tmp_path / "limits.duckdb")) as store:
        token = create_token(store, service="*", scopes=["events:write", "builds:write", "admin"])
        app = create_app(load_settings(db=store.url, **LIMITS), store=store)
        with TestClient(app) as test_client:
            yield test_client, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/events", "/api/v1/builds/s3-events", "/api/v1/webhooks/github", "/api/search"],
)
def test_a_body_over_max_body_bytes_is_413_on_every_route(
    client: tuple[TestClient, dict[str, str]], path: str
) -> None:
    test_client, auth = client
    declared = test_client.post(path, content=b"[" + b"1," * 60 + b"1]", headers=auth)
    chunked = test_client.post(
        path, content=iter([b"[", b"1," * 30, b"1," * 30, b"1]"]), headers=auth
    )
    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"]["field"] == "body"
        assert "max_body_bytes" in answer.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/models/build_records", "/api/search"])
def test_a_query_string_over_the_limit_is_414(
    client: tuple[TestClient, dict[str, str]], path: str
) -> None:
    answer = client[0].get(path, params={"q": "x" * 60})
    assert answer.status_code == 414
    assert answer.json()["error"] == {
        "field": "query",
        "message": "the query string is 62 characters; at most 50 (max_query_string_chars)",
    }


@pytest.mark.parametrize(
    "path",
    ["/api/v1/models/build_records", "/api/v1/builds/latest", "/api/v1/reviews/unreviewed",
     "/api/v1/dead-letters", "/api/v1/ci/costs/pushes"],
)  # fmt: skip
def test_a_page_over_max_page_size_is_400_naming_limit(
    client: tuple[TestClient, dict[str, str]], path: str
) -> None:
    test_client, auth = client
    assert test_client.get(path, params={"limit": 20}, headers=auth).status_code == 200
    answer = test_client.get(path, params={"limit": 21}, headers=auth)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "field": "limit",
        "message": "limit 21 is over max_page_size (20)",
    }
