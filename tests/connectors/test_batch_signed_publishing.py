"""Records published or sent from the outbox together are batch-signed (form 3), and each verifies alone."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer

from bus.identity import BATCH_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TrustedKey, TrustStore
from bus.records import catalog
from bus.records.models import CaseOpened
from connectors import AgencyConnector

pytestmark = pytest.mark.integration

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
CASES = catalog().get("CaseOpened")


def case(i: int) -> CaseOpened:
    return CaseOpened.from_avro(CASES.example() | {"caseId": f"CRM-2025-{i:06d}"})


def _raw(bus, count):
    consumer = KafkaConsumer(
        bus.topic(CASES), **bus.kafka.client_settings(), auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    records = []
    for record in consumer:
        records.append(record)
        if len(records) == count:
            break
    consumer.close()
    return records


def _alone(bus, crm_key, record):
    """Verify one record with a store that has seen nothing else: as a DLQ reader or an archive would."""
    store = TrustStore([TrustedKey.for_key(crm_key)])
    return store.verify(record.headers, record.key, record.value, topic=record.topic)


def test_a_burst_of_publishes_is_signed_in_batches_each_record_verifiable_alone(connector, bus, unique_name, request):
    # Batches closed by count, not by the clock: a linger far longer than the burst, so a loaded
    # machine cannot split off a lone record (a batch of one is signed in form 2).
    crm = AgencyConnector(
        CRM,
        key=bus.key(CRM),
        settings=bus.settings(),
        store_path=bus.directory / "crm-burst.sqlite3",
        batch_records=40,
        producer_config={"linger_ms": 5000},
    )
    request.addfinalizer(crm.close)  # also when an assertion fails
    futures = [crm.publish_async(case(i)) for i in range(120)]
    deliveries = [f.result(timeout=30) for f in futures]
    records = _raw(bus, 120)
    assert [r.offset for r in records] == sorted(d.offset for d in deliveries)
    versions = {dict(r.headers)[SIGNATURE_VERSION_HEADER] for r in records}
    assert versions == {b"3"}
    signatures = {dict(r.headers)[SIGNATURE_HEADER] for r in records}
    assert len(signatures) < 120 / 10  # a signature per batch, not per record
    for record in records:
        assert _alone(bus, bus.key(CRM, publish=False), record).agency == CRM

    got = []
    portal = connector(PORTAL)
    portal.subscribe(CaseOpened, group=unique_name("portal"), handler=lambda r, m: got.append(m.ce_id)).run(
        idle_timeout_s=3
    )
    assert sorted(got) == sorted(d.ce_id for d in deliveries)


def test_a_lone_publish_is_signed_alone_in_form_2(connector, bus):
    crm = connector(CRM)
    crm.publish(case(1))
    (record,) = _raw(bus, 1)
    headers = dict(record.headers)
    assert headers[SIGNATURE_VERSION_HEADER] == b"2" and BATCH_HEADER not in headers
    _alone(bus, bus.key(CRM, publish=False), record)


def test_records_emitted_in_one_transaction_are_sent_batch_signed_by_the_outbox(connector, bus):
    crm = connector(CRM)
    with crm.transaction() as tx:
        for i in range(30):
            tx.emit(case(100 + i))
    assert crm._publisher is not None and crm._publisher.flush(30)
    records = _raw(bus, 30)
    assert len(records) == 30
    assert {dict(r.headers)[SIGNATURE_VERSION_HEADER] for r in records} == {b"3"}
    assert len({dict(r.headers)[SIGNATURE_HEADER] for r in records}) == 1
    for record in records:
        _alone(bus, bus.key(CRM, publish=False), record)
