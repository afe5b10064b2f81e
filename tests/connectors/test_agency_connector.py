"""The agency connector on a real broker: signed publish, verified receipt, dead letters, retries."""

from __future__ import annotations

import threading
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bus import PolicyViolation, ValidationError
from bus.identity import TrustedKey, generate_key
from bus.records import catalog
from bus.records.models import CaseOpened, Contact, TaxpayerStatusChanged
from bus.transport import KafkaClientConfig
from connectors import list_dead_letters

pytestmark = pytest.mark.integration

CRM, PORTAL, SAT = "urn:mx:gob:crm", "urn:mx:gob:portal", "urn:mx:gob:sat"
CASES = catalog().get("CaseOpened")


def case(i: int) -> CaseOpened:
    return CaseOpened.from_avro(CASES.example() | {"caseId": f"CRM-2025-{i:06d}"})


def receive(connector, group, *, handler=None, idle_s=3.0, **kw):
    got = []

    def keep(record, received):
        if handler is not None:
            handler(record, received)
        got.append((record, received))

    subscription = connector.subscribe(CaseOpened, group=group, handler=keep, **kw)
    subscription.run(idle_timeout_s=idle_s)
    return got


def _raw(kafka: KafkaClientConfig, topic):
    consumer = KafkaConsumer(topic, **kafka.client_settings(), auto_offset_reset="earliest", consumer_timeout_ms=5000)
    records = list(consumer)
    consumer.close()
    return records


def _send_raw(kafka: KafkaClientConfig, topic, records):
    producer = KafkaProducer(**kafka.client_settings())
    for key, value, headers in records:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def test_a_record_published_by_one_agency_is_received_verified_and_traced_by_another(connector, bus, unique_name):
    # The context crosses from publisher to consumer only through the record's traceparent header.
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    crm = connector(CRM, tracer_provider=provider)
    delivery = crm.publish(case(1))
    assert delivery.topic.endswith(bus.topic(CASES)) and delivery.offset >= 0 and delivery.ce_id

    portal = connector(PORTAL, tracer_provider=provider)
    group = unique_name("portal")
    ((record, received),) = [r for r in receive(portal, group) if r[1].ce_id == delivery.ce_id]
    assert record == case(1)
    assert (received.sender, received.subject, received.group) == (CRM, "CRM-2025-000001", group)
    assert (received.topic, received.partition, received.offset) == (
        delivery.topic,
        delivery.partition,
        delivery.offset,
    )
    assert received.key_id == crm._key.key_id

    send = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.PRODUCER)
    consumer = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    process = next(s for s in consumer if "messaging.batch.message_count" not in s.attributes)
    assert send.name == f"send {delivery.topic}" and process.name == f"process {delivery.topic}"
    # and the poll that brought it: a batch span linked to the sender's span, not the record's parent
    assert any(send.context.span_id in {link.context.span_id for link in s.links} for s in consumer if s is not process)
    assert process.parent.span_id == send.context.span_id
    assert process.context.trace_id == send.context.trace_id
    assert received.traceparent.split("-")[2] == format(send.context.span_id, "016x")
    assert send.attributes["messaging.message.id"] == delivery.ce_id
    assert send.attributes["messaging.kafka.offset"] == delivery.offset
    assert process.attributes["messaging.consumer.group.name"] == group
    assert process.attributes["enlace.sender.agency"] == CRM
    assert process.attributes["enlace.receiver.agency"] == PORTAL


def test_publish_async_returns_a_future_of_the_delivery(connector):
    crm = connector(CRM)
    futures = [crm.publish_async(case(i)) for i in range(20)]
    deliveries = [f.result(timeout=30) for f in futures]
    assert len({d.ce_id for d in deliveries}) == 20
    assert [d.offset for d in deliveries] == sorted(d.offset for d in deliveries)


