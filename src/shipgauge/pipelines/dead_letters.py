"""Replaying dead letters through the parser of the source that produced them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from shipgauge.errors import BadRequest, ShipgaugeError
from shipgauge.pipelines.registry import retry_handlers
from shipgauge.store import Store
from shipgauge.store.dead_letters import DeadLetter, RetryHandler, list_dead_letters

__all__ = ["RetryResult", "retry_dead_letters"]


@dataclass(frozen=True)
class RetryResult:
    """How a retry went: letters now ingested, and letters that failed again with why."""

    ingested: list[int]
    failed: dict[int, str]


def _handler_for(source: str, handlers: dict[str, RetryHandler]) -> RetryHandler:
    if source in handlers:
        return handlers[source]
    close = difflib.get_close_matches(source, handlers, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise BadRequest(f"no retry handler for source '{source}'.{hint}", field="source")


def retry_dead_letters(
    store: Store, letters: list[DeadLetter] | None = None, *, source: str | None = None
) -> RetryResult:
    """Re-ingest dead letters; each one that now parses is stored and removed in one transaction."""
    todo = letters if letters is not None else list_dead_letters(store, source=source, limit=10**9)
    ingested: list[int] = []
    failed: dict[int, str] = {}
    handlers = retry_handlers()
    for letter in todo:
        handler = _handler_for(letter.source, handlers)
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
