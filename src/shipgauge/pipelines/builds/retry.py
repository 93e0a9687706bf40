"""How `shipgauge dead-letters retry` replays the build catalog's dead letters."""

from __future__ import annotations

import json
from typing import Any

from shipgauge.config import load_settings
from shipgauge.errors import SourceError
from shipgauge.pipelines.builds.backfill import BACKFILL_SOURCE, retry_backfill
from shipgauge.pipelines.builds.connectors import BuildhubConnectors, connectors_from_settings
from shipgauge.pipelines.builds.events import ingest_into
from shipgauge.pipelines.builds.files import FILE_SOURCE, retry_file
from shipgauge.pipelines.builds.inventory import INVENTORY_SOURCE
from shipgauge.pipelines.builds.metadata import MetadataResolver
from shipgauge.pipelines.builds.records import (
    ArchiveCandidate,
    complete_candidates,
    insert_groups,
    take_turn,
)
from shipgauge.store import Transaction
from shipgauge.store.dead_letters import DeadLetter, RetryHandler

__all__ = ["RETRY_HANDLERS"]


def _retry_event(tx: Transaction, letter: DeadLetter) -> None:
    connectors = connectors_from_settings(load_settings())
    try:
        payload = json.loads(letter.payload)
        if isinstance(payload, dict) and "record_id" in payload:
            _retry_record(tx, connectors, payload)
        else:
            ingest_into(tx, connectors, [(letter.key or "retry", letter.payload)], on_error="raise")
    except ValueError:
        raise SourceError("dead letter payload is not JSON", field="payload") from None
    finally:
        connectors.close()


def _retry_record(tx: Transaction, connectors: BuildhubConnectors, payload: dict[str, Any]) -> None:
    candidate = ArchiveCandidate(str(payload["record_id"]), payload["record"])
    done = complete_candidates(MetadataResolver(connectors.archive), [candidate], origin="retry")
    if done.rejects or done.waiting:
        raise SourceError(done.rejects[0][1] if done.rejects else "metadata still missing")
    insert_groups(tx, done.groups)


def _retry_inventory(tx: Transaction, letter: DeadLetter) -> None:
    if not letter.payload.startswith(b'{"record_id"'):
        raise SourceError(
            "an unreadable inventory row or file: fix the inventory and load it again"
        )
    _retry_event(tx, letter)


def _in_turn(handler: RetryHandler) -> RetryHandler:
    """`handler` after its transaction took its turn among builds writers (a retry's
    transaction begins with its handler)."""

    def in_turn(tx: Transaction, letter: DeadLetter) -> None:
        take_turn(tx)
        handler(tx, letter)

    return in_turn


RETRY_HANDLERS: dict[str, RetryHandler] = {
    source: _in_turn(handler)
    for source, handler in (
        (INVENTORY_SOURCE, _retry_inventory),
        (BACKFILL_SOURCE, retry_backfill),
        (FILE_SOURCE, retry_file),
        ("buildhub.s3-event", _retry_event),
    )
}
