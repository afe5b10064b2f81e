"""The transport over confluent-kafka (``ENLACE_KAFKA_CLIENT=confluent``): the same contract as over kafka-python.

The seam's own integration tests of ``test_transport.py`` run again here with every client
configuration of the session's real secured broker choosing librdkafka; then what only this engine
needs (an agency refused by the ACLs, a commit inside the revoke call, ids as kafka-python gives
them); then the translation of settings, which is pure logic.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from bus import AccessDenied, ConfigError, load_settings
from bus.transport import (
    Consumer,
    KafkaClientConfig,
    Partition,
    Producer,
    Topics,
    TransactionalProducer,
    check_producer_config,
    connection_properties,
    consumer_properties,
    principal_for,
    producer_properties,
)
from bus.transport._clients import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS
from bus.transport._confluent import ConfluentConsumer, ConfluentProducer
from tests.bus.test_transport import (  # noqa: F401 - collected again here, on librdkafka
    test_a_rebalance_listener_hears_partitions_assigned_and_revoked_as_partition_objects,
    test_a_record_the_broker_refuses_reaches_the_errback_as_a_transport_error,
    test_sends_answer_with_acknowledged_and_polls_give_enlace_records,
    test_the_consumer_commits_only_what_it_is_told,
    test_the_producer_is_idempotent_against_kafka_4,
)

integration = pytest.mark.integration
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class _OnConfluent:
    """The session's cluster, every client configuration of which chooses librdkafka."""

    def __init__(self, cluster: Any) -> None:
        self._cluster = cluster

    def client_config(self, *args: Any, **kwargs: Any) -> KafkaClientConfig:
        return dataclasses.replace(self._cluster.client_config(*args, **kwargs), client="confluent")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cluster, name)


@pytest.fixture
def kafka(kafka):
    return _OnConfluent(kafka)


# -- on the real broker --------------------------------------------------------------------------------
@integration
def test_the_configuration_chooses_librdkafka_for_producers_and_consumers(kafka):
    config = kafka.client_config()
    producer, consumer = Producer(config), Consumer(config, group=None)
    try:
        assert type(producer) is ConfluentProducer and type(consumer) is ConfluentConsumer
        assert isinstance(producer, Producer) and isinstance(consumer, Consumer)
    finally:
        consumer.close()
        producer.close()
    plain = dataclasses.replace(config, client="kafka-python")
    producer = Producer(plain)
    try:
        assert type(producer) is Producer
    finally:
        producer.close()


@integration
def test_an_agency_the_acls_refuse_is_told_the_principal_the_topic_and_the_right(kafka, new_topic):
    topic = new_topic("refused")  # created by the operator; no agency has any right on it
    principal = principal_for("urn:mx:gob:crm")
    crm = kafka.client_config(principal)
    if crm.sasl_username != principal:
        pytest.skip("a cluster without per-agency principals")
    producer = Producer(crm)
    try:
        with pytest.raises(AccessDenied) as refused:
            producer.send(topic, key=b"k", value=b"v", headers=[]).get(timeout=30)
    finally:
        producer.close()
    assert (refused.value.principal, refused.value.right) == (principal, "WRITE")
    assert refused.value.resource == f"topic {topic}"

    consumer = Consumer(crm, group=None)
    try:
        consumer.assign([Partition(topic, 0)])
        with pytest.raises(AccessDenied) as unread:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the refusal comes with the first fetch's answer
                consumer.poll(500)
    finally:
        consumer.close()
    assert (unread.value.principal, unread.value.right) == (principal, "READ")
    assert topic in unread.value.resource


class _CommitsOnRevoke:
    """A listener that commits, inside the revoke call, the position it was told to keep."""

    def __init__(self, keep: int) -> None:
        self.consumer: Consumer | None = None
        self.keep = keep
        self.assigned: list[Partition] = []
        self.revoked = 0

    def on_partitions_revoked(self, revoked: list[Partition]) -> None:
        assert self.consumer is not None
        self.consumer.commit(dict.fromkeys(revoked, self.keep), wait=False)
        self.revoked += 1

    def on_partitions_assigned(self, assigned: list[Partition]) -> None:
        self.assigned = assigned


@integration
def test_a_commit_made_while_partitions_are_revoked_is_stored_before_they_move(kafka, new_topic, unique_name):
    topic, group = new_topic("revoke"), unique_name("g")
    tuned = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500, "metadata_max_age_ms": 1000}
    first_heard = _CommitsOnRevoke(keep=7)
    first = Consumer(kafka.client_config(), group=group, **tuned)
    second = Consumer(kafka.client_config(), group=group, **tuned)
    first_heard.consumer = first
    try:
        first.subscribe([topic], listener=first_heard)
        deadline = time.monotonic() + 60
        while not first_heard.assigned and time.monotonic() < deadline:
            first.poll(200)
        assert first_heard.assigned == [Partition(topic, 0)]
        second_heard = _CommitsOnRevoke(keep=0)
        second_heard.consumer = second
        second.subscribe([topic], listener=second_heard)
        while not first_heard.revoked and time.monotonic() < deadline:
            first.poll(100)
            second.poll(100)
        assert first_heard.revoked, "the first consumer was told before its partition was taken away"
        # Right after the revoke call returned, the group already holds what it committed.
        with Topics(kafka.client_config()) as topics:
            assert topics.committed(group) == {Partition(topic, 0): 7}
    finally:
        second.close()
        first.close()


