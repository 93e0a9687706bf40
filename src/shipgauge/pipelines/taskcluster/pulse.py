"""Pulse task messages → store: `drain` (cron) and `listen` (forever), acked after commit.

One durable queue `queue/<user>/<name>` is bound to the configured Queue exchanges. Each batch
of deliveries is parsed, and its rows, dead letters and checkpoint are committed in one
transaction; the connector acks the batch only after that (upstream.md A.4 acks first; we don't).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shipgauge.config import Settings
from shipgauge.connectors.amqp import AmqpConsumer, Binding, Delivery, pulse_queue_name
from shipgauge.errors import UpstreamError
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.pipelines.taskcluster.tasks import upsert_task_rows
from shipgauge.sources.taskcluster import MessageRows, parse_message, parse_messages
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = [
    "PULSE_SOURCE",
    "PulseResult",
    "PulseWriter",
    "drain_pulse",
    "listen_pulse",
    "pulse_consumer",
    "retry_pulse_letter",
    "store_messages",
]

PULSE_SOURCE = "taskcluster.pulse"
DEFAULT_IDLE_TIMEOUT_S = 2.0
DEPTH_CHECK_EVERY_S = 5.0
MAX_BACKOFF_S = 30.0
# A DuckDB store's memory limit while consuming: without one, the blocks of every committed
# row stayed cached (peak RSS 304 MB after 50,000 messages, 633 MB after 1,000,000). tasks and
# task_runs have no key index on DuckDB (migration 9), so nothing the limit cannot evict grows
# with them (docs/taskcluster.md).
STORE_MEMORY_LIMIT = "64MB"
log = logging.getLogger(__name__)


def pulse_consumer(settings: Settings) -> AmqpConsumer:
    """The consumer of the configured queue, bound to every configured exchange."""
    return AmqpConsumer(
        settings.amqp_url,
        queue=pulse_queue_name(settings.taskcluster_pulse_user, settings.taskcluster_queue_name),
        bindings=[
            Binding(settings.taskcluster_exchange_prefix + name, settings.taskcluster_routing_key)
            for name in settings.taskcluster_exchanges
        ],
        prefetch=settings.taskcluster_prefetch,
        batch_size=settings.taskcluster_batch_size,
        declare_exchanges=settings.taskcluster_declare_exchanges,
        connect_deadline_s=settings.amqp_connect_deadline_s,
    )


@dataclass
class PulseResult:
    """What a drain or listen did; `lacking_tags` only filled when asked to track it."""

    messages: int = 0
    tasks: int = 0
    runs: int = 0
    dead_letters: int = 0
    batches: int = 0
    reconnects: int = 0
    lacking_tags: set[str] = field(default_factory=set)


class PulseWriter:
    """The batch handler: parse, then rows + dead letters + checkpoint in one transaction."""

    def __init__(
        self,
        store: Store,
        *,
        checkpoint: str,
        track_lacking_tags: bool = False,
        on_batch: Callable[[PulseResult], None] | None = None,
    ) -> None:
        self.store = store
        self.checkpoint = checkpoint
        self.track_lacking_tags = track_lacking_tags
        self.on_batch = on_batch
        self.result = PulseResult()
        # Messages handled so far, redeliveries included: progress, not an offset.
        self._handled = int(store.checkpoint(checkpoint) or 0)

    def __call__(self, deliveries: list[Delivery]) -> None:
        with self.store.transaction() as tx:
            parsed, rejected = store_messages(tx, [(d.body, d.exchange) for d in deliveries])
            tx.set_checkpoint(self.checkpoint, self._handled + len(deliveries))
        self._handled += len(deliveries)
        result = self.result
        result.messages += len(deliveries)
        result.tasks += len(parsed)
        result.runs += sum(len(p.runs) for p in parsed)
        result.dead_letters += rejected
        result.batches += 1
        if self.track_lacking_tags:
            result.lacking_tags.update(p.task["task_id"] for p in parsed if p.lacks_tags)
        if self.on_batch is not None:
            self.on_batch(result)


def store_messages(
    tx: Transaction, messages: Sequence[tuple[bytes, str]]
) -> tuple[list[MessageRows], int]:
    """Parse `(body, exchange)` messages and write their rows and dead letters in `tx`.

    Returns the parsed messages and how many became dead letters.
    """
    parsed, rejects = parse_messages(messages, submitted=datetime.now(UTC).date())
    upsert_task_rows(tx, [p.task for p in parsed], [run for p in parsed for run in p.runs])
    tx.dead_letters((PULSE_SOURCE, r.exchange, r.error, r.body) for r in rejects)
    return parsed, len(rejects)


def _consume(
    consumer: AmqpConsumer,
    writer: PulseWriter,
    *,
    idle_timeout_s: float | None,
    should_stop: Callable[[], bool],
    stop: threading.Event,
    keep_trying: bool,
) -> PulseResult:
    """`consumer.run` until it returns. A broker still away after the consumer's connect
    deadline ends a drain (`keep_trying` false); a listener tries again, with backoff."""
    # What is alive before the first batch (modules, schemas, the catalog) stays for the whole
    # process; frozen, the collector's full passes, which each batch's thousands of
    # short-lived dicts set off, no longer walk it: ~10 µs a message less (docs/taskcluster.md).
    gc.collect()
    gc.freeze()
    backoff = 1.0
    with bounded_memory(writer.store, STORE_MEMORY_LIMIT):
        while not stop.is_set():
            try:
                stats = consumer.run(writer, idle_timeout_s=idle_timeout_s, should_stop=should_stop)
            except UpstreamError as exc:
                if not keep_trying:
                    raise
                log.warning("taskcluster pulse: %s; retrying in %.0f s", exc.message, backoff)
                writer.result.reconnects += 1
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            else:
                writer.result.reconnects += stats.reconnects
                break
    return writer.result


def drain_pulse(
    *,
    store: Store,
    consumer: AmqpConsumer,
    threshold: int,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    track_lacking_tags: bool = False,
    on_batch: Callable[[PulseResult], None] | None = None,
) -> PulseResult:
    """Consume until the queue is idle, or until fewer than `threshold` messages are ready.

    The depth check (every few seconds) keeps a cron job from chasing a queue that never
    empties, as fxci-etl's drain does with its threshold of 100 (upstream.md A.4). A broker that
    stays away longer than the consumer's connect deadline ends the drain with UpstreamError.
    """
    writer = PulseWriter(
        store,
        checkpoint=f"{PULSE_SOURCE}:{consumer.queue_name}",
        track_lacking_tags=track_lacking_tags,
        on_batch=on_batch,
    )
    last_check = time.monotonic()

    def below_threshold() -> bool:
        nonlocal last_check
        if time.monotonic() - last_check < DEPTH_CHECK_EVERY_S:
            return False
        last_check = time.monotonic()
        return consumer.queue_depth() < threshold

    return _consume(
        consumer,
        writer,
        idle_timeout_s=idle_timeout_s,
        should_stop=below_threshold,
        stop=threading.Event(),
        keep_trying=False,
    )


def listen_pulse(
    *,
    store: Store,
    consumer: AmqpConsumer,
    stop: threading.Event,
    on_batch: Callable[[PulseResult], None] | None = None,
) -> PulseResult:
    """Consume until `stop` is set, however long the broker stays away."""
    writer = PulseWriter(
        store, checkpoint=f"{PULSE_SOURCE}:{consumer.queue_name}", on_batch=on_batch
    )
    return _consume(
        consumer,
        writer,
        idle_timeout_s=None,
        should_stop=stop.is_set,
        stop=stop,
        keep_trying=True,
    )


def retry_pulse_letter(tx: Transaction, letter: DeadLetter) -> None:
    """Re-read a dead-lettered message (its key is the exchange) and store its rows."""
    rows = parse_message(
        letter.payload, exchange=letter.key or "", submitted=datetime.now(UTC).date()
    )
    upsert_task_rows(tx, [rows.task], rows.runs)
