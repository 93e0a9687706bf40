"""The store's memory limit while builds are added follows the catalogue's key index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipgauge.pipelines.builds import files, records
from shipgauge.pipelines.builds.files import import_build_files
from shipgauge.pipelines.builds.records import catalogue_memory
from shipgauge.store import Store
from tests.conftest import duckdb_setting
from tests.integration.builds.conftest import BUILDHUB


def _settings(store: Store) -> tuple[str, str]:
    return duckdb_setting(store, "memory_limit"), duckdb_setting(store, "checkpoint_threshold")


def _fixture_lines(folder: Path) -> Path:
    """The fixture's four buildhub.json records as one JSON-lines file (five builds stored)."""
    lines = folder / "records.jsonl"
    documents = sorted((BUILDHUB / "buildhub2" / "buildhub-json").glob("*.json"))
    lines.write_text("".join(json.dumps(json.loads(d.read_text())) + "\n" for d in documents))
    return lines


def test_the_limit_holds_the_key_index_of_the_builds_stored_and_added(
    duckdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _fixture_lines(tmp_path)
    with Store.open(duckdb_url) as store:
        defaults = _settings(store)
        assert defaults[1] == "16.0 MiB"  # DuckDB's own
        import_build_files(store, [lines])
        assert _settings(store) == defaults  # the import's settings are gone
        assert store.count("builds") == 5
        # A MiB a build, so that each one shows in the limit.
        monkeypatch.setattr(records, "INDEX_BYTES_PER_BUILD", 1 << 20)
        with catalogue_memory(store, 40 << 20, {"checkpoint_threshold": "2MB"}) as grown:
            # 40 MiB of working memory and 5 builds stored ("2MB" is 2,000,000 bytes).
            assert _settings(store) == ("45.0 MiB", "1.9 MiB")
            grown(10)
            assert _settings(store) == ("55.0 MiB", "1.9 MiB")
        assert _settings(store) == defaults


def test_an_import_raises_the_limit_after_each_batch(
    duckdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "INDEX_BYTES_PER_BUILD", 1 << 20)
    monkeypatch.setattr(files, "BATCH", 1)
    limits: list[str] = []
    store_batch = files._store_batch

    def recording(store: Store, *args: Any) -> None:
        limits.append(_settings(store)[0])
        store_batch(store, *args)

    monkeypatch.setattr(files, "_store_batch", recording)
    with Store.open(duckdb_url) as store:
        import_build_files(store, [_fixture_lines(tmp_path)])
        assert store.count("builds") == 5
    # Each document is a batch: 32 MiB plus a MiB per build stored before it (the third, a
    # release, is stored with its beta copy); the last call is the empty final batch.
    assert limits == ["32.0 MiB", "33.0 MiB", "34.0 MiB", "36.0 MiB", "37.0 MiB"]