@integration
def test_a_closing_consumer_does_not_call_its_listener(kafka, new_topic, unique_name):
    # A subscription closing after a failure has rolled its batch back: a commit then would let
    # records go whose effects were undone.
    topic, group = new_topic("close"), unique_name("g")
    heard = _CommitsOnRevoke(keep=3)
    consumer = Consumer(kafka.client_config(), group=group)
    heard.consumer = consumer
    consumer.subscribe([topic], listener=heard)
    deadline = time.monotonic() + 60
    while not heard.assigned and time.monotonic() < deadline:
        consumer.poll(200)
    consumer.close()
    assert heard.revoked == 0
    with Topics(kafka.client_config()) as topics:
        assert topics.committed(group) == {}


@integration
def test_topic_ids_are_the_ones_kafka_python_gives_so_the_store_keys_stay(kafka, new_topic):
    topic = new_topic("ids")
    producer = Producer(kafka.client_config())
    try:
        producer.send(topic, key=None, value=b"v", headers=[]).get(timeout=30)
    finally:
        producer.close()
    found = []
    for config in (kafka.client_config(), dataclasses.replace(kafka.client_config(), client="kafka-python")):
        consumer = Consumer(config, group=None)
        try:
            consumer.assign([Partition(topic, 0)])
            deadline = time.monotonic() + 30
            while not consumer.poll(200) and time.monotonic() < deadline:
                pass
            found.append(consumer.identity(topic))
        finally:
            consumer.close()
    assert found[0] == found[1] and found[0].cluster_id and found[0].topic_id


@integration
def test_a_null_header_value_arrives_as_null_and_a_large_header_whole(kafka, new_topic):
    topic = new_topic("headers")
    large = b"h" * 200_000
    producer = Producer(kafka.client_config())
    try:
        producer.send(topic, key=None, value=b"v", headers=[("empty", None), ("large", large)]).get(timeout=30)
    finally:
        producer.close()
    consumer = Consumer(kafka.client_config(), group=None)
    try:
        consumer.assign([Partition(topic, 0)])
        records = []
        deadline = time.monotonic() + 30
        while not records and time.monotonic() < deadline:
            records = consumer.poll(200)
    finally:
        consumer.close()
    (record,) = records
    assert record.headers == [("empty", None), ("large", large)]


@integration
def test_a_reader_of_a_transactional_topic_reaches_its_end_past_the_commit_marker(kafka, new_topic, unique_name):
    # The registry's log reader waits until its position reaches the end offset: a position left at
    # the last record, before the transaction's commit marker, would never get there.
    topic = new_topic("tx-end")
    writer = TransactionalProducer(kafka.client_config(), transactional_id=unique_name("tx"), timeout_s=30)
    try:
        writer.commit(topic, [(b"a", b"1"), (b"b", b"2")], partition=0)
    finally:
        writer.close()
    consumer = Consumer(kafka.client_config(), group=None)
    partition = Partition(topic, 0)
    try:
        consumer.assign([partition])
        consumer.seek_to_beginning()
        # The commit's markers are written after the commit returns: the end moves to 3 soon after.
        read: list[bytes | None] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            read += [r.value for r in consumer.poll(200)]
            end = consumer.end_offsets([partition])[partition]
            if end == 3 and consumer.position(partition) >= end:
                break
        assert end == 3, "two records and the commit marker"
        assert consumer.position(partition) == end and read == [b"1", b"2"]
    finally:
        consumer.close()


# -- the translation of settings (pure logic) -------------------------------------------------------
@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text(CA_PEM)
    return str(path)


def test_a_sasl_ssl_configuration_becomes_librdkafka_properties(ca_file):
    config = KafkaClientConfig(
        bootstrap_servers="b1:9093,b2:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="urn:mx:gob:crm",
        sasl_password="pw",
        ssl_cafile=ca_file,
        client="confluent",
    )
    assert connection_properties(config) == {
        "bootstrap.servers": "b1:9093,b2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "urn:mx:gob:crm",
        "sasl.password": "pw",
        "ssl.ca.location": ca_file,
        "ssl.endpoint.identification.algorithm": "https",
    }
    unchecked = dataclasses.replace(config, ssl_check_hostname=False)
    assert connection_properties(unchecked)["ssl.endpoint.identification.algorithm"] == "none"
    assert connection_properties(KafkaClientConfig(bootstrap_servers="h:1")) == {
        "bootstrap.servers": "h:1",
        "security.protocol": "PLAINTEXT",
    }


