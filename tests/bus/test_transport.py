"""The Kafka transport against a real broker: idempotent acks=all producer, explicit commits."""

from __future__ import annotations

import pytest
from bus.transport import Consumer, Partition, Producer, Topics

pytestmark = pytest.mark.integration


def test_the_producer_is_idempotent_against_kafka_4(kafka, unique_name):
    topic = unique_name("idem")
    producer = Producer(kafka.bootstrap_servers)
    try:
        producer.send(topic, key=b"k", value=b"v", headers=[("h", b"1")]).get(timeout=30)
        assert producer.idempotent(), "the broker must have given the producer an id (KIP-98)"
    finally:
        producer.close()


def test_topics_reports_max_message_bytes_and_creates_compacted_topics(kafka, unique_name):
    topic = unique_name("limits")
    topics = Topics(kafka.bootstrap_servers)
    try:
        topics.ensure(topic, partitions=2, compacted=True, **{"max.message.bytes": "50000"})
        topics.ensure(topic)  # a second time is not an error
        assert topics.max_message_bytes(topic) == 50000
    finally:
        topics.close()


def test_the_consumer_commits_only_what_it_is_told(kafka, unique_name):
    topic, group = unique_name("commit"), unique_name("g")
    producer = Producer(kafka.bootstrap_servers)
    for i in range(10):
        producer.send(topic, key=None, value=str(i).encode(), headers=[])
    producer.close()
    consumer = Consumer(kafka.bootstrap_servers, group=group)
    consumer.subscribe([topic])
    seen = []
    for _ in range(40):
        seen += consumer.poll(500)
        if len(seen) >= 10:
            break
    consumer.commit({Partition(topic, 0): 4})
    consumer.close()
    again = Consumer(kafka.bootstrap_servers, group=group)
    again.subscribe([topic])
    rest = []
    for _ in range(40):
        rest += again.poll(500)
        if len(rest) >= 6:
            break
    again.close()
    assert [int(r.value) for r in rest] == [4, 5, 6, 7, 8, 9]
