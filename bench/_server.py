"""A real `shipgauge serve` for the HTTP benchmarks: started on a free port, stopped after."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_S = 30


@contextlib.contextmanager
def shipgauge_server(db: str) -> Iterator[str]:
    """`shipgauge --db DB serve` in its own process; yields its base URL once it is healthy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exe = str(Path(sys.executable).parent / "shipgauge")
    server = subprocess.Popen([exe, "--db", db, "serve", "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(server, base)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def _wait_healthy(server: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + STARTUP_S
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/api/v1/health", timeout=1).is_success:
                return
        time.sleep(0.1)
    raise RuntimeError(f"shipgauge serve did not answer at {base} within {STARTUP_S} s")
