"""The Kafka transport: its own types on a real broker, and the one client configuration.

Integration tests (marked) run against the session's real Kafka node: the idempotent acks=all
producer, explicit commits, Enlace's Record/Partition/Acknowledged types, rebalance listeners,
transactions and administration. The rest are pure logic: the client configuration, the checks of
per-client overrides and the Kafka client properties files in the Java client's key names.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bus import ConfigError, EnlaceSettings, TransportError, load_settings
from bus.codec import InMemorySchemaSource
from bus.transport import (
    Acknowledged,
    Broker,
    Consumer,
    KafkaClientConfig,
    Partition,
    Producer,
    Record,
    Topics,
    TransactionalProducer,
    check_consumer_config,
    check_producer_config,
    read_client_properties,
)

integration = pytest.mark.integration
PASSWORD = "s3cr3t-Pa55"  # must never appear in a message or a repr
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


# -- on a real broker ----------------------------------------------------------------------------------
@integration
def test_the_producer_is_idempotent_against_kafka_4(kafka, unique_name, new_topic):
    topic = new_topic("idem")
    producer = Producer(kafka.client_config())
    try:
        producer.send(topic, key=b"k", value=b"v", headers=[("h", b"1")]).get(timeout=30)
        assert producer.idempotent(), "the broker must have given the producer an id (KIP-98)"
    finally:
        producer.close()


@integration
def test_topics_reports_max_message_bytes_and_creates_compacted_topics(kafka, unique_name):
    topic = unique_name("limits")
    topics = Topics(kafka.client_config())
    try:
        topics.ensure(topic, partitions=2, compacted=True, **{"max.message.bytes": "50000"})
        topics.ensure(topic)  # a second time is not an error
        assert topics.max_message_bytes(topic) == 50000
    finally:
        topics.close()


@integration
def test_the_consumer_commits_only_what_it_is_told(kafka, unique_name, new_topic):
    topic, group = new_topic("commit"), unique_name("g")
    producer = Producer(kafka.client_config())
    for i in range(10):
        producer.send(topic, key=None, value=str(i).encode(), headers=[])
    producer.close()
    consumer = Consumer(kafka.client_config(), group=group)
    consumer.subscribe([topic])
    seen = []
    for _ in range(40):
        seen += consumer.poll(500)
        if len(seen) >= 10:
            break
    consumer.commit({Partition(topic, 0): 4})
    consumer.close()
    again = Consumer(kafka.client_config(), group=group)
    again.subscribe([topic])
    rest = []
    for _ in range(40):
        rest += again.poll(500)
        if len(rest) >= 6:
            break
    again.close()
    assert [int(r.value) for r in rest] == [4, 5, 6, 7, 8, 9]


@integration
def test_commits_made_soon_one_after_another_all_land_without_piling_up(kafka, unique_name, new_topic, caplog):
    """Sent as they came, 60 unwaited commits in a row went past the coordinator connection's five
    requests in flight, and kafka-python refused the rest (NodeNotReadyError, logged as failed)."""
    topic, group = new_topic("soon"), unique_name("g")
    producer = Producer(kafka.client_config())
    for i in range(60):
        producer.send(topic, key=None, value=str(i).encode(), headers=[])
    producer.close()
    consumer = Consumer(kafka.client_config(), group=group)
    consumer.subscribe([topic])
    records: list[Record] = []
    deadline = time.monotonic() + 60
    while len(records) < 60 and time.monotonic() < deadline:
        records += consumer.poll(500)
    assert len(records) == 60
    with caplog.at_level("WARNING", logger="bus.transport._clients"):
        for record in records:
            consumer.commit_soon({Partition(topic, 0): record.offset + 1})
        consumer.close()  # what is still held back is committed here
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    with Topics(kafka.client_config()) as topics:
        assert topics.committed(group) == {Partition(topic, 0): 60}


@integration
def test_records_that_come_while_a_partition_has_records_buffered_are_not_held_back(kafka, new_topic):
    """A fetch made while one partition's records wait in the buffer would leave that partition out,
    and the broker would hold it (only the idle partition in it) for ``fetch_max_wait_ms``: here 20 s,
    so the record sent next would miss the 10 s deadline. The fetch that the poll's drain and a
    response crossing each other make is forced here: kafka-python's fetcher is driven by hand."""
    busy, idle = new_topic("busy"), new_topic("idle")
    producer = Producer(kafka.client_config())
    consumer = Consumer(kafka.client_config(), group=None, fetch_max_wait_ms=20_000)
    fetcher = consumer._consumer._fetcher
    try:
        consumer.assign([Partition(busy, 0), Partition(idle, 0)])
        consumer.seek_to_beginning()
        received: list[bytes] = []

        def poll_until(count: int, deadline_s: float) -> None:
            deadline = time.monotonic() + deadline_s
            while len(received) < count and time.monotonic() < deadline:
                received.extend(r.value for r in consumer.poll(200) if r.value is not None)

        consumer.poll(0)  # positions known, the first fetch (both partitions) waits at the broker
        producer.send(busy, key=None, value=b"first", headers=[]).get(timeout=30)
        poll_until(1, 30)
        assert received == [b"first"]

        def waiting() -> list[Any]:
            return [future for future in list(fetcher._fetch_futures) if not future.is_done]

        deadline = time.monotonic() + 30
        while not waiting() and time.monotonic() < deadline:  # until a fetch (both partitions) waits at the broker
            assert consumer.poll(100) == []
        assert len(waiting()) == 1, "one fetch waits at the broker"
        answered = threading.Event()
        waiting()[0].add_both(lambda _: answered.set())
        producer.send(busy, key=None, value=b"second", headers=[]).get(timeout=30)
        assert answered.wait(30), "the fetch waiting at the broker is answered by the record"
        assert fetcher._completed_fetches, "the record waits in the buffer, not polled yet"

        fetcher.send_fetches()  # what a poll does when the response lands just after its drain
        producer.send(busy, key=None, value=b"third", headers=[]).get(timeout=30)
        poll_until(3, 10)
        assert received == [b"first", b"second", b"third"], "a fetch without the busy partition held it back"
    finally:
        producer.close()
        consumer.close()


