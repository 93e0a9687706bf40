"""Replaying dead letters through the parser of the source that produced them."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from shipgauge.errors import BadRequest, ShipgaugeError
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter, list_dead_letters

__all__ = ["RETRY_HANDLERS", "RetryResult", "register_retry_handler", "retry_dead_letters"]

RetryHandler = Callable[[Transaction, DeadLetter], None]

# source name → function that re-ingests one payload inside the given transaction, raising
# ShipgaugeError (usually SourceError) when it still cannot be read. Capabilities register here.
RETRY_HANDLERS: dict[str, RetryHandler] = {}


def register_retry_handler(source: str, handler: RetryHandler) -> None:
    """Let `dead-letters retry` replay letters of `source` through `handler`."""
    RETRY_HANDLERS[source] = handler


@dataclass(frozen=True)
class RetryResult:
    """How a retry went: letters now ingested, and letters that failed again with why."""

    ingested: list[int]
    failed: dict[int, str]


def _handler_for(source: str) -> RetryHandler:
    if source in RETRY_HANDLERS:
        return RETRY_HANDLERS[source]
    close = difflib.get_close_matches(source, RETRY_HANDLERS, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise BadRequest(f"no retry handler for source '{source}'.{hint}", field="source")


def retry_dead_letters(
    store: Store, letters: list[DeadLetter] | None = None, *, source: str | None = None
) -> RetryResult:
    """Re-ingest dead letters; each one that now parses is stored and removed in one transaction."""
    todo = letters if letters is not None else list_dead_letters(store, source=source, limit=10**9)
    ingested: list[int] = []
    failed: dict[int, str] = {}
    for letter in todo:
        handler = _handler_for(letter.source)
        try:
            with store.transaction() as tx:
                handler(tx, letter)
                tx.delete("dead_letters", "id = ?", [letter.id])
        except ShipgaugeError as exc:
            failed[letter.id] = exc.message
            with store.transaction() as tx:
                tx.execute(
                    "UPDATE dead_letters SET error = ? WHERE id = ?", [exc.message, letter.id]
                )
        else:
            ingested.append(letter.id)
    return RetryResult(ingested, failed)
