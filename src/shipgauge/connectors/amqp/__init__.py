"""AMQP connector: the fast frame transport (`transport`) and the batch consumer (`consumer`)."""

from shipgauge.connectors.amqp.consumer import (
    AmqpConsumer,
    Binding,
    BrokerUnreachable,
    ConsumeStats,
    publish,
    pulse_queue_name,
)
from shipgauge.connectors.amqp.transport import BufferedTransport, Delivery, connection

__all__ = [
    "AmqpConsumer",
    "Binding",
    "BrokerUnreachable",
    "BufferedTransport",
    "ConsumeStats",
    "Delivery",
    "connection",
    "publish",
    "pulse_queue_name",
]
