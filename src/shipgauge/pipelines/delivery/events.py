"""Delivery events: idempotent ingest (group-committed for the API), one event, file import.

Every write is an insert-or-ignore on `(service, event_id)`: the same event sent twice is stored
once, and the first write wins. The DORA metrics are SQL models over these rows (`dora_*.sql`);
`queries/delivery.py` reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from shipgauge.errors import BadRequest, ShipgaugeError, StoreError
from shipgauge.pipelines.delivery.facts import take_turn, write_commit_facts
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.sources.delivery import (
    KINDS,
    DeliveryEventRow,
    Reject,
    parse_event,
    parse_event_lines,
    parse_seed_csv,
)
from shipgauge.sources.delivery.seed import parse_import_line
from shipgauge.store import Store, Transaction, in_text_list
from shipgauge.store.dead_letters import DeadLetter

__all__ = [
    "DEFAULT_GROUP_ROWS",
    "IMPORT_SOURCE",
    "KINDS",
    "RETRY_HANDLERS",
    "GroupCommitter",
    "ImportResult",
    "import_events",
    "ingest_events",
    "record_event",
]

DEFAULT_GROUP_ROWS = 5000
DEFAULT_IMPORT_BATCH = 5000
# A DuckDB store while an import runs: the delivery tables have no key index to fit (migration
# 11), so a fixed limit holds the import's peak whatever the file's size (bench_delivery_import,
# 30,000 / 300,000 lines: 257 / 271 MB; 48 MB: 261 / 291; DuckDB's own limit: 283 / 386).
# dead_letters keeps its key index: a store of millions of refused lines would need more.
IMPORT_MEMORY_LIMIT = "32MB"
IMPORT_SOURCE = "delivery.import"


def write_events(tx: Transaction, rows: Sequence[DeliveryEventRow]) -> list[DeliveryEventRow]:
    """Write events, their commits and the commits' facts inside `tx`; return the rows stored
    now (the others duplicate an event stored before, or earlier in `rows`).

    Existing `(service, event_id)` rows stay (the first write wins, within a batch too), and only
    the events stored now feed the facts (pipelines/delivery/facts.py), which keep the earliest
    values seen, so arrival order and replays do not change them.
    """
    take_turn(tx)  # before reading which events are stored, so no other writer adds them meanwhile
    new_rows = _unstored(tx, rows)
    events = [row.event_row() for row in new_rows]
    commits = [c for row in new_rows for c in row.commit_rows()]
    tx.insert_ignore("delivery_events", events)
    tx.insert_ignore("delivery_event_commits", commits)
    write_commit_facts(tx, events, commits)
    return new_rows


def _unstored(tx: Transaction, rows: Sequence[DeliveryEventRow]) -> list[DeliveryEventRow]:
    """The first row of each `(service, event_id)` of `rows` that is not stored yet."""
    firsts: dict[tuple[str, str], DeliveryEventRow] = {}
    for row in rows:
        firsts.setdefault((row.service, row.event_id), row)
    if not firsts:
        return []
    stored = tx.execute(
        f"SELECT service, event_id FROM delivery_events WHERE {in_text_list('event_id')}",
        [sorted({event_id for _, event_id in firsts})],
    ).rows
    for service, event_id in stored:
        firsts.pop((service, event_id), None)
    return list(firsts.values())


def ingest_events(store: Store, rows: Sequence[DeliveryEventRow]) -> list[DeliveryEventRow]:
    """Commit `rows` in one transaction; returns the rows stored now (the others were
    duplicates)."""
    if not rows:
        return []
    with store.transaction() as tx:
        return write_events(tx, rows)


Stored = list[bool]  # per row of a request: stored now (True) or a duplicate (False)


class GroupCommitter:
    """Commits the events of concurrent API requests together, one transaction per group.

    `commit` returns only after the transaction holding its rows has committed, so a 2xx sent
    after it means stored. While one group is written, new requests gather into the next one
    (group commit), which is what lets one server take thousands of events per second.
    """

    def __init__(self, store: Store, *, max_rows: int = DEFAULT_GROUP_ROWS) -> None:
        self._store = store
        self._max_rows = max_rows
        self._waiting: list[tuple[list[DeliveryEventRow], asyncio.Future[Stored]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def commit(self, rows: list[DeliveryEventRow]) -> Stored:
        """Wait until `rows` are committed; return, for each, whether it was stored now (False:
        a duplicate of an event stored before, in this request or in another of its group).
        Raises StoreError if they could not be committed."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await future

    async def _write_groups(self) -> None:
        while self._waiting:
            size, count = 0, 0
            while count < len(self._waiting) and (count == 0 or size < self._max_rows):
                size += len(self._waiting[count][0])
                count += 1
            group, self._waiting = self._waiting[:count], self._waiting[count:]
            results = await asyncio.to_thread(self._write, [rows for rows, _ in group])
            for (_, future), result in zip(group, results, strict=True):
                if future.done():  # the request was cancelled; its rows may still be stored
                    continue
                if isinstance(result, ShipgaugeError):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _write(self, requests: list[list[DeliveryEventRow]]) -> list[Stored | ShipgaugeError]:
        try:
            stored = ingest_events(self._store, [row for rows in requests for row in rows])
        except Exception as exc:  # the engine's own error is reported as the store's, never 2xx
            if len(requests) == 1:
                return [_as_store_error(exc, requests[0])]
            # One request's rows may be at fault: write each alone so the others still commit.
            return [_write_alone(self._store, rows) for rows in requests]
        return [_flags(rows, stored) for rows in requests]


