"""The trust topic: a compacted Kafka topic of trust records the interoperability authority signed.

Publishing a key (Kafka key: its key id), rotating (a second key for the same agency) and revoking
(Kafka key ``<key id>#revoked``) are each one record, signed with the authority's key and checked
against the pinned trust anchor by every reader (``bus.identity._anchor``): a record the anchor did
not sign changes nothing, whoever managed to write it. ACLs let only the operator write the topic.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from bus._errors import TransportError
from bus.identity._anchor import TrustAnchor, TrustStatement, UntrustedRecord
from bus.identity._keys import AgencyKey
from bus.identity._trust import TrustedKey, TrustStore
from bus.transport import Consumer, KafkaClientConfig, Partition, Producer, Record, Topics

__all__ = ["DEFAULT_TRUST_TOPIC", "TrustTopicReader", "publish_trusted_key"]

DEFAULT_TRUST_TOPIC = "enlace.trust"
_log = logging.getLogger(__name__)


def publish_trusted_key(
    kafka: KafkaClientConfig | str,
    trusted: TrustedKey,
    *,
    authority: AgencyKey,
    topic: str = DEFAULT_TRUST_TOPIC,
    timeout: float = 30,
) -> int:
    """Write one key's trust record, signed by the authority (its revocation once ``trusted`` is revoked).

    Creates the compacted topic if needed; returns the record's offset.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        trusted: the key's trust record.
        topic: the trust topic.
        timeout: seconds to wait for the acknowledgement.

    Raises:
        ConfigError: ``authority`` is not the interoperability authority's key.
        TransportError: the record was not acknowledged.
    """
    statement = trusted.statement()
    value = statement.signed(authority)
    topics = Topics(kafka)
    try:
        topics.ensure(topic, partitions=1, compacted=True)
    finally:
        topics.close()
    producer = Producer(kafka)
    try:
        future = producer.send(topic, key=statement.kafka_key, value=value, headers=[])
        return future.get(timeout=timeout).offset
    except TransportError as exc:
        raise TransportError(
            f"trust record for {trusted.key_id} not acknowledged: {exc}", retriable=exc.retriable, topic=topic
        ) from exc
    finally:
        producer.close()


class TrustTopicReader:
    """Keeps a :class:`TrustStore` up to date from the trust topic, in a background thread.

    :meth:`start` reads the topic to its end before returning, then a daemon thread follows new
    records (new keys, rotations, revocations) without a restart. :meth:`catch_up` (installed as the
    store's refresh hook) blocks until everything written before the call has been applied.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        store: the store to keep up to date.
        topic: the trust topic.
        poll_ms: how long one poll of the background thread waits for records.
    """

    def __init__(
        self,
        kafka: KafkaClientConfig | str,
        store: TrustStore,
        *,
        anchor: TrustAnchor,
        topic: str = DEFAULT_TRUST_TOPIC,
        poll_ms: int = 500,
    ) -> None:
        self.store = store
        self.anchor = anchor
        # (offset, reason, message) of the latest ignored records, for the operator to look into.
        self.rejected: deque[tuple[int, str, str]] = deque(maxlen=100)
        self.topic = topic
        self._kafka = kafka
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._wanted = threading.Condition()
        self._requests = 0  # catch-up requests made
        self._served = 0  # catch-up requests whose end offsets were reached
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 30) -> TrustTopicReader:
        """Read the whole topic, then follow it in the background.

        Raises:
            TransportError: the topic could not be read to its end within ``timeout``.
        """
        topics = Topics(self._kafka)
        try:
            topics.ensure(self.topic, partitions=1, compacted=True)
        finally:
            topics.close()
        self._consumer = Consumer(self._kafka, group=None, isolation_level="read_uncommitted")
        self._consumer.assign(self._consumer.partitions_for(self.topic) or [Partition(self.topic, 0)])
        self._consumer.seek_to_beginning()
        self._thread = threading.Thread(target=self._follow, name=f"trust-reader-{self.topic}", daemon=True)
        self._thread.start()
        if not self.catch_up(timeout):
            raise TransportError(f"could not read trust topic {self.topic} within {timeout}s", topic=self.topic)
        self.store.set_refresh(self.catch_up)
        return self

    def catch_up(self, timeout: float = 10) -> bool:
        """Block until records written before this call are in the store; False on timeout."""
        with self._wanted:
            self._requests += 1
            ticket = self._requests
            return self._wanted.wait_for(lambda: self._served >= ticket or self._stop.is_set(), timeout)

    def stop(self) -> None:
        """Stop following and close the consumer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.set_refresh(None)

    def _follow(self) -> None:
        assert self._consumer is not None
        failures = 0  # reads failed in a row, for their backoff
        try:
            while not self._stop.is_set():
                try:
                    self._follow_once()
                    failures = 0
                except TransportError as exc:
                    if not exc.retriable:
                        raise
                    failures += 1  # a broker restarting, a leader moving: wait, then read on
                    backoff = min(30.0, 0.2 * 2 ** min(failures - 1, 8))
                    _log.warning("trust topic %s read failed, retrying in %.1fs: %s", self.topic, backoff, exc)
                    self._stop.wait(backoff)
        except Exception as exc:  # keep the last error for stop(); receivers then fail on unknown keys
            self._error = exc
            _log.error("trust topic reader stopped: %s", exc)
        finally:
            self._consumer.close()
            with self._wanted:
                self._wanted.notify_all()

    def _follow_once(self) -> None:
        """Serve the catch-up requests made so far by reading to the end, or else poll once."""
        assert self._consumer is not None
        with self._wanted:
            pending = self._requests
        if pending > self._served:
            self._read_to_end()
            with self._wanted:
                self._served = pending
                self._wanted.notify_all()
        else:
            self._apply(self._consumer.poll(self._poll_ms))

    def _read_to_end(self) -> None:
        assert self._consumer is not None
        partitions = self._consumer.partitions_for(self.topic)
        ends = self._consumer.end_offsets(partitions)
        while not self._stop.is_set() and any(self._consumer.position(tp) < end for tp, end in ends.items()):
            self._apply(self._consumer.poll(self._poll_ms))

    def _apply(self, records: list[Record]) -> None:
        for record in records:
            try:
                statement = TrustStatement.read(record.value, self.anchor, kafka_key=record.key)
                self.store.apply(statement)
            except UntrustedRecord as exc:
                # It trusts nothing and changes nothing; said loudly (the operator must find out who wrote it).
                self.rejected.append((record.offset, exc.reason, str(exc)))
                _log.error("ignoring trust record at offset %s (%s): %s", record.offset, exc.reason, exc)
