"""The testcontainers path: secured as the local nodes are, exercised where a Docker daemon answers.

The container's specification is pure logic and is checked everywhere; starting it needs Docker,
and that test is skipped with its reason on a machine without one (as this project's CI machine).
"""

from __future__ import annotations

import shlex

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from bus import EnlaceSettings
from bus.transport import Topics
from ops.kafka import (
    OPERATOR_PRINCIPAL,
    ClusterSecurity,
    ContainerCluster,
    choose_mode,
    container_spec,
    docker_unavailable_reason,
)
from ops.kafka._container import MOUNT

CRM = "mx.gob.crm"


@pytest.fixture(scope="module")
def security(tmp_path_factory: pytest.TempPathFactory) -> ClusterSecurity:
    return ClusterSecurity.create(tmp_path_factory.mktemp("container") / "security", [CRM])


def test_the_container_is_secured_as_the_local_nodes(security):
    spec = container_spec(security, port=39092, cluster_id="AAAAAAAAAAAAAAAAAAAAAA", user="1000:1000")
    props = spec.properties
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert props["inter.broker.listener.name"] == "CLIENT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["auto.create.topics.enable"] == "false"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    # The node reads its keys where the folder is mounted, not at the host's path.
    assert props["ssl.keystore.location"] == f"{MOUNT}/node.pem"
    assert props["ssl.truststore.location"] == f"{MOUNT}/ca.pem"
    assert props["advertised.listeners"] == "CLIENT://127.0.0.1:39092"


def test_the_container_publishes_its_port_on_loopback_only_and_keeps_secrets_off_its_command(security):
    spec = container_spec(security, port=39092, cluster_id="AAAAAAAAAAAAAAAAAAAAAA", user="1000:1000")
    assert spec.ports == {"39092/tcp": ("127.0.0.1", 39092)}
    assert spec.user == "1000:1000"
    shown = " ".join(spec.command) + " ".join(f"{k}={v}" for k, v in spec.environment.items())
    for password in security.passwords.values():
        assert password not in shown  # docker inspect shows command and environment
        assert password in spec.script  # the mounted 0600 start script formats the credentials
    words = shlex.split(spec.script.splitlines()[1])
    assert words[:5] == ["/opt/kafka/bin/kafka-storage.sh", "format", "-t", "AAAAAAAAAAAAAAAAAAAAAA", "-c"]
    assert words.count("--add-scram") == len(security.passwords)
    assert spec.image.startswith("apache/kafka:")


def test_an_insecure_container_says_what_it_is():
    spec = container_spec(None, port=39093, cluster_id="AAAAAAAAAAAAAAAAAAAAAA", user="1000:1000")
    assert spec.properties["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    assert "authorizer.class.name" not in spec.properties
    assert "--add-scram" not in spec.script


def test_auto_mode_picks_the_container_only_where_docker_answers():
    mode, why = choose_mode(EnlaceSettings())
    if docker_unavailable_reason() is None:
        assert (mode, why) == ("testcontainers", "a Docker daemon answers")
    else:
        assert mode == "local" and why.startswith("testcontainers skipped: ")


@pytest.mark.integration
def test_kafka_in_a_container_is_secured_and_carries_a_record(unique_name):
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(f"testcontainers path not exercised here: {reason}")
    cluster = ContainerCluster(secured=True, principals=(CRM,)).start()
    try:
        with pytest.raises(KafkaError):  # no credentials: the SASL_SSL listener refuses
            KafkaProducer(bootstrap_servers=cluster.bootstrap_servers, api_version_auto_timeout_ms=5000)
        topic = unique_name("container")
        Topics(cluster.client_config()).ensure(topic)  # no topic is created on first use
        operator = cluster.client_config(OPERATOR_PRINCIPAL).client_settings()
        producer = KafkaProducer(**operator)
        producer.send(topic, b"hola").get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=20000, **operator)
        assert [m.value for m in consumer][:1] == [b"hola"]
        consumer.close()
    finally:
        cluster.stop()