@integration
def test_sends_answer_with_acknowledged_and_polls_give_enlace_records(kafka, unique_name, new_topic):
    topic = new_topic("types")
    kafka_config = kafka.client_config()
    producer = Producer(kafka_config)
    heard: list[Acknowledged] = []
    try:
        before_ms = int(time.time() * 1000)
        future = producer.send(topic, key=b"RFC", value=b"payload", headers=[("ce_id", b"1"), ("ce_id2", b"2")])
        future.add_callback(heard.append)
        told = _Told()
        future.notify(told)
        acknowledged = future.get(timeout=30)
        producer.flush(10)
    finally:
        producer.close()
    assert acknowledged == Acknowledged(topic, 0, 0)
    assert heard == [acknowledged], "the callback gets Enlace's Acknowledged, not kafka-python's metadata"
    assert told.acks == [acknowledged] and told.failures == [], "notify tells the receiver too"

    consumer = Consumer(kafka_config, group=None)
    try:
        partitions = consumer.partitions_for(topic)
        assert partitions == [Partition(topic, 0)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        records: list[Record] = []
        for _ in range(40):
            records += consumer.poll(500)
            if records:
                break
        assert consumer.end_offsets(partitions) == {Partition(topic, 0): 1}
        assert consumer.position(Partition(topic, 0)) == 1
    finally:
        consumer.close()
    (record,) = records
    assert type(record) is Record
    assert (record.topic, record.partition, record.offset, record.key, record.value) == (
        topic,
        0,
        0,
        b"RFC",
        b"payload",
    )
    assert record.headers == [("ce_id", b"1"), ("ce_id2", b"2")]
    assert before_ms - 5000 <= record.timestamp_ms <= int(time.time() * 1000) + 5000
    assert not hasattr(record, "__dict__"), "a Record is made per received record: slots only"


@integration
def test_a_record_the_broker_refuses_reaches_the_errback_as_a_transport_error(kafka, unique_name):
    topic = unique_name("too-large")
    topics = Topics(kafka.client_config())
    try:
        topics.ensure(topic, partitions=1, **{"max.message.bytes": "1000"})
    finally:
        topics.close()
    producer = Producer(kafka.client_config())
    failures: list[BaseException] = []
    try:
        # random bytes: the producer compresses its batches (lz4), and 5000 x's would fit in 1000 bytes
        future = producer.send(topic, key=None, value=os.urandom(5000), headers=[])
        future.add_errback(failures.append)
        told = _Told()
        future.notify(told)
        with pytest.raises(TransportError) as raised:
            future.get(timeout=30)
    finally:
        producer.close()
    assert raised.value.topic == topic and raised.value.retriable is False, "a too-large record never succeeds"
    (failure,) = failures
    assert isinstance(failure, TransportError) and failure.retriable is False and topic in str(failure)
    assert told.acks == [] and [type(e) for e in told.failures] == [TransportError]
    assert told.failures[0].retriable is False and topic in str(told.failures[0])


class _Told:
    """A SendReceiver that writes down what it was told."""

    def __init__(self) -> None:
        self.acks: list[Acknowledged] = []
        self.failures: list[TransportError] = []

    def acknowledged(self, meta: Acknowledged) -> None:
        self.acks.append(meta)

    def failed(self, exc: TransportError) -> None:
        self.failures.append(exc)


class _Heard:
    """A RebalanceListener that writes down what it was told."""

    def __init__(self) -> None:
        self.assigned: list[list[Partition]] = []
        self.revoked: list[list[Partition]] = []

    def on_partitions_revoked(self, revoked: list[Partition]) -> None:
        self.revoked.append(revoked)

    def on_partitions_assigned(self, assigned: list[Partition]) -> None:
        self.assigned.append(assigned)


@integration
def test_a_rebalance_listener_hears_partitions_assigned_and_revoked_as_partition_objects(kafka, unique_name):
    topic, group = unique_name("rebalance"), unique_name("g")
    topics = Topics(kafka.client_config())
    try:
        topics.ensure(topic, partitions=2)
    finally:
        topics.close()
    first_heard, second_heard = _Heard(), _Heard()
    # A consumer whose first metadata lacked the new topic learns of it only at its next metadata
    # refresh (5 minutes by default): refresh each second, so the assignment with partitions follows.
    tuned = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500, "metadata_max_age_ms": 1000}
    first = Consumer(kafka.client_config(), group=group, **tuned)
    second = Consumer(kafka.client_config(), group=group, **tuned)
    try:
        first.subscribe([topic], listener=first_heard)
        deadline = time.monotonic() + 60
        # The first assignment can come before the group leader's metadata has the new topic (it is then
        # empty, and a second follows): wait for the one that gives it partitions.
        while not (first_heard.assigned and first_heard.assigned[-1]) and time.monotonic() < deadline:
            first.poll(200)
        assert first_heard.assigned[-1] == [Partition(topic, 0), Partition(topic, 1)]

        second.subscribe([topic], listener=second_heard)
        while not (first_heard.revoked and second_heard.assigned) and time.monotonic() < deadline:
            first.poll(100)
            second.poll(100)
    finally:
        second.close()
        first.close()
    assert first_heard.revoked, "the first consumer was told before its partitions were taken away"
    every = first_heard.revoked + first_heard.assigned + second_heard.assigned
    assert all(type(p) is Partition for batch in every for p in batch)
    assert second_heard.assigned[-1] and set(second_heard.assigned[-1]) <= {Partition(topic, 0), Partition(topic, 1)}