def test_a_burst_past_the_bound_on_records_in_flight_waits_for_answers_and_loses_none(connector):
    crm = connector(CRM, max_in_flight=7)
    seen_in_flight: list[int] = []
    futures = []
    for i in range(60):
        futures.append(crm.publish_async(case(200 + i)))
        seen_in_flight.append(crm._in_flight.count)
    chained: list = []  # a done callback may publish again (on the producer's thread, which never waits)
    futures[-1].add_done_callback(lambda f: chained.append(crm.publish_async(case(300))))
    deliveries = [f.result(timeout=60) for f in futures]
    crm.flush(30)
    assert max(seen_in_flight) == 7, "records waited for their answer, never more than the bound at once"
    assert len({d.ce_id for d in deliveries}) == 60
    assert chained and chained[0].result(timeout=60).topic == deliveries[0].topic


def test_a_record_resent_with_its_ce_id_is_applied_once(connector, unique_name):
    crm = connector(CRM)
    first = crm.publish(case(40), ce_id="9d1c7c1e-0000-4000-8000-000000000040")
    again = crm.publish(case(40), ce_id="9d1c7c1e-0000-4000-8000-000000000040")  # an outbox resending
    assert first.offset != again.offset and first.ce_id == again.ce_id
    got = receive(connector(PORTAL), unique_name("portal"))
    assert [r.ce_id for _, r in got] == [first.ce_id]


def test_a_record_the_policy_does_not_give_this_agency_is_refused_before_sending(connector, bus):
    portal = connector(PORTAL)
    with pytest.raises(PolicyViolation, match=r"urn:mx:gob:portal may not publish mx\.gob\.crm\.CaseOpened"):
        portal.publish(case(1))
    assert _raw(bus.kafka, bus.topic(CASES)) == []


def test_an_invalid_record_is_refused_with_its_field_path(connector, bus):
    crm = connector(CRM)
    # model_construct is pydantic's one way to skip validation: publish checks such a record itself
    record = CaseOpened.model_construct(**(dict(case(2)) | {"case_id": "NOT-A-CASE"}))
    with pytest.raises(ValidationError) as refused:
        crm.publish(record)
    assert any(p.path == "/caseId" for p in refused.value.problems)
    smuggled = Contact.model_construct(email="nope", preferred_channel="EMAIL")
    with pytest.raises(ValidationError) as refused:  # model_copy validates its update, nested models too
        crm.publish(case(2).model_copy(update={"contact": smuggled}))
    assert [p.path for p in refused.value.problems] == ["/contact/email"]
    assert _raw(bus.kafka, bus.topic(CASES)) == []


def test_a_record_too_large_for_its_topic_is_refused_before_sending(connector, bus, unique_name):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    crm = connector(CRM)
    admin = KafkaAdminClient(**bus.kafka.client_settings())
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, bus.topic(CASES), {"max.message.bytes": "300"})])
    finally:
        admin.close()
    with pytest.raises(ValidationError, match=r"max\.message\.bytes") as refused:
        crm.publish(case(3))
    assert refused.value.rule == "size.max_message_bytes"
    assert _raw(bus.kafka, bus.topic(CASES)) == []


