"""Queue consumers that `shipgauge serve` runs beside the API, on a thread of their own."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from shipgauge.config import Settings

__all__ = ["background_worker"]

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def background_worker(
    *,
    name: str,
    enabled: Callable[[Settings], bool],
    run: Callable[[FastAPI, threading.Event], None],
) -> Lifespan:
    """A router lifespan that runs `run(app, stop)` on a thread while the server is up.

    `run` must return soon after `stop` is set; the server waits up to 30 s for it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not enabled(app.state.settings):
            yield
            return
        stop = threading.Event()
        worker = threading.Thread(target=run, args=(app, stop), name=name, daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=30)

    return lifespan