def test_the_defaults_keep_their_guarantees_in_librdkafkas_names():
    producer = producer_properties(PRODUCER_DEFAULTS)
    assert producer["acks"] == "all" and producer["enable.idempotence"] is True
    assert producer["max.in.flight.requests.per.connection"] == 5
    assert producer["message.max.bytes"] == 1_048_576, "the same largest record as kafka-python's"
    consumer = consumer_properties(CONSUMER_DEFAULTS)
    assert consumer["enable.auto.commit"] is False and consumer["isolation.level"] == "read_committed"
    assert consumer["auto.offset.reset"] == "earliest" and "max_poll_records" not in str(consumer)
    assert producer_properties({"compression_type": None, "acks": 1, "buffer_memory": 33_554_432}) == {
        "message.max.bytes": 1_048_576,
        "compression.type": "none",
        "acks": "1",
        "queue.buffering.max.kbytes": 32_768,
    }


def test_a_setting_librdkafka_has_no_equivalent_of_is_refused_by_name():
    with pytest.raises(ConfigError, match="'partitioner' has no librdkafka equivalent"):
        producer_properties({"partitioner": object()})
    with pytest.raises(ConfigError, match="'consumer_timeout_ms' has no librdkafka equivalent"):
        consumer_properties({"consumer_timeout_ms": 100})
    with pytest.raises(ConfigError, match="'partitioner' has no librdkafka equivalent"):
        check_producer_config({"partitioner": object()}, client="confluent")
    assert "partitioner" in check_producer_config({"partitioner": None})  # kafka-python has it
    with pytest.raises(ConfigError, match="did you mean 'linger_ms'"):
        check_producer_config({"lingr_ms": 5}, client="confluent")  # unknown to both: as today


def test_enlace_kafka_client_chooses_the_library_and_travels_with_the_settings(monkeypatch):
    monkeypatch.setenv("ENLACE_BOOTSTRAP_SERVERS", "h:9092")
    monkeypatch.setenv("ENLACE_KAFKA_CLIENT", "confluent")
    config = KafkaClientConfig.from_settings(load_settings())
    assert config.client == "confluent" and "ENLACE_KAFKA_CLIENT" not in str(config.properties())
    again = KafkaClientConfig.from_settings(load_settings({}).model_copy(update=config.settings()))
    assert again.client == "confluent"
    monkeypatch.delenv("ENLACE_KAFKA_CLIENT")
    assert KafkaClientConfig.from_settings(load_settings()).client == "kafka-python"


def test_an_unknown_kafka_client_is_refused():
    with pytest.raises(ConfigError, match=r"'librdkafka'.*kafka-python, confluent"):
        KafkaClientConfig(bootstrap_servers="h:1", client="librdkafka")
    with pytest.raises(ConfigError, match="ENLACE_KAFKA_CLIENT"):
        load_settings({"ENLACE_KAFKA_CLIENT": "java"})


def test_the_connector_refuses_an_override_librdkafka_lacks_when_it_is_made(tmp_path):
    from bus.codec import InMemorySchemaSource
    from connectors import AgencyConnector

    settings = load_settings({}).model_copy(update={"bootstrap_servers": "127.0.0.1:1", "kafka_client": "confluent"})
    with pytest.raises(ConfigError, match="'consumer_timeout_ms' has no librdkafka equivalent"):
        AgencyConnector(
            "urn:mx:gob:crm",
            settings=settings,
            schema_source=InMemorySchemaSource(),
            store_path=tmp_path / "s.sqlite3",
            consumer_config={"consumer_timeout_ms": 100},
        )


class _ErrorMessage:
    """What librdkafka's consume() hands for an error: a message holding only the error and where."""

    def __init__(self, code: int, topic: str | None = "t", offset: int | None = 7) -> None:
        import confluent_kafka

        self._error, self._topic, self._offset = confluent_kafka.KafkaError(code), topic, offset

    def error(self):
        return self._error

    def topic(self):
        return self._topic

    def partition(self):
        return 0

    def offset(self):
        return self._offset


def test_librdkafkas_errors_become_unreadable_records_refusals_or_waiting():
    from confluent_kafka import KafkaError

    from bus.transport import UnreadableRecord

    consumer = Consumer(KafkaClientConfig(bootstrap_servers="127.0.0.1:1", client="confluent"), group="g")
    try:
        unreadable = consumer._unreadable(_ErrorMessage(KafkaError._BAD_MSG), KafkaError(KafkaError._BAD_MSG))
        assert isinstance(unreadable, UnreadableRecord) and (unreadable.topic, unreadable.offset) == ("t", 7)
        assert "corrupt" in unreadable.problem
        for waited in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._PARTITION_EOF, KafkaError._TRANSPORT):
            assert consumer._unreadable(_ErrorMessage(waited), KafkaError(waited)) is None
        refused = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)
        with pytest.raises(AccessDenied) as denied:
            consumer._unreadable(_ErrorMessage(KafkaError.TOPIC_AUTHORIZATION_FAILED), refused)
        assert (denied.value.resource, denied.value.right) == ("topic t", "READ")
        group = KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED)
        with pytest.raises(AccessDenied, match="consumer group g"):
            consumer._unreadable(_ErrorMessage(KafkaError.GROUP_AUTHORIZATION_FAILED, topic=None), group)
    finally:
        consumer.close()
