"""From an archive key to stored build rows: derive, complete with metadata, check, insert.

Shared by the inventory loader and the S3-event ingest. Path-derived records keep v1's
create-if-not-exists on their record id (first writer wins), so the same archive seen by an
event and by an inventory is stored once; every record is also insert-or-ignore on its hash.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipgauge.errors import SourceError
from shipgauge.pipelines.builds.metadata import MetadataResolver
from shipgauge.sources.archive.metadata import merge_metadata
from shipgauge.sources.archive.paths import (
    build_url_refusal,
    key_to_archive_url,
    record_from_url,
)
from shipgauge.sources.buildhub_json import (
    build_row,
    check_legacy_record,
    parse_buildhub_json,
    records_to_store,
    validate_record,
)
from shipgauge.store import Transaction, in_text_list

# Writers of `builds` in one process take turns (`take_turn`): on DuckDB the table has no key
# index (migration 12), and a transaction does not see rows another has not committed, so two
# threads storing the same build at once (an S3 event delivered twice to `serve`) would both
# add it. Processes never overlap on a DuckDB file (engines.turns); PostgreSQL's key refuses it.
_BUILD_WRITES = threading.RLock()

__all__ = [
    "ArchiveCandidate",
    "Completion",
    "RowGroup",
    "buildhub_json_rows",
    "complete_candidates",
    "derive_candidate",
    "explain_key",
    "format_download_date",
    "insert_buildhub_json",
    "insert_groups",
    "new_rows",
    "take_turn",
]

RowGroup = list[dict[str, Any]]


@dataclass(frozen=True)
class ArchiveCandidate:
    """A build archive with its path-derived record (v1 id popped out) and S3 facts."""

    record_id: str
    record: dict[str, Any]


@dataclass
class Completion:
    """What completing candidates gave: row groups, archives still waiting, rejected ones."""

    groups: list[RowGroup] = field(default_factory=list)
    sources: list[ArchiveCandidate] = field(default_factory=list)  # the candidate of each group
    waiting: list[tuple[ArchiveCandidate, str]] = field(default_factory=list)
    rejects: list[tuple[ArchiveCandidate, str]] = field(default_factory=list)

    def reject_letters(self, source: str) -> list[tuple[str, str, str, str]]:
        """The rejected candidates as dead letters of `source` (Transaction.dead_letters)."""
        return [
            (source, c.record_id, error, json.dumps({"record_id": c.record_id, "record": c.record}))
            for c, error in self.rejects
        ]


def format_download_date(value: datetime | str) -> str:
    """v1's `download.date`: whole seconds, `Z` (`2017-06-02T12:20:10.2Z` → `…10Z`)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value[:19] + "Z"


def derive_candidate(
    key: str,
    *,
    archive_url: str,
    products: Iterable[str],
    size: int | None,
    date: datetime | str | None,
) -> ArchiveCandidate | None:
    """The candidate record of an archive key, or None when the key is not a build archive."""
    derived = explain_key(key, archive_url=archive_url, products=products)
    if isinstance(derived, str):
        return None
    if size is not None:
        derived.record["download"]["size"] = size
    if date is not None:
        derived.record["download"]["date"] = format_download_date(date)
    return derived