@integration
def test_a_newer_transactional_producer_fences_the_older_one(kafka, unique_name, new_topic):
    topic, transactional_id = new_topic("tx"), unique_name("tx-id")
    older = TransactionalProducer(kafka.client_config(), transactional_id=transactional_id, timeout_s=30)
    futures = older.commit(topic, [(b"a", b"1"), (b"b", b"2")], partition=0)
    assert [f.get(timeout=30).offset for f in futures] == [0, 1]
    newer = TransactionalProducer(kafka.client_config(), transactional_id=transactional_id, timeout_s=30)
    try:
        with pytest.raises(TransportError, match=transactional_id):
            older.commit(topic, [(b"c", b"3")], partition=0)
        assert newer.commit(topic, [(b"d", b"4")], partition=0)[0].get(timeout=30).offset >= 2
    finally:
        older.close()
        newer.close()


@integration
def test_topics_describes_the_cluster_its_topics_offsets_and_groups(kafka, unique_name):
    topic, group = unique_name("admin"), unique_name("g")
    topics = Topics(kafka.client_config())
    producer = Producer(kafka.client_config())
    consumer = Consumer(kafka.client_config(), group=group)
    try:
        topics.ensure(topic, partitions=2)
        for _ in range(3):
            producer.send(topic, key=None, value=b"v", headers=[], partition=1).get(timeout=30)
        consumer.commit({Partition(topic, 1): 2})
        brokers = topics.brokers()
        assert brokers and all(type(b) is Broker and not b.fenced for b in brokers)
        assert topic in topics.names()
        assert topics.partitions(topic) == [Partition(topic, 0), Partition(topic, 1)]
        assert topics.partitions(unique_name("absent")) == []
        assert topics.end_offsets(topics.partitions(topic)) == {Partition(topic, 0): 0, Partition(topic, 1): 3}
        assert topics.beginning_offsets([Partition(topic, 1)]) == {Partition(topic, 1): 0}
        assert group in topics.groups()
        assert topics.committed(group) == {Partition(topic, 1): 2}
    finally:
        consumer.close()
        producer.close()
        topics.close()


