"""`shipgauge serve --workers N`: worker processes need PostgreSQL; a DuckDB store is refused in
one line, before anything starts (the many-process run on PostgreSQL is
tests/integration/store/test_many_processes.py)."""

from __future__ import annotations

import pytest

from shipgauge.api.app import create_app_from_env
from tests.conftest import run_cli


def test_workers_on_a_duckdb_store_are_refused_in_one_line(duckdb_url: str) -> None:
    done = run_cli("serve", "--workers", "2", db=duckdb_url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: --workers 2 needs PostgreSQL: the DuckDB store ")
    assert "one process at a time" in done.stderr


def test_the_app_factory_reads_the_store_from_the_environment(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPGAUGE_DB", duckdb_url)
    assert create_app_from_env().state.settings.db == duckdb_url
