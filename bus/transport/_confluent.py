"""The seam's producer and consumer over confluent-kafka (librdkafka), chosen by ``ENLACE_KAFKA_CLIENT=confluent``.

The same contract as the kafka-python clients in ``_clients.py``: Enlace's types in and out, the same
settings (kafka-python's names, translated here to librdkafka's, so ``PRODUCER_DEFAULTS`` and
``CONSUMER_DEFAULTS`` hold for both), the same errors (Kafka's codes become the kafka-python errors
``_clients._failure`` already maps to :class:`bus.TransportError` and :class:`bus.AccessDenied`).

What librdkafka does differently, and how it is kept to the seam's contract:

- Delivery reports and rebalance calls are served only inside ``poll``/``consume``. The producer
  keeps one thread serving them (a record's callbacks run there, one at a time, as kafka-python runs
  them on its I/O thread); the consumer's rebalance calls run inside :meth:`ConfluentConsumer.poll`,
  on the caller's thread, so a commit made in ``on_partitions_revoked`` is waited for (the offsets are
  stored before the partitions go; kafka-python can only send it without waiting).
- librdkafka needs a ``group.id`` even for a consumer that is only assigned partitions: it gets a
  name of its own, never joins, never commits, and starts from ``auto_offset_reset`` (as a
  kafka-python consumer without a group does), not from that group's committed offsets.
- A record whose header name is not UTF-8 is reported as an :class:`UnreadableRecord` alone (the
  records after it in its batch are read normally); a corrupt batch librdkafka skips is reported at
  the offset it gives.
- A NULL header value is sent as NULL (kafka-python sends it empty).
- The topic's id (``identity``) comes from one DescribeTopics per topic, refreshed every
  ``metadata_max_age_ms``, in kafka-python's UUID form, so the agency store's keys do not change when
  the transport does.

Only the producer and consumer have a librdkafka form; :class:`TransactionalProducer`, :class:`Topics`
and :class:`AclAdmin` stay on kafka-python (they are not on a record's path).
"""

from __future__ import annotations

import contextlib
import logging
import operator
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from kafka import errors as kafka_errors

from bus._errors import AccessDenied, ConfigError, TransportError
from bus.transport._clients import (
    CONSUMER_DEFAULTS,
    PRODUCER_DEFAULTS,
    Consumer,
    Producer,
    SendFuture,
    SendReceiver,
    _answering,
    _failure,
    _principal,
    _SentHeaders,
)
from bus.transport._config import KafkaClientConfig, check_consumer_config, check_producer_config
from bus.transport._librdkafka import (
    MAX_REQUEST_SIZE,
    connection_properties,
    consumer_properties,
    producer_properties,
)
from bus.transport._types import Acknowledged, Partition, RebalanceListener, Record, TopicIdentity, UnreadableRecord

__all__ = ["ConfluentConsumer", "ConfluentProducer", "ConfluentSendFuture"]

_log = logging.getLogger(__name__)
_librdkafka_log = logging.getLogger("bus.transport.librdkafka")


def _base(client: KafkaClientConfig) -> dict[str, Any]:
    # TCP_NODELAY, as kafka-python and the Java client set it: a lone small request is not held back.
    return {
        **connection_properties(client),
        "socket.nagle.disable": True,
        "logger": _librdkafka_log,
        "error_cb": _log_error,
    }


def _log_error(error: KafkaError) -> None:
    # Connection trouble is retried by librdkafka itself; what a caller must act on reaches it as the
    # error of its own send, poll or commit.
    _log.log(logging.ERROR if error.fatal() else logging.DEBUG, "librdkafka: %s", error)