# -- overrides checked at construction -----------------------------------------------------------------
def test_an_unknown_producer_setting_is_refused_by_name_with_the_closest_known_one():
    with pytest.raises(ConfigError, match=r"unknown producer setting 'lingr_ms' \(did you mean 'linger_ms'\?\)"):
        check_producer_config({"lingr_ms": 5})
    with pytest.raises(ConfigError, match="'lingr_ms'"):
        Producer("127.0.0.1:1", lingr_ms=5)  # refused before any connection is tried
    assert check_producer_config({"linger_ms": 20, "compression_type": "gzip"}) == {
        "linger_ms": 20,
        "compression_type": "gzip",
    }


def test_an_unknown_consumer_setting_is_refused_by_name():
    with pytest.raises(ConfigError, match="unknown consumer setting 'max_pol_records'"):
        check_consumer_config({"max_pol_records": 5})
    with pytest.raises(ConfigError, match="'max_pol_records'"):
        Consumer("127.0.0.1:1", group=None, max_pol_records=5)
    assert check_consumer_config({"auto_offset_reset": "latest"}) == {"auto_offset_reset": "latest"}


@pytest.mark.parametrize(
    ("check", "key"),
    [
        (check_producer_config, "bootstrap_servers"),
        (check_producer_config, "sasl_plain_password"),
        (check_consumer_config, "security_protocol"),
        (check_consumer_config, "ssl_cafile"),
    ],
)
def test_connection_settings_cannot_be_overridden_per_client(check, key):
    with pytest.raises(ConfigError, match=f"'{key}' is a connection setting"):
        check({key: "x"})


def test_a_transactional_id_or_group_id_override_says_where_it_belongs():
    with pytest.raises(ConfigError, match="TransactionalProducer"):
        check_producer_config({"transactional_id": "t"})
    with pytest.raises(ConfigError, match="group="):
        check_consumer_config({"group_id": "g"})


def test_the_connector_refuses_an_unknown_override_when_it_is_made():
    from connectors import AgencyConnector

    settings = EnlaceSettings(bootstrap_servers="127.0.0.1:1")
    common = {"settings": settings, "schema_source": InMemorySchemaSource(), "signatures": False}
    with pytest.raises(ConfigError, match="'acks_all'"):
        AgencyConnector("urn:mx:gob:crm", producer_config={"acks_all": True}, **common)
    with pytest.raises(ConfigError, match="'auto_offset'"):
        AgencyConnector("urn:mx:gob:crm", consumer_config={"auto_offset": "latest"}, **common)


# -- the client configuration --------------------------------------------------------------------------
@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text(CA_PEM)
    return path


