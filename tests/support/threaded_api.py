"""A real uvicorn server in a thread, over a store the test holds open and may also write."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.store import Store
from tests.conftest import free_port

__all__ = ["api_in_thread"]


@contextlib.contextmanager
def api_in_thread(db: str, store: Store) -> Iterator[str]:
    """The API over `store` (opened on `db`) listening on a free loopback port: its base URL."""
    config = uvicorn.Config(
        create_app(load_settings(db=db), store=store), port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
