"""The Kafka clients Enlace uses, over kafka-python: every one made from a :class:`KafkaClientConfig`.

Enlace's types go in and out (:class:`Partition`, :class:`Record`, :class:`SendFuture`,
:class:`Acknowledged`); kafka-python's errors come out as :class:`bus.TransportError` (with
``retriable`` from the Kafka error) or, for a client that cannot be configured, :class:`bus.ConfigError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.consumer.fetcher import Fetcher
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (
    ClusterAuthorizationFailedError,
    CorruptRecordError,
    GroupAuthorizationFailedError,
    KafkaConfigurationError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailedError,
    UnsupportedCodecError,
)
from kafka.producer.future import FutureRecordMetadata
from kafka.structs import OffsetAndMetadata

from bus._errors import AccessDenied, ConfigError, TransportError
from bus.transport._config import KafkaClientConfig, check_consumer_config, check_producer_config
from bus.transport._types import (
    Acknowledged,
    Broker,
    Partition,
    RebalanceListener,
    Record,
    TopicIdentity,
    UnreadableRecord,
)

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "Consumer",
    "Producer",
    "SendFuture",
    "SendReceiver",
    "Topics",
    "TransactionalProducer",
    "answers_sends",
]

_SentHeaders = Sequence[tuple[str, bytes | None]]  # any sequence; a received Record's are a list
Kafka = KafkaClientConfig | str
_log = logging.getLogger(__name__)

# acks=all: a record is acknowledged only once every in-sync replica has it. Idempotence (a producer
# id and per-partition sequence numbers, KIP-98) lets the broker drop a retried batch it already has
# and keeps order with up to 5 requests in flight; kafka-python 3.x supports it against Kafka 4.
# Batches of 256 KiB (~450 signed CaseOpened records, against 29 in kafka-python's 16 KiB) compressed
# with lz4: measured with ops.bench.pipeline --records 10000, three interleaved runs on 2 shared cores
# (2026-12-03), median records/s together, against 16 KiB uncompressed: the connector signed (c)
# 1.64x (2,839 against 1,732), unsigned (b) 1.68x, raw kafka-python 1.80x; zstd and 1 MiB batches did
# no better, uncompressed 256 KiB batches 1.42x. A burst fills the batch; a lone record still waits at
# most the linger, which stays 5 ms (latency). A batch over a topic's max.message.bytes is split and
# retried by kafka-python (the size check per record is the connector's). Every consumer needs lz4 to
# read them: a declared dependency (kafka-python[lz4]).
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "delivery_timeout_ms": 120_000,
    "batch_size": 256 * 1024,
    "compression_type": "lz4",
}

# Fetch sizes stay kafka-python's: a partition's fetch (max_partition_fetch_bytes, 1 MiB) already holds
# ~1,800 records, more than a poll takes (500), and 4 MiB fetches measured no better (one run, 0.60x
# the signed pipeline's median, within the noise); fetch_min_bytes above 1 would make a consumer wait
# for more bytes (up to fetch_max_wait_ms) when traffic is light, a latency cost.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,  # offsets are committed by the caller, after its handler succeeded
    "auto_offset_reset": "earliest",
    "max_poll_records": 500,
    "isolation_level": "read_committed",
}


def _failure(
    message: str,
    exc: BaseException,
    *,
    principal: str | None = None,
    right: str | None = None,
    group: str | None = None,
    **where: Any,
) -> TransportError:
    """Kafka's error as Enlace's; an authorization refusal names the principal, the resource and the right."""
    who = principal or "ANONYMOUS"
    if isinstance(exc, GroupAuthorizationFailedError):
        return AccessDenied(principal=who, resource=f"consumer group {group or '?'}", right="READ")
    if isinstance(exc, TransactionalIdAuthorizationFailedError):
        return AccessDenied(principal=who, resource="its transactional id", right="WRITE")
    if isinstance(exc, ClusterAuthorizationFailedError):
        return AccessDenied(principal=who, resource="the cluster", right=right or "IDEMPOTENT_WRITE")
    if isinstance(exc, TopicAuthorizationFailedError):
        topic = where.get("topic")
        return AccessDenied(principal=who, resource=f"topic {topic or '?'}", right=right or "DESCRIBE", topic=topic)
    return TransportError(f"{message}: {exc}", retriable=bool(getattr(exc, "retriable", False)), **where)


def _principal(client: KafkaClientConfig) -> str:
    return client.sasl_username or "ANONYMOUS"


def _tp(partition: Partition) -> TopicPartition:
    return TopicPartition(partition.topic, partition.partition)


def _offsets(by_tp: dict[Any, Any]) -> dict[Partition, int]:
    return {Partition(tp.topic, tp.partition): int(offset) for tp, offset in by_tp.items()}


class SendFuture:
    """The broker's answer to one send: an :class:`Acknowledged`, or a :class:`bus.TransportError`."""

    __slots__ = ("_future", "principal", "topic")

    def __init__(self, future: FutureRecordMetadata, topic: str, principal: str | None = None) -> None:
        self._future, self.topic, self.principal = future, topic, principal

    def get(self, timeout: float | None = None) -> Acknowledged:
        """Wait for the answer.

        Raises:
            TransportError: the broker refused the record, or did not answer within ``timeout``
                (retriable).
        """
        try:
            meta = self._future.get(timeout=timeout)
        except KafkaTimeoutError as exc:
            raise TransportError(
                f"{self.topic} did not answer within {timeout}s", retriable=True, topic=self.topic
            ) from exc
        except KafkaError as exc:
            raise _failure(
                f"{self.topic} refused the record", exc, principal=self.principal, right="WRITE", topic=self.topic
            ) from exc
        return Acknowledged(meta.topic, meta.partition, meta.offset)

    def add_callback(self, callback: Callable[[Acknowledged], Any]) -> SendFuture:
        """Call ``callback(acknowledged)`` on success (at once if already done), on the client's thread."""
        self._future.add_callback(_acknowledged, callback)
        return self

    def add_errback(self, errback: Callable[[TransportError], Any]) -> SendFuture:
        """Call ``errback(error)`` on failure (at once if already done), on the client's thread."""
        self._future.add_errback(_refused, errback, self.topic, self.principal)
        return self

    def notify(self, receiver: SendReceiver) -> SendFuture:
        """Tell ``receiver`` the answer: ``receiver.acknowledged(acknowledged)`` or ``receiver.failed(error)``.

        The same as :meth:`add_callback` and :meth:`add_errback` with the two methods, for less: a
        burst keeps many records waiting for their answer, each with what was registered for it
        (one relay here, not two callbacks with their bound arguments).
        """
        relay = _Relay(receiver, self.topic, self.principal)
        self._future.add_callback(relay)
        self._future.add_errback(relay.refused)
        return self