def test_a_sasl_ssl_configuration_becomes_kafka_python_settings(ca_file):
    config = KafkaClientConfig(
        bootstrap_servers="k1:9093,k2:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="urn:mx:gob:crm",
        sasl_password=PASSWORD,
        ssl_cafile=str(ca_file),
    )
    assert config.client_settings() == {
        "bootstrap_servers": "k1:9093,k2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "urn:mx:gob:crm",
        "sasl_plain_password": PASSWORD,
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca_file),
    }
    assert PASSWORD not in repr(config) and PASSWORD not in str(config)
    assert KafkaClientConfig.of("h:1") == KafkaClientConfig(bootstrap_servers="h:1")
    assert KafkaClientConfig.of(config) is config
    assert KafkaClientConfig(bootstrap_servers="h:1").client_settings() == {
        "bootstrap_servers": "h:1",
        "security_protocol": "PLAINTEXT",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"bootstrap_servers": ""}, "bootstrap servers"),
        ({"bootstrap_servers": "a:1,,b:2"}, "bootstrap servers"),
        ({"security_protocol": "TLS"}, "'TLS' .* is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512"}, "needs sasl_username, sasl_password"),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI", "sasl_username": "u"}
            | {"sasl_password": PASSWORD},
            "'GSSAPI'",
        ),
        ({"sasl_username": "u", "sasl_password": PASSWORD}, "does not use SASL"),
        ({"security_protocol": "PLAINTEXT", "ssl_cafile": "/x.pem"}, "does not use TLS"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"}, "cannot be read"),
        ({"security_protocol": "SSL", "ssl_certfile": "/x.pem"}, "both ssl_certfile and ssl_keyfile"),
    ],
)
def test_a_contradictory_or_invalid_configuration_is_refused(values, message):
    with pytest.raises(ConfigError, match=message) as raised:
        KafkaClientConfig(**{"bootstrap_servers": "k:9092"} | values)
    assert PASSWORD not in str(raised.value)


def test_a_truststore_that_is_not_pem_is_refused(tmp_path):
    jks = tmp_path / "truststore.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed\x00\x00\x00\x02binary")
    with pytest.raises(ConfigError, match="is not a PEM file"):
        KafkaClientConfig(bootstrap_servers="k:9093", security_protocol="SSL", ssl_cafile=str(jks))


def test_the_settings_know_the_kafka_client_variables_and_hide_the_password(ca_file):
    settings = load_settings(
        {
            "ENLACE_BOOTSTRAP_SERVERS": "k:9093",
            "ENLACE_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "ENLACE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "ENLACE_KAFKA_SASL_USERNAME": "urn:mx:gob:crm",
            "ENLACE_KAFKA_SASL_PASSWORD": PASSWORD,
            "ENLACE_KAFKA_SSL_CAFILE": str(ca_file),
        }
    )
    assert PASSWORD not in repr(settings)
    config = KafkaClientConfig.from_settings(settings)
    assert (config.security_protocol, config.sasl_username, config.sasl_password) == (
        "SASL_SSL",
        "urn:mx:gob:crm",
        PASSWORD,
    )
    assert "ENLACE_KAFKA_SASL_PASSWORD" in config.source
    with pytest.raises(ConfigError, match="ENLACE_KAFKA_SASL_PASWORD"):
        load_settings({"ENLACE_KAFKA_SASL_PASWORD": PASSWORD})


def test_no_cluster_named_is_a_config_error_unless_a_default_is_given():
    with pytest.raises(ConfigError, match="ENLACE_BOOTSTRAP_SERVERS"):
        KafkaClientConfig.from_settings(EnlaceSettings())
    assert KafkaClientConfig.from_settings(EnlaceSettings(), default_bootstrap=lambda: "local:1").bootstrap_servers == (
        "local:1"
    )
    with pytest.raises(ConfigError, match="ENLACE_BOOTSTRAP_SERVERS"):
        from connectors import AgencyConnector

        AgencyConnector("urn:mx:gob:crm", settings=EnlaceSettings(), schema_source=InMemorySchemaSource())


# -- Kafka client properties files ---------------------------------------------------------------------
def _write(tmp_path: Path, text: str, name: str = "client.properties") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="iso-8859-1")
    return path


