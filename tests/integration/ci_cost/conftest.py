"""Fixtures of the CI-cost tests: the recorded upstreams on a local HTTP server."""

from __future__ import annotations

import pytest

from tests.integration.ci_cost.fake_ci import FakeCI
from tests.support.recorded_http import RecordedHttpServer


@pytest.fixture
def ci(recorded_http: RecordedHttpServer) -> FakeCI:
    return FakeCI(recorded_http)
