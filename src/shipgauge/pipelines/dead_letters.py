"""Replaying dead letters through the parser of the source that produced them."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from shipgauge.errors import BadRequest, ShipgaugeError
from shipgauge.pipelines import capability_modules
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter, list_dead_letters

__all__ = ["RetryHandler", "RetryResult", "retry_dead_letters", "retry_handlers"]

# Re-ingests one letter inside the given transaction; raises ShipgaugeError (usually
# SourceError) when it still cannot be read.
RetryHandler = Callable[[Transaction, DeadLetter], None]


def retry_handlers() -> dict[str, RetryHandler]:
    """source name → handler, gathered from every capability's `RETRY_HANDLERS`."""
    handlers: dict[str, RetryHandler] = {}
    for module in capability_modules():
        handlers.update(getattr(module, "RETRY_HANDLERS", {}))
    return handlers


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
