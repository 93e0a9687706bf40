"""Shared fixtures: the store on both engines, service URLs, recorded HTTP, a real server.

Services come from the environment (SHIPGAUGE_AMQP_URL, SHIPGAUGE_PG_URL), by default on loopback
at the ports SHIPGAUGE_AMQP_PORT (5672) and SHIPGAUGE_PG_PORT (5433), as scripts/services.sh
starts them. Under CI=true a service that does not answer fails the test; elsewhere it skips, so a
laptop without RabbitMQ can still run the rest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from shipgauge.store import Store

pytest_plugins = ["tests.support.recorded_http"]

# The same defaults as scripts/services.sh: URLs built from the two port settings.
AMQP_PORT = int(os.environ.get("SHIPGAUGE_AMQP_PORT") or 5672)
PG_PORT = int(os.environ.get("SHIPGAUGE_PG_PORT") or 5433)
AMQP_URL = os.environ.get("SHIPGAUGE_AMQP_URL") or f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}//"
PG_URL = (
    os.environ.get("SHIPGAUGE_PG_URL")
    or f"postgresql://postgres@127.0.0.1:{PG_PORT}/shipgauge_test"
)
# The RabbitMQ node scripts/services.sh starts for the broker's port.
RABBIT_NODE = "rabbit@localhost" if AMQP_PORT == 5672 else f"rabbit_{AMQP_PORT}@localhost"
REPO = Path(__file__).resolve().parent.parent


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    """The service URL if it answers; otherwise fail under CI=true, skip elsewhere."""
    if _answers(url, default_port):
        return url
    unavailable(f"{name} does not answer at {url}: run `bash scripts/services.sh up`")


def unavailable(message: str) -> NoReturn:
    """A service or tool a test needs is missing: fail under CI=true, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return require_service("RabbitMQ", AMQP_URL, 5672)


@pytest.fixture(scope="session")
def pg_url() -> str:
    return require_service("PostgreSQL", PG_URL, 5432)


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return str(tmp_path / "shipgauge.duckdb")


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty store, once per engine."""
    fixture = "duckdb_url" if request.param == "duckdb" else "pg_schema_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated store on each engine."""
    with Store.open(store_url) as opened:
        yield opened


def duckdb_setting(store: Store, name: str) -> str:
    """A DuckDB store's setting as DuckDB shows it (`"16.0 MiB"`)."""
    value: str = store.query("SELECT current_setting(?)", [name]).scalar()
    return value


def column_shapes(store: Store, table: str) -> list[tuple[object, ...]]:
    """Each column of `table`, in order: its name, type and whether it takes NULL."""
    return store.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_cli(
    *args: str, db: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `shipgauge` console script against `db`."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "shipgauge"), "--db", db, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.fixture
def start_server() -> Iterator[Callable[[str], str]]:
    """Start `shipgauge serve --db DB` as a real subprocess on a free port; returns its base URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(db: str) -> str:
        port = free_port()
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "shipgauge"),
                "--db",
                db,
                "serve",
                "--port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                output = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"shipgauge serve exited: {output}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("shipgauge serve did not answer within 30 s")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