# Kafka's error codes as kafka-python's errors: _clients._failure maps those to Enlace's, once.
def _as_kafka_python(error: KafkaError) -> BaseException:
    code = error.code()
    if code == KafkaError._MSG_TIMED_OUT:
        return kafka_errors.KafkaTimeoutError(error.str())
    if code < 0:  # librdkafka's own (transport, state, timeouts): retriable unless fatal
        exc = kafka_errors.KafkaError(error.str())
        exc.retriable = bool(error.retriable()) or not error.fatal()  # type: ignore[misc]
        return exc
    exc_type = kafka_errors.for_code(code)
    return exc_type(error.str())


def _error_of(exc: BaseException) -> KafkaError | None:
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, KafkaError) else None


def _make(kind: str, client: KafkaClientConfig, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except KafkaException as exc:
        error = _error_of(exc)
        if error is not None and error.code() == KafkaError._INVALID_ARG:
            raise ConfigError(f"cannot configure a Kafka {kind} ({client.source}): {error.str()}") from exc
        raise TransportError(f"cannot make a {kind} for {client.bootstrap_servers}: {exc}", retriable=True) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot configure a Kafka {kind} ({client.source}): {exc}") from exc


_futures_lock = threading.Lock()


class ConfluentSendFuture(SendFuture):
    """One send's answer, filled in by librdkafka's delivery report (on the producer's serving thread)."""

    __slots__ = ("_callbacks", "_done", "_error", "_event", "_meta", "_producer")

    def __init__(self, topic: str, principal: str | None, producer: ConfluentProducer) -> None:
        self.topic, self.principal, self._producer = topic, principal, producer
        self._future = None
        self._done = False
        self._meta: Acknowledged | None = None
        self._error: TransportError | None = None
        self._callbacks: list[tuple[bool, Callable[[Any], Any]]] | None = None
        self._event: threading.Event | None = None

    def __call__(self, error: KafkaError | None, message: Any) -> None:
        """librdkafka's delivery report."""
        _answering.active = True
        if error is None:
            self._meta = Acknowledged(message.topic(), message.partition(), message.offset())
        else:
            if error.code() == KafkaError._FATAL and self._producer._fatal_error is not None:
                error = self._producer._fatal_error  # the cause, not "a fatal error happened"
            self._error = _failure(
                f"{self.topic} refused the record",
                _as_kafka_python(error),
                principal=self.principal,
                right="WRITE",
                topic=self.topic,
            )
        with _futures_lock:
            self._done = True
            callbacks, self._callbacks, event = self._callbacks, None, self._event
        for on_success, callback in callbacks or ():
            self._run(on_success, callback)
        if event is not None:
            event.set()
        self._producer._delivered()

    def _run(self, on_success: bool, callback: Callable[[Any], Any]) -> None:
        try:
            if on_success and self._error is None:
                callback(self._meta)
            elif not on_success and self._error is not None:
                callback(self._error)
        except Exception:  # as kafka-python does: a failing callback must not stop the others
            _log.exception("a delivery callback for %s failed", self.topic)

    def get(self, timeout: float | None = None) -> Acknowledged:
        """Wait for the answer.

        Raises:
            TransportError: the broker refused the record, or did not answer within ``timeout``
                (retriable).
        """
        if not self._done:
            with _futures_lock:
                if not self._done:
                    self._event = self._event or threading.Event()
                event = self._event
            if event is not None and not event.wait(timeout):
                raise TransportError(f"{self.topic} did not answer within {timeout}s", retriable=True, topic=self.topic)
        if self._error is not None:
            raise self._error
        assert self._meta is not None
        return self._meta

    def _add(self, on_success: bool, callback: Callable[[Any], Any]) -> ConfluentSendFuture:
        with _futures_lock:
            if not self._done:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append((on_success, callback))
                return self
        self._run(on_success, callback)
        return self

    def add_callback(self, callback: Callable[[Acknowledged], Any]) -> ConfluentSendFuture:
        """Call ``callback(acknowledged)`` on success (at once if already done), on the serving thread."""
        return self._add(True, callback)

    def add_errback(self, errback: Callable[[TransportError], Any]) -> ConfluentSendFuture:
        """Call ``errback(error)`` on failure (at once if already done), on the serving thread."""
        return self._add(False, errback)

    def notify(self, receiver: SendReceiver) -> ConfluentSendFuture:
        """Tell ``receiver`` the answer (``acknowledged`` or ``failed``), on the serving thread."""
        self._add(True, receiver.acknowledged)
        return self._add(False, receiver.failed)


class ConfluentProducer(Producer):
    """:class:`Producer` over librdkafka: the same settings, guarantees (acks=all, idempotence) and errors.

    One daemon thread serves librdkafka's delivery reports, so a send's callbacks run as soon as the
    broker answers, one at a time, in the order the reports come.
    """

    def __init__(self, kafka: KafkaClientConfig | str, **overrides: Any) -> None:
        client = KafkaClientConfig.of(kafka)
        config = {**PRODUCER_DEFAULTS, **check_producer_config(overrides)}
        properties = {**_base(client), **producer_properties(config)}
        self._producer: Any = _make("producer", client, lambda: confluent_kafka.Producer(properties))
        self._principal = _principal(client)
        self.max_request_size = int(config.get("max_request_size", MAX_REQUEST_SIZE))
        self.linger_ms = float(config.get("linger_ms", 0))
        self._max_block_s = float(config.get("max_block_ms", 60_000)) / 1000
        self._idempotence = bool(config.get("enable_idempotence"))
        self._pending = 0
        self._fatal_error: KafkaError | None = None
        self._idle = threading.Condition()
        self._closed = threading.Event()
        self._server = threading.Thread(target=self._serve, name="librdkafka-deliveries", daemon=True)
        self._server.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                self._producer.poll(0.1)
            except KafkaException as exc:
                # A fatal error (e.g. no producer id granted: the principal may write nowhere) is raised
                # by the poll that serves it; librdkafka then fails every queued record, whose reports
                # this thread must go on serving. Later sends fail at once with it.
                error = _error_of(exc)
                if error is not None and error.fatal():
                    self._fatal_error = error
                _log.warning("librdkafka producer: %s", exc)
            except Exception:  # a report's own failure must not stop the others being served
                _log.exception("serving librdkafka delivery reports failed")

    def _delivered(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending <= 0:
                self._idle.notify_all()

    def send(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: _SentHeaders, partition: int | None = None
    ) -> ConfluentSendFuture:
        """Queue one record; the returned future resolves to where it was stored.

        A NULL header value is sent as NULL. A full send queue is waited on for up to ``max_block_ms``.

        Raises:
            TransportError: the record is too large for the producer, or the send queue stayed full.
        """
        if self._fatal_error is not None:
            raise _failure(
                f"cannot send to {topic}",
                _as_kafka_python(self._fatal_error),
                principal=self._principal,
                topic=topic,
            )
        future = ConfluentSendFuture(topic, self._principal, self)
        sent_headers = headers if isinstance(headers, list) else list(headers)
        with self._idle:
            self._pending += 1
        deadline: float | None = None
        while True:
            try:
                if partition is None:
                    self._producer.produce(topic, value, key, on_delivery=future, headers=sent_headers)
                else:
                    self._producer.produce(
                        topic, value, key, partition=partition, on_delivery=future, headers=sent_headers
                    )
                return future
            except BufferError:
                deadline = deadline or time.monotonic() + self._max_block_s
                if time.monotonic() >= deadline:
                    self._delivered()
                    raise TransportError(
                        f"cannot send to {topic}: the send queue stayed full for {self._max_block_s}s",
                        retriable=True,
                        topic=topic,
                    ) from None
                self._idle.acquire()  # the serving thread frees room; wait for its next report
                try:
                    self._idle.wait(0.05)
                finally:
                    self._idle.release()
            except KafkaException as exc:
                self._delivered()
                raise self._refused(topic, exc) from exc

    def _refused(self, topic: str, exc: KafkaException) -> TransportError:
        error = _error_of(exc)
        if error is not None and error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
            return TransportError(f"record for {topic} is too large: {error.str()}", topic=topic)
        cause = _as_kafka_python(error) if error is not None else exc
        return _failure(f"cannot send to {topic}", cause, principal=self._principal, right="WRITE", topic=topic)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued record is acknowledged or failed (and its callbacks ran)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TransportError(f"records not acknowledged within {timeout}s", retriable=True)
                self._idle.wait(left)

    def idempotent(self) -> bool:
        """Whether idempotence is in effect: asked for, and librdkafka has no fatal error (a refused
        producer id is one)."""
        return self._idempotence and self._fatal_error is None

    def close(self, timeout: float | None = 10) -> None:
        """Flush (waiting at most ``timeout``) and close."""
        if self._closed.is_set():
            return
        try:
            self.flush(timeout)
        except TransportError:
            _log.warning("closing a producer with records not acknowledged within %ss", timeout)
        finally:
            self._closed.set()
            self._server.join()
            try:
                self._producer.close()
            except KafkaException as exc:  # its fatal error again (served last): known, and it is closed
                _log.debug("closing a librdkafka producer: %s", exc)


# confluent-kafka's Message.headers() meets a header name that is not UTF-8 by returning with the
# UnicodeDecodeError still set, which a direct call lets surface at some later call. Called through
# methodcaller, the interpreter checks the result at once (a SystemError from the decode error).
_headers_of = operator.methodcaller("headers")
_NO_GROUP_PREFIX = "enlace-assigned-only-"
# Errors a consumer waits through, as kafka-python does: the topic may yet be created or its leader elected.
_WAITED_FOR = {
    KafkaError._PARTITION_EOF,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError._UNKNOWN_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
}
_UNREADABLE = {KafkaError._BAD_MSG, KafkaError._BAD_COMPRESSION, KafkaError.INVALID_MSG}


class ConfluentConsumer(Consumer):
    """:class:`Consumer` over librdkafka: never commits on its own, read_committed, the same errors."""

    def __init__(self, kafka: KafkaClientConfig | str, *, group: str | None, **overrides: Any) -> None:
        client = KafkaClientConfig.of(kafka)
        config = {**CONSUMER_DEFAULTS, **check_consumer_config(overrides)}
        properties = {
            **_base(client),
            **consumer_properties(config),
            "group.id": group or _NO_GROUP_PREFIX + uuid.uuid4().hex,
            "on_commit": _log_failed_commit,
        }
        self._properties = properties
        self._consumer: Any = _make("consumer", client, lambda: confluent_kafka.Consumer(properties))
        self._principal, self._group = _principal(client), group
        self.max_poll_records = int(config["max_poll_records"])
        self._start = (
            confluent_kafka.OFFSET_BEGINNING
            if config.get("auto_offset_reset", "latest") == "earliest"
            else confluent_kafka.OFFSET_END
        )
        self._starts: dict[Partition, int] = {}  # where an assigned partition's reading starts (logical)
        self._listener: RebalanceListener | None = None
        self._in_rebalance = False
        self._closing = False
        self._topics: list[str] = []
        self._unchecked: set[str] = set()  # topics read from whose metadata has not yet said they may be
        self._checked_at = 0.0
        self._identities: dict[str, tuple[float, TopicIdentity]] = {}
        self._identity_age_s = float(config.get("metadata_max_age_ms", 300_000)) / 1000
        self._admin: Any = None

    # -- the group ---------------------------------------------------------------------------------
    def subscribe(self, topics: Iterable[str], listener: RebalanceListener | None = None) -> None:
        """Join the group for ``topics``; ``listener`` hears of partitions revoked and assigned.

        The listener runs inside :meth:`poll`, on the caller's thread.
        """
        if self._group is None:
            raise TransportError("a consumer without a group cannot subscribe: assign() its partitions")
        self._topics, self._listener = list(topics), listener
        self._unchecked = set(self._topics)
        self._consumer.subscribe(
            self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        if self._listener is not None:
            self._listener.on_partitions_assigned(sorted(Partition(tp.topic, tp.partition) for tp in partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # close() revokes too: a consumer closing after a failure must not commit what it rolled back
        # (kafka-python's close calls no listener either).
        if self._listener is None or self._closing:
            return
        self._in_rebalance = True
        try:
            self._listener.on_partitions_revoked(sorted(Partition(tp.topic, tp.partition) for tp in partitions))
        finally:
            self._in_rebalance = False

    def assign(self, partitions: Iterable[Partition]) -> None:
        """Read exactly these partitions (no group assignment), from ``auto_offset_reset``."""
        wanted = list(partitions)
        self._starts = dict.fromkeys(wanted, self._start)
        self._unchecked = {p.topic for p in wanted}
        self._consumer.assign([TopicPartition(p.topic, p.partition, self._start) for p in wanted])

    def assigned(self) -> bool:
        """Whether this consumer has any partition (from the group or :meth:`assign`)."""
        return bool(self._consumer.assignment())

    def seek_to_beginning(self, *partitions: Partition) -> None:
        """Read ``partitions`` (default: every assigned one) from their first offset."""
        current = [Partition(tp.topic, tp.partition) for tp in self._consumer.assignment()]
        targets = set(partitions or current)
        if self._starts:  # assigned by hand: assign again, so nothing waits for a fetch to start
            for p in targets:
                self._starts[p] = confluent_kafka.OFFSET_BEGINNING
            self._consumer.assign(
                [TopicPartition(p.topic, p.partition, self._starts[p]) for p in self._starts if p in set(current)]
            )
            return
        for p in targets:
            self._consumer.seek(TopicPartition(p.topic, p.partition, confluent_kafka.OFFSET_BEGINNING))

    # -- metadata and offsets -------------------------------------------------------------------------
    def partitions_for(self, topic: str) -> list[Partition]:
        """The topic's partitions (empty when the topic does not exist or may not be described)."""
        try:
            metadata = self._consumer.list_topics(topic, timeout=30)
        except KafkaException as exc:
            raise self._failed(f"cannot describe {topic}", exc, topic=topic) from exc
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return []
        return [Partition(topic, p) for p in sorted(found.partitions)]

    def _watermarks(self, partitions: Iterable[Partition], timeout_s: float | None) -> dict[Partition, tuple[int, int]]:
        out = {}
        for p in partitions:
            try:
                out[p] = self._consumer.get_watermark_offsets(
                    TopicPartition(p.topic, p.partition), timeout=timeout_s or 30, cached=False
                )
            except KafkaException as exc:
                raise self._failed("cannot read offsets", exc, topic=p.topic) from exc
            if out[p] is None:
                raise TransportError(f"cannot read the offsets of {p.topic}[{p.partition}]", retriable=True)
        return out

    def end_offsets(self, partitions: Iterable[Partition], *, timeout_s: float | None = None) -> dict[Partition, int]:
        """Per partition the offset the next record will get.

        Raises:
            TransportError: the offsets could not be fetched in time.
        """
        return {p: high for p, (_, high) in self._watermarks(partitions, timeout_s).items()}

    def beginning_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """Per partition its first offset still stored."""
        return {p: low for p, (low, _) in self._watermarks(partitions, None).items()}

    def position(self, partition: Partition) -> int:
        """The offset of the next record this consumer will read from ``partition``."""
        try:
            (found,) = self._consumer.position([TopicPartition(partition.topic, partition.partition)])
        except KafkaException as exc:
            raise self._failed(f"cannot read the position on {partition.topic}", exc, topic=partition.topic) from exc
        if found.offset >= 0:
            return int(found.offset)
        # Nothing read yet: where reading starts, which librdkafka leaves logical until the first fetch.
        start = self._starts.get(partition, self._start)
        low, high = self._watermarks([partition], None)[partition]
        return int(low if start == confluent_kafka.OFFSET_BEGINNING else high)

    def identity(self, topic: str) -> TopicIdentity:
        """The cluster's id and ``topic``'s id (asked once per topic, again after ``metadata_max_age_ms``).

        Either is "" when the cluster does not give it (or could not be asked: asked again later).
        """
        known = self._identities.get(topic)
        now = time.monotonic()
        if known is not None and now - known[0] < self._identity_age_s:
            return known[1]
        found = self._describe(topic)
        self._identities[topic] = (now, found)
        return found

    def _describe(self, topic: str) -> TopicIdentity:
        try:
            if self._admin is None:
                self._admin = AdminClient({k: v for k, v in self._properties.items() if k in _ADMIN_KEYS})
            cluster_id = self._consumer.list_topics(topic, timeout=10).cluster_id or ""
            collection = confluent_kafka.TopicCollection([topic])
            description = self._admin.describe_topics(collection, request_timeout=10)[topic].result(timeout=15)
            topic_id = _uuid_text(description.topic_id)
        except Exception as exc:  # the ids are bookkeeping: "" (asked again later) rather than a dead consumer
            _log.debug("cannot read the ids of %s: %s", topic, exc)
            return TopicIdentity("", "")
        return TopicIdentity(str(cluster_id), topic_id)

    # -- records ---------------------------------------------------------------------------------
    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Record]:
        """The next records, partition by partition in offset order.

        Raises:
            TransportError: Kafka refused the fetch (e.g. not authorized).
        """
        limit = max_records or self.max_poll_records
        consume = self._consumer.consume
        try:
            # librdkafka's consume waits until it has ``num_messages`` or the timeout passed; a poll
            # returns as soon as any record is there (as kafka-python's does): what is fetched already,
            # else a wait for the first record, then what came with it.
            messages = consume(num_messages=limit, timeout=0)
            if not messages and timeout_ms > 0:
                messages = consume(num_messages=1, timeout=timeout_ms / 1000)
                if messages and limit > 1:
                    messages += consume(num_messages=limit - 1, timeout=0)
        except KafkaException as exc:
            raise self._failed("poll failed", exc, right="READ") from exc
        if not messages and self._unchecked:
            self._raise_if_unauthorized()
        records: list[Record] = []
        append = records.append
        for message in messages:
            error = message.error()
            if error is not None:
                unreadable = self._unreadable(message, error)
                if unreadable is not None:
                    append(unreadable)
                continue
            try:
                headers = _headers_of(message) or []
            except (UnicodeDecodeError, SystemError):
                append(
                    UnreadableRecord(
                        message.topic(),
                        message.partition(),
                        message.offset(),
                        "the record has a header name that is not UTF-8",
                    )
                )
                continue
            append(
                Record(
                    message.topic(),
                    message.partition(),
                    message.offset(),
                    message.key(),
                    message.value(),
                    headers,
                    message.timestamp()[1],
                )
            )
        return records

    def _raise_if_unauthorized(self) -> None:
        """librdkafka keeps fetching nothing from a partition its principal may not read, without a word:
        a consumer that may not read its topic is told so instead of waiting forever (asked at most
        once a second, until the metadata shows each topic readable)."""
        now = time.monotonic()
        if now - self._checked_at < 1.0:
            return
        self._checked_at = now
        for topic in sorted(self._unchecked):
            try:
                found = self._consumer.list_topics(topic, timeout=5).topics.get(topic)
            except KafkaException:
                return  # the cluster is out of reach: asked again later
            error = found.error if found is not None else None
            if error is None:
                self._unchecked.discard(topic)
            elif error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                raise AccessDenied(principal=self._principal, resource=f"topic {topic}", right="READ", topic=topic)

    def _unreadable(self, message: Any, error: KafkaError) -> UnreadableRecord | None:
        """The record in place of an error message, or None for an error the consumer waits through.

        Raises:
            TransportError: the error is one no waiting cures (not authorized, fatal).
        """
        code = error.code()
        if code in _UNREADABLE and message.topic() and message.offset() is not None and message.offset() >= 0:
            problem = f"the record's batch is corrupt or compressed unreadably ({error.name()})"
            return UnreadableRecord(message.topic(), message.partition(), message.offset(), problem)
        if code in _WAITED_FOR or (error.retriable() and not error.fatal()):
            return None
        if code == KafkaError.GROUP_AUTHORIZATION_FAILED and self._group is None:
            return None  # the group librdkafka insists on, which this consumer never uses, is not granted
        if code == KafkaError._TRANSPORT or code == KafkaError._ALL_BROKERS_DOWN:
            return None
        topic = message.topic() or ",".join(self._topics) or None
        raise _failure(
            "poll failed",
            _as_kafka_python(error),
            principal=self._principal,
            right="READ",
            group=self._group,
            topic=topic,
        )

    def commit(
        self, next_offsets: dict[Partition, int], *, wait: bool = True, notes: dict[Partition, str] | None = None
    ) -> None:
        """Commit, for each partition, the offset of the next record to read.

        Inside a rebalance listener (which here runs on the caller's thread) the commit is waited for
        whatever ``wait`` says: the offsets are stored before the partitions are given away.

        Raises:
            TransportError: the commit failed (e.g. the group rebalanced); the records will be redelivered.
        """
        if not next_offsets:
            return
        notes = notes or {}
        offsets = [
            TopicPartition(p.topic, p.partition, off, notes[p])
            if p in notes
            else TopicPartition(p.topic, p.partition, off)
            for p, off in next_offsets.items()
        ]
        try:
            if wait or self._in_rebalance:
                answered = self._consumer.commit(offsets=offsets, asynchronous=False) or []
                failed = [tp for tp in answered if tp.error is not None]
                if failed:
                    raise KafkaException(failed[0].error)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            error = _error_of(exc)
            code = error.code() if error is not None else None
            if code in (KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED):
                raise self._failed("offset commit refused", exc) from exc
            raise TransportError(f"offset commit failed: {exc}", retriable=True) from exc

    def commit_soon(self, next_offsets: dict[Partition, int], *, notes: dict[Partition, str] | None = None) -> None:
        """Commit without waiting: librdkafka queues the commit on its own thread (a later one carries
        the latest offsets), so commits made one after another do not pile up on the connection."""
        self.commit(next_offsets, wait=False, notes=notes)

    def _failed(
        self, message: str, exc: KafkaException, *, right: str | None = None, topic: str | None = None
    ) -> TransportError:
        error = _error_of(exc)
        cause = _as_kafka_python(error) if error is not None else exc
        topic = topic or ",".join(self._topics) or None
        return _failure(message, cause, principal=self._principal, right=right, group=self._group, topic=topic)

    def close(self) -> None:
        """Leave the group (without committing, and without calling the listener) and close."""
        self._closing = True
        with contextlib.suppress(RuntimeError):  # closed already
            self._consumer.close()


_ADMIN_KEYS = {
    "bootstrap.servers",
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "ssl.endpoint.identification.algorithm",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "client.id",
    "logger",
    "error_cb",
}


def _uuid_text(topic_id: Any) -> str:
    """A topic id in kafka-python's form (the UUID's canonical text), "" for none."""
    if topic_id is None:
        return ""
    mask = (1 << 64) - 1
    value = (topic_id.get_most_significant_bits() & mask) << 64 | (topic_id.get_least_significant_bits() & mask)
    return "" if value == 0 else str(uuid.UUID(int=value))


def _log_failed_commit(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    if error is not None:
        where = sorted((tp.topic, tp.partition) for tp in partitions)
        _log.warning("offset commit of %s failed, its records will be redelivered: %s", where, error)