def test_bad_records_go_to_dead_letters_with_their_reason_and_the_consumer_goes_on(connector, bus, unique_name):
    crm = connector(CRM)
    good = crm.publish(case(10))
    stranger = generate_key(CRM)  # never published to the trust topic
    unknown = connector(CRM, key=stranger).publish(case(11))
    revoked_key = generate_key(CRM)
    bus.trust(TrustedKey.for_key(revoked_key))
    revoked = connector(CRM, key=revoked_key).publish(case(12))
    bus.trust(TrustedKey.for_key(revoked_key).revoked("key leaked"))

    original = next(r for r in _raw(bus.kafka, bus.topic(CASES)) if r.offset == good.offset)
    tampered_payload = original.value[:-1] + bytes([original.value[-1] ^ 1])
    tampered_headers = [(n, b"CRM-2025-999999" if n == "ce_subject" else v) for n, v in original.headers]
    _send_raw(
        bus.kafka,
        bus.topic(CASES),
        [
            (original.key, tampered_payload, original.headers),
            (original.key, original.value, tampered_headers),
        ],
    )
    after = crm.publish(case(13))

    got = receive(connector(PORTAL), unique_name("portal"))
    applied = {r.ce_id for _, r in got}
    assert good.ce_id in applied and after.ce_id in applied
    assert unknown.ce_id not in applied and revoked.ce_id not in applied

    reasons = {(d.offset, d.reason) for d in list_dead_letters(bus.kafka, bus.topic(CASES))}
    assert (unknown.offset, "unknown-key") in reasons
    assert (revoked.offset, "revoked-key") in reasons
    assert (after.offset - 2, "bad-signature") in reasons  # the tampered payload
    assert (after.offset - 1, "bad-signature") in reasons  # the tampered header
    letter = next(d for d in list_dead_letters(bus.kafka, bus.topic(CASES)) if d.reason == "revoked-key")
    assert (
        letter.topic == bus.topic(CASES) and letter.error_class == "RevokedKey" and "key leaked" in letter.error_message
    )
    assert letter.agency == PORTAL


def test_a_sender_outside_the_policy_is_dead_lettered_even_with_a_trusted_key(connector, bus, unique_name):
    sat = connector(SAT)
    status = TaxpayerStatusChanged.from_avro(catalog().get("TaxpayerStatusChanged").example())
    sat.publish(status)  # allowed: SAT owns mx.gob.sat
    # A trusted CRM key signing a SAT record: built by hand, as a misbehaving client would.
    record = next(iter(_raw(bus.kafka, bus.topic(catalog().get("TaxpayerStatusChanged")))))
    from bus.identity import sign_headers

    crm_key = bus.key(CRM)
    headers = [(n, CRM.encode() if n == "ce_source" else v) for n, v in record.headers]
    _send_raw(
        bus.kafka,
        record.topic,
        [(record.key, record.value, sign_headers(crm_key, headers, record.key, record.value, topic=record.topic))],
    )
    seen = []
    subscription = connector(PORTAL).subscribe(
        TaxpayerStatusChanged, group=unique_name("g"), handler=lambda r, m: seen.append(m.sender)
    )
    subscription.run(idle_timeout_s=3)
    assert seen == [SAT]
    assert [d.reason for d in list_dead_letters(bus.kafka, record.topic)] == ["not-allowed"]


def test_a_handler_that_fails_twice_then_succeeds_applies_its_effect_once(connector, unique_name):
    crm = connector(CRM)
    delivery = crm.publish(case(20))
    calls = []

    def flaky(record, received):
        received.transaction.execute("CREATE TABLE IF NOT EXISTS effects (ce_id TEXT)")
        received.transaction.execute("INSERT INTO effects VALUES (?)", (received.ce_id,))
        calls.append(received.attempt)
        if len(calls) <= 2:
            raise RuntimeError("downstream unavailable")

    portal = connector(PORTAL)
    receive(portal, unique_name("g"), handler=flaky)
    assert calls == [1, 2, 3]
    rows = portal.store.reader().execute("SELECT ce_id FROM effects").fetchall()
    assert rows == [(delivery.ce_id,)]


def test_a_handler_that_always_fails_is_dead_lettered_after_its_attempts_then_replayed(connector, bus, unique_name):
    from connectors import replay_dead_letters

    crm = connector(CRM)
    delivery = crm.publish(case(30))
    portal = connector(PORTAL, handler_attempts=2)
    group = unique_name("g")

    def broken(record, received):
        raise KeyError("missing mapping for channel WHATSAPP")

    receive(portal, group, handler=broken)
    (letter,) = list_dead_letters(bus.kafka, bus.topic(CASES))
    assert (letter.reason, letter.attempts, letter.error_class) == ("handler-failed", 2, "KeyError")
    assert letter.ce_id == delivery.ce_id and letter.group == group

    trust = portal._trust
    done = replay_dead_letters(bus.kafka, bus.topic(CASES), trust=trust)
    assert [d.ce_id for d in done.replayed] == [delivery.ce_id] and done.refused == []
    again = replay_dead_letters(bus.kafka, bus.topic(CASES), trust=trust)
    assert again.replayed == [] and again.refused == [], "a second replay sends nothing"
    fixed = connector(PORTAL)
    got = receive(fixed, group)
    assert [r.ce_id for _, r in got] == [delivery.ce_id], "the replayed record verifies and is applied"