def _flags(rows: list[DeliveryEventRow], stored: list[DeliveryEventRow]) -> Stored:
    """Which of `rows` are among `stored` (the very objects: an equal row sent twice is stored
    once, the first time)."""
    new = {id(row) for row in stored}
    return [id(row) in new for row in rows]


def _write_alone(store: Store, rows: list[DeliveryEventRow]) -> Stored | ShipgaugeError:
    try:
        return _flags(rows, ingest_events(store, rows))
    except Exception as exc:  # see GroupCommitter._write
        return _as_store_error(exc, rows)


def _as_store_error(exc: Exception, rows: list[DeliveryEventRow]) -> ShipgaugeError:
    if isinstance(exc, ShipgaugeError):
        return exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"could not store {len(rows)} event(s): {first}")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: events read and stored, and the rejects kept as dead letters."""

    stored: int
    rejects: list[Reject]


def import_events(
    store: Store,
    path: Path,
    *,
    fmt: Literal["auto", "csv", "jsonl"] = "auto",
    batch: int = DEFAULT_IMPORT_BATCH,
    received_at: datetime | None = None,
) -> ImportResult:
    """Import a seed CSV (`Time,Repo,Event,Metadata`) or JSON lines; rejects become dead letters.

    The file is read as a stream, `batch` lines at a time; the rows and dead letters of each
    batch commit together, so an import can be re-run safely.
    """
    start = _text_start(path)
    if fmt == "auto":
        fmt = "csv" if start.startswith("Time,") or path.suffix == ".csv" else "jsonl"
    received = received_at or datetime.now(UTC)
    parse = parse_seed_csv if fmt == "csv" else parse_event_lines
    stored, rejects = 0, []
    with path.open(encoding="utf-8") as lines, bounded_memory(store, IMPORT_MEMORY_LIMIT):
        items_of_file = parse(lines, received_at=received)
        while items := list(islice(items_of_file, batch)):
            rows = [item for item in items if isinstance(item, DeliveryEventRow)]
            refused = [item for item in items if isinstance(item, Reject)]
            stored += len(rows)
            rejects += refused
            with store.transaction() as tx:
                write_events(tx, rows)
                tx.dead_letters(
                    (IMPORT_SOURCE, f"{path.name}:{r.index}", r.message, r.payload) for r in refused
                )
    return ImportResult(stored=stored, rejects=rejects)


def _text_start(path: Path) -> str:
    """The file's first characters after leading white space; BadRequest, before anything is
    stored, if it cannot be read as UTF-8 (read in blocks, not held whole)."""
    start = ""
    try:
        with path.open(encoding="utf-8") as text:
            while block := text.read(1 << 20):
                if len(start) < len("Time,"):
                    start = (start + block).lstrip()[:5]
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"cannot read {path}: {exc}", field="FILE") from None
    return start


def _retry_import(tx: Transaction, letter: DeadLetter) -> None:
    write_events(tx, [parse_import_line(letter.payload, received_at=datetime.now(UTC))])


RETRY_HANDLERS = {IMPORT_SOURCE: _retry_import}


def record_event(store: Store, doc: Mapping[str, Any], *, origin: str) -> DeliveryEventRow:
    """One event given as fields (`events send`): checked, stored once, returned."""
    row = parse_event(doc, received_at=datetime.now(UTC), origin=origin)
    ingest_events(store, [row])
    return row
