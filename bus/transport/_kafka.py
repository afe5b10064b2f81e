"""A thin layer over kafka-python: the producer and consumer settings Enlace relies on, and errors
turned into TransportError."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError, TopicAlreadyExistsError
from kafka.producer.future import FutureRecordMetadata
from kafka.structs import OffsetAndMetadata

from bus._errors import TransportError

__all__ = ["CONSUMER_DEFAULTS", "PRODUCER_DEFAULTS", "Consumer", "Producer", "Topics"]

Headers = Sequence[tuple[str, bytes]]
_log = logging.getLogger(__name__)

# acks=all: a record is acknowledged only once every in-sync replica has it. Idempotence (a producer
# id and per-partition sequence numbers, KIP-98) lets the broker drop a retried batch it already has
# and keeps order with up to 5 requests in flight; kafka-python 3.x supports it against Kafka 4.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "delivery_timeout_ms": 120_000,
}

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,  # offsets are committed by the caller, after its handler succeeded
    "auto_offset_reset": "earliest",
    "max_poll_records": 500,
    "isolation_level": "read_committed",
}


class Producer:
    """Sends bytes with headers; every send is acknowledged by all in-sync replicas.

    Args:
        bootstrap_servers: the Kafka cluster.
        **overrides: kafka-python producer settings replacing :data:`PRODUCER_DEFAULTS`.
    """

    def __init__(self, bootstrap_servers: str, **overrides: Any) -> None:
        config = {**PRODUCER_DEFAULTS, **overrides}
        try:
            self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers, **config)
        except KafkaError as exc:
            raise TransportError(f"cannot connect a producer to {bootstrap_servers}: {exc}", retriable=True) from exc
        self.max_request_size: int = config.get("max_request_size", 1_048_576)

    def send(self, topic: str, *, key: bytes | None, value: bytes | None, headers: Headers) -> FutureRecordMetadata:
        """Queue one record; the returned future resolves to its metadata (partition, offset).

        Raises:
            TransportError: the record is too large for the producer, or the send buffer stayed full.
        """
        try:
            return self._producer.send(topic, key=key, value=value, headers=list(headers))
        except MessageSizeTooLargeError as exc:
            raise TransportError(f"record for {topic} is too large: {exc}", topic=topic) from exc
        except KafkaTimeoutError as exc:
            raise TransportError(f"cannot send to {topic}: {exc}", retriable=True, topic=topic) from exc

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued record is acknowledged or failed."""
        try:
            self._producer.flush(timeout=timeout)
        except KafkaTimeoutError as exc:
            raise TransportError(f"records not acknowledged within {timeout}s", retriable=True) from exc

    def idempotent(self) -> bool:
        """Whether the broker gave this producer an id, i.e. idempotence is really in effect."""
        manager = getattr(self._producer, "_transaction_manager", None)
        return manager is not None and manager.producer_id_and_epoch.producer_id >= 0

    def close(self, timeout: float | None = 10) -> None:
        """Flush and close."""
        self._producer.close(timeout=timeout)


class Consumer:
    """A consumer in a group that never commits on its own.

    Args:
        bootstrap_servers: the Kafka cluster.
        group: the consumer group.
        **overrides: kafka-python consumer settings replacing :data:`CONSUMER_DEFAULTS`.
    """

    def __init__(self, bootstrap_servers: str, *, group: str | None, **overrides: Any) -> None:
        config = {**CONSUMER_DEFAULTS, **overrides}
        try:
            self._consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, **config)
        except KafkaError as exc:
            raise TransportError(f"cannot connect a consumer to {bootstrap_servers}: {exc}", retriable=True) from exc
        self.max_poll_records: int = config["max_poll_records"]

    def subscribe(self, topics: Iterable[str], listener: Any = None) -> None:
        """Join the group for ``topics``; ``listener`` (a kafka-python ConsumerRebalanceListener) hears
        of partitions revoked and assigned."""
        self._consumer.subscribe(list(topics), listener=listener)

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        self._consumer.assign(list(partitions))

    def assigned(self) -> bool:
        """Whether the group gave this consumer any partition yet."""
        return bool(self._consumer.assignment())

    def seek_to_beginning(self) -> None:
        self._consumer.seek_to_beginning()

    def partitions_for(self, topic: str) -> list[TopicPartition]:
        """The topic's partitions (empty when the topic does not exist)."""
        return [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]

    def end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._consumer.end_offsets(list(partitions))

    def position(self, partition: TopicPartition) -> int:
        return self._consumer.position(partition)

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[ConsumerRecord]:
        """The next records, partition by partition in offset order."""
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        return [record for batch in batches.values() for record in batch]

    def commit(self, next_offsets: dict[TopicPartition, int], *, wait: bool = True) -> None:
        """Commit, for each partition, the offset of the next record to read.

        Args:
            next_offsets: the offsets to commit.
            wait: block until the group coordinator answers; false sends the commit and returns (the
                only form allowed inside a rebalance listener, which runs on kafka-python's I/O thread).
                A failed unwaited commit is logged; its records will be redelivered.

        Raises:
            TransportError: the commit failed (e.g. the group rebalanced); the records will be redelivered.
        """
        if not next_offsets:
            return
        offsets = {tp: OffsetAndMetadata(off, "", -1) for tp, off in next_offsets.items()}
        try:
            if wait:
                self._consumer.commit(offsets)
            else:
                self._consumer.commit_async(offsets, callback=_log_failed_commit)
        except KafkaError as exc:
            raise TransportError(f"offset commit failed: {exc}", retriable=True) from exc

    def close(self) -> None:
        self._consumer.close(autocommit=False)


class Topics:
    """Topic administration the bus needs: create if missing, read size limits.

    Args:
        bootstrap_servers: the Kafka cluster.
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()
        self._max_bytes: dict[str, int] = {}

    def _client(self) -> KafkaAdminClient:
        if self._admin is None:
            try:
                self._admin = KafkaAdminClient(bootstrap_servers=self._bootstrap)
            except KafkaError as exc:
                raise TransportError(f"cannot reach {self._bootstrap}: {exc}", retriable=True) from exc
        return self._admin

    def ensure(self, name: str, *, partitions: int = -1, compacted: bool = False, **configs: str) -> None:
        """Create topic ``name`` unless it exists (partitions and replication: broker defaults)."""
        if compacted:
            configs["cleanup.policy"] = "compact"
        spec = {name: {"num_partitions": partitions, "replication_factor": -1, "configs": configs}}
        with self._lock:
            try:
                self._client().create_topics(spec, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass
            except KafkaError as exc:
                raise TransportError(f"cannot create topic {name}: {exc}", topic=name) from exc

    def max_message_bytes(self, topic: str) -> int | None:
        """The topic's ``max.message.bytes`` (cached), or None when the topic does not exist yet."""
        if topic in self._max_bytes:
            return self._max_bytes[topic]
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, ["max.message.bytes"])
        with self._lock:
            try:
                described = self._client().describe_configs([resource], config_filter="all")
            except KafkaError:
                return None  # unknown topic: the broker default applies once it is auto-created
        entry = described.get("topic", {}).get(topic, {}).get("max.message.bytes")
        if not entry or entry.get("value") is None:
            return None
        self._max_bytes[topic] = int(entry["value"])
        return self._max_bytes[topic]

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def _log_failed_commit(offsets: dict[TopicPartition, OffsetAndMetadata], response: Any) -> None:
    if isinstance(response, Exception):
        _log.warning("offset commit of %s failed, its records will be redelivered: %s", sorted(offsets), response)
