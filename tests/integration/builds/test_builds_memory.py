"""The store's settings while `builds import` adds builds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipgauge.pipelines.builds import files
from shipgauge.pipelines.builds.files import import_build_files
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


def test_an_import_runs_under_a_fixed_limit_and_resets_it(
    duckdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`builds` has no key index to grow with the catalogue (migration 12), so the limit stays
    where it was set however many builds are stored, and every setting is reset afterwards."""
    monkeypatch.setattr(files, "BATCH", 1)
    settings: list[tuple[str, str]] = []
    store_batch = files._store_batch

    def recording(store: Store, *args: Any) -> None:
        settings.append(_settings(store))
        store_batch(store, *args)

    monkeypatch.setattr(files, "_store_batch", recording)
    lines = _fixture_lines(tmp_path)
    with Store.open(duckdb_url) as store:
        defaults = _settings(store)
        assert defaults[1] == "16.0 MiB"  # DuckDB's own
        # A catalogue of 60,000 builds already: a limit that followed a key index (96 bytes a
        # build, as before migration 12) would start at 37 MiB.
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO builds (build_hash, document, product, channel, version, version_key,"
                " platform, locale, download_url, download_mimetype, download_size, origin,"
                " created_at) SELECT 'v1:' || md5(i::VARCHAR), '{}', 'firefox', 'nightly',"
                " '1.0a1', '1.0a1', 'linux-x86_64', 'en-US', 'https://archive/' || i, 'x', 1,"
                " 'test', now() FROM range(60000) t(i)"
            )
        for _ in range(2):  # the second import meets its five builds stored, and adds none
            import_build_files(store, [lines])
            assert store.count("builds") == 60005
            assert _settings(store) == defaults
    # Each document is a batch, the last call the empty final one ("2MB" is 2,000,000 bytes).
    assert settings == [("32.0 MiB", "1.9 MiB")] * 10
