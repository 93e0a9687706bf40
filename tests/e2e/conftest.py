"""Headless Chromium (Debian's package) driven by Playwright; fails under CI=true when missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import free_port, run_cli, unavailable

CHROMIUM = os.environ.get("SHIPGAUGE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Without these, Chromium keeps calling Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope: Playwright's sync API keeps an event loop running on the main thread while it
# is open, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM}: run `bash scripts/services.sh up`")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# The demo, served once for every browser test: `shipgauge demo` then `shipgauge serve`, as a
# new user would run them.
@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    done = run_cli("demo", db=db)
    assert done.returncode == 0, done.stderr
    port = free_port()
    exe = str(Path(sys.executable).parent / "shipgauge")
    server = subprocess.Popen(
        [exe, "--db", db, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    f"shipgauge serve exited: {server.stdout and server.stdout.read()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("shipgauge serve did not answer within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


_SHOTS = pytest.StashKey[list[Path]]()


@pytest.fixture(scope="session")
def screenshot_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Where the page screenshots go: $SHIPGAUGE_SCREENSHOTS_DIR, else pytest's temporary
    folder of this run (listed at the end of the run)."""
    chosen = os.environ.get("SHIPGAUGE_SCREENSHOTS_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[_SHOTS] = []
    return folder


def record_screenshot(config: pytest.Config, path: Path) -> None:
    config.stash.setdefault(_SHOTS, []).append(path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    shots = config.stash.get(_SHOTS, [])
    if shots:
        terminalreporter.section("dashboard screenshots (1440x900)")
        for path in shots:
            terminalreporter.write_line(str(path))
