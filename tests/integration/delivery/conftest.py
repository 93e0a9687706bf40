"""Fixtures for delivery tests: the API in process over the `store` fixture, on both engines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shipgauge.store import Store
from tests.integration.delivery.delivery_api import Api, make_api


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    """The API over an empty store, once per engine."""
    yield from make_api(store)
