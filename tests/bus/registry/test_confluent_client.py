"""confluent-kafka's own registry client and Avro serdes, unchanged, against our registry and Kafka."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.integration

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

V1 = {
    "type": "record",
    "name": "Payment",
    "namespace": "t.confluent",
    "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}],
}
V2 = {**V1, "fields": [*V1["fields"], {"name": "note", "type": "string", "default": ""}]}
BREAKS = {**V1, "fields": [*V1["fields"], {"name": "who", "type": "string"}]}


@pytest.fixture
def client(plain_registry) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": plain_registry.url})


def test_schema_registry_client_registers_looks_up_checks_and_configures(client) -> None:
    subject = f"pay-{uuid.uuid4().hex[:6]}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
    assert client.register_schema(subject, Schema(json.dumps(V1), "AVRO")) == schema_id
    found = client.lookup_schema(subject, Schema(json.dumps(V1), "AVRO"))
    assert found.schema_id == schema_id and found.version == 1
    assert json.loads(client.get_schema(schema_id).schema_str) == V1
    assert client.test_compatibility(subject, Schema(json.dumps(V2), "AVRO")) is True
    assert client.test_compatibility(subject, Schema(json.dumps(BREAKS), "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, Schema(json.dumps(BREAKS), "AVRO"))
    assert caught.value.http_status_code == 409 and caught.value.error_code == 409
    assert client.set_compatibility(subject, "FULL") == {"compatibility": "FULL"}
    assert client.get_compatibility(subject) == "FULL"
    client.register_schema(subject, Schema(json.dumps(V2), "AVRO"))
    assert client.get_versions(subject) == [1, 2]
    assert client.get_latest_version(subject).version == 2
    assert subject in client.get_subjects()
    assert client.delete_version(subject, 2) == 2
    assert client.delete_subject(subject) == [1]
    assert client.delete_subject(subject, permanent=True) == [1, 2]


def _librdkafka(kafka) -> dict[str, str]:
    """librdkafka's settings for the operator on the session's cluster (its keys differ from Java's a little)."""
    config = kafka.client_config()
    settings = {"bootstrap.servers": config.bootstrap_servers, "security.protocol": config.security_protocol}
    if config.sasl_mechanism:
        settings |= {
            "sasl.mechanisms": config.sasl_mechanism,
            "sasl.username": config.sasl_username,
            "sasl.password": config.sasl_password,
        }
    if config.ssl_cafile:
        settings["ssl.ca.location"] = config.ssl_cafile
    return settings


def test_avro_serializer_and_deserializer_round_trip_through_kafka(client, kafka, new_topic) -> None:
    topic = new_topic("payments")
    serializer = AvroSerializer(client, json.dumps(V1))
    deserializer = AvroDeserializer(client)
    producer = Producer(_librdkafka(kafka))
    sent = [{"id": f"p{i}", "amount": 100 * i} for i in range(5)]
    for value in sent:
        payload = serializer(value, SerializationContext(topic, MessageField.VALUE))
        assert payload[0] == 0  # Confluent wire format: magic byte, then the id our registry gave
        producer.produce(topic, value=payload)
    assert producer.flush(30) == 0
    consumer = Consumer({**_librdkafka(kafka), "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    received = []
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            received.append(deserializer(message.value(), SerializationContext(topic, MessageField.VALUE)))
            if len(received) == len(sent):
                break
    finally:
        consumer.close()
    assert received == sent
    assert client.get_latest_version(f"{topic}-value").version == 1
