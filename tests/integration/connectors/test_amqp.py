"""The AMQP connector against a real RabbitMQ: batches, ack after commit, requeue without ack."""

from __future__ import annotations

import uuid

import pytest

from shipgauge.connectors.amqp import AmqpConsumer, Binding, Delivery, publish, pulse_queue_name


def _consumer(amqp_url: str, **kwargs: object) -> tuple[AmqpConsumer, str]:
    exchange = f"exchange/test/{uuid.uuid4().hex[:8]}"
    consumer = AmqpConsumer(
        amqp_url,
        queue=pulse_queue_name("tester", uuid.uuid4().hex[:8]),
        bindings=[Binding(exchange, "primary.#")],
        batch_size=10,
        **kwargs,  # type: ignore[arg-type]
    )
    consumer.declare()
    return consumer, exchange


def test_run_hands_batches_and_acks_after_handler(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url)
    bodies = [f'{{"n": {i}}}'.encode() for i in range(25)]
    publish(amqp_url, exchange, [("primary.a.b", b) for b in bodies])
    publish(amqp_url, exchange, [("other.key", b"not bound")])
    seen: list[Delivery] = []
    stats = consumer.run(seen.extend, idle_timeout_s=0.5)
    assert [d.body for d in seen] == bodies
    assert {d.routing_key for d in seen} == {"primary.a.b"}
    assert seen[0].exchange == exchange
    assert (stats.messages, stats.batches) == (25, 3)
    assert consumer.queue_depth() == 0


def test_run_does_not_ack_when_handler_fails(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url)
    publish(amqp_url, exchange, [("primary.x", b"1"), ("primary.x", b"2")])

    def failing(_: list[Delivery]) -> None:
        raise RuntimeError("commit failed")

    with pytest.raises(RuntimeError):
        consumer.run(failing, idle_timeout_s=0.5)
    assert consumer.queue_depth() == 2  # both back in the queue
    again: list[Delivery] = []
    consumer.run(again.extend, idle_timeout_s=0.5)
    assert [d.body for d in again] == [b"1", b"2"]
    assert all(d.redelivered for d in again)


def test_run_without_ack_leaves_every_message_queued(amqp_url: str) -> None:
    consumer, exchange = _consumer(amqp_url, prefetch=5)
    publish(amqp_url, exchange, [("primary.x", str(i).encode()) for i in range(30)])
    seen: list[Delivery] = []
    stats = consumer.run(seen.extend, idle_timeout_s=0.5, ack=False)
    assert stats.messages == 30  # prefetch does not stall an unacked run
    assert consumer.queue_depth() == 30
