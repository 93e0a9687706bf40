"""`telemetry consume`: Pulse hgpushes messages → pushes, changesets and hgpush pings.

A batch of messages is read, each push is fetched from the pushlog (`full=1`), every changeset
not yet pinged is classified and its ping sent, and the results are committed; only then does
the AMQP connector acknowledge the batch. With `send=False` nothing is sent or stored and
nothing is acknowledged, so every message goes back to the queue (upstream's `--no-send`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from shipgauge.config import Settings
from shipgauge.connectors.amqp import AmqpConsumer, Binding, Delivery, pulse_queue_name
from shipgauge.errors import ShipgaugeError, SourceError
from shipgauge.pipelines.pushlog import iter_pushlog, store_pushlog
from shipgauge.pipelines.telemetry.engine import ChangesetWork, PingResult, run_pings
from shipgauge.pipelines.telemetry.records import (
    PULSE_SOURCE,
    PingCounts,
    PingSink,
    sent_changesets,
)
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.sources import hg
from shipgauge.store import Store, Transaction

__all__ = ["ConsumeResult", "amqp_consumer", "consume", "fetch_push", "push_works"]

log = logging.getLogger("shipgauge.telemetry")


def amqp_consumer(settings: Settings) -> AmqpConsumer:
    """The durable queue `queue/<user>/<name>` bound to the hgpushes exchange."""
    return AmqpConsumer(
        settings.amqp_url,
        queue=pulse_queue_name(settings.telemetry_pulse_user, settings.telemetry_queue_name),
        bindings=[Binding(settings.telemetry_exchange, settings.telemetry_routing_key)],
        batch_size=settings.telemetry_batch_size,
        declare_exchanges=settings.telemetry_declare_exchange,
        connect_deadline_s=settings.amqp_connect_deadline_s,
    )


@dataclass
class ConsumeResult:
    """What a consume run read and did."""

    messages: int = 0
    pushes: int = 0
    skipped: int = 0
    dead_letters: int = 0
    pings: PingCounts = field(default_factory=PingCounts)


def fetch_push(services: TelemetryServices, repo: str, push_id: int) -> hg.Pushlog:
    """One push with its full changesets: `json-pushes?startID={id-1}&endID={id}`."""
    page = next(iter_pushlog(services.pushlog, repo=repo, start_id=push_id - 1, end_id=push_id))
    if page.pushlog is None:
        raise SourceError(f"pushlog of {repo} push {push_id}: {page.error}")
    if not any(p.push_id == push_id for p in page.pushlog.pushes):
        raise SourceError(f"pushlog of {repo} has no push {push_id}")
    return page.pushlog


def push_works(message: hg.PushMessage, pushlog: hg.Pushlog) -> Iterator[ChangesetWork]:
    """The changesets of a fetched push, reported under the message's `repo_url` (as upstream)."""
    dates = {p.push_id: int(p.pushed_at.timestamp()) for p in pushlog.pushes}
    for cs in pushlog.changesets:
        yield ChangesetWork(cs.repo, message.repo_url, cs.node, cs.push_id, dates.get(cs.push_id))


def _read(delivery: Delivery, result: ConsumeResult) -> hg.PushMessage | None:
    message = hg.parse_push_message(delivery.body)
    if message.type != hg.CHANGEGROUP or len(message.pushes) != 1:
        # hgmo sends 0 pushes only for special repositories; more than 1 should not happen
        level = logging.WARNING if len(message.pushes) > 1 else logging.INFO
        repo = message.repo_url or "?"
        log.log(
            level, "skipped %s message of %s: %d pushes", message.type, repo, len(message.pushes)
        )
        result.skipped += 1
        return None
    return message


def consume(
    *,
    store: Store,
    services: TelemetryServices,
    consumer: AmqpConsumer,
    send: bool = True,
    on_result: Callable[[PingResult], None] | None = None,
    idle_timeout_s: float | None = 2.0,
    max_messages: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ConsumeResult:
    """Consume until the queue is idle for `idle_timeout_s` (None: until `should_stop`)."""
    result = ConsumeResult()
    services.bugzilla.preload(store)

    def handle(batch: list[Delivery]) -> None:
        result.messages += len(batch)
        letters: list[tuple[str, str, bytes]] = []
        wanted: list[tuple[hg.PushMessage, bytes]] = []
        for delivery in batch:
            try:
                message = _read(delivery, result)
            except SourceError as exc:
                log.warning("dead-lettered a %s message: %s", delivery.exchange, exc.message)
                letters.append((delivery.routing_key, exc.message, delivery.body))
                continue
            if message is not None:
                wanted.append((message, delivery.body))
        fetched = _fetch_pushes(services, wanted, letters)
        result.pushes += len(fetched)
        works = [w for message, pushlog in fetched for w in push_works(message, pushlog)]
        sink = PingSink(
            store=store if send else None,
            bugzilla=services.bugzilla,
            on_result=on_result,
            counts=result.pings,
        )
        if send:
            with store.transaction() as tx:
                _store_batch(tx, fetched, letters)
            result.dead_letters += len(letters)
            works = _unsent(store, works)
        run_pings(services, works, sink, send=send)
        sink.flush()

    consumer.run(
        handle,
        idle_timeout_s=idle_timeout_s,
        max_messages=max_messages,
        ack=send,
        should_stop=should_stop,
    )
    return result


def _fetch_pushes(
    services: TelemetryServices,
    wanted: list[tuple[hg.PushMessage, bytes]],
    letters: list[tuple[str, str, bytes]],
) -> list[tuple[hg.PushMessage, hg.Pushlog]]:
    """The pushlog of each wanted (message, body), fetched on the pushlog connector's threads;
    a push that cannot be fetched is logged and added to `letters` under `repo:push_id`."""

    def fetch(item: tuple[hg.PushMessage, bytes]) -> hg.Pushlog | ShipgaugeError:
        message = item[0]
        try:
            return fetch_push(services, message.repo, message.pushes[0].push_id)
        except ShipgaugeError as exc:
            return exc

    fetched: list[tuple[hg.PushMessage, hg.Pushlog]] = []
    for (message, body), got in zip(wanted, services.pushlog.map(fetch, wanted), strict=True):
        if isinstance(got, ShipgaugeError):
            key = f"{message.repo}:{message.pushes[0].push_id}"
            log.warning("dead-lettered push %s: %s", key, got.message)
            letters.append((key, got.message, body))
        else:
            fetched.append((message, got))
    return fetched


def _store_batch(
    tx: Transaction,
    fetched: list[tuple[hg.PushMessage, hg.Pushlog]],
    letters: list[tuple[str, str, bytes]],
) -> None:
    for _, pushlog in fetched:
        store_pushlog(tx, pushlog)
    for key, error, body in letters:
        tx.dead_letter(PULSE_SOURCE, key, error, body)


def _unsent(store: Store, works: list[ChangesetWork]) -> list[ChangesetWork]:
    by_repo: dict[str, list[str]] = {}
    for w in works:
        by_repo.setdefault(w.repo, []).append(w.node)
    sent = {
        (repo, n) for repo, nodes in by_repo.items() for n in sent_changesets(store, repo, nodes)
    }
    return [w for w in works if (w.repo, w.node) not in sent]
