"""The testcontainers path: used where a Docker daemon answers, skipped with its reason elsewhere."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer

from ops.kafka import ContainerCluster, docker_unavailable_reason

pytestmark = pytest.mark.integration


def test_kafka_in_a_container_carries_a_record(unique_name):
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(f"testcontainers path not exercised here: {reason}")
    cluster = ContainerCluster().start()
    try:
        topic = unique_name("container")
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers)
        producer.send(topic, b"hola").get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=cluster.bootstrap_servers,
            auto_offset_reset="earliest",
            consumer_timeout_ms=20000,
        )
        assert [m.value for m in consumer][:1] == [b"hola"]
        consumer.close()
    finally:
        cluster.stop()