def explain_key(key: str, *, archive_url: str, products: Iterable[str]) -> ArchiveCandidate | str:
    """The candidate record of an archive key, or the rule that says it is not a build."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != "pub" or parts[1] not in set(products):
        return f"not under pub/<product>/ (products: {', '.join(products)})"
    url = key_to_archive_url(key, archive_url)
    refusal = build_url_refusal(parts[1], url)
    if refusal is not None:
        return refusal
    try:
        record = record_from_url(url)
    except SourceError as exc:
        return exc.message  # v1 logs and skips paths it cannot read
    record_id = record.pop("id")
    return ArchiveCandidate(record_id, record)


def complete_candidates(
    resolver: MetadataResolver,
    candidates: Sequence[ArchiveCandidate],
    *,
    origin: str,
    retry_on_notfound: bool = False,
    metadata: dict[str, Any] | None = None,
    resolved: Sequence[tuple[dict[str, Any] | None, str] | SourceError] | None = None,
) -> Completion:
    """Merge each candidate with its metadata and check it.

    The metadata is fetched, or `metadata` (one document for all), or `resolved` (what
    `MetadataResolver.resolve_all` already gave for these candidates).
    """
    done = Completion()
    found: Sequence[Any]
    if metadata is not None:
        found = [(metadata, "")] * len(candidates)
    elif resolved is not None:
        found = resolved
    else:
        found = resolver.resolve_all(
            [c.record for c in candidates], retry_on_notfound=retry_on_notfound
        )
    for candidate, outcome in zip(candidates, found, strict=True):
        if isinstance(outcome, SourceError):
            done.rejects.append((candidate, outcome.message))
            continue
        meta, waits_for = outcome
        if meta is None:
            done.waiting.append((candidate, waits_for))
            continue
        try:
            group = rows_of(candidate.record_id, merge_metadata(candidate.record, meta), origin)
        except SourceError as exc:
            done.rejects.append((candidate, exc.message))
            continue
        done.groups.append(group)
        done.sources.append(candidate)
    return done


def rows_of(record_id: str, record: dict[str, Any], origin: str) -> RowGroup:
    """The rows of one completed path-derived record (and its beta copy); SourceError if bad."""
    problem = check_legacy_record(record)
    if problem:
        raise SourceError(f"{record_id}: {problem}", field="record")
    validate_record(record, what=record_id)
    copies = records_to_store(record)
    return [
        build_row(r, origin=origin, record_id=record_id if i == 0 else None)
        for i, r in enumerate(copies)
    ]


def buildhub_json_rows(
    body: bytes,
    *,
    what: str,
    origin: str,
    s3_object_key: str | None = None,
    s3_object_etag: str | None = None,
) -> RowGroup:
    """A `buildhub.json` document, checked, as its row group: the record and its beta copy.

    SourceError (naming `what`) when it is not JSON or not a valid record: the caller keeps a
    dead letter. Callers with many documents insert their groups together (`insert_groups`).
    """
    record = parse_buildhub_json(body, key=what)
    return [
        build_row(r, origin=origin, s3_object_key=s3_object_key, s3_object_etag=s3_object_etag)
        for r in records_to_store(record)
    ]


def insert_buildhub_json(
    tx: Transaction,
    body: bytes,
    *,
    what: str,
    origin: str,
    s3_object_key: str | None = None,
    s3_object_etag: str | None = None,
) -> int:
    """Check one `buildhub.json` document and insert it with its beta copy; rows added (none
    when a record with the same hash is stored). SourceError as `buildhub_json_rows`."""
    rows = buildhub_json_rows(
        body, what=what, origin=origin, s3_object_key=s3_object_key, s3_object_etag=s3_object_etag
    )
    return insert_groups(tx, [rows])


def take_turn(tx: Transaction) -> None:
    """Wait until no other thread of this process writes builds, and keep them out until `tx`
    ends. Call it before the transaction's first read."""
    tx.hold(_BUILD_WRITES)


def insert_groups(tx: Transaction, groups: Sequence[RowGroup]) -> int:
    """Insert row groups whose record id is new (create-if-not-exists); returns rows added.
    The transaction must have taken its turn (`take_turn`)."""
    rows = [row for group in groups for row in group]
    keep = new_rows(
        tx,
        groups=[i for i, group in enumerate(groups) for _ in group],
        record_ids=[row["record_id"] for row in rows],
        hashes=[row["build_hash"] for row in rows],
    )
    fresh = [row for row, kept in zip(rows, keep, strict=True) if kept]
    tx.insert_ignore("builds", fresh)
    return len(fresh)


def new_rows(
    tx: Transaction,
    *,
    groups: Sequence[int],
    record_ids: Sequence[str | None],
    hashes: Sequence[str],
) -> list[bool]:
    """Which rows to insert, in order: a group (one record and its beta copy, adjacent rows,
    the first carrying the record id) is skipped when its record id is already stored or
    came earlier (first writer wins); a row is skipped when its build hash is known."""
    taken = _existing(tx, "record_id", [r for r in record_ids if r])
    known = _existing(tx, "build_hash", list(hashes))
    keep: list[bool] = []
    current, skipped = None, False
    for group, record_id, build_hash in zip(groups, record_ids, hashes, strict=True):
        if group != current:
            current, skipped = group, bool(record_id) and record_id in taken
            if record_id:
                taken.add(record_id)
        kept = not skipped and build_hash not in known
        if kept:
            known.add(build_hash)
        keep.append(kept)
    return keep


def _existing(tx: Transaction, column: str, values: list[str]) -> set[str]:
    if not values:
        return set()
    sql = f"SELECT {column} FROM builds WHERE {in_text_list(column)}"
    return {row[0] for row in tx.execute(sql, [values]).rows}
