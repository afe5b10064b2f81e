"""A secured local Kafka (TLS, SASL/SCRAM-SHA-512, deny by default) with the policy's ACLs applied.

Checked with kafka-python directly and with Kafka's own console tools, independently of Enlace's
clients: what each principal may do is exactly what the policy grants.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import GroupAuthorizationFailedError, KafkaTimeoutError, TopicAuthorizationFailedError

from bus import AccessDenied, load_settings
from bus.records import catalog
from bus.transport import AclAdmin, Consumer, Partition, Producer, Topics
from ops.acl import Access
from ops.kafka import LocalCluster
from ops.kafka._security import REGISTRY_PRINCIPAL, principal_for

pytestmark = pytest.mark.integration

CRM = principal_for("urn:mx:gob:crm")


@dataclass(frozen=True)
class Operator:
    """The operator's clients on the secured cluster: its ACLs and its topics."""

    acls: AclAdmin
    topics: Topics


def _client(cluster: LocalCluster, principal: str) -> dict:
    """kafka-python settings for ``principal`` (the test checks the broker with kafka-python directly)."""
    return cluster.client_config(principal).client_settings()


@pytest.fixture(scope="module")
def access() -> Access:
    return Access.of(catalog(), load_settings({}))


@pytest.fixture(scope="module")
def secured(access: Access) -> Iterator[LocalCluster]:
    agencies = sorted(principal_for(a) for a in access.layout.agencies if a != "urn:mx:gob:interop")
    cluster = LocalCluster(nodes=1, secured=True, principals=tuple(agencies))
    cluster.start(timeout=120)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def operator(secured: LocalCluster, access: Access) -> Iterator[Operator]:
    acls, topics = AclAdmin(secured.client_config()), Topics(secured.client_config())
    access.sync(acls, topics)
    try:
        yield Operator(acls, topics)
    finally:
        acls.close()
        topics.close()


def _send(cluster: LocalCluster, principal: str, topic: str) -> None:
    producer = KafkaProducer(max_block_ms=10_000, **_client(cluster, principal))
    try:
        producer.send(topic, key=b"key", value=b"value").get(timeout=20)
    finally:
        producer.close(timeout=5)


def test_no_credentials_are_refused(secured: LocalCluster, operator: Operator) -> None:
    with pytest.raises(KafkaTimeoutError):  # the TLS + SASL listener never lets it bootstrap
        KafkaProducer(bootstrap_servers=secured.bootstrap_servers, max_block_ms=3_000, request_timeout_ms=3_000)


def test_wrong_password_is_refused(secured: LocalCluster, operator: Operator) -> None:
    settings = dict(_client(secured, CRM), sasl_plain_password="not-the-password")
    with pytest.raises(KafkaTimeoutError):
        KafkaProducer(max_block_ms=3_000, **settings)


def test_owner_writes_its_own_topic(secured: LocalCluster, operator: Operator) -> None:
    _send(secured, CRM, "mx.gob.crm.case-opened")


