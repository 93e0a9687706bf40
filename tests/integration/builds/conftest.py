"""Build catalog fixtures: the archive on the recorded-HTTP server, connectors, helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.connectors.s3 import S3Connector
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.store import Store
from tests.support.recorded_http import RecordedHttpServer, fixtures_dir

ARCHIVE = "https://archive.mozilla.org"
BUILDHUB = fixtures_dir() / "buildhub"
PRODUCTS = ("firefox", "thunderbird", "mobile", "devedition")


def load_fixture(name: str) -> Any:
    return json.loads((BUILDHUB / name).read_text())


def serve_archive(server: RecordedHttpServer, responses: Mapping[str, Mapping[str, Any]]) -> None:
    """Register `{archive URL: {"status", "json"|"body"}}` under the server's root, with ETags."""
    for url, answer in responses.items():
        path = url.removeprefix(ARCHIVE).replace(" ", "%20")
        status = int(answer.get("status", 200))
        body = answer.get("json", answer.get("body"))
        etag = (
            {"ETag": f'"{abs(hash(json.dumps(body, sort_keys=True)))}"'} if status == 200 else None
        )
        server.add("GET", path, body=body, status=status, headers=etag)


def local_url(value: Any, base: str) -> Any:
    """Archive URLs in expected fixture data, moved to the local server."""
    return json.loads(json.dumps(value).replace(ARCHIVE, base))


def make_connectors(
    server_url: str, root: Path, cache: Path | None = None, *, concurrency: int = 8
) -> BuildhubConnectors:
    http = HttpConnector(
        server_url, name="archive", retries=1, backoff_s=0.0, concurrency=concurrency
    )
    return BuildhubConnectors(
        s3=S3Connector(local_root=root),
        archive=ArchiveConnector(http, cache_dir=cache, notfound_retries=1, notfound_backoff_s=0.0),
        bucket="net-mozaws-prod-delivery-firefox",
        inventory_bucket="inventory",
        products=PRODUCTS,
    )


@pytest.fixture
def connectors(recorded_http: RecordedHttpServer, tmp_path: Path) -> Iterator[BuildhubConnectors]:
    made = make_connectors(recorded_http.url, tmp_path / "s3")
    yield made
    made.close()


def expected_records(items: list[dict[str, Any]], base: str) -> dict[str, dict[str, Any]]:
    """record_id → document of a fixture's expected records (Kinto items), on the local server."""
    return {
        r["data"]["id"]: {k: v for k, v in r["data"].items() if k != "id"}
        for r in local_url(items, base)
    }


def stored_records(store: Store) -> dict[str, dict[str, Any]]:
    """record_id → document of the path-derived records in the store."""
    rows = store.query(
        "SELECT record_id, document FROM builds WHERE record_id IS NOT NULL ORDER BY record_id"
    ).rows
    return {rid: json.loads(doc) if isinstance(doc, str) else doc for rid, doc in rows}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A local S3 + SQS server (moto's standalone server on loopback)."""
    from moto.server import ThreadedMotoServer

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def moto_s3(url: str) -> S3Connector:
    return S3Connector(
        endpoint_url=url, unsigned=False, access_key_id="testing", secret_access_key="testing"
    )
