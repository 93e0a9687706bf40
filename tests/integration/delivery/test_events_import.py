"""`import_events` streams its file: small batches store what one pass over the whole file did."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipgauge.errors import BadRequest
from shipgauge.pipelines.delivery.events import IMPORT_SOURCE, import_events
from shipgauge.store import Store
from tests.support.recorded_http import DELIVERY_SEED_CSV


def _stored(store: Store) -> tuple[int, int]:
    letters = store.query("SELECT count(*) FROM dead_letters WHERE source = ?", [IMPORT_SOURCE])
    return store.count("delivery_events"), letters.scalar()


@pytest.mark.parametrize("batch", [7, 5000])
def test_batches_of_any_size_store_the_seed_csv_alike(batch: int, duckdb_url: str) -> None:
    with Store.open(duckdb_url) as store:
        result = import_events(store, DELIVERY_SEED_CSV, batch=batch)
        assert (result.stored, len(result.rejects)) == (373, 146)
        assert result.rejects[0].index == 28  # the CSV line of the first calc_* row
        assert _stored(store) == (237, 146)  # identical rows are one event, in any batch


def test_a_file_that_is_not_utf8_stores_nothing(tmp_path: Path, duckdb_url: str) -> None:
    path = tmp_path / "events.jsonl"
    line = b'{"service": "web", "kind": "deploy", "event_id": "d-1"}\n'
    path.write_bytes(line * 10_000 + b"\xff\n")
    with Store.open(duckdb_url) as store:
        with pytest.raises(BadRequest, match="cannot read"):
            import_events(store, path, batch=100)
        assert _stored(store) == (0, 0)