def test_a_java_client_properties_file_translates_to_the_configuration(tmp_path, ca_file):
    path = _write(
        tmp_path,
        f"""# written for kafka-console-producer.sh as much as for Enlace
! another comment style
bootstrap.servers = k1:9093,k2:9093
security.protocol: SASL_SSL
sasl.mechanism SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username="urn:mx:gob:crm" \\
    password="{PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location={ca_file}
ssl.endpoint.identification.algorithm=
""",
    )
    assert read_client_properties(path) == {
        "bootstrap_servers": "k1:9093,k2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "urn:mx:gob:crm",
        "sasl_password": PASSWORD,
        "ssl_cafile": str(ca_file),
        "ssl_check_hostname": False,
    }
    config = KafkaClientConfig.from_settings(EnlaceSettings(kafka_config=str(path)))
    assert config.client_settings()["sasl_plain_password"] == PASSWORD
    assert str(path) in config.source and PASSWORD not in repr(config)


def test_escapes_and_quoted_values_are_read_as_java_reads_them(tmp_path):
    path = _write(
        tmp_path,
        "bootstrap.servers=k\\u0031:9092\n"
        "security.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=plain "
        'password="pa\\\\"ss";\n',
    )
    fields = read_client_properties(path)
    assert fields["bootstrap_servers"] == "k1:9092"
    # Properties turns \\\\ into \\; the JAAS parser then reads \\" as a quote inside the value.
    assert (fields["sasl_username"], fields["sasl_password"]) == ("plain", 'pa"ss')


def test_the_same_settings_in_the_file_and_the_environment_must_agree(tmp_path):
    path = _write(
        tmp_path,
        "bootstrap.servers=k:9092\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
        f'password="{PASSWORD}";\n',
    )
    agreeing = EnlaceSettings(kafka_config=str(path), bootstrap_servers="k:9092", kafka_sasl_username="u")
    assert KafkaClientConfig.from_settings(agreeing).sasl_username == "u"
    for disagreeing, named in (
        (EnlaceSettings(kafka_config=str(path), bootstrap_servers="other:9092"), "ENLACE_BOOTSTRAP_SERVERS"),
        (EnlaceSettings(kafka_config=str(path), kafka_sasl_password="different"), "ENLACE_KAFKA_SASL_PASSWORD"),
    ):
        with pytest.raises(ConfigError, match=named) as raised:
            KafkaClientConfig.from_settings(disagreeing)
        assert PASSWORD not in str(raised.value) and "different" not in str(raised.value)


def test_a_missing_properties_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.properties"
    with pytest.raises(ConfigError, match=f"cannot read Kafka client properties {missing}"):
        read_client_properties(missing)
    with pytest.raises(ConfigError, match=r"nowhere\.properties"):
        KafkaClientConfig.from_settings(EnlaceSettings(kafka_config=str(missing)))


def test_an_unknown_property_is_named_with_the_file(tmp_path):
    path = _write(tmp_path, "bootstrap.servers=k:9092\nacks=all\nsecurity.protcol=SSL\n")
    with pytest.raises(ConfigError) as raised:
        read_client_properties(path)
    assert str(path) in str(raised.value)
    assert "acks, security.protcol" in str(raised.value)


def test_a_duplicated_property_is_refused_with_both_lines(tmp_path):
    path = _write(tmp_path, "bootstrap.servers=a:1\n# later, by hand:\nbootstrap.servers=b:2\n")
    with pytest.raises(ConfigError, match=r"client.properties:3: bootstrap.servers is given twice \(first on line 1\)"):
        read_client_properties(path)


_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