def test_the_trace_continues_from_a_publisher_process_to_a_consumer_process(
    connector, bus, registered, unique_name, tmp_path
):
    import json
    import os
    import subprocess
    import sys

    from bus.registry import RegistryClient

    key_file = bus.key(CRM).save(tmp_path / "keys")
    published = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.connectors.traced_publisher",
            bus.properties(),
            bus.trust_topic,
            bus.prefix,
            registered,
            str(key_file),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert published.returncode == 0, published.stderr[-2000:]
    sent = json.loads(published.stdout.strip().splitlines()[-1])
    assert sent["name"] == f"send {bus.topic(CASES)}"

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    portal = connector(PORTAL, tracer_provider=provider, schema_source=RegistryClient(registered))
    ((_, received),) = receive(portal, unique_name("portal"))
    assert (received.ce_id, received.sender, received.offset) == (sent["ce_id"], CRM, sent["offset"])
    (process,) = [s for s in spans.get_finished_spans() if "messaging.batch.message_count" not in s.attributes]
    assert format(process.context.trace_id, "032x") == sent["trace_id"], "one trace across both processes"
    assert format(process.parent.span_id, "016x") == sent["span_id"], "process is a child of the send span"


def test_a_second_consumer_joining_the_group_takes_over_without_loss_or_double(connector, bus, unique_name):
    from kafka.admin import KafkaAdminClient, NewPartitions

    # Two partitions, so the group's rebalance must hand one of the first consumer's partitions
    # (with its batch still open) to the second: with one, the second might be given nothing.
    admin = KafkaAdminClient(**bus.kafka.client_settings())
    try:
        admin.create_partitions({bus.topic(CASES): NewPartitions(total_count=2)})
    finally:
        admin.close()
    crm = connector(CRM)
    sent = [crm.publish(case(1000)).ce_id]
    group = unique_name("portal")
    handled: dict[str, list[str]] = {"first": [], "second": []}
    failures: list[BaseException] = []
    started = {"first": threading.Event(), "second": threading.Event()}

    def consume(name: str) -> None:
        def keep(record, received):
            handled[name].append(received.ce_id)
            started[name].set()

        try:
            # A long commit interval keeps a batch open when the group takes the partition away.
            subscription = connector(PORTAL).subscribe(CaseOpened, group=group, handler=keep, commit_interval_s=60)
            subscription.run(idle_timeout_s=5)
        except BaseException as exc:  # a rebalance must never kill a consumer
            failures.append(exc)

    first = threading.Thread(target=consume, args=("first",))
    first.start()
    assert started["first"].wait(60)
    second = threading.Thread(target=consume, args=("second",))
    second.start()
    # Records keep flowing while the group rebalances: at least 300, and on until the second
    # consumer has handled one (its share arrived), whenever the rebalance happens to finish.
    deadline = time.monotonic() + 90
    i = 0
    while i < 300 or not started["second"].is_set():
        assert time.monotonic() < deadline, "the second consumer was never given a partition"
        i += 1
        sent.append(crm.publish(case(1000 + i)).ce_id)
        time.sleep(0.01)  # a steady stream, not a wait for anything
    first.join(120)
    second.join(120)

    assert failures == []
    assert handled["first"] and handled["second"], "both consumers applied records"
    together = handled["first"] + handled["second"]
    assert set(together) == set(sent), "every record handled"
    assert len(together) == len(set(together)), "the group's hand-over repeated records"
