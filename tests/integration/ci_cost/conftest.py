"""Fixtures of the CI-cost tests: the recorded upstreams on a local HTTP server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipgauge.store import Store
from tests.integration.ci_cost.fake_ci import FakeCI
from tests.support.recorded_http import RecordedHttpServer


@pytest.fixture
def ci(recorded_http: RecordedHttpServer) -> FakeCI:
    return FakeCI(recorded_http)


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ci_cost_template") / "template.duckdb"
    Store.open(str(path)).close()
    return path


@pytest.fixture
def duck(_template_db: Path, tmp_path: Path) -> Iterator[Store]:
    """A migrated DuckDB store, copied from a session template (opening a new one takes ~2 s)."""
    path = tmp_path / "ci_cost.duckdb"
    shutil.copy(_template_db, path)
    with Store.open(str(path)) as opened:
        yield opened
