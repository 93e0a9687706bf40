"""AMQP consumer (kombu): durable queues bound to topic exchanges, consumed in batches.

The contract every queue consumer of shipgauge keeps: a batch is handed to a callback that
commits it (rows, dead letters and checkpoint in one transaction); only after that callback
returns are the messages acknowledged, with one `basic.ack(multiple=True)`. If the connection
drops mid-batch, nothing was acked, the broker redelivers, and the idempotent writes absorb the
replay. Pulse (Mozilla's RabbitMQ) names queues `queue/<user>/<name>`; see `pulse_queue_name`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import amqp.exceptions
import amqp.serialization
import amqp.transport
from kombu import Connection, Exchange, Queue, binding  # type: ignore[attr-defined]

from shipgauge.connectors.amqp.transport import (
    CONNECTION_ERRORS,
    Delivery,
    DeliveryReader,
    connection,
    leave_unacked,
)
from shipgauge.errors import UpstreamError

__all__ = [
    "DEFAULT_CONNECT_DEADLINE_S",
    "AmqpConsumer",
    "Binding",
    "BrokerUnreachable",
    "ConsumeStats",
    "publish",
    "pulse_queue_name",
]

DEFAULT_PREFETCH = 200
DEFAULT_BATCH_SIZE = 200
DEFAULT_IDLE_TIMEOUT_S = 2.0


DEFAULT_CONNECT_DEADLINE_S = 120.0
_FIRST_PAUSE_S = 0.2
_MAX_PAUSE_S = 5.0


class BrokerUnreachable(UpstreamError):
    """The broker accepted no connection within the deadline (down, restarting, wrong URL)."""


def pulse_queue_name(user: str, name: str) -> str:
    """Pulse only lets a user consume queues named `queue/<user>/<name>`."""
    return f"queue/{user}/{name}"


@dataclass(frozen=True)
class Binding:
    """A queue binding: messages of `exchange` whose routing key matches `routing_key`."""

    exchange: str
    routing_key: str = "#"
    exchange_type: str = "topic"


@dataclass
class ConsumeStats:
    """What a consume run did: messages handed over, batches committed, reconnects made."""

    messages: int = 0
    batches: int = 0
    reconnects: int = 0


BatchHandler = Callable[[list[Delivery]], None]


class AmqpConsumer:
    """Consume `queue` (declared durable, bound to `bindings`) in batches; ack after commit."""

    def __init__(
        self,
        url: str,
        *,
        queue: str,
        bindings: Sequence[Binding],
        prefetch: int = DEFAULT_PREFETCH,
        batch_size: int = DEFAULT_BATCH_SIZE,
        declare_exchanges: bool = True,
        max_reconnects: int = 10,
        connect_deadline_s: float = DEFAULT_CONNECT_DEADLINE_S,
    ) -> None:
        self.url = url
        self.queue_name = queue
        self.bindings = list(bindings)
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.declare_exchanges = declare_exchanges
        self.max_reconnects = max_reconnects
        self.connect_deadline_s = connect_deadline_s

    def _queue(self) -> Queue:
        bindings = [
            binding(
                Exchange(
                    b.exchange,
                    type=b.exchange_type,
                    durable=True,
                    passive=not self.declare_exchanges,
                ),
                routing_key=b.routing_key,
            )
            for b in self.bindings
        ]
        return Queue(self.queue_name, bindings=bindings, durable=True, auto_delete=False)

    def _connect(self) -> Connection:
        """A connection, trying with backoff for `connect_deadline_s`, then BrokerUnreachable.

        The one place a consumer waits for its broker: a first connection, a reconnect after a
        drop and the depth checks of a drain all give up after the same documented deadline.
        """
        give_up_at = time.monotonic() + self.connect_deadline_s
        pause = _FIRST_PAUSE_S
        while True:
            left = give_up_at - time.monotonic()
            conn = connection(self.url, heartbeat=30, connect_timeout=max(0.1, min(10.0, left)))
            try:
                conn.ensure_connection(max_retries=0)
                return conn
            except CONNECTION_ERRORS as exc:
                conn.release()
                left = give_up_at - time.monotonic()
                if left <= 0:
                    raise BrokerUnreachable(
                        f"AMQP broker {_safe(self.url)} unreachable for "
                        f"{self.connect_deadline_s:g} s (amqp_connect_deadline_s): {exc}"
                    ) from None
                time.sleep(min(pause, left))
                pause = min(pause * 2, _MAX_PAUSE_S)

    def declare(self) -> None:
        """Declare the queue and its bindings (so messages published from now on are kept)."""
        conn = self._connect()
        try:
            for b in self._queue().bindings:
                b.exchange(conn.channel()).declare()
            self._queue()(conn.channel()).declare()
        finally:
            conn.release()

    def queue_depth(self) -> int:
        """Messages ready in the queue now (0 if it does not exist yet)."""
        conn = self._connect()
        try:
            channel = conn.channel()
            try:
                _, count, _ = channel.queue_declare(self.queue_name, passive=True)
            except amqp.exceptions.NotFound:
                return 0
            return int(count)
        finally:
            conn.release()

    def run(
        self,
        handle: BatchHandler,
        *,
        idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S,
        max_messages: int | None = None,
        ack: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ConsumeStats:
        """Consume until idle for `idle_timeout_s` (None: forever), `max_messages`, or stop.

        `handle` must commit what it was given before returning. With `ack=False` nothing is
        acknowledged: closing the channel returns every message to the queue (`--no-send`).
        """
        stats = ConsumeStats()
        while True:
            try:
                self._consume(handle, stats, idle_timeout_s, max_messages, ack, should_stop)
                return stats
            except CONNECTION_ERRORS as exc:  # a drop: `_connect` waits for the broker
                stats.reconnects += 1
                if stats.reconnects > self.max_reconnects:
                    raise UpstreamError(
                        f"AMQP broker {_safe(self.url)}: gave up after "
                        f"{self.max_reconnects} reconnects: {exc}"
                    ) from None

    def _consume(
        self,
        handle: BatchHandler,
        stats: ConsumeStats,
        idle_timeout_s: float | None,
        max_messages: int | None,
        ack: bool,
        should_stop: Callable[[], bool],
    ) -> None:
        conn = self._connect()
        pending: list[Delivery] = []
        reader: DeliveryReader | None = None
        try:
            channel = conn.channel()
            # Without acks the broker would stop at `prefetch` unacked messages: lift the cap.
            channel.basic_qos(0, self.prefetch if ack else 0, False)
            self._queue()(channel).declare()

            def flush() -> None:
                if not pending:
                    return
                handle(list(pending))  # commits; raises if it could not
                if ack:
                    channel.basic_ack(pending[-1].delivery_tag, multiple=True)
                stats.messages += len(pending)
                stats.batches += 1
                pending.clear()

            reader = DeliveryReader(conn.connection, channel.channel_id, pending.append)
            # Deliveries come through `reader`. py-amqp sees only those still buffered when the
            # channel closes: left unacked, the broker queues them again.
            channel.basic_consume(self.queue_name, callback=leave_unacked)
            idle_since = time.monotonic()
            while not should_stop():
                room = self.batch_size - len(pending)
                if max_messages is not None:
                    room = min(room, max_messages - stats.messages - len(pending))
                    if room <= 0:
                        break
                try:
                    reader.drain(0.2, room)
                    idle_since = time.monotonic()
                except TimeoutError:
                    conn.heartbeat_check()
                    flush()
                    if idle_timeout_s is not None and (
                        time.monotonic() - idle_since >= idle_timeout_s
                    ):
                        break
                    continue
                if len(pending) >= self.batch_size:
                    flush()
            flush()
        finally:
            if reader is not None and reader.mid_delivery:
                conn.collect()  # no closing handshake: py-amqp would read half a delivery
            else:
                conn.release()


def publish(
    url: str,
    exchange: str,
    messages: Iterable[tuple[str, bytes]],
    *,
    exchange_type: str = "topic",
    content_type: str = "application/json",
) -> int:
    """Publish persistent `(routing_key, body)` messages on one connection; returns the count.

    For tests, demos and replaying recorded Pulse traffic into a local broker.
    """
    count = 0
    # py-amqp's default 1 s socket timeouts drop a publisher that the broker throttles.
    timeouts = {"read_timeout": 30, "write_timeout": 30}
    with Connection(url, connect_timeout=10, transport_options=timeouts) as conn:
        ex = Exchange(exchange, type=exchange_type, durable=True)
        producer = conn.Producer()
        ex(producer.channel).declare()
        for routing_key, body in messages:
            producer.publish(
                body,
                exchange=ex,
                routing_key=routing_key,
                content_type=content_type,
                content_encoding="utf-8",
                delivery_mode=2,
            )
            count += 1
    return count


def _safe(url: str) -> str:
    # Never print a broker password.
    head, sep, tail = url.rpartition("@")
    return f"{head.split('://')[0]}://***@{tail}" if sep else url
