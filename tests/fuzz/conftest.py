"""One real `shipgauge serve` per fuzz module, with a token that has every scope."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, example, settings

from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.conftest import free_port

SCOPES = ["admin", "builds:write", "events:write"]
FUZZ = settings(
    deadline=None,
    derandomize=True,  # CI replays the same examples, so a failure there reproduces here
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
"""The fuzz suite's hypothesis settings; each test adds its `max_examples`."""

Test = TypeVar("Test", bound=Callable[..., None])


def with_examples(examples: Iterable[Mapping[str, Any]]) -> Callable[[Test], Test]:
    """Run `examples` (the issue's reproductions) before what hypothesis draws."""

    def decorate(test: Test) -> Test:
        for arguments in examples:
            test = example(**arguments)(test)
        return test

    return decorate


@dataclass(frozen=True)
class Server:
    """A running `shipgauge serve`: its base URL, a token with every scope, its process."""

    base: str
    token: str
    process: subprocess.Popen[str]

    def alive(self) -> bool:
        answer = httpx.get(f"{self.base}/api/v1/health", timeout=10)
        return self.process.poll() is None and answer.status_code == 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = str(tmp_path_factory.mktemp("fuzz") / "store.duckdb")
    with Store.open(db) as store:
        token = create_token(store, service="*", scopes=SCOPES)
    port = free_port()
    exe = str(Path(sys.executable).parent / "shipgauge")
    process = subprocess.Popen(
        [exe, "--db", db, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SHIPGAUGE_ACCESS_LOG": "false"},
    )
    started = Server(f"http://127.0.0.1:{port}", token, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if started.alive():
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("shipgauge serve did not answer within 60 s")
    yield started
    process.terminate()
    process.wait(10)
