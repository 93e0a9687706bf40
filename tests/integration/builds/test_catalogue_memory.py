"""The store's memory limit while builds are added follows the catalogue's key index."""

from __future__ import annotations

import json
from pathlib import Path

from shipgauge.pipelines.builds.files import import_build_files
from shipgauge.pipelines.builds.records import INDEX_BYTES_PER_BUILD, catalogue_memory
from shipgauge.store import Store
from tests.integration.builds.conftest import BUILDHUB


def _settings(store: Store) -> tuple[str, str]:
    row = store.query(
        "SELECT current_setting('memory_limit'), current_setting('checkpoint_threshold')"
    ).rows[0]
    return row[0], row[1]


def test_the_limit_holds_the_key_index_of_the_builds_stored_and_added(
    duckdb_url: str, tmp_path: Path
) -> None:
    lines = tmp_path / "records.jsonl"
    documents = sorted((BUILDHUB / "buildhub2" / "buildhub-json").glob("*.json"))
    lines.write_text("".join(json.dumps(json.loads(d.read_text())) + "\n" for d in documents))
    with Store.open(duckdb_url) as store:
        import_build_files(store, [lines])
        stored = store.count("builds")
        defaults = _settings(store)
        with catalogue_memory(store, 40 << 20, {"checkpoint_threshold": "2MB"}) as grown:
            assert stored == 5
            assert _settings(store) == ("40.0 MiB", "1.9 MiB")
            # A million builds more: 92 MiB of index beside the 40 MiB working part (DuckDB reads
            # "2MB" as 2,000,000 bytes).
            grown(1_000_000)
            limit = (40 << 20) + INDEX_BYTES_PER_BUILD * (stored + 1_000_000)
            assert _settings(store) == (f"{limit >> 20}.0 MiB", "1.9 MiB")
        assert _settings(store) == defaults
