"""The agency connector over confluent-kafka (``ENLACE_KAFKA_CLIENT=confluent``), on the real secured broker.

A few of the connector's own tests run again here on a bus whose clients choose librdkafka (the ones
whose outcome depends on the engine; within the suite's time budget): a signed record published,
verified and traced; a burst past the bound on records in flight; a group rebalancing under load
without loss or double; hostile records dead-lettered. Then what differs by engine: a header name
that is not UTF-8 costs only its own record.
"""

from __future__ import annotations

import pytest

from bus.records.models import CaseOpened
from bus.transport._confluent import ConfluentConsumer, ConfluentProducer
from connectors import list_dead_letters
from tests.bus.test_transport_confluent import _OnConfluent
from tests.connectors.conftest import Bus, make_bus
from tests.connectors.test_agency_connector import (  # noqa: F401 - collected again here, on librdkafka
    test_a_burst_past_the_bound_on_records_in_flight_waits_for_answers_and_loses_none,
    test_a_record_published_by_one_agency_is_received_verified_and_traced_by_another,
    test_a_second_consumer_joining_the_group_takes_over_without_loss_or_double,
)
from tests.connectors.test_hostile_input import (  # noqa: F401
    _forge,
    _receive,
    case,
    test_a_record_too_large_to_keep_is_dead_lettered_without_its_bytes_and_never_replayed,
    test_a_record_whose_key_id_header_is_null_is_dead_lettered_and_the_agency_keeps_running,
)
from tests.corpus.forge import HostileProducer, RawName

pytestmark = pytest.mark.integration
CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"


@pytest.fixture
def bus(kafka, registered, unique_name, tmp_path, authority) -> Bus:
    """A test's bus whose connectors make their producers and consumers with librdkafka."""
    return make_bus(_OnConfluent(kafka), registered, unique_name, tmp_path, authority)


def test_the_connector_on_this_bus_sends_and_receives_with_librdkafka(connector, bus):
    crm, portal = connector(CRM), connector(PORTAL)
    crm.publish(case(1))
    subscription = portal.subscribe(CaseOpened, group="g", handler=lambda r, m: subscription.stop())
    assert type(crm._producer) is ConfluentProducer and type(subscription._consumer) is ConfluentConsumer
    subscription.run(idle_timeout_s=30)
    assert subscription.applied == 1


def test_a_header_name_that_is_not_utf8_costs_only_its_own_record(bus, connector, kafka, monkeypatch):
    # kafka-python cannot read the rest of such a record's batch (each is dead-lettered); librdkafka
    # reads the batch, and only the record itself is unreadable.
    forge = _forge(bus, kafka)
    producer = HostileProducer(kafka.client_config().client_settings(), monkeypatch, linger_ms=200)
    try:
        batch = [forge.record(), forge.tampered(lambda h: [*h, (RawName(b"\xff\xfe"), b"x")]), forge.record()]
        futures = [producer.send(forge.topic, key=k, value=v, headers=h) for k, v, h in batch]
        producer.flush(30)
        first, poisoned, after = (f.get(30).offset for f in futures)
    finally:
        producer.close()
    good = connector(CRM).publish(case(4))
    applied = _receive(connector(PORTAL), CaseOpened, until=good.offset)
    assert applied == [first, after, good.offset]
    (letter,) = list_dead_letters(kafka.client_config(), forge.topic)
    assert (letter.offset, letter.reason) == (poisoned, "unreadable-record")
    assert letter.omitted == "key,value,headers" and "not UTF-8" in letter.error_message
