"""``AgencyConnector``: how an agency system publishes and receives signed, traced records."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from bus import ConfigError, EnlaceSettings, TransportError, check_record_age, load_settings
from bus.codec import Codec, SchemaSource
from bus.encryption import FieldEncryption, Keyring, encryption_problems
from bus.identity import (
    MAX_BATCH_RECORDS,
    AgencyKey,
    TrustAnchor,
    TrustStore,
    TrustTopicReader,
    check_agency_urn,
    load_key,
)
from bus.records import Catalog, RecordType, catalog
from bus.tracing import SendSpan, Telemetry, configure_from_env
from bus.transport import (
    Acknowledged,
    Consumer,
    KafkaClientConfig,
    Producer,
    SendFuture,
    Topics,
    check_consumer_config,
    check_producer_config,
)
from connectors._batches import SigningBatcher, sign_outgoing
from connectors._dead_letters import DeadLetterWriter
from connectors._in_flight import InFlight
from connectors._inbound import Inbound, Limits
from connectors._message_log import CheckpointWitness, MessageLog, body_bytes, log_path_for
from connectors._outbound import Outbound, Prepared
from connectors._outbox import OutboxPublisher
from connectors._received import Delivery, DeliveryFuture
from connectors._store import AgencyStore, Outgoing, Transaction
from connectors._subscriber import Handler, Subscription

__all__ = ["AgencyConnector"]

# A broker's default max.message.bytes (1 MiB + 12), for a topic that does not exist yet.
_BROKER_DEFAULT_MAX_BYTES = 1_048_588
# How long run() and close() wait for the outbox to be sent; what is left is sent on the next start.
_FLUSH_TIMEOUT_S = 10.0
# The most records one batch signature covers: a burst of publish_async calls (or an outbox round)
# costs one Ed25519 signature per this many records; each record's audit path is then 9 hashes.
_BATCH_RECORDS = 500
# The most records published and not answered yet (connectors/_in_flight.py): a bound on memory,
# as buffer.memory is in Java; 2,000 to 10,000 measured alike (ops.bench.pipeline, 20,000 records).
_MAX_IN_FLIGHT = 10_000
_IN_FLIGHT_WAIT_S = 60.0  # as Java's max.block.ms


def _default_store_path(agency: str) -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "enlace" / f"{agency.rsplit(':', 1)[-1]}.sqlite3"


class _SentLog:
    """Logs one sent record once Kafka answered: where it was stored, or that it failed.

    Holds the entry's body already serialised (one bytes object, not the record's headers), because
    many records wait for their answer at once and each of their objects is scanned by the garbage
    collector while they wait.
    """

    __slots__ = ("body", "ce_id", "log", "topic")

    def __init__(self, log: MessageLog, topic: str, ce_id: str, body: bytes) -> None:
        self.log, self.topic, self.ce_id, self.body = log, topic, ce_id, body

    def acknowledged(self, meta: Acknowledged) -> None:
        self.log.sent(self.topic, meta.partition, meta.offset, ce_id=self.ce_id, body=self.body)

    def failed(self, exc: TransportError) -> None:
        self.log.sent(self.topic, -1, -1, ce_id=self.ce_id, body=self.body, outcome="failed")


class _Outcome:
    """The broker's answer to one send, turned into the :class:`DeliveryFuture` and the span's end.

    Holds only what the answer needs (not the record's bytes and headers), because many records wait
    for their answer at once.
    """

    __slots__ = ("ce_id", "delivery", "in_flight", "logged", "span", "topic")

    def __init__(self, topic: str, ce_id: str, span: SendSpan, logged: _SentLog | None, in_flight: InFlight) -> None:
        self.topic, self.ce_id, self.span, self.logged, self.in_flight = topic, ce_id, span, logged, in_flight
        self.delivery = DeliveryFuture()

    def sending(self, record: Prepared, headers: list[tuple[str, bytes]]) -> None:
        """The record's headers as it is sent (signed in its batch): what the message log keeps of it."""
        if self.logged is not None:
            self.logged.body = body_bytes(record.key, record.value, headers)

    def acknowledged(self, meta: Acknowledged) -> None:
        self.in_flight.leave()
        self.span.finish(partition=meta.partition, offset=meta.offset)
        if self.logged is not None:
            self.logged.acknowledged(meta)
        self.delivery.set_result(Delivery(meta.topic, meta.partition, meta.offset, self.ce_id))

    def failed(self, exc: TransportError) -> None:
        self.in_flight.leave()
        self.span.finish(error=exc)
        if self.logged is not None:
            self.logged.failed(exc)
        self.delivery.set_exception(
            TransportError(
                f"{self.topic} did not acknowledge {self.ce_id}: {exc}", retriable=exc.retriable, topic=self.topic
            )
        )


class AgencyConnector:
    """One agency's connection to the bus.

    Args:
        agency: the agency's URN, e.g. ``urn:mx:gob:crm``.
        key: its signing key, or the path of its private key file; None for a receive-only connector.
        settings: Enlace settings (``ENLACE_*``); read from the environment when omitted.
        schema_source: where schemas and ids come from (the registry client); defaults to a
            ``RegistryClient`` on ``settings.registry_url``.
        records: the record catalog; the project's shared records by default.
        store_path: the agency store's SQLite file (``settings.store_path`` or a per-agency file in
            ``$XDG_DATA_HOME/enlace``): processed ids, dead-lettered positions, the outbox and the
            agency's own tables.
        store_schema: the agency's own ``CREATE TABLE IF NOT EXISTS`` statements, run when the store
            opens.
        signatures: sign on publish and verify on receipt. Turn off only to measure their cost.
        encryption_keys: the agency's keyring (its X25519 private keys, current and rotated), or the
            key files or folders to read it from; ``settings.encryption_keys`` when omitted. Without
            it the connector still sends encrypted fields (to its readers' published keys), but
            cannot open the ones sent to it (``cannot-decrypt``).
        batch_records: the most records one batch signature covers (records published together, or
            sent together by the outbox, are signed together; they wait at most the producer's
            ``linger_ms`` for it). 1 signs every record alone (signed form 2).
        max_in_flight: the most records published with ``publish_async`` and not answered by Kafka
            yet; past it ``publish_async`` waits for answers (at most 60 s, then TransportError).
        tracer_provider, meter_provider: OpenTelemetry providers; the global ones (configured from
            ``OTEL_*``) by default.
        producer_config, consumer_config: kafka-python settings overriding Enlace's defaults (checked
            here: an unknown key, or a connection setting, is a ConfigError naming it).

    Raises:
        ConfigError: the URN is malformed, the key file unusable, an override unknown, no Kafka is
            configured (``ENLACE_BOOTSTRAP_SERVERS`` or ``ENLACE_KAFKA_CONFIG``), or the policy encrypts a
            field that cannot carry ciphertext (``bus.encryption.plan_for``).
    """

    def __init__(
        self,
        agency: str,
        *,
        key: AgencyKey | str | os.PathLike[str] | None = None,
        settings: EnlaceSettings | None = None,
        schema_source: SchemaSource | None = None,
        records: Catalog | None = None,
        store_path: str | os.PathLike[str] | None = None,
        store_schema: str = "",
        signatures: bool = True,
        encryption_keys: Keyring | str | os.PathLike[str] | None = None,
        batch_records: int = _BATCH_RECORDS,
        max_in_flight: int = _MAX_IN_FLIGHT,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        producer_config: dict[str, Any] | None = None,
        consumer_config: dict[str, Any] | None = None,
    ) -> None:
        self.agency = check_agency_urn(agency)
        self.settings = settings or load_settings()
        check_record_age(self.settings)  # settings made with model_copy skip the model's own check
        self.kafka = KafkaClientConfig.from_settings(self.settings)
        self.bootstrap_servers = self.kafka.bootstrap_servers
        self._producer_config = check_producer_config(producer_config or {}, client=self.kafka.client)
        self._consumer_config = check_consumer_config(consumer_config or {}, client=self.kafka.client)
        self._key = load_key(agency, key) if isinstance(key, (str, os.PathLike)) else key
        if self._key is not None and self._key.agency != agency:
            raise ConfigError(f"the key given is {self._key.agency}'s, not {agency}'s")
        self.signatures = signatures
        keys = encryption_keys if encryption_keys is not None else self.settings.encryption_keys
        self._keyring = keys if isinstance(keys, Keyring) else Keyring.load(agency, keys) if keys else Keyring()
        if not 1 <= batch_records <= MAX_BATCH_RECORDS:
            raise ConfigError(
                f"batch_records is {batch_records}: a batch signature covers 1 to {MAX_BATCH_RECORDS} records"
            )
        self._batch_records = batch_records
        if max_in_flight < 1:
            raise ConfigError(f"max_in_flight is {max_in_flight}: at least one record must be let through")
        self._in_flight = InFlight(max_in_flight, wait_s=_IN_FLIGHT_WAIT_S)
        self._batcher: SigningBatcher | None = None
        if tracer_provider is None or meter_provider is None:
            configure_from_env(agency)
        self.catalog = records or catalog()
        problems = encryption_problems(self.catalog.records(), self.catalog.policy)
        if problems:  # found at start, not on the first record that carries such a field
            raise ConfigError(
                f"the policy {self.catalog.policy.source} encrypts fields that cannot be: "
                + "; ".join(str(p) for p in problems)
            )
        public_keys = frozenset(
            self.settings.topic_prefix + rt.topic for rt in self.catalog.records() if rt.topic and rt.key_is_public
        )
        self.telemetry = Telemetry(
            agency, tracer_provider=tracer_provider, meter_provider=meter_provider, public_key_topics=public_keys
        )
        self._codec = Codec(schema_source or self._registry_client())
        self._store_path = Path(store_path or self.settings.store_path or _default_store_path(agency))
        self._store_schema = store_schema
        self._store: AgencyStore | None = None
        self._publisher: OutboxPublisher | None = None
        self._producer: Producer | None = None
        self._topics = Topics(self.kafka)
        self._outbound: Outbound | None = None
        self._trust: TrustStore | None = None
        self._trust_reader: TrustTopicReader | None = None
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._message_log: MessageLog | None = None
        self._witness: CheckpointWitness | None = None
        self._log_lock = threading.Lock()
        self._checkpoint_topic_found = False

    def _registry_client(self) -> SchemaSource:
        if not self.settings.registry_url:
            raise ConfigError("the connector needs ENLACE_REGISTRY_URL (or a schema_source)")
        from bus.registry import RegistryClient

        return RegistryClient(self.settings.registry_url, credential=self.settings.registry_token)

    # -- publishing --------------------------------------------------------------------------------
    def publish(self, record: Any, *, ce_id: str | None = None, timeout: float = 30) -> Delivery:
        """Validate, encode, sign and send one record; wait until all in-sync replicas have it.

        Args:
            record: a generated record model instance (e.g. ``CaseOpened(...)``).
            ce_id: the record's CloudEvents id; the next of ``bus.envelope.new_event_id`` when
                omitted (unique per process, not random per record). An outbox that may resend a
                record after a crash passes the same id each time, so receivers apply it once.
            timeout: seconds to wait for the acknowledgement.

        Returns:
            Where the record was stored, and its ce_id.

        Raises:
            PolicyViolation: this agency may not publish this record (nothing was sent).
            ValidationError: the record is invalid or too large for its topic (nothing was sent).
            SchemaError: its schema is not in the registry (nothing was sent).
            TransportError: Kafka did not acknowledge it in time.
        """
        future = self.publish_async(record, ce_id=ce_id)
        if self._batcher is not None:
            self._batcher.flush()  # a lone record waits for no batch-mates
        try:
            return future.result(timeout=timeout)
        except TimeoutError as exc:
            raise TransportError(f"record not acknowledged within {timeout}s", retriable=True) from exc

    def publish_async(self, record: Any, *, ce_id: str | None = None) -> DeliveryFuture:
        """Like :meth:`publish`, but return at once with a future of the :class:`Delivery`.

        Refusals (policy, validation, size, schema) are raised here, before anything is sent; the
        future fails only with a :class:`TransportError`. Records keep their order per key. Records
        published in a burst are signed together (one batch signature, at most ``batch_records``),
        each waiting at most the producer's linger for its batch.
        """
        outbound = self._outbound_ready()
        log = self._log_ready()
        prepared = outbound.prepare_record(record, ce_id=ce_id)
        assert self._producer is not None
        logged = None
        if log is not None:
            # Signed in a batch, the body is made once the headers are signed (outcome.sending).
            body = b"" if self._batcher is not None else body_bytes(prepared.key, prepared.value, prepared.headers)
            logged = _SentLog(log, prepared.topic, prepared.ce_id, body)
        outcome = _Outcome(prepared.topic, prepared.ce_id, prepared.span, logged, self._in_flight)
        try:
            self._in_flight.enter()  # may wait for answers; gives up with a TransportError
        except TransportError as exc:
            prepared.span.finish(error=exc)
            raise
        try:
            if self._batcher is not None:
                self._batcher.add(prepared, outcome)  # signed with the records sent with it: outcome.sending
            else:
                self._producer.send(
                    prepared.topic, key=prepared.key, value=prepared.value, headers=prepared.headers
                ).notify(outcome)
        except TransportError as exc:  # refused before it was sent (too large, closed): never answered
            self._in_flight.leave()
            prepared.span.finish(error=exc)
            raise
        return outcome.delivery

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every record published asynchronously is acknowledged or failed."""
        if self._batcher is not None:
            self._batcher.flush()
        if self._producer is not None:
            self._producer.flush(timeout)

    def _outbound_ready(self) -> Outbound:
        with self._lock:
            if self._outbound is None:
                if self.signatures and self._key is None:
                    raise ConfigError(f"{self.agency} has no signing key: pass key= to publish")
                self._producer = self._producer or Producer(self.kafka, **self._producer_config)
                signing_key = self._key if self.signatures else None
                self._outbound = Outbound(
                    agency=self.agency,
                    codec=self._codec,
                    catalog=self.catalog,
                    signing_key=signing_key,
                    telemetry=self.telemetry,
                    size_limit=self._size_limit,
                    topic_prefix=self.settings.topic_prefix,
                    encryption=FieldEncryption(self.catalog.policy, reader_key=self._reader_key),
                    batch_records=self._batch_records,
                )
                if signing_key is not None:
                    self._batcher = SigningBatcher(
                        signing_key,
                        self._producer.send,
                        max_records=self._batch_records,
                        max_wait_s=self._producer.linger_ms / 1000,
                    )
            return self._outbound

    def _reader_key(self, reader: str) -> X25519PublicKey | None:
        """The encryption key ``reader`` has in force in the trust topic (for sealing fields for it)."""
        return self._trust_ready().encryption_key_of(reader, datetime.now(UTC))

    # -- the message log --------------------------------------------------------------------------
    @property
    def message_log(self) -> MessageLog | None:
        """The agency's message log (opened on first use), or None when ``settings.message_log`` is off."""
        return self._log_ready()

    def _log_ready(self) -> MessageLog | None:
        if not self.settings.message_log:
            return None
        with self._log_lock:
            if self._message_log is None:
                with self._lock:
                    self._producer = self._producer or Producer(self.kafka, **self._producer_config)
                path = self.settings.message_log_path or log_path_for(self._store_path)
                self._message_log = MessageLog(
                    path,
                    agency=self.agency,
                    signing_key=self._key,
                    publish=self._publish_checkpoint,
                    checkpoint_topic=self.settings.checkpoint_topic,
                    checkpoint_every=self.settings.checkpoint_every,
                    checkpoint_interval_s=self.settings.checkpoint_interval_s,
                    retention=self._retention_of,
                )
            return self._message_log

    def _publish_checkpoint(self, value: bytes) -> SendFuture:
        topic = self.settings.checkpoint_topic
        if not self._checkpoint_topic_found:
            # A producer would wait a minute for a topic that does not exist: ask once, cheaply.
            if not self._topics.partitions(topic):
                raise TransportError(
                    f"the checkpoints topic {topic} does not exist (enlace acl sync makes it)", topic=topic
                )
            self._checkpoint_topic_found = True
        assert self._producer is not None
        return self._producer.send(topic, key=self.agency.encode(), value=value, headers=[])

    def _retention_of(self, topic: str) -> float | None:
        """How long the policy keeps a topic's records (a .dlq as long as its record), in seconds."""
        name = topic.removesuffix(".dlq").removeprefix(self.settings.topic_prefix)
        for record_type in self.catalog.records():
            if record_type.topic == name:
                days = self.catalog.policy.retention_of(record_type.full_name, record_type.classification)
                return None if days is None else days * 86400.0
        return None

    def witness_checkpoints(self) -> CheckpointWitness | None:
        """Follow the checkpoints topic, keeping every other agency's verified checkpoint in this
        agency's log (started by :meth:`run`; needs the trust anchor)."""
        log = self._log_ready()
        if log is None or not self.signatures:
            return None
        trust = self._trust_ready()
        with self._log_lock:
            if self._witness is None:
                self._witness = CheckpointWitness(self.kafka, log, trust, topic=self.settings.checkpoint_topic).start()
            return self._witness

    def _size_limit(self, topic: str) -> int:
        assert self._producer is not None
        topic_limit = self._topics.max_message_bytes(topic) or _BROKER_DEFAULT_MAX_BYTES
        return min(topic_limit, self._producer.max_request_size)

    # -- the agency store and its outbox ----------------------------------------------------------
    @property
    def store(self) -> AgencyStore:
        """The agency store (opened on first use, with its outbox publisher started): read its tables
        through ``store.reader()``."""
        return self._store_ready()

    def transaction(self) -> contextlib.AbstractContextManager[Transaction]:
        """A write transaction not caused by a received record (a web submission, a register load).

        ``execute``/``executemany`` write the agency's tables, ``emit(record)`` queues a record; all of
        it commits on leaving the block (or none of it, on an error), then the outbox publisher sends
        the records. Usage::

            with connector.transaction() as tx:
                tx.execute("UPDATE padron SET line = ? WHERE rfc = ?", (line, rfc))
                tx.emit(TaxpayerStatusChanged(...))
        """
        return self._store_ready().transaction()

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows published (kept until pruned) and pending, for health pages."""
        return self._store_ready().outbox_counts()

    def _store_ready(self) -> AgencyStore:
        self._log_ready()  # before the outbox publisher may send anything
        with self._lock:
            if self._store is None:
                self._producer = self._producer or Producer(self.kafka, **self._producer_config)
                self._store = AgencyStore(
                    self._store_path,
                    schema=self._store_schema,
                    emitter=self._prepare_for_outbox,
                    committed=self._wake_publisher,
                )
                self._publisher = OutboxPublisher(
                    self._store,
                    self._send_prepared,
                    sign=self._sign_outgoing,
                    retention_s=self.settings.store_retention_s,
                    name=f"outbox-{self.agency.rsplit(':', 1)[-1]}",
                    flush=self._producer.flush,
                ).start()
            return self._store

    def _prepare_for_outbox(self, record: Any) -> Outgoing:
        """Model → bytes, once, at emit time, in the caller's trace context (signed when sent)."""
        outbound = self._outbound_ready()
        prepared = outbound.prepare_record(record)
        # The span ends when the record is stored: the send may happen in another process after a
        # crash, and the consumer span of the receiver is a child of this one either way.
        prepared.span.finish()
        return Outgoing(prepared.topic, prepared.key, prepared.value, prepared.headers, prepared.ce_id)

    def _sign_outgoing(self, rows: list[Outgoing]) -> list[Outgoing]:
        """One outbox round's records, signed together (batches of at most ``batch_records``)."""
        if not self.signatures or self._key is None:
            return rows
        signed = sign_outgoing(self._key, rows, max_records=self._batch_records)
        return [Outgoing(r.topic, r.key, r.value, headers, r.ce_id) for r, headers in zip(rows, signed, strict=True)]

    def _send_prepared(self, outgoing: Outgoing) -> Any:
        assert self._producer is not None
        sent = self._producer.send(outgoing.topic, key=outgoing.key, value=outgoing.value, headers=outgoing.headers)
        if (log := self._message_log) is not None:
            body = body_bytes(outgoing.key, outgoing.value, outgoing.headers)
            sent.notify(_SentLog(log, outgoing.topic, outgoing.ce_id, body))
        return sent

    def _wake_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.wake()

    # -- receiving ---------------------------------------------------------------------------------
    def subscribe(self, what: Any, *, group: str, handler: Handler, commit_interval_s: float = 1.0) -> Subscription:
        """Register a handler for records of some types or topics, in a consumer group.

        Args:
            what: record types, record model classes, catalog names or topic names (one or a list).
            group: the consumer group (processed ids are kept per group).
            handler: ``handler(record, received)``; write effects through ``received.transaction``
                (``execute``, ``executemany``, ``emit``) to apply them exactly once. An exception is
                retried with backoff
                (``settings.handler_attempts`` calls in all), then the record is dead-lettered.
            commit_interval_s: how long records may be applied before their effects and offsets are
                committed together (0 commits after each record).

        Returns:
            The subscription (run it with :meth:`run`, or its own ``run()``).
        """
        topics, readers = self._topics_of(what)
        trust = self._trust_ready() if self.signatures else None
        store = self._store_ready()
        producer = self._producer = self._producer or Producer(self.kafka, **self._producer_config)
        consumer = Consumer(self.kafka, group=group, client_id=f"{self.agency}/{group}", **self._consumer_config)
        subscription = Subscription(
            consumer=consumer,
            topics=topics,
            group=group,
            handler=handler,
            inbound=Inbound(
                codec=self._codec,
                catalog=self.catalog,
                readers=readers,
                limits=Limits(
                    max_record_bytes=self.settings.max_record_bytes,
                    max_clock_skew_s=self.settings.max_clock_skew_s,
                    max_record_age_s=self.settings.max_record_age_s,
                ),
                topic_prefix=self.settings.topic_prefix,
                encryption=FieldEncryption(self.catalog.policy, agency=self.agency, keyring=self._keyring),
            ),
            trust=trust,
            store=store.batch(),
            dead_letters=DeadLetterWriter(producer, self._topics, group=group, agency=self.agency),
            telemetry=self.telemetry,
            attempts=self.settings.handler_attempts,
            backoff_s=self.settings.retry_backoff_s,
            commit_interval_s=commit_interval_s,
            message_log=self._log_ready(),
        )
        self._subscriptions.append(subscription)
        return subscription

    def _topics_of(self, what: Any) -> tuple[list[str], dict[str, RecordType]]:
        items = list(what) if isinstance(what, (list, tuple, set)) else [what]
        topics: list[str] = []
        readers: dict[str, RecordType] = {}
        for item in items:
            record_type = self._as_record_type(item)
            if record_type is None:
                topics.append(item)
                continue
            if record_type.topic is None:
                raise ConfigError(f"{record_type.full_name} is a shared type; it has no topic to subscribe to")
            readers[record_type.full_name] = record_type
            topics.append(self.settings.topic_prefix + record_type.topic)
        return sorted(set(topics)), readers

    def _as_record_type(self, item: Any) -> RecordType | None:
        if isinstance(item, RecordType):
            return item
        if isinstance(item, type):
            return self.catalog.for_model(item)
        if isinstance(item, str) and item in self.catalog.names():
            return self.catalog.get(item)
        return None

    def _trust_ready(self) -> TrustStore:
        with self._lock:
            if self._trust is None:
                if not self.settings.trust_anchor:
                    raise ConfigError(
                        f"{self.agency} cannot verify what it receives without the interoperability authority's "
                        "pinned public key: set ENLACE_TRUST_ANCHOR (settings.trust_anchor) to its .pub file"
                    )
                self._trust = TrustStore()
                self._trust_reader = TrustTopicReader(
                    self.kafka,
                    self._trust,
                    anchor=TrustAnchor.load(self.settings.trust_anchor),
                    topic=self.settings.trust_topic,
                ).start()
            return self._trust

    def run(self, *, max_records: int | None = None, idle_timeout_s: float | None = None) -> None:
        """Run every subscription until :meth:`stop`, SIGTERM or Ctrl-C.

        On a signal the record in hand is finished, its effects and offsets committed, and the
        consumers closed: nothing lost, nothing applied twice.
        """
        if not self._subscriptions:
            raise ConfigError("nothing to run: call subscribe() first")
        self.witness_checkpoints()
        with self._stop_on_signals():
            threads = [
                threading.Thread(
                    target=s.run,
                    kwargs={"max_records": max_records, "idle_timeout_s": idle_timeout_s},
                    name=f"subscription-{s.group}",
                    daemon=True,
                )
                for s in self._subscriptions[1:]
            ]
            for thread in threads:
                thread.start()
            self._subscriptions[0].run(max_records=max_records, idle_timeout_s=idle_timeout_s)
            for thread in threads:
                thread.join()
        if self._publisher is not None:
            self._publisher.flush(_FLUSH_TIMEOUT_S)  # what the last batches emitted, before returning

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda *_: self.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Ask every subscription to finish its record in hand, commit and return from :meth:`run`
        (a handler waiting to be retried is not retried: its record is redelivered later)."""
        for subscription in self._subscriptions:
            subscription.stop()

    def close(self) -> None:
        """Stop, send what the outbox holds (waiting a bounded time), flush what was published, and
        release every connection."""
        self.stop()
        if self._batcher is not None:
            self._batcher.close()
        if self._publisher is not None:
            self._publisher.stop(flush_timeout=_FLUSH_TIMEOUT_S)
        if self._witness is not None:
            self._witness.stop()
        if self._message_log is not None:
            if self._producer is not None:
                self._producer.flush(_FLUSH_TIMEOUT_S)  # what was published is acknowledged, so logged
            self._message_log.close()
        if self._store is not None:
            self._store.close()
        if self._trust_reader is not None:
            self._trust_reader.stop()
        if self._producer is not None:
            self._producer.close()
        self._topics.close()

    def __enter__(self) -> AgencyConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
