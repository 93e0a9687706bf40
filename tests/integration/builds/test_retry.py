"""`dead-letters retry` for the build catalog's sources."""

from __future__ import annotations

from shipgauge.pipelines.dead_letters import retry_dead_letters
from shipgauge.store import Store
from tests.integration.builds.conftest import BUILDHUB


def test_retry_backfill_letter_ingests_and_bad_message_stays(store: Store) -> None:
    body = (BUILDHUB / "buildhub2/buildhub-json/valid-buildhub.json").read_bytes()
    with store.transaction() as tx:
        good = tx.dead_letter("buildhub.backfill", "bucket/a/buildhub.json", "S3 was down", body)
        bad = tx.dead_letter("buildhub.backfill", "bucket/b/buildhub.json", "invalid", b"{}")
    result = retry_dead_letters(store)
    assert result.ingested == [good]
    assert "'build' is a required property" in result.failed[bad]
    assert store.query("SELECT s3_object_key FROM builds").rows == [("a/buildhub.json",)]