class SendReceiver(Protocol):
    """What :meth:`SendFuture.notify` tells the broker's answer to (on the client's thread)."""

    def acknowledged(self, meta: Acknowledged) -> None: ...

    def failed(self, exc: TransportError) -> None: ...


class _Relay:
    """kafka-python's answer to one send, passed on to a :class:`SendReceiver` in Enlace's types."""

    __slots__ = ("principal", "receiver", "topic")

    def __init__(self, receiver: SendReceiver, topic: str, principal: str | None) -> None:
        self.receiver, self.topic, self.principal = receiver, topic, principal

    def __call__(self, meta: Any) -> None:
        _answering.active = True
        self.receiver.acknowledged(Acknowledged(meta.topic, meta.partition, meta.offset))

    def refused(self, exc: BaseException) -> None:
        _answering.active = True
        self.receiver.failed(
            _failure(f"{self.topic} refused the record", exc, principal=self.principal, right="WRITE", topic=self.topic)
        )


# Set on every thread that has run a send's callbacks: a client's I/O thread.
_answering = threading.local()


def answers_sends() -> bool:
    """Whether this thread runs send callbacks (a Kafka client's I/O thread).

    Such a thread must never wait for a send's answer or for room for one: the answers come through
    it. Code that can make a publisher wait (a bound on records in flight) asks this first.
    """
    return getattr(_answering, "active", False)


def _acknowledged(callback: Callable[[Acknowledged], Any], meta: Any) -> None:
    _answering.active = True
    callback(Acknowledged(meta.topic, meta.partition, meta.offset))


def _refused(errback: Callable[[TransportError], Any], topic: str, principal: str | None, exc: BaseException) -> None:
    _answering.active = True
    errback(_failure(f"{topic} refused the record", exc, principal=principal, right="WRITE", topic=topic))


