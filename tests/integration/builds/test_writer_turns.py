"""Builds writers of one process take turns (`records.take_turn`): on DuckDB `builds` has no key
index (migration 12) to refuse a build that another thread stores at the same moment, and a
transaction does not see rows another has not committed."""

from __future__ import annotations

import threading
import time

from shipgauge.pipelines.builds.records import insert_buildhub_json, take_turn
from shipgauge.store import Store
from tests.integration.builds.conftest import BUILDHUB

DOCUMENT = BUILDHUB / "buildhub2" / "buildhub-json" / "valid-buildhub.json"


def test_two_threads_storing_one_document_at_once_store_it_once(duckdb_url: str) -> None:
    body = DOCUMENT.read_bytes()
    first_inserted = threading.Event()
    inserted: dict[str, int] = {}

    def store_document(name: str, wait_for: threading.Event | None) -> None:
        with store.transaction() as tx:
            if wait_for is not None:  # the first has inserted, and not committed yet
                wait_for.wait(timeout=30)
            take_turn(tx)
            inserted[name] = insert_buildhub_json(tx, body, what=name, origin="file")
            if wait_for is None:
                first_inserted.set()
                time.sleep(0.3)  # the second now waits for its turn, or would insert again

    with Store.open(duckdb_url) as store:
        threads = [
            threading.Thread(target=store_document, args=("first", None)),
            threading.Thread(target=store_document, args=("second", first_inserted)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert inserted["first"] > 0
        assert inserted == {"first": inserted["first"], "second": 0}
        assert store.count("builds") == inserted["first"]
