"""The API skeleton over a real `shipgauge serve`: health, docs, metrics, auth, error shape."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.conftest import run_cli


def test_serve_answers_health_docs_and_metrics(start_server: object, duckdb_url: str) -> None:
    base = start_server(duckdb_url)  # type: ignore[operator]
    health = httpx.get(f"{base}/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["engine"] == "duckdb"
    assert health["migration_level"] >= 1
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/health" in spec["paths"]
    metrics = httpx.get(f"{base}/metrics")  # no redirect to /metrics/
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        'shipgauge_http_requests_total{method="GET",route="/api/v1/health",status="200"}'
        in metrics.text
    )


@pytest.mark.parametrize("access_log", ["true", "false"])
def test_serve_prints_its_url_and_logs_requests(duckdb_url: str, access_log: str) -> None:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "shipgauge"),
            "--db",
            duckdb_url,
            "serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SHIPGAUGE_ACCESS_LOG": access_log},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the port is bound
        found = re.search(r"dashboard (http://127\.0\.0\.1:\d+)/ ", first)
        assert found, first
        assert f"API docs {found[1]}/docs" in first and f"metrics {found[1]}/metrics" in first
        assert httpx.get(f"{found[1]}/api/v1/health").status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    logged = re.findall(r'^\S+ 127\.0\.0\.1:\d+ "GET /api/v1/health HTTP/1\.1" 200', out, re.M)
    assert len(logged) == (1 if access_log == "true" else 0), out
    assert "Traceback" not in err


def test_docs_work_offline(start_server: object, duckdb_url: str) -> None:
    base = start_server(duckdb_url)  # type: ignore[operator]
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    # Every asset the page loads is served by shipgauge itself: no CDN, no outside host at all.
    assert re.findall(r"(?i)(?:https?:)?//[a-z0-9.-]+", docs.text) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert len(assets) == 3 and all(a.startswith("/docs/assets/") for a in assets)
    for asset in assets:
        assert httpx.get(f"{base}{asset}").status_code == 200
    assert 'validatorUrl": null' in docs.text  # Swagger UI sends no spec to a validator
    assert httpx.get(f"{base}/redoc").status_code == 404  # ReDoc would need its CDN


def test_unauthenticated_and_revoked_writes_get_401(
    start_server: object, pg_schema_url: str
) -> None:
    # PostgreSQL: the CLI revokes while the server runs, from another process.
    Store.open(pg_schema_url).close()
    created = run_cli("tokens", "create", "--service", "*", "--scope", "admin", db=pg_schema_url)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    base = start_server(pg_schema_url)  # type: ignore[operator]
    url = f"{base}/api/v1/dead-letters/1/retry"

    missing = httpx.post(url)
    assert missing.status_code == 401
    assert missing.json() == {
        "error": {
            "field": "Authorization",
            "message": "missing bearer token (Authorization: Bearer …)",
        }
    }
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(url, headers={"Authorization": "Bearer sg_nope_nope"})
    assert wrong.status_code == 401

    allowed = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert allowed.status_code == 404  # authenticated; there is no dead letter 1
    assert allowed.json()["error"]["field"] == "id"

    token_id = token.split("_")[1]
    assert run_cli("tokens", "revoke", token_id, db=pg_schema_url).returncode == 0
    revoked = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert revoked.json()["error"]["message"] == "invalid or revoked token"


def test_token_without_scope_gets_403(start_server: object, duckdb_url: str) -> None:
    with Store.open(duckdb_url) as store:
        token = create_token(store, service="*", scopes=["events:write"])
    base = start_server(duckdb_url)  # type: ignore[operator]
    response = httpx.get(
        f"{base}/api/v1/dead-letters", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == {"field": "scope", "message": "token lacks scope 'admin'"}


def test_validation_errors_name_the_field(start_server: object, duckdb_url: str) -> None:
    with Store.open(duckdb_url) as store:
        token = create_token(store, service="*", scopes=["admin"])
    base = start_server(duckdb_url)  # type: ignore[operator]
    headers = {"Authorization": f"Bearer {token}"}
    bad_limit = httpx.get(f"{base}/api/v1/dead-letters?limit=0", headers=headers)
    assert bad_limit.status_code == 422
    assert bad_limit.json()["error"]["field"] == "limit"
    bad_id = httpx.post(f"{base}/api/v1/dead-letters/abc/retry", headers=headers)
    assert bad_id.status_code == 422
    assert bad_id.json()["error"]["field"] == "letter_id"
    unknown = httpx.get(f"{base}/api/v1/nope")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": {"field": None, "message": "Not Found"}}


def test_serve_on_a_busy_port_is_one_line(duckdb_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), db=duckdb_url)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n",
    )
