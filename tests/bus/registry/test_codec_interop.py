"""Our codec and confluent-kafka's Avro serdes read each other's bytes, through our registry."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("confluent_kafka")
from confluent_kafka.schema_registry import (  # noqa: E402
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    record_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

from bus.codec import Codec  # noqa: E402
from bus.policy import load_policy  # noqa: E402
from bus.records import catalog  # noqa: E402
from bus.registry import RegistryClient  # noqa: E402
from bus.registry.checks import register_catalog  # noqa: E402
from tests.conftest import _POLICY  # noqa: E402

CONTEXT = SerializationContext("mx.gob.crm.cases", MessageField.VALUE)


@pytest.fixture(scope="module")
def registered(registry) -> str:
    """The project's catalog registered by each namespace's owner; the registry's URL."""
    if registry.policy == "none":
        pytest.skip("the registry fixture runs without the project's policy")
    owners = load_policy(_POLICY).owners
    clients: dict[str, RegistryClient] = {}

    def client_for(subject: str) -> RegistryClient:
        agency = owners[subject.rpartition(".")[0]]
        return clients.setdefault(agency, RegistryClient(registry.url, credential=registry.token(agency)))

    list(register_catalog(_POLICY.parent, client_for))
    for client in clients.values():
        client.close()
    return registry.url


def test_confluent_deserializer_reads_what_our_codec_wrote(registered, registry) -> None:
    case = catalog().get("mx.gob.crm.CaseOpened", 2)
    data = case.example()
    with RegistryClient(registered, credential=registry.token("urn:mx:gob:crm")) as source:
        payload = Codec(source).encode(case, data)
    theirs = AvroDeserializer(SchemaRegistryClient({"url": registered}))
    assert theirs(payload, CONTEXT) == data


def test_our_codec_reads_what_confluents_serializer_wrote(registered) -> None:
    case = catalog().get("mx.gob.crm.CaseOpened", 2)
    data = case.example()
    client = SchemaRegistryClient({"url": registered})
    contact = client.get_latest_version("mx.gob.common.Contact")
    schema = Schema(
        case.path.read_text(),
        "AVRO",
        [SchemaReference("mx.gob.common.Contact", "mx.gob.common.Contact", contact.version)],
    )
    serializer = AvroSerializer(
        client,
        schema,
        conf={"auto.register.schemas": False, "subject.name.strategy": record_subject_name_strategy},
    )
    payload = serializer(data, CONTEXT)
    with RegistryClient(registered) as source:
        codec = Codec(source)
        assert codec.decode(payload, case) == data
        as_v1 = codec.decode(payload, catalog().get("mx.gob.crm.CaseOpened", 1))
    assert as_v1["caseId"] == data["caseId"] and "priority" not in as_v1
