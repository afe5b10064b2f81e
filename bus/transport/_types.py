"""Enlace's own transport types: what code above ``bus/transport`` sees instead of kafka-python's."""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = [
    "Acknowledged",
    "Broker",
    "Headers",
    "Partition",
    "RebalanceListener",
    "Record",
    "TopicIdentity",
    "UnreadableRecord",
]

# A NULL header value (None) is valid in Kafka, and another client may send one.
Headers = list[tuple[str, bytes | None]]


class Partition(NamedTuple):
    """One partition of a topic (hashable: a key of offset maps)."""

    topic: str
    partition: int


class TopicIdentity(NamedTuple):
    """Which cluster and which incarnation of a topic a record came from.

    A name is not an identity: a cluster replaced under the same address, or a topic deleted and
    created again under the same name, starts its offsets again. Kafka gives each cluster an id and
    each topic a UUID (KIP-516) that change with them.

    Attributes:
        cluster_id: the cluster's id from its metadata ("" when the broker gives none).
        topic_id: the topic's id from Metadata v10+ ("" when the broker gives none).
    """

    cluster_id: str
    topic_id: str


class Acknowledged(NamedTuple):
    """Where the broker stored a record it acknowledged."""

    topic: str
    partition: int
    offset: int


class Broker(NamedTuple):
    """One broker in the cluster's metadata."""

    node_id: int
    host: str
    port: int
    fenced: bool


class Record:
    """One record as received from Kafka.

    Made for every record a consumer reads, so it holds references only (no copies, no parsing).

    Attributes:
        topic, partition, offset: where it was read.
        key, value: its bytes (None for a null key or a tombstone).
        headers: ``(name, value)`` pairs in the order they were sent.
        timestamp_ms: the record's Kafka timestamp, milliseconds since the epoch.
    """

    __slots__ = ("headers", "key", "offset", "partition", "timestamp_ms", "topic", "value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        timestamp_ms: int,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp_ms = timestamp_ms

    def __repr__(self) -> str:
        return f"Record({self.topic}[{self.partition}]@{self.offset})"


class UnreadableRecord(Record):
    """A position the Kafka client could not parse into a record, skipped so the consumer goes on.

    A record whose header name is not UTF-8 (another client can write one; the Java client decodes it
    leniently, kafka-python cannot) or whose batch is corrupt stops kafka-python at that offset for
    good. The consumer moves past it and hands this in its place: no key, value or headers, only where
    it was and why. Records sharing its batch after it are reported the same way, one by one, since
    the client cannot read the rest of that batch either.

    Attributes:
        problem: what the client could not read (no record contents).
    """

    __slots__ = ("problem",)

    def __init__(self, topic: str, partition: int, offset: int, problem: str) -> None:
        super().__init__(topic, partition, offset, None, None, [], -1)
        self.problem = problem

    def __repr__(self) -> str:
        return f"UnreadableRecord({self.topic}[{self.partition}]@{self.offset})"


class RebalanceListener(Protocol):
    """Hears of the partitions a consumer group takes from, and gives to, this consumer.

    Both run on the Kafka client's network thread: they must not wait on Kafka themselves (a
    :meth:`Consumer.commit` inside one passes ``wait=False``). Over librdkafka
    (``ENLACE_KAFKA_CLIENT=confluent``) they run inside :meth:`Consumer.poll`, on its caller's thread,
    and such a commit is waited for all the same.
    """

    def on_partitions_revoked(self, revoked: list[Partition]) -> None:
        """Called before the group takes ``revoked`` away (commit what was applied from them)."""

    def on_partitions_assigned(self, assigned: list[Partition]) -> None:
        """Called once the group gave this consumer ``assigned``."""
