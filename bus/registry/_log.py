"""The ``_schemas`` topic as the registry's only storage: a compacted, single-partition Kafka log.

Reads: every instance replays the topic from the beginning (``read_committed``) into memory and
keeps following it, so a restarted or second instance serves the same state.

Writes stay safe with several instances through Kafka's transactional fencing: every instance's
writer uses the same ``transactional.id``. Before it decides anything (which id, which version) a
writer holds the current producer epoch (``init_transactions``) and has read the topic up to its
last stable offset; it then commits its records in one transaction. An instance that starts writing
bumps the epoch, which aborts any other instance's open transaction and makes that instance's next
commit fail with ``ProducerFencedError``; the loser re-reads the topic and decides again. So every
committed write was decided on a state that holds every earlier committed write: no schema gets
two ids and no id two schemas, with no leader to elect and no request forwarding.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from bus._errors import TransportError
from bus.registry._errors import ErrorCode, RegistryError
from bus.transport import Consumer, KafkaClientConfig, Partition, Topics, TransactionalProducer

__all__ = ["KafkaSchemaLog", "LogRecord"]

log = logging.getLogger(__name__)

LogRecord = tuple[bytes, bytes | None]
Apply = Callable[[bytes, "bytes | None"], None]

_WRITE_ATTEMPTS = 6
# What a broker and the Java and Python producers take by default (max.message.bytes is 1 MiB + 12).
_DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
# A record batch's header and one record's framing, with room to spare.
_RECORD_OVERHEAD_BYTES = 128


def _store_error(message: str, *, timeout: bool = False) -> RegistryError:
    code = ErrorCode.STORE_TIMEOUT if timeout else ErrorCode.STORE_ERROR
    return RegistryError(message, http_status=500, error_code=code)


class KafkaSchemaLog:
    """The registry's storage topic: replayed into memory, written with fenced transactions.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        topic: the storage topic (created compacted with one partition when missing).
        timeout: seconds to wait for Kafka in any one operation.
        transactional_id: the writer's ``transactional.id`` (shared by every instance of this
            registry, so a new writer fences the old; ACLs grant it to the registry principal only);
            ``enlace-registry-writer-<topic>`` when omitted.
    """

    def __init__(
        self,
        kafka: KafkaClientConfig | str,
        topic: str = "_schemas",
        *,
        timeout: float = 30.0,
        transactional_id: str | None = None,
    ) -> None:
        self.kafka = KafkaClientConfig.of(kafka)
        self.transactional_id = transactional_id or f"enlace-registry-writer-{topic}"
        self.bootstrap_servers = self.kafka.bootstrap_servers
        self.topic = topic
        self.timeout = timeout
        self._partition = Partition(topic, 0)
        self._applied = threading.Condition()
        self._position = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader_error: BaseException | None = None
        self._offsets_lock = threading.Lock()
        self._offsets: Consumer | None = None
        self._write_lock = threading.Lock()
        self._producer: TransactionalProducer | None = None
        self._max_record_bytes = _DEFAULT_MAX_RECORD_BYTES

    def start(self, apply: Apply) -> None:
        """Create the topic if needed, replay it through ``apply`` and keep following it.

        Raises:
            RegistryError: 50001 when Kafka is unreachable or the topic is unusable.
        """
        self._ensure_topic()
        self._offsets = self._consumer()
        self._thread = threading.Thread(
            target=self._follow, args=(apply,), name=f"registry-log-{self.topic}", daemon=True
        )
        self._thread.start()
        self.sync()

    def close(self) -> None:
        """Stop following the topic and close every Kafka client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout)
        with self._write_lock:
            self._drop_producer()
        if self._offsets is not None:
            self._offsets.close()

    def _consumer(self) -> Consumer:
        return Consumer(
            self.kafka,
            group=None,
            isolation_level="read_committed",
            fetch_max_wait_ms=200,
            request_timeout_ms=int(self.timeout * 1000) + 5000,
        )

    def _ensure_topic(self) -> None:
        topics = Topics(self.kafka, timeout_s=self.timeout)
        try:
            brokers = len(topics.brokers()) or 1
            topics.ensure(
                self.topic,
                partitions=1,
                replication=min(3, brokers),
                compacted=True,
                **{"min.insync.replicas": str(min(2, brokers))},
            )
            partitions = self._partitions_once_listed(topics)
            topic_limit = topics.max_message_bytes(self.topic) or _DEFAULT_MAX_RECORD_BYTES
        except TransportError as exc:
            raise _store_error(f"cannot reach Kafka at {self.bootstrap_servers}: {exc}") from exc
        finally:
            topics.close()
        if not partitions:
            raise _store_error(f"topic {self.topic} lists no partition after {self.timeout:.0f}s", timeout=True)
        if len(partitions) != 1:
            raise _store_error(f"topic {self.topic} has {len(partitions)} partitions; the registry needs exactly 1")
        self._max_record_bytes = min(topic_limit, _DEFAULT_MAX_RECORD_BYTES)

    def _partitions_once_listed(self, topics: Topics) -> list[Partition]:
        # Right after a topic is created (by this instance, or by another starting beside it) the
        # cluster's metadata may list it with no partitions yet: ask again, for a bounded time.
        deadline = time.monotonic() + self.timeout
        pause = 0.05
        while True:
            partitions = topics.partitions(self.topic)
            if partitions or time.monotonic() + pause > deadline:
                return partitions
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _follow(self, apply: Apply) -> None:
        consumer = self._consumer()
        try:
            consumer.assign([self._partition])
            consumer.seek_to_beginning(self._partition)
            while not self._stop.is_set():
                for record in consumer.poll(200):
                    if record.key is None:  # no registry record has a null key: not ours to fold
                        log.warning("skipping a keyless record at %s offset %d", self.topic, record.offset)
                        continue
                    apply(record.key, record.value)
                position = consumer.position(self._partition)
                with self._applied:
                    self._position = position
                    self._applied.notify_all()
        except BaseException as exc:  # the registry must not serve stale state silently
            log.exception("registry log reader for %s stopped", self.topic)
            with self._applied:
                self._reader_error = exc
                self._applied.notify_all()
        finally:
            consumer.close()

    def end_offset(self) -> int:
        """The topic's last stable offset (the end a ``read_committed`` reader can reach)."""
        assert self._offsets is not None, "start() first"
        with self._offsets_lock:
            try:
                return self._offsets.end_offsets([self._partition], timeout_s=self.timeout)[self._partition]
            except TransportError as exc:
                raise _store_error(f"cannot read the end of {self.topic}: {exc}") from exc

    def sync(self, target: int | None = None) -> None:
        """Wait until every record committed so far (or up to ``target``) is applied in memory.

        Raises:
            RegistryError: 50002 when the topic cannot be read in time, 50001 when its reader died.
        """
        target = self.end_offset() if target is None else target
        with self._applied:
            done = self._applied.wait_for(
                lambda: self._position >= target or self._reader_error is not None, timeout=self.timeout
            )
            if self._reader_error is not None:
                raise _store_error(f"the reader of {self.topic} stopped: {self._reader_error}")
            if not done:
                raise _store_error(f"timed out reading {self.topic} up to offset {target}", timeout=True)

    def write(self, decide: Callable[[], Sequence[LogRecord]]) -> None:
        """Decide records on the latest state and commit them as the only writer.

        ``decide`` runs after every committed record is applied and may raise to refuse; it runs
        again when another instance wrote in between. The records are applied in memory when this
        returns (read-your-writes).

        Raises:
            RegistryError: what ``decide`` raised, or 50001 when Kafka keeps failing.
        """
        with self._write_lock:
            for attempt in range(_WRITE_ATTEMPTS):
                producer = self._fenced_producer()
                self.sync()
                records = decide()
                if not records:
                    return
                self._refuse_oversized(records)
                try:
                    last = self._commit(producer, records)
                except TransportError as exc:
                    # Fenced by another instance (or a broker hiccup): decide again on fresh state.
                    log.info("registry write to %s retried after %s", self.topic, type(exc.__cause__ or exc).__name__)
                    self._drop_producer()
                    time.sleep(0.05 * (attempt + 1))
                    continue
                self.sync(last + 1)
                return
            raise _store_error(f"could not commit to {self.topic} after {_WRITE_ATTEMPTS} attempts")

    def _refuse_oversized(self, records: Sequence[LogRecord]) -> None:
        """Refuse, as Confluent does (42209), a record the topic would refuse, before sending it."""
        for key, value in records:
            size = len(key) + len(value or b"") + _RECORD_OVERHEAD_BYTES
            if size > self._max_record_bytes:
                raise RegistryError(
                    f"Schema too large: its record in {self.topic} would be about {size} bytes; "
                    f"the topic takes at most {self._max_record_bytes} (max.message.bytes)",
                    http_status=422,
                    error_code=ErrorCode.SCHEMA_TOO_LARGE,
                )

    def _commit(self, producer: TransactionalProducer, records: Sequence[LogRecord]) -> int:
        futures = producer.commit(self.topic, records, partition=0)
        return max(f.get(timeout=self.timeout).offset for f in futures)

    def _fenced_producer(self) -> TransactionalProducer:
        if self._producer is None:
            try:
                self._producer = TransactionalProducer(
                    self.kafka, transactional_id=self.transactional_id, timeout_s=self.timeout
                )
            except TransportError as exc:
                raise _store_error(f"cannot become the writer of {self.topic}: {exc}") from exc
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=2)  # a fenced producer may fail to close cleanly; it is discarded
            self._producer = None
