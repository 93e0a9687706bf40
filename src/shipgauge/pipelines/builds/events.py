"""S3 event ingest (Buildhub2 + v1's lambda): one function for SQS, AMQP and HTTP deliveries.

`ingest_event_messages` reads a batch of raw messages and commits everything they produce
(builds, archives waiting for metadata, dead letters) in one transaction; the caller deletes
or acks the messages after it returns. Archives may arrive before or after their metadata:
an archive without metadata waits in `builds_pending` and is completed when the metadata
event lands, so both orders end with the same record (upstream.md §4.4).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from shipgauge.config import Settings
from shipgauge.connectors.amqp import AmqpConsumer, Binding, Delivery
from shipgauge.connectors.s3 import SqsQueue
from shipgauge.errors import ConfigError, NotFound, SourceError, UpstreamError
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.metadata import MetadataResolver, wait_keys_of_metadata_url
from shipgauge.pipelines.builds.records import (
    ArchiveCandidate,
    Completion,
    RowGroup,
    buildhub_json_rows,
    complete_candidates,
    derive_candidate,
    insert_groups,
    take_turn,
)
from shipgauge.sources.archive.metadata import is_nightly_build_metadata, is_rc_build_metadata
from shipgauge.sources.archive.paths import build_number, is_build_url, key_to_archive_url
from shipgauge.sources.s3.events import S3ObjectEvent, parse_s3_event_message
from shipgauge.store import Store, Transaction, in_text_list

__all__ = [
    "EVENT_SOURCE",
    "EventResult",
    "amqp_consumer",
    "consume_amqp",
    "consume_sqs",
    "ingest_event_messages",
    "ingest_into",
    "sqs_queue",
]

EVENT_SOURCE = "buildhub.s3-event"
_WAITING = in_text_list("waits_for")


@dataclass
class EventResult:
    """What a batch of event messages did."""

    messages: int = 0
    events: int = 0
    inserted: int = 0
    waiting: int = 0
    completed: int = 0
    missing: int = 0
    ignored: int = 0
    dead_letters: int = 0

    def add(self, other: EventResult) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class _Outcome:
    completion: Completion = field(default_factory=Completion)
    satisfied: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)


def ingest_event_messages(
    store: Store, connectors: BuildhubConnectors, messages: Sequence[tuple[str, bytes]]
) -> EventResult:
    """Handle `(message id, body)` pairs and commit what they produced in one transaction.

    Unreadable messages, invalid documents and upstream failures become dead letters (the
    message can then be acknowledged); an S3 404 counts as handled, as in Buildhub2.
    """
    with store.transaction() as tx:
        take_turn(tx)
        return ingest_into(tx, connectors, messages)


def ingest_into(
    tx: Transaction,
    connectors: BuildhubConnectors,
    messages: Sequence[tuple[str, bytes]],
    *,
    on_error: Literal["dead-letter", "raise"] = "dead-letter",
) -> EventResult:
    """`ingest_event_messages` inside `tx`; `on_error="raise"` stops at the first failure
    instead of keeping a dead letter (what `dead-letters retry` needs)."""
    resolver = MetadataResolver(connectors.archive)
    result = EventResult(messages=len(messages))
    documents: list[RowGroup] = []  # buildhub.json records not inserted yet, in order
    for message_id, body in messages:
        try:
            for event in parse_s3_event_message(body):
                result.events += 1
                _handle(tx, connectors, resolver, event, result, on_error, documents)
        except (SourceError, UpstreamError) as exc:
            if on_error == "raise":
                raise
            tx.dead_letter(EVENT_SOURCE, message_id, exc.message, body)
            result.dead_letters += 1
    _insert_documents(tx, documents, result)
    return result


def _handle(
    tx: Transaction,
    connectors: BuildhubConnectors,
    resolver: MetadataResolver,
    event: S3ObjectEvent,
    result: EventResult,
    on_error: str,
    documents: list[RowGroup],
) -> None:
    if not event.created:
        result.ignored += 1
    elif event.key.rsplit("/", 1)[-1].endswith("buildhub.json"):
        _read_buildhub_json(connectors, event, result, documents)
    else:
        outcome = _archive_event(connectors, resolver, event)
        if outcome is None:
            result.ignored += 1
            return
        _insert_documents(tx, documents, result)  # the records of earlier events go first
        _write(tx, resolver, outcome, result, on_error)


def _read_buildhub_json(
    connectors: BuildhubConnectors, event: S3ObjectEvent, result: EventResult, docs: list[RowGroup]
) -> None:
    bucket = event.bucket or connectors.bucket
    try:
        body = connectors.s3.get_bytes(bucket, event.key)
    except NotFound:
        result.missing += 1  # Buildhub2 logs a 404 and deletes the message
        return
    docs.append(
        buildhub_json_rows(body, what=event.key, origin="s3-event",
                           s3_object_key=event.key, s3_object_etag=event.etag)
    )  # fmt: skip


def _insert_documents(tx: Transaction, documents: list[RowGroup], result: EventResult) -> None:
    """Insert the gathered buildhub.json records together (one per document: ~8 ms each)."""
    result.inserted += insert_groups(tx, documents)
    documents.clear()


def _archive_event(
    connectors: BuildhubConnectors, resolver: MetadataResolver, event: S3ObjectEvent
) -> _Outcome | None:
    parts = event.key.split("/")
    if len(parts) < 3 or parts[0] != "pub" or parts[1] not in connectors.products:
        return None
    folder, url = parts[1], key_to_archive_url(event.key, connectors.archive.base_url)
    if is_build_url(folder, url):
        candidate = derive_candidate(
            event.key,
            archive_url=connectors.archive.base_url,
            products=connectors.products,
            size=event.size,
            date=event.event_time,
        )
        if candidate is None:
            return None
        return _Outcome(complete_candidates(resolver, [candidate], origin="s3-event"))
    if is_rc_build_metadata(folder, url):
        return _from_metadata(connectors, resolver, url, _rc_folders(resolver, url))
    if is_nightly_build_metadata(folder, url):
        return _from_metadata(connectors, resolver, url, None)
    return None


def _rc_folders(resolver: MetadataResolver, url: str) -> list[str]:
    # multi/ holds its own archive; otherwise every locale folder beside en-US/ is a repack.
    folder = url.rsplit("/", 1)[0] + "/"
    if "/multi/" in url:
        return [folder]
    platform = folder.rstrip("/").rsplit("/", 1)[0] + "/"
    listing = resolver.listing(platform, retry_on_notfound=True)
    return [platform + p for p in listing[0]] if listing else []


def _from_metadata(
    connectors: BuildhubConnectors,
    resolver: MetadataResolver,
    url: str,
    rc_folders: list[str] | None,
) -> _Outcome:
    metadata = resolver.get_json(url, retry_on_notfound=True)
    if metadata is None:
        return _Outcome()
    if rc_folders is None:
        candidates = _nightly_candidates(connectors, resolver, url, metadata)
    else:
        candidates = [c for f in rc_folders for c in _listed_candidates(connectors, resolver, f)]
        metadata = {**metadata, "buildnumber": build_number(url)}
    completion = (
        complete_candidates(resolver, candidates, origin="s3-event", metadata=metadata)
        if candidates
        else Completion()
    )
    return _Outcome(completion, [(wait_keys_of_metadata_url(url), metadata)])


def _nightly_candidates(
    connectors: BuildhubConnectors, resolver: MetadataResolver, url: str, metadata: dict[str, Any]
) -> list[ArchiveCandidate]:
    folder = url.rsplit("/", 1)[0] + "/"
    mobile = "/mobile/" in url
    marker = f".{metadata.get('moz_pkg_platform', '')}."
    own = [
        c
        for c in _listed_candidates(connectors, resolver, folder)
        if mobile or marker in c.record["download"]["url"].rsplit("/", 1)[-1]
    ][:1]
    dated = folder.rstrip("/").rsplit("/", 1)
    l10n = f"{dated[0]}/{dated[1]}-l10n/" if not dated[1].endswith("en-US") else None
    if l10n is None:  # a Fennec en-US sub-folder: its dated folder is one level up
        parent = dated[0].rsplit("/", 1)
        l10n = f"{parent[0]}/{parent[1]}-l10n/"
    repacks = [
        c
        for c in _listed_candidates(connectors, resolver, l10n)
        if mobile or marker in c.record["download"]["url"].rsplit("/", 1)[-1]
    ]
    return own + repacks


def _listed_candidates(
    connectors: BuildhubConnectors, resolver: MetadataResolver, folder: str
) -> list[ArchiveCandidate]:
    listing = resolver.listing(folder)
    if listing is None:
        return []
    base = connectors.archive.base_url + "/"
    found = []
    for item in listing[1]:
        key = (folder + item["name"]).removeprefix(base)
        candidate = derive_candidate(
            key,
            archive_url=connectors.archive.base_url,
            products=connectors.products,
            size=item.get("size"),
            date=item.get("last_modified"),
        )
        if candidate is not None:
            found.append(candidate)
    return found


def _write(
    tx: Transaction,
    resolver: MetadataResolver,
    outcome: _Outcome,
    result: EventResult,
    on_error: str,
) -> None:
    done = outcome.completion
    if done.rejects and on_error == "raise":
        raise SourceError(done.rejects[0][1], field="record")
    for keys, metadata in outcome.satisfied:
        pending = tx.execute(
            f"SELECT record_id, record FROM builds_pending WHERE {_WAITING}", [keys]
        ).rows
        waiting = [ArchiveCandidate(rid, _json(rec)) for rid, rec in pending]
        if waiting:
            late = complete_candidates(resolver, waiting, origin="s3-event", metadata=metadata)
            done.groups.extend(late.groups)
            done.rejects.extend(late.rejects)
            result.completed += len(late.groups)
        tx.execute(f"DELETE FROM builds_pending WHERE {_WAITING}", [keys])
    result.inserted += insert_groups(tx, done.groups)
    now = datetime.now(UTC)
    pending_rows = [
        {
            "download_url": c.record["download"]["url"],
            "waits_for": waits_for,
            "record_id": c.record_id,
            "record": c.record,
            "seen_at": now,
        }
        for c, waits_for in done.waiting
    ]
    tx.upsert("builds_pending", pending_rows)
    result.waiting += len(pending_rows)
    tx.dead_letters(done.reject_letters(EVENT_SOURCE))
    result.dead_letters += len(done.rejects)


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded


def consume_amqp(
    store: Store,
    connectors: BuildhubConnectors,
    consumer: AmqpConsumer,
    *,
    idle_timeout_s: float | None,
    max_messages: int | None = None,
    on_batch: Callable[[EventResult], None] | None = None,
) -> EventResult:
    """Drain bucket notifications (MinIO/Ceph → RabbitMQ); each batch is acked after commit."""
    total = EventResult()

    def handle(batch: list[Delivery]) -> None:
        done = ingest_event_messages(
            store, connectors, [(f"amqp:{d.routing_key}:{d.delivery_tag}", d.body) for d in batch]
        )
        total.add(done)
        if on_batch:
            on_batch(done)

    consumer.run(handle, idle_timeout_s=idle_timeout_s, max_messages=max_messages)
    return total


def consume_sqs(
    store: Store,
    connectors: BuildhubConnectors,
    queue: SqsQueue,
    *,
    wait_s: int = 10,
    max_polls: int | None = None,
    stop_when_empty: bool = True,
) -> EventResult:
    """Poll SQS (S3 → SNS → SQS, or S3 → SQS); messages are deleted after their commit."""
    total = EventResult()
    polls = 0
    while max_polls is None or polls < max_polls:
        polls += 1
        messages = queue.receive(wait_s=wait_s)
        if not messages:
            if stop_when_empty:
                break
            continue
        total.add(
            ingest_event_messages(store, connectors, [(m.message_id, m.body) for m in messages])
        )
        queue.delete(messages)
    return total


def amqp_consumer(settings: Settings) -> AmqpConsumer:
    """The consumer of bucket notifications (MinIO/Ceph → RabbitMQ) the settings name."""
    return AmqpConsumer(
        settings.amqp_url,
        queue=settings.buildhub_amqp_queue,
        bindings=[Binding(settings.buildhub_amqp_exchange, settings.buildhub_amqp_routing_key)],
        connect_deadline_s=settings.amqp_connect_deadline_s,
    )


def sqs_queue(settings: Settings) -> SqsQueue:
    """The SQS queue of S3 events the settings name; ConfigError when none is set."""
    if not settings.buildhub_sqs_queue_url:
        raise ConfigError(
            "set SHIPGAUGE_BUILDHUB_SQS_QUEUE_URL to consume SQS", field="buildhub_sqs_queue_url"
        )
    secret = settings.buildhub_s3_secret_access_key
    return SqsQueue(
        settings.buildhub_sqs_queue_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.buildhub_s3_region,
        access_key_id=settings.buildhub_s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
    )
