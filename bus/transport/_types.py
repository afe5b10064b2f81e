"""Enlace's own transport types: what code above ``bus/transport`` sees instead of kafka-python's."""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = ["Acknowledged", "Broker", "Headers", "Partition", "RebalanceListener", "Record"]

Headers = list[tuple[str, bytes]]


class Partition(NamedTuple):
    """One partition of a topic (hashable: a key of offset maps)."""

    topic: str
    partition: int


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


class RebalanceListener(Protocol):
    """Hears of the partitions a consumer group takes from, and gives to, this consumer.

    Both run on the Kafka client's network thread: they must not wait on Kafka themselves (a
    :meth:`Consumer.commit` inside one passes ``wait=False``).
    """

    def on_partitions_revoked(self, revoked: list[Partition]) -> None:
        """Called before the group takes ``revoked`` away (commit what was applied from them)."""

    def on_partitions_assigned(self, assigned: list[Partition]) -> None:
        """Called once the group gave this consumer ``assigned``."""
