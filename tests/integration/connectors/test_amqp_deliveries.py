"""The connector's own frame reading against a real RabbitMQ: every delivery field, large and
empty bodies, headers, and the buffered transport under kombu's ordinary Consumer."""

from __future__ import annotations

import uuid

import amqp
from kombu import Consumer, Queue  # type: ignore[attr-defined]

from shipgauge.connectors.amqp import AmqpConsumer, Binding, Delivery, connection, publish


def _consumer(amqp_url: str, batch_size: int = 10) -> tuple[AmqpConsumer, str]:
    exchange = f"exchange/test/{uuid.uuid4().hex[:8]}"
    consumer = AmqpConsumer(
        amqp_url,
        queue=f"queue/tester/{uuid.uuid4().hex[:8]}",
        bindings=[Binding(exchange)],
        batch_size=batch_size,
    )
    consumer.declare()
    return consumer, exchange


def _publish_raw(amqp_url: str, exchange: str, messages: list[amqp.Message]) -> None:
    with connection(amqp_url) as conn:
        channel = conn.channel()
        for i, message in enumerate(messages):
            channel.basic_publish(message, exchange, f"key.{i}")


def test_deliveries_keep_bodies_headers_and_keys_exactly(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url, batch_size=3)
    big = bytes(range(256)) * 2000  # 512,000 bytes: several body frames
    messages = [
        amqp.Message(b'{"n": 1}', application_headers={"origin": "pulse", "n": 7}),
        amqp.Message(b""),  # no body frame at all
        amqp.Message(big, content_type="application/octet-stream"),
        amqp.Message("é".encode(), content_encoding="utf-8"),  # stays bytes
    ]
    _publish_raw(amqp_url, exchange, messages)
    seen: list[Delivery] = []
    stats = consumer.run(seen.extend, idle_timeout_s=0.5)
    assert [d.body for d in seen] == [b'{"n": 1}', b"", big, "é".encode()]
    assert seen[0].headers == {"origin": "pulse", "n": 7}
    assert [d.headers for d in seen[1:]] == [{}, {}, {}]
    assert [d.routing_key for d in seen] == ["key.0", "key.1", "key.2", "key.3"]
    assert {d.exchange for d in seen} == {exchange}
    assert [d.delivery_tag for d in seen] == [1, 2, 3, 4]
    assert not any(d.redelivered for d in seen)
    assert (stats.messages, stats.batches) == (4, 2)
    assert consumer.queue_depth() == 0


def test_max_messages_stops_inside_a_buffer_and_the_rest_stays_queued(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url, batch_size=4)
    publish(amqp_url, exchange, [("k", str(i).encode()) for i in range(10)])
    first: list[Delivery] = []
    consumer.run(first.extend, idle_timeout_s=0.5, max_messages=6)
    rest: list[Delivery] = []
    consumer.run(rest.extend, idle_timeout_s=0.5)
    assert [d.body for d in first] == [str(i).encode() for i in range(6)]
    assert [d.body for d in rest] == [str(i).encode() for i in range(6, 10)]
    assert not any(d.redelivered for d in first)


def test_kombu_consumer_over_the_buffered_transport(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url)
    bodies = [f"m{i}".encode() * 300 for i in range(50)]
    publish(amqp_url, exchange, [("k", b) for b in bodies])
    received: list[bytes] = []

    def on_message(message: object) -> None:
        received.append(message.body)  # type: ignore[attr-defined]
        message.ack()  # type: ignore[attr-defined]

    with connection(amqp_url) as conn:
        channel = conn.channel()
        queues = [Queue(consumer.queue_name, durable=True)]  # type: ignore[no-untyped-call]
        with Consumer(channel, queues=queues, on_message=on_message):  # type: ignore[no-untyped-call]
            while len(received) < len(bodies):
                conn.drain_events(timeout=5)
    assert [b if isinstance(b, bytes) else b.encode() for b in received] == bodies
    assert consumer.queue_depth() == 0
