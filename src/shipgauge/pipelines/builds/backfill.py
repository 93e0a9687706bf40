"""Buildhub2's backfill: list a bucket, insert `buildhub.json` files that are new or changed.

Keys already stored with the same ETag are skipped without a download; a changed ETag with
unchanged content only refreshes the stored ETag. The last key of each page is checkpointed
with that page's rows, so `--resume` starts after it (upstream.md §6.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from shipgauge.connectors.s3 import DEFAULT_PAGE_SIZE, S3Connector
from shipgauge.errors import NotFound, SourceError
from shipgauge.pipelines.builds.records import insert_buildhub_json
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = ["BACKFILL_SOURCE", "BackfillResult", "backfill", "retry_backfill"]

BACKFILL_SOURCE = "buildhub.backfill"


@dataclass
class BackfillResult:
    """What a backfill did: keys listed and matched, records inserted, ETags refreshed."""

    listed: int = 0
    matched: int = 0
    downloaded: int = 0
    inserted: int = 0
    dead_letters: int = 0
    pages: int = 0


def backfill(
    *,
    store: Store,
    s3: S3Connector,
    bucket: str,
    resume: bool = False,
    prefix: str = "",
    page_size: int = DEFAULT_PAGE_SIZE,
) -> BackfillResult:
    """List `bucket`, insert `buildhub.json` keys that are new or whose ETag changed.

    After each page the last key is checkpointed with that page's rows; `resume` starts
    after it (Buildhub2's `backfill --resume`, upstream.md §6.1).
    """
    source = f"{BACKFILL_SOURCE}:{bucket}"
    start = store.checkpoint(source) if resume else None
    known = dict(
        store.query(
            "SELECT s3_object_key, s3_object_etag FROM builds WHERE s3_object_key IS NOT NULL"
        ).rows
    )
    result = BackfillResult()
    for page in s3.list_objects(bucket, prefix, start_after=start or None, page_size=page_size):
        result.pages += 1
        result.listed += len(page)
        with store.transaction() as tx:
            for obj in page:
                if not obj.key.rsplit("/", 1)[-1].endswith("buildhub.json"):
                    continue
                result.matched += 1
                if known.get(obj.key) == obj.etag:
                    continue
                result.downloaded += 1
                _backfill_key(tx, s3, bucket, obj.key, obj.etag, result)
                known[obj.key] = obj.etag
            if page:
                tx.set_checkpoint(source, page[-1].key)
    return result


def _backfill_key(
    tx: Transaction, s3: S3Connector, bucket: str, key: str, etag: str, result: BackfillResult
) -> None:
    try:
        body = s3.get_bytes(bucket, key)
    except NotFound:
        return  # deleted between the listing and the download
    try:
        result.inserted += insert_buildhub_json(
            tx, body, what=key, origin="backfill", s3_object_key=key, s3_object_etag=etag
        )
    except SourceError as exc:
        tx.dead_letter(BACKFILL_SOURCE, f"{bucket}/{key}", exc.message, body)
        result.dead_letters += 1
        return
    # Same content under a changed ETag is not a new record: remember the new ETag.
    tx.execute("UPDATE builds SET s3_object_etag = ? WHERE s3_object_key = ?", [etag, key])


def retry_backfill(tx: Transaction, letter: DeadLetter) -> None:
    """Re-read a dead-lettered buildhub.json (its key is `bucket/key`) and insert it."""
    key = (letter.key or "").partition("/")[2]
    insert_buildhub_json(tx, letter.payload, what=key, origin="backfill", s3_object_key=key)
