"""Kafka transport: producer, consumer and topic administration as Enlace uses them.

A thin wrapper of our own over kafka-python, so that every send is acknowledged by all in-sync
replicas without reordering or duplicates on retry, offsets are committed only on request, and
Kafka's errors become :class:`bus.TransportError`.
"""

from bus.transport._acls import AclBinding, ClusterAdmin, NewTopicSpec
from bus.transport._kafka import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS, Consumer, Producer, Topics

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "AclBinding",
    "ClusterAdmin",
    "Consumer",
    "NewTopicSpec",
    "Producer",
    "Topics",
]
