"""The local Apache Kafka that every integration test stands on."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from bus.transport import KafkaClientConfig

pytestmark = pytest.mark.integration


def _create_topic(
    kafka: KafkaClientConfig, name: str, *, partitions: int = 1, replication: int = 1, **config: str
) -> None:
    admin = KafkaAdminClient(**kafka.client_settings())
    try:
        admin.create_topics([NewTopic(name, partitions, replication, topic_configs=config)])
    finally:
        admin.close()


def _consume_all(kafka: KafkaClientConfig, topic: str, *, group: str, expected: int, timeout_s: float = 30) -> list:
    consumer = KafkaConsumer(
        topic,
        **kafka.client_settings(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    records = []
    try:
        for message in consumer:
            records.append(message)
            if len(records) >= expected:
                break
        consumer.commit()
    finally:
        consumer.close()
    return records


def test_produce_and_consume_in_a_group_resumes_from_committed_offsets(kafka, unique_name):
    topic, group = unique_name("roundtrip"), unique_name("group")
    _create_topic(kafka.client_config(), topic, partitions=2)
    producer = KafkaProducer(**kafka.client_config().client_settings(), acks="all")
    for i in range(20):
        producer.send(topic, key=str(i % 4).encode(), value=json.dumps({"n": i}).encode())
    producer.flush()

    first = _consume_all(kafka.client_config(), topic, group=group, expected=10)
    assert len(first) >= 10

    for i in range(20, 25):
        producer.send(topic, key=b"late", value=json.dumps({"n": i}).encode())
    producer.flush()
    producer.close()

    # A new consumer in the same group starts where the first one committed.
    admin = KafkaAdminClient(**kafka.client_config().client_settings())
    committed = admin.list_group_offsets(group)[group]
    admin.close()
    assert sum(meta.offset for meta in committed.values()) == len(first)

    rest = _consume_all(kafka.client_config(), topic, group=group, expected=25 - len(first), timeout_s=20)
    seen = sorted(json.loads(m.value)["n"] for m in first + rest)
    assert seen == list(range(25)), "every record exactly once across the two consumers"


def test_a_broker_killed_with_sigkill_loses_no_acknowledged_record(kafka3, unique_name):
    topic = unique_name("durable")
    _create_topic(kafka3.client_config(), topic, partitions=3, replication=3, **{"min.insync.replicas": "2"})
    producer = KafkaProducer(
        **kafka3.client_config().client_settings(),
        acks="all",
        retries=20,
        retry_backoff_ms=200,
        request_timeout_ms=15000,
        max_in_flight_requests_per_connection=1,
    )
    acknowledged: list[int] = []
    failed: list[int] = []
    killed = False
    for i in range(600):
        future = producer.send(topic, key=str(i).encode(), value=str(i).encode())
        if i == 200:
            kafka3.kill_node(kafka3.node_ids[0])
            killed = True
        try:
            future.get(timeout=60)
            acknowledged.append(i)
        except Exception:
            failed.append(i)
    producer.close()
    assert killed and len(kafka3.running_nodes()) == 2
    assert len(acknowledged) >= 500, f"too few acknowledged with one broker down: {len(failed)} failed"

    consumer = KafkaConsumer(
        **kafka3.client_config().client_settings(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15000,
    )
    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(partitions)
    received: list[int] = []
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for batch in consumer.poll(timeout_ms=2000).values():
            received.extend(int(m.value) for m in batch)
    consumer.close()

    # The producer's idempotence (on by default) keeps retries from duplicating; anything unacked
    # may or may not be there, but every acknowledged record must be, exactly once.
    assert set(acknowledged) <= set(received)
    assert len(received) == len(set(received)), "a record was stored twice"
    kafka3.restart_node(kafka3.node_ids[0])
    assert len(kafka3.running_nodes()) == 3
