"""Reading and clearing the dead-letter table (writing goes through `Transaction.dead_letter`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipgauge.errors import NotFound

if TYPE_CHECKING:
    from shipgauge.store.store import Store, Transaction

__all__ = [
    "DeadLetter",
    "Letter",
    "RetryHandler",
    "dead_letter_id",
    "get_dead_letter",
    "letter_rows",
    "list_dead_letters",
    "purge_dead_letters",
]


# (source, key, error, payload) of input to keep: `Transaction.dead_letters`.
Letter = tuple[str, str | None, str, bytes | str]


def dead_letter_id(source: str, payload: bytes) -> int:
    """A stable id from the source and the raw payload: the same bad input is kept once."""
    digest = hashlib.sha256(source.encode() + b"\0" + payload).digest()
    return int.from_bytes(digest[:7], "big")  # 56 bits: fits BIGINT, short enough to type


def letter_rows(letters: Iterable[Letter], received_at: datetime) -> list[dict[str, Any]]:
    """The dead_letters rows of `letters`, each payload as raw bytes; a letter given twice is one
    row, with its first key and its last error (as when each was written in turn)."""
    rows: dict[int, dict[str, Any]] = {}
    for source, key, error, payload in letters:
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        letter_id = dead_letter_id(source, raw)
        if letter_id in rows:
            rows[letter_id]["error"] = error
            continue
        rows[letter_id] = {
            "id": letter_id,
            "source": source,
            "key": key,
            "received_at": received_at,
            "error": error,
            "payload": raw,
        }
    return list(rows.values())


@dataclass(frozen=True)
class DeadLetter:
    """Input an ingest path could not read, kept raw with the reason."""

    id: int
    source: str
    key: str | None
    received_at: datetime
    error: str
    payload: bytes

    def summary(self) -> dict[str, Any]:
        """Everything but the payload, for listings."""
        return {
            "id": self.id,
            "source": self.source,
            "key": self.key,
            "received_at": self.received_at.isoformat(),
            "error": self.error,
            "bytes": len(self.payload),
        }


# Re-ingests one letter inside the given transaction; raises ShipgaugeError (usually
# SourceError) when it still cannot be read. Each capability's pipelines name theirs by source.
RetryHandler = Callable[["Transaction", DeadLetter], None]


_COLUMNS = "id, source, key, received_at, error, payload"


def list_dead_letters(
    store: Store, *, source: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """The newest dead letters first, optionally of one source."""
    where, params = ("WHERE source = ?", [source]) if source else ("", [])
    result = store.query(
        f"SELECT {_COLUMNS} FROM dead_letters {where} ORDER BY received_at DESC, id LIMIT ?",
        [*params, limit],
    )
    return [DeadLetter(*_bytes_last(row)) for row in result.rows]


def get_dead_letter(store: Store, letter_id: int) -> DeadLetter:
    """One dead letter by id; `NotFound` if there is none."""
    result = store.query(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", [letter_id])
    if not result.rows:
        raise NotFound(f"no dead letter with id {letter_id}", field="id")
    return DeadLetter(*_bytes_last(result.rows[0]))


def purge_dead_letters(
    store: Store, *, source: str | None = None, letter_id: int | None = None
) -> int:
    """Delete dead letters (all, one source's, or one id); returns how many went."""
    clauses: list[str] = []
    params: list[object] = []
    if source:
        clauses.append("source = ?")
        params.append(source)
    if letter_id is not None:
        clauses.append("id = ?")
        params.append(letter_id)
    where = " AND ".join(clauses) or "TRUE"
    count = int(store.query(f"SELECT count(*) FROM dead_letters WHERE {where}", params).scalar())
    with store.transaction() as tx:
        tx.delete("dead_letters", where, params)
    return count


def _bytes_last(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # psycopg returns bytea as memoryview; DuckDB as bytes.
    return (*row[:-1], bytes(row[-1]))
