"""The delivery API in process over a store, with a token for every service (tests only)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from shipgauge.api import create_app
from shipgauge.config import Settings
from shipgauge.store import Store
from shipgauge.store.tokens import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette now prefers httpx2
    from starlette.testclient import TestClient


@dataclass
class Api:
    """An in-process client of the real app, with a token for every service."""

    client: TestClient
    store: Store
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def token_for(self, service: str, scopes: tuple[str, ...] = ("events:write",)) -> str:
        return create_token(self.store, service=service, scopes=list(scopes))


def make_api(store: Store) -> Iterator[Api]:
    token = create_token(store, service="*", scopes=["events:write"])
    app = create_app(Settings.model_construct(db=store.url), store=store)
    with TestClient(app) as client:
        yield Api(client, store, token)