def _make(kind: str, client: KafkaClientConfig, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except KafkaConfigurationError as exc:
        raise ConfigError(f"cannot configure a Kafka {kind} ({client.source}): {exc}") from exc
    except KafkaError as exc:
        raise TransportError(f"cannot connect a {kind} to {client.bootstrap_servers}: {exc}", retriable=True) from exc


def _engine(cls: type, kafka: Kafka) -> type:
    """The class that makes ``cls``'s clients for ``kafka``: librdkafka's when its ``client`` is
    ``confluent`` (``ENLACE_KAFKA_CLIENT``), else ``cls`` itself."""
    if not isinstance(kafka, KafkaClientConfig) or kafka.client != "confluent" or cls not in (Producer, Consumer):
        return cls
    from bus.transport import _confluent

    return _confluent.ConfluentProducer if cls is Producer else _confluent.ConfluentConsumer


class Producer:
    """Sends bytes with headers; every send is acknowledged by all in-sync replicas.

    Args:
        kafka: the client configuration (a bare ``host:port`` string means PLAINTEXT, no credentials).
        **overrides: kafka-python producer settings replacing :data:`PRODUCER_DEFAULTS`.

    Raises:
        ConfigError: an override is unknown or a connection setting (those come from ``kafka``).
        TransportError: the cluster cannot be reached (retriable).
    """

    def __new__(cls, kafka: Kafka, **overrides: Any) -> Producer:
        return super().__new__(_engine(cls, kafka))

    def __init__(self, kafka: Kafka, **overrides: Any) -> None:
        client = KafkaClientConfig.of(kafka)
        config = {**PRODUCER_DEFAULTS, **check_producer_config(overrides)}
        self._producer: KafkaProducer = _make(
            "producer", client, lambda: KafkaProducer(**client.client_settings(), **config)
        )
        self._principal = _principal(client)
        self.max_request_size: int = config.get("max_request_size", 1_048_576)
        self.linger_ms: float = float(config.get("linger_ms", 0))

    def send(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: _SentHeaders, partition: int | None = None
    ) -> SendFuture:
        """Queue one record; the returned future resolves to where it was stored.

        A NULL header value (None) is sent as an empty one: kafka-python cannot send NULL.

        Raises:
            TransportError: the record is too large for the producer, or the send buffer stayed full.
        """
        sent_headers = list(headers)
        if any(v is None for _, v in sent_headers):
            # kafka-python's send refuses a NULL header value (Kafka and other clients allow one): it
            # is sent empty. Callers that must tell the two apart say so in a header of their own.
            sent_headers = [(n, b"" if v is None else v) for n, v in sent_headers]
        try:
            sent = self._producer.send(topic, key=key, value=value, headers=sent_headers, partition=partition)
            return SendFuture(sent, topic, self._principal)
        except MessageSizeTooLargeError as exc:
            raise TransportError(f"record for {topic} is too large: {exc}", topic=topic) from exc
        except KafkaError as exc:
            raise _failure(
                f"cannot send to {topic}", exc, principal=self._principal, right="WRITE", topic=topic
            ) from exc

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


class TransactionalProducer:
    """A producer whose records are committed together or not at all (KIP-98 transactions).

    Every instance with the same ``transactional_id`` fences the ones before it: making one (which
    calls ``init_transactions``) aborts any open transaction of an older instance, whose next commit
    then fails.

    Args:
        kafka: the client configuration.
        transactional_id: the id shared by every writer that must fence the others.
        timeout_s: how long a send may block and the broker wait for a transaction's end.

    Raises:
        TransportError: the cluster cannot be reached or the producer id not obtained.
    """

    def __init__(self, kafka: Kafka, *, transactional_id: str, timeout_s: float = 30.0) -> None:
        client = KafkaClientConfig.of(kafka)

        def build() -> KafkaProducer:
            producer = KafkaProducer(
                **client.client_settings(),
                transactional_id=transactional_id,
                acks="all",
                max_block_ms=int(timeout_s * 1000),
                transaction_timeout_ms=60_000,
            )
            producer.init_transactions()
            return producer

        self.transactional_id = transactional_id
        self._producer: KafkaProducer = _make("transactional producer", client, build)

    def commit(self, topic: str, records: Sequence[tuple[bytes, bytes | None]], *, partition: int) -> list[SendFuture]:
        """Send ``records`` (key, value) to one partition in one transaction and commit it.

        Returns:
            The records' futures, all resolved.

        Raises:
            TransportError: the transaction failed, e.g. this producer was fenced by a newer one.
        """
        try:
            self._producer.begin_transaction()
            futures = [
                SendFuture(self._producer.send(topic, key=key, value=value, partition=partition), topic)
                for key, value in records
            ]
            self._producer.commit_transaction()
        except KafkaError as exc:
            raise _failure(f"transaction {self.transactional_id} on {topic} failed", exc, topic=topic) from exc
        return futures

    def close(self, timeout: float | None = 2) -> None:
        """Close; a fenced producer may fail to close cleanly, which is logged and ignored."""
        try:
            self._producer.close(timeout=timeout)
        except Exception:  # it is discarded anyway
            _log.debug("closing transactional producer %s failed", self.transactional_id, exc_info=True)


class _Listener(ConsumerRebalanceListener):
    """Hands kafka-python's rebalance calls to an Enlace :class:`RebalanceListener`, with Partitions."""

    def __init__(self, listener: RebalanceListener) -> None:
        self._listener = listener

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._listener.on_partitions_revoked(sorted(Partition(tp.topic, tp.partition) for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._listener.on_partitions_assigned(sorted(Partition(tp.topic, tp.partition) for tp in assigned))


class _PromptFetcher(Fetcher):
    """kafka-python's fetcher, never sending a broker a fetch that leaves out a partition it buffers.

    kafka-python (as the Java client) keeps one fetch in flight per broker and leaves out of it the
    partitions whose fetched records are not consumed yet. When a response lands just before the
    next fetch is made (between the poll's drain and its send), that fetch goes out without the
    partition whose records just came, and the broker holds it until another partition in it gets
    data or ``fetch_max_wait_ms`` passes. The partition's next records then wait behind it: measured
    on the portal benchmark, records stored 4 ms after such a fetch left arrived 508 ms later.
    Here a broker gets no fetch while one of its partitions has records waiting; the poll that
    takes them sends one fetch for all of them.
    """

    def _fetchable_partitions(self) -> list[TopicPartition]:
        fetchable = super()._fetchable_partitions()
        buffered = {fetch.topic_partition for fetch in self._completed_fetches.copy()}
        current = self._next_partition_records
        if current:
            buffered.add(current.topic_partition)
        subscriptions = self._subscriptions
        buffered = {tp for tp in buffered if subscriptions.is_assigned(tp) and not subscriptions.is_paused(tp)}
        if not buffered:
            return fetchable
        holding = {self._select_read_replica(tp) for tp in buffered}
        return [tp for tp in fetchable if self._select_read_replica(tp) not in holding]

    def fetch_records(
        self, max_records: int | None = None, update_offsets: bool = True, timeout_ms: int | None = None
    ) -> tuple[dict[TopicPartition, list[Any]], bool]:
        records, idle = super().fetch_records(max_records, update_offsets=update_offsets, timeout_ms=timeout_ms)
        if not records and idle and self._completed_fetches:
            # A response landed after the drain, so the fetch was held for it: take it now, rather
            # than let the consumer take "nothing in flight" for idleness and sleep its retry backoff.
            return super().fetch_records(max_records, update_offsets=update_offsets, timeout_ms=0)
        return records, idle


def _prompt(consumer: KafkaConsumer) -> KafkaConsumer:
    fetcher = getattr(consumer, "_fetcher", None)
    if type(fetcher) is Fetcher:  # another kafka-python layout keeps its own fetcher
        fetcher.__class__ = _PromptFetcher
    return consumer


class Consumer:
    """A consumer that never commits on its own, in a group or (``group=None``) assigned by hand.

    Args:
        kafka: the client configuration.
        group: the consumer group, or None for a consumer that only reads assigned partitions.
        **overrides: kafka-python consumer settings replacing :data:`CONSUMER_DEFAULTS`.

    Raises:
        ConfigError: an override is unknown or a connection setting.
        TransportError: the cluster cannot be reached (retriable).
    """

    def __new__(cls, kafka: Kafka, *, group: str | None, **overrides: Any) -> Consumer:
        return super().__new__(_engine(cls, kafka))

    def __init__(self, kafka: Kafka, *, group: str | None, **overrides: Any) -> None:
        client = KafkaClientConfig.of(kafka)
        config = {**CONSUMER_DEFAULTS, **check_consumer_config(overrides)}
        self._consumer: KafkaConsumer = _make(
            "consumer", client, lambda: _prompt(KafkaConsumer(**client.client_settings(), group_id=group, **config))
        )
        self._principal, self._group = _principal(client), group
        self.max_poll_records: int = config["max_poll_records"]
        # commit_soon's offsets not sent yet, and its last commit sent (kafka-python's future).
        self._commit_lock = threading.Lock()
        self._commits_waiting: dict[TopicPartition, OffsetAndMetadata] = {}
        self._commit_in_flight: Any = None

    def subscribe(self, topics: Iterable[str], listener: RebalanceListener | None = None) -> None:
        """Join the group for ``topics``; ``listener`` hears of partitions revoked and assigned."""
        self._consumer.subscribe(list(topics), listener=_Listener(listener) if listener is not None else None)

    def assign(self, partitions: Iterable[Partition]) -> None:
        """Read exactly these partitions (no group assignment)."""
        self._consumer.assign([_tp(p) for p in partitions])

    def assigned(self) -> bool:
        """Whether this consumer has any partition (from the group or :meth:`assign`)."""
        return bool(self._consumer.assignment())

    def seek_to_beginning(self, *partitions: Partition) -> None:
        """Read ``partitions`` (default: every assigned one) from their first offset."""
        self._consumer.seek_to_beginning(*(_tp(p) for p in partitions))

    def partitions_for(self, topic: str) -> list[Partition]:
        """The topic's partitions (empty when the topic does not exist)."""
        return [Partition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]

    def end_offsets(self, partitions: Iterable[Partition], *, timeout_s: float | None = None) -> dict[Partition, int]:
        """Per partition the offset the next record will get (the last stable one under read_committed).

        Raises:
            TransportError: the offsets could not be fetched in time.
        """
        timeout_ms = None if timeout_s is None else int(timeout_s * 1000)
        try:
            return _offsets(self._consumer.end_offsets([_tp(p) for p in partitions], timeout_ms=timeout_ms))
        except KafkaError as exc:
            raise _failure("cannot read end offsets", exc) from exc

    def beginning_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """Per partition its first offset still stored."""
        try:
            return _offsets(self._consumer.beginning_offsets([_tp(p) for p in partitions]))
        except KafkaError as exc:
            raise _failure("cannot read beginning offsets", exc) from exc

    def identity(self, topic: str) -> TopicIdentity:
        """The cluster's id and ``topic``'s id, from the metadata this consumer already holds (no request).

        Either is "" when the cluster's metadata does not carry it (brokers before Kafka 2.8 give no
        topic ids).
        """
        cluster = getattr(self._consumer, "_cluster", None)
        cluster_id = getattr(cluster, "cluster_id", None)
        topic_id = cluster.topic_id(topic) if cluster is not None and hasattr(cluster, "topic_id") else None
        return TopicIdentity(str(cluster_id or ""), str(topic_id or ""))

    def position(self, partition: Partition) -> int:
        """The offset of the next record this consumer will read from ``partition``."""
        try:
            return int(self._consumer.position(_tp(partition)))
        except KafkaError as exc:
            raise _failure(f"cannot read the position on {partition.topic}", exc, topic=partition.topic) from exc

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Record]:
        """The next records, partition by partition in offset order.

        Raises:
            TransportError: Kafka refused the fetch (e.g. not authorized).
        """
        self._send_waiting_commit()
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except (CorruptRecordError, UnsupportedCodecError) as exc:
            return [self._skip_unreadable(exc)]
        except KafkaError as exc:
            topics = sorted(self._consumer.subscription() or {tp.topic for tp in self._consumer.assignment()})
            topic = ",".join(topics) or None
            raise _failure(
                "poll failed", exc, principal=self._principal, right="READ", group=self._group, topic=topic
            ) from exc
        if not batches:
            self._raise_if_unauthorized()
        records: list[Record] = []
        for tp, batch in batches.items():
            topic, partition = tp.topic, tp.partition
            records += [Record(topic, partition, r.offset, r.key, r.value, r.headers, r.timestamp) for r in batch]
        return records

    def _skip_unreadable(self, exc: KafkaError) -> UnreadableRecord:
        """Move past the record kafka-python cannot parse, and say where it was.

        Left alone, kafka-python raises at that offset and then, on the next poll, loops forever on
        the batch it could not finish (a poison pill for the whole consumer). The failed batch is the
        fetcher's current one; seeking past the position makes the fetcher drop it and fetch again.
        The position is the first offset not returned yet: the unreadable record's, on a topic
        without gaps (compaction or transaction markers could make it an earlier, empty offset).
        """
        part = getattr(getattr(self._consumer, "_fetcher", None), "_next_partition_records", None)
        tp = getattr(part, "topic_partition", None) if part else None
        if tp is None or tp not in self._consumer.assignment():
            raise TransportError(f"the Kafka client cannot read a fetched record ({type(exc).__name__})") from exc
        offset = int(self._consumer.position(tp))
        self._consumer.seek(tp, offset + 1)
        return UnreadableRecord(tp.topic, tp.partition, offset, _unreadable_problem(exc))

    def _raise_if_unauthorized(self) -> None:
        """kafka-python only logs a topic the metadata answer marks unauthorized and keeps fetching
        nothing; a consumer that may not read its topic is told so instead of waiting forever."""
        cluster = getattr(self._consumer, "_cluster", None)
        refused = set(getattr(cluster, "unauthorized_topics", ()) or ())
        wanted = set(self._consumer.subscription() or ()) | {tp.topic for tp in self._consumer.assignment()}
        if refused & wanted:
            topics = ", ".join(sorted(refused & wanted))
            raise AccessDenied(principal=self._principal, resource=f"topic {topics}", right="READ", topic=topics)

    def commit(
        self, next_offsets: dict[Partition, int], *, wait: bool = True, notes: dict[Partition, str] | None = None
    ) -> None:
        """Commit, for each partition, the offset of the next record to read.

        Args:
            next_offsets: the offsets to commit.
            notes: per partition, a string Kafka keeps with the committed offset (its offset commit
                metadata, at most the broker's ``offset.metadata.max.bytes``, 4096 by default).
            wait: block until the group coordinator answers; false sends the commit and returns (the
                only form allowed inside a rebalance listener, which runs on the client's I/O thread).
                A failed unwaited commit is logged; its records will be redelivered.

        Raises:
            TransportError: the commit failed (e.g. the group rebalanced); the records will be redelivered.
        """
        if not next_offsets:
            return
        offsets = _commit_offsets(next_offsets, notes)
        with self._commit_lock:  # what commit_soon holds back goes first, overridden by these
            offsets, self._commits_waiting = {**self._commits_waiting, **offsets}, {}
        try:
            if wait:
                self._consumer.commit(offsets)
            else:
                self._consumer.commit_async(offsets, callback=_log_failed_commit)
        except (GroupAuthorizationFailedError, TopicAuthorizationFailedError) as exc:
            raise _failure("offset commit refused", exc, principal=self._principal, group=self._group) from exc
        except KafkaError as exc:
            raise TransportError(f"offset commit failed: {exc}", retriable=True) from exc

    def commit_soon(self, next_offsets: dict[Partition, int], *, notes: dict[Partition, str] | None = None) -> None:
        """Commit without waiting, at most one such commit unanswered at a time.

        While the last one is unanswered, these offsets wait (merged with later ones) and go with the
        next call, :meth:`poll` or :meth:`close`. Sent as they come, commits after each batch piled
        up on the coordinator's connection, past its ``max_in_flight_requests_per_connection``: the
        broker's client then refused them (``NodeNotReadyError``) and the consumer's fetches with them.
        A failure is logged; its records will be redelivered.
        """
        if not next_offsets:
            return
        offsets = _commit_offsets(next_offsets, notes)
        with self._commit_lock:
            self._commits_waiting.update(offsets)
        self._send_waiting_commit()

    def _send_waiting_commit(self) -> None:
        with self._commit_lock:
            if not self._commits_waiting:
                return
            if self._commit_in_flight is not None and not self._commit_in_flight.is_done:
                return
            offsets, self._commits_waiting = self._commits_waiting, {}
            try:
                self._commit_in_flight = self._consumer.commit_async(offsets, callback=_log_failed_commit)
            except KafkaError as exc:
                _log.warning("offset commit of %s failed, its records will be redelivered: %s", sorted(offsets), exc)

    def close(self) -> None:
        """Commit what :meth:`commit_soon` still holds (waiting), leave the group and close."""
        with self._commit_lock:
            waiting, self._commits_waiting = self._commits_waiting, {}
        if waiting:
            try:
                self._consumer.commit(waiting)
            except KafkaError as exc:
                _log.warning("offset commit of %s failed, its records will be redelivered: %s", sorted(waiting), exc)
        self._consumer.close(autocommit=False)


def _commit_offsets(
    next_offsets: dict[Partition, int], notes: dict[Partition, str] | None
) -> dict[TopicPartition, OffsetAndMetadata]:
    notes = notes or {}
    return {_tp(p): OffsetAndMetadata(off, notes.get(p, ""), -1) for p, off in next_offsets.items()}


def _unreadable_problem(exc: KafkaError) -> str:
    """What kafka-python could not read, without the bytes it choked on."""
    if isinstance(exc, UnsupportedCodecError):
        return f"the record's batch is compressed with a codec this client lacks ({exc})"
    if "UnicodeDecodeError" in str(exc):
        return "the record (or one before it in its batch) has a header name that is not UTF-8"
    return f"the record's batch is corrupt ({type(exc).__name__})"


def _log_failed_commit(offsets: dict[Any, Any], response: Any) -> None:
    if isinstance(response, Exception):
        _log.warning("offset commit of %s failed, its records will be redelivered: %s", sorted(offsets), response)


class Topics:
    """The cluster administration the bus needs: topics, their limits and offsets, groups, brokers.

    Clients are made on first use and kept until :meth:`close`.

    Args:
        kafka: the client configuration.
        timeout_s: bound on reaching the cluster and on each request.
    """

    def __init__(self, kafka: Kafka, *, timeout_s: float = 30.0) -> None:
        self._client_config = KafkaClientConfig.of(kafka)
        self._timeout_ms = int(timeout_s * 1000)
        self._admin: KafkaAdminClient | None = None
        self._offsets: Consumer | None = None
        self._lock = threading.Lock()
        self._max_bytes: dict[str, int] = {}

    def _client(self) -> KafkaAdminClient:
        if self._admin is None:
            client = self._client_config
            self._admin = _make(
                "admin client",
                client,
                lambda: KafkaAdminClient(
                    **client.client_settings(),
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                ),
            )
        return self._admin

    def _call(self, what: str, call: Callable[[KafkaAdminClient], Any], topic: str | None = None) -> Any:
        with self._lock:
            try:
                return call(self._client())
            except KafkaError as exc:
                raise _failure(f"cannot {what}", exc, topic=topic) from exc

    def ensure(
        self, name: str, *, partitions: int = -1, replication: int = -1, compacted: bool = False, **configs: str
    ) -> None:
        """Create topic ``name`` unless it exists (``-1``: the broker's default partitions or replication).

        Raises:
            TransportError: the topic could not be created.
        """
        if compacted:
            configs["cleanup.policy"] = "compact"
        self.ensure_all({name: (partitions, replication, configs)})

    def ensure_all(self, topics: Mapping[str, tuple[int, int, Mapping[str, str]]]) -> list[str]:
        """Create every missing topic of ``topics`` (name -> partitions, replication, configs) in one request.

        Returns:
            The names created (those that existed are left as they are).

        Raises:
            TransportError: a topic could not be created (named in the message).
        """
        if not topics:
            return []
        first = next(iter(topics))

        def create(admin: KafkaAdminClient) -> list[str]:
            # Only what is missing: a principal without CREATE (an agency) is refused even for a topic
            # that exists, and sees in the metadata every topic it may describe.
            existing = set(admin.list_topics())
            spec = {
                name: {"num_partitions": partitions, "replication_factor": replication, "configs": dict(configs)}
                for name, (partitions, replication, configs) in topics.items()
                if name not in existing
            }
            if not spec:
                return []
            response = admin.create_topics(spec, raise_errors=False)
            created, failed = [], []
            for topic in response["topics"]:
                error = kafka_errors.for_code(topic["error_code"])
                if error is kafka_errors.NoError:
                    created.append(topic["name"])
                elif error is not TopicAlreadyExistsError:
                    failed.append((topic["name"], error(topic.get("error_message") or "")))
            if failed:
                name, exc = failed[0]
                who = _principal(self._client_config)
                raise _failure(f"cannot create topic {name}", exc, principal=who, right="CREATE", topic=name)
            if created:
                admin.wait_for_topics(created)
            return created

        what = f"create topic {first}" + (f" and {len(topics) - 1} more" if len(topics) > 1 else "")
        return self._call(what, create, topic=first)

    def max_message_bytes(self, topic: str) -> int | None:
        """The topic's ``max.message.bytes`` (cached), or None when the topic does not exist yet."""
        if topic in self._max_bytes:
            return self._max_bytes[topic]
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, ["max.message.bytes"])
        with self._lock:
            admin = self._client()  # an unreachable cluster is a TransportError, as for every other call
            try:
                described = admin.describe_configs([resource], config_filter="all")
            except KafkaError:
                return None  # unknown topic: the broker default applies once it is auto-created
        entry = described.get("topic", {}).get(topic, {}).get("max.message.bytes")
        if not entry or entry.get("value") is None:
            return None
        self._max_bytes[topic] = int(entry["value"])
        return self._max_bytes[topic]

    def configs(self, topic: str, keys: Iterable[str]) -> dict[str, str | None]:
        """The topic's current values of ``keys`` (None for one the broker does not report).

        Raises:
            TransportError: the topic could not be described (missing, or not this principal's to see).
        """
        wanted = sorted(keys)
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, wanted)
        described = self._call(
            f"describe the configuration of {topic}",
            lambda a: a.describe_configs([resource], config_filter="all"),
            topic,
        )
        entries = described.get("topic", {}).get(topic, {})
        return {key: (entries.get(key) or {}).get("value") for key in wanted}

    def configure(self, topic: str, configs: Mapping[str, str]) -> None:
        """Set ``configs`` on the topic (IncrementalAlterConfigs: other settings stay as they are).

        Raises:
            TransportError: the broker refused (unknown key, bad value, no ALTER_CONFIGS right).
        """
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, {k: ("SET", v) for k, v in configs.items()})
        result = self._call(f"configure {topic}", lambda a: a.alter_configs([resource], incremental=True), topic)
        # kafka-python answers per resource: "OK", or the broker's error as text.
        outcome = str((result.get("topic") or {}).get(topic, "no answer"))
        if outcome != "OK":
            raise TransportError(f"cannot configure {topic}: {outcome}", topic=topic)
        self._max_bytes.pop(topic, None)

    def names(self) -> list[str]:
        """Every topic's name, sorted (internal ``__`` topics included)."""
        return sorted(self._call("list topics", lambda a: a.list_topics()))

    def partitions(self, topic: str) -> list[Partition]:
        """The topic's partitions from the cluster's metadata (empty when it does not exist)."""
        described = self._call(f"describe {topic}", lambda a: a.describe_topics([topic]), topic)
        indexes = sorted(
            p["partition_index"]
            for t in described
            if t["name"] == topic and not t["error_code"]
            for p in t["partitions"]
        )
        return [Partition(topic, i) for i in indexes]

    def brokers(self) -> list[Broker]:
        """The brokers in the cluster's metadata.

        Raises:
            TransportError: the cluster did not answer (retriable), or refused.
            ConfigError: the client configuration is unusable.
        """
        cluster = self._call("describe the cluster", lambda a: a.describe_cluster())
        return [
            Broker(b["broker_id"], b["host"], b["port"], bool(b.get("is_fenced"))) for b in cluster.get("brokers", [])
        ]

    def groups(self) -> list[str]:
        """Every consumer group's id, sorted."""
        return sorted(g["group_id"] for g in self._call("list groups", lambda a: a.list_groups()))

    def committed(self, group: str) -> dict[Partition, int]:
        """The offsets ``group`` committed, per partition."""
        return {partition: offset for partition, (offset, _) in self.committed_with_notes(group).items()}

    def committed_with_notes(self, group: str) -> dict[Partition, tuple[int, str]]:
        """The offsets ``group`` committed, per partition, with the note committed with each."""
        found = self._call(f"read offsets of group {group}", lambda a: a.list_group_offsets(group)).get(group, {})
        return {Partition(tp.topic, tp.partition): (meta.offset, meta.metadata or "") for tp, meta in found.items()}

    def _offset_reader(self) -> Consumer:
        if self._offsets is None:
            self._offsets = Consumer(self._client_config, group=None, request_timeout_ms=self._timeout_ms + 5000)
        return self._offsets

    def end_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """Per partition the offset the next record will get."""
        wanted = list(partitions)
        return self._offset_reader().end_offsets(wanted) if wanted else {}

    def beginning_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """Per partition its first offset still stored."""
        wanted = list(partitions)
        return self._offset_reader().beginning_offsets(wanted) if wanted else {}

    def close(self) -> None:
        """Close the clients this made."""
        if self._offsets is not None:
            self._offsets.close()
            self._offsets = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def __enter__(self) -> Topics:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