@pytest.mark.parametrize(
    ("jaas", "message"),
    [
        (f'{_SCRAM} required username="u" password="{PASSWORD}"', "must end with ';'"),
        (f'{_SCRAM} required username="u" password="{PASSWORD};', "malformed"),
        (f'{_SCRAM} required username="u";', "has no password"),
        (f'{_SCRAM} required username="u" password="";', "has no password"),
        (f'{_SCRAM} required username="u" password="{PASSWORD}" tokenauth="true";', "unsupported option.*tokenauth"),
        (f'{_SCRAM} required username="u" username="v" password="{PASSWORD}";', "gives option username twice"),
        (f'{_SCRAM} mandatory username="u" password="{PASSWORD}";', "flag 'mandatory'"),
        (f'com.sun.security.auth.module.Krb5LoginModule required password="{PASSWORD}";', "login module"),
        (f'{_SCRAM} required username="u" password="{PASSWORD}"; {_SCRAM} required;', "more than one login module"),
        (f'{_SCRAM} required username "u" password="{PASSWORD}";', 'not key="value"'),
        ("", "is empty|must be"),
        (
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="{PASSWORD}";',
            "does not serve sasl.mechanism SCRAM-SHA-512",
        ),
    ],
)
def test_a_bad_jaas_config_is_refused_without_repeating_the_password(tmp_path, jaas, message):
    path = _write(
        tmp_path,
        f"bootstrap.servers=k:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={jaas}\n",
    )
    with pytest.raises(ConfigError, match=message) as raised:
        read_client_properties(path)
    assert PASSWORD not in str(raised.value)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ssl.truststore.type=JKS\nssl.truststore.location=/x.jks\n", "ssl.truststore.type JKS is not supported"),
        ("ssl.truststore.location=/x.jks\n", "needs ssl.truststore.type=PEM"),
        ("ssl.endpoint.identification.algorithm=ldap\n", "https or empty"),
        ("bootstrap.servers=\n", "bootstrap.servers is empty"),
        ("bootstrap.servers=k\\u00zz:1\n", "malformed"),
    ],
)
def test_unsupported_or_malformed_values_are_refused(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        read_client_properties(_write(tmp_path, text))


def test_a_keystore_gives_a_client_certificate_and_its_key_password_stays_hidden(tmp_path):
    keystore = tmp_path / "client.pem"
    keystore.write_text(CA_PEM + "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    path = _write(
        tmp_path,
        "bootstrap.servers=k:9093\nsecurity.protocol=SSL\n"
        f"ssl.keystore.type=PEM\nssl.keystore.location={keystore}\nssl.key.password={PASSWORD}\n",
    )
    config = KafkaClientConfig.from_settings(EnlaceSettings(kafka_config=str(path)))
    settings = config.client_settings()
    assert (settings["ssl_certfile"], settings["ssl_keyfile"], settings["ssl_password"]) == (
        str(keystore),
        str(keystore),
        PASSWORD,
    )
    assert PASSWORD not in repr(config)


def test_no_secret_of_the_environment_leaks_into_the_settings_error(tmp_path):
    env = {"ENLACE_KAFKA_SASL_PASSWORD": PASSWORD, "ENLACE_HANDLER_ATTEMPTS": "lots"}
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert PASSWORD not in str(raised.value)


def test_a_configuration_written_as_properties_reads_back_the_same(tmp_path, ca_file):
    config = KafkaClientConfig(
        bootstrap_servers="127.0.0.1:9093,127.0.0.1:9094",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="mx.gob.crm",
        sasl_password='p"a\\ss=wörd #1',
        ssl_cafile=str(ca_file),
        ssl_check_hostname=False,
    )
    path = config.write_properties(tmp_path / "crm.properties")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_client_properties(path) == {
        "bootstrap_servers": "127.0.0.1:9093,127.0.0.1:9094",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "mx.gob.crm",
        "sasl_password": 'p"a\\ss=wörd #1',
        "ssl_cafile": str(ca_file),
        "ssl_check_hostname": False,
    }
    plain = KafkaClientConfig(bootstrap_servers="127.0.0.1:9092").write_properties(tmp_path / "plain.properties")
    assert read_client_properties(plain) == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


@integration
def test_topics_reads_and_sets_a_topics_configuration(kafka, new_topic):
    topic = new_topic("configured")
    with Topics(kafka.client_config()) as topics:
        topics.configure(topic, {"retention.ms": "1209600000"})
        assert topics.configs(topic, ["retention.ms", "cleanup.policy"]) == {
            "retention.ms": "1209600000",
            "cleanup.policy": "delete",
        }
        with pytest.raises(TransportError, match=topic):
            topics.configure(topic, {"retention.ms": "fourteen days"})
        assert topics.configs(topic, ["retention.ms"]) == {"retention.ms": "1209600000"}
