"""A shared record through a real Kafka broker: key, CloudEvents headers and wire-format value."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer

from bus.codec import Codec, InMemorySchemaSource
from bus.envelope import Envelope, kafka_key, new_envelope
from bus.records import catalog
from bus.records.models import CaseOpenedV1

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_v2_record_sent_through_kafka_is_read_by_a_v1_consumer_with_its_envelope(kafka, new_topic) -> None:
    topic = new_topic("mx.gob.crm.case-opened")
    codec = Codec(InMemorySchemaSource())
    case = catalog().get("CaseOpened", 2)
    data = case.example()
    envelope = new_envelope(case, source="urn:mx:gob:crm", subject=case.key_of(data), traceparent=TRACEPARENT)
    producer = KafkaProducer(**kafka.client_config().client_settings(), acks="all")
    try:
        producer.send(
            topic, key=kafka_key(case, data), value=codec.encode(case, data), headers=envelope.to_headers()
        ).get(timeout=30)
    finally:
        producer.close(timeout=10)

    consumer = KafkaConsumer(
        topic,
        **kafka.client_config().client_settings(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
    )
    try:
        message = next(iter(consumer))
    finally:
        consumer.close()

    assert message.key == b"CRM-2025-000124"
    received = Envelope.from_headers(message.headers)
    assert received == envelope
    assert received.subject == message.key.decode()
    record = codec.decode_model(message.value, CaseOpenedV1)
    assert record.case_id == "CRM-2025-000124"
    assert record.channel == "UNKNOWN"  # WHATSAPP is a v2 symbol; v1's enum default stands in