@pytest.mark.parametrize("topic", ["mx.gob.sat.taxpayer-status-reported", "enlace.trust", "_schemas"])
def test_crm_cannot_write_what_it_does_not_own(secured: LocalCluster, operator: Operator, topic: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        _send(secured, CRM, topic)


def test_registry_principal_writes_the_schema_log(secured: LocalCluster, operator: Operator) -> None:
    operator.topics.ensure("_schemas", partitions=1, replication=1, compacted=True)
    _send(secured, REGISTRY_PRINCIPAL, "_schemas")


def _read(cluster: LocalCluster, principal: str, topic: str, group: str | None) -> list:
    """Fetch the topic's first partition from the beginning (committing in ``group``); the records read."""
    consumer = KafkaConsumer(group_id=group, auto_offset_reset="earliest", **_client(cluster, principal))
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        records = consumer.poll(timeout_ms=5_000).get(partition, [])
        if group is not None:
            consumer.commit()  # joins the coordinator of the group: authorized on GROUP READ
        return records
    finally:
        consumer.close()


def test_reader_reads_a_granted_topic_in_its_own_group(secured: LocalCluster, operator: Operator) -> None:
    _send(secured, principal_for("urn:mx:gob:portal"), "mx.gob.portal.service-request-submitted")
    assert _read(secured, CRM, "mx.gob.portal.service-request-submitted", "mx.gob.crm.test")


def test_crm_cannot_read_a_topic_the_policy_does_not_grant(secured: LocalCluster, operator: Operator) -> None:
    _send(secured, principal_for("urn:mx:gob:sat"), "mx.gob.sat.taxpayer-status-changed")
    with pytest.raises(TopicAuthorizationFailedError):
        _read(secured, CRM, "mx.gob.sat.taxpayer-status-changed", "mx.gob.crm.test")


@pytest.mark.parametrize("group", ["mx.gob.sat.sat", "mx.gob.crmx", "crm"])
def test_crm_cannot_join_another_agencys_group(secured: LocalCluster, operator: Operator, group: str) -> None:
    # another agency's group, a name that only starts like the CRM's prefix, the old unqualified name
    with pytest.raises(GroupAuthorizationFailedError):
        _read(secured, CRM, "mx.gob.portal.service-request-submitted", group)


def test_sync_is_idempotent_and_takes_away_what_the_policy_no_longer_grants(
    secured: LocalCluster, operator: Operator, access: Access
) -> None:
    assert access.plan(operator.acls).empty
    readers = {k: dict(v) for k, v in access.policy.readers.items()}
    del readers["mx.gob.portal.ServiceRequestSubmitted"]["urn:mx:gob:crm"]
    narrower = Access.of_policy(catalog(), replace(access.policy, readers=readers), load_settings({}))
    try:
        applied, _ = narrower.sync(operator.acls, operator.topics)
        assert applied.remove and not applied.add
        assert narrower.plan(operator.acls).empty
        with pytest.raises(TopicAuthorizationFailedError):
            _read(secured, CRM, "mx.gob.portal.service-request-submitted", "mx.gob.crm.test")
    finally:
        access.sync(operator.acls, operator.topics)
    assert access.plan(operator.acls).empty


def _console_producer(cluster: LocalCluster, properties: Path, topic: str) -> subprocess.CompletedProcess[str]:
    assert cluster.distribution is not None
    command = [
        "java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cluster.distribution.classpath,
        "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", cluster.bootstrap_servers,
        "--topic", topic, "--producer.config", str(properties), "--request-required-acks", "all",
    ]  # fmt: skip
    return subprocess.run(command, input="hello\n", capture_output=True, text=True, timeout=120)


def test_kafkas_console_producer_can_do_what_the_agency_may_and_no_more(
    secured: LocalCluster, operator: Operator, tmp_path: Path
) -> None:
    properties = secured.write_client_properties(CRM, tmp_path / "crm.properties")
    allowed = _console_producer(secured, properties, "mx.gob.crm.case-updated")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert "AuthorizationException" not in allowed.stderr
    refused = _console_producer(secured, properties, "mx.gob.sat.taxpayer-status-changed")
    assert "TopicAuthorizationException" in refused.stdout + refused.stderr


def _console_consumer(
    cluster: LocalCluster, properties: Path, topic: str, group: str
) -> subprocess.CompletedProcess[str]:
    assert cluster.distribution is not None
    command = [
        "java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", cluster.distribution.classpath,
        "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", cluster.bootstrap_servers,
        "--topic", topic, "--group", group, "--consumer.config", str(properties), "--from-beginning",
        "--max-messages", "1", "--timeout-ms", "30000",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_kafkas_console_consumer_can_read_what_the_agency_may_and_no_more(
    secured: LocalCluster, operator: Operator, tmp_path: Path
) -> None:
    _send(secured, principal_for("urn:mx:gob:portal"), "mx.gob.portal.service-request-submitted")
    properties = secured.write_client_properties(CRM, tmp_path / "crm.properties")
    granted = _console_consumer(secured, properties, "mx.gob.portal.service-request-submitted", "mx.gob.crm.console")
    assert granted.returncode == 0, granted.stderr[-2000:]
    assert "value" in granted.stdout.splitlines()
    _send(secured, principal_for("urn:mx:gob:sat"), "mx.gob.sat.taxpayer-status-changed")
    topic = _console_consumer(secured, properties, "mx.gob.sat.taxpayer-status-changed", "mx.gob.crm.console")
    assert "TopicAuthorizationException" in topic.stdout + topic.stderr
    assert "value" not in topic.stdout.splitlines()
    group = _console_consumer(secured, properties, "mx.gob.portal.service-request-submitted", "mx.gob.sat.sat")
    assert "GroupAuthorizationException" in group.stdout + group.stderr
    assert "value" not in group.stdout.splitlines()


def test_enlace_names_the_principal_and_right_for_the_trust_topic_the_schema_log_and_a_foreign_group(
    secured: LocalCluster, operator: Operator
) -> None:
    operator.topics.ensure("_schemas", partitions=1, replication=1, compacted=True)
    crm = secured.client_config(CRM)
    trust_topic = load_settings({}).trust_topic
    producer = Producer(crm)
    try:
        for topic in (trust_topic, "_schemas"):
            with pytest.raises(AccessDenied) as refused:
                producer.send(topic, key=b"k", value=b"v", headers=[]).get(timeout=30)
            assert (refused.value.principal, refused.value.right) == (CRM, "WRITE")
            assert refused.value.resource == f"topic {topic}"
    finally:
        producer.close()

    consumer = Consumer(crm, group="mx.gob.sat.sat")
    try:
        consumer.subscribe(["mx.gob.portal.service-request-submitted"])
        with pytest.raises(AccessDenied) as joined:
            for _ in range(20):  # the refusal comes with the group coordinator's answer
                consumer.poll(500)
    finally:
        consumer.close()
    assert (joined.value.principal, joined.value.right) == (CRM, "READ")
    assert joined.value.resource == "consumer group mx.gob.sat.sat"
    assert "mx.gob.crm may not READ consumer group mx.gob.sat.sat" in str(joined.value)


def test_enlaces_clients_name_the_principal_the_resource_and_the_missing_right(
    secured: LocalCluster, operator: Operator
) -> None:
    crm = secured.client_config(CRM)
    producer = Producer(crm)
    try:
        future = producer.send("mx.gob.sat.taxpayer-status-changed", key=b"k", value=b"v", headers=[])
        with pytest.raises(AccessDenied) as refused:
            future.get(timeout=30)
    finally:
        producer.close()
    assert (refused.value.principal, refused.value.right) == (CRM, "WRITE")
    assert refused.value.resource == "topic mx.gob.sat.taxpayer-status-changed"
    assert "mx.gob.crm may not WRITE topic mx.gob.sat.taxpayer-status-changed" in str(refused.value)

    consumer = Consumer(crm, group=None)
    try:
        consumer.assign([Partition("mx.gob.sat.taxpayer-status-changed", 0)])
        with pytest.raises(AccessDenied) as unread:
            for _ in range(20):  # the refusal comes with the first fetch's answer
                consumer.poll(500)
    finally:
        consumer.close()
    assert (unread.value.principal, unread.value.right) == (CRM, "READ")
    assert "mx.gob.sat.taxpayer-status-changed" in unread.value.resource


def test_sync_puts_a_drifted_topic_back_to_the_policys_retention(
    secured: LocalCluster, operator: Operator, access: Access
) -> None:
    topic = "mx.gob.sat.taxpayer-status-reported"
    wanted = next(s.configs["retention.ms"] for s in access.topics(brokers=1) if s.name == topic)
    operator.topics.configure(topic, {"retention.ms": str(365 * 24 * 3600 * 1000)})  # kept a year: too long
    access.sync(operator.acls, operator.topics)
    assert operator.topics.configs(topic, ["retention.ms"]) == {"retention.ms": wanted}
