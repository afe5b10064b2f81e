"""What no sender can do to a receiver, each on the real broker and the session's registry: stop it
with one record, move a signed record to another topic, make a dead letter vanish on a recreated
topic, replay a crafted dead letter anywhere, or crash ``dlq list``."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient

from bus import AccessDenied, TransportError
from bus.codec import Codec
from bus.identity import TrustedKey, TrustStore
from bus.records import catalog
from bus.records.models import CaseOpened
from bus.registry import RegistryClient, RegistryError
from bus.transport import Consumer, Producer, Topics
from connectors import list_dead_letters, replay_dead_letters
from tests.corpus.forge import Forge, HostileProducer, RawName, replaced

pytestmark = pytest.mark.integration

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
CASES = catalog().get("CaseOpened")
REQUESTS = catalog().get("ServiceRequestSubmitted")


def case(i: int) -> CaseOpened:
    return CaseOpened.from_avro(CASES.example() | {"caseId": f"CRM-2025-{i:06d}"})


def _ensure(kafka, *topics: str, **configs: str) -> None:
    admin = Topics(kafka.client_config())
    try:
        for topic in topics:
            admin.ensure(topic, partitions=1, **configs)
    finally:
        admin.close()


def _forge(bus, kafka, record_type=CASES, agency=CRM) -> Forge:
    topic = bus.topic(record_type)
    _ensure(kafka, topic)
    return Forge(topic, record_type, Codec(RegistryClient(bus.registry_url)), {"sender": bus.key(agency)}, agency)


def _send(kafka, topic: str, records, **config: Any) -> list[int]:
    producer = Producer(kafka.client_config(), **config)
    try:
        futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in records]
        return [f.get(30).offset for f in futures]
    finally:
        producer.close()


def _receive(receiver, what, *, until: int, group: str = "g", handler=None) -> list[int]:
    """Run a subscription until the record at offset ``until`` is applied; the offsets applied."""
    applied: list[int] = []

    def keep(record, received):
        if handler is not None:
            handler(record, received)
        applied.append(received.offset)
        if received.offset == until:
            subscription.stop()

    subscription = receiver.subscribe(what, group=group, handler=keep)
    subscription.run(idle_timeout_s=60)
    assert until in applied, "the consumer stopped before the good record"
    return applied


def test_a_record_whose_key_id_header_is_null_is_dead_lettered_and_the_agency_keeps_running(
    bus, connector, kafka, monkeypatch
):
    forge = _forge(bus, kafka)
    key, value, headers = forge.record()
    producer = HostileProducer(kafka.client_config().client_settings(), monkeypatch)
    try:
        null = producer.send(forge.topic, key=key, value=value, headers=replaced(headers, "enlace_keyid", None))
        null_offset = null.get(30).offset
    finally:
        producer.close()
    good = connector(CRM).publish(case(1))
    applied = _receive(connector(PORTAL), CaseOpened, until=good.offset)
    assert applied == [good.offset]
    (letter,) = list_dead_letters(kafka.client_config(), forge.topic)
    assert (letter.offset, letter.reason) == (null_offset, "missing-signature")
    assert dict(letter.original_headers)["enlace_keyid"] is None, "the dead letter keeps the NULL as NULL"


def test_a_signed_record_of_another_type_put_on_this_topic_is_dead_lettered_wrong_topic(bus, connector, kafka):
    # The case: a genuine ServiceRequestSubmitted, signed by the portal, copied to the
    # CaseOpened topic. Its signature names its own topic.
    requests = _forge(bus, kafka, REQUESTS, PORTAL)
    key, value, headers = requests.record()
    cases_topic = bus.topic(CASES)
    _ensure(kafka, cases_topic)
    (moved,) = _send(kafka, cases_topic, [(key, value, headers)])
    # The same, signed by the portal for the CaseOpened topic: its type still belongs elsewhere.
    resigned = requests.sign(requests.headers(), key, value, topic=cases_topic)
    (misplaced,) = _send(kafka, cases_topic, [(key, value, resigned)])
    good = connector(CRM).publish(case(2))
    assert _receive(connector(CRM), CaseOpened, until=good.offset) == [good.offset]
    reasons = {d.offset: (d.reason, d.error_class) for d in list_dead_letters(kafka.client_config(), cases_topic)}
    assert reasons == {moved: ("wrong-topic", "WrongTopic"), misplaced: ("wrong-topic", "MisplacedRecord")}


def test_a_genuine_record_copied_to_another_prefix_is_dead_lettered_wrong_topic(bus, connector, kafka):
    first = connector(CRM).publish(case(3))
    elsewhere = "copy." + first.topic  # another environment's topic for the same record type
    _ensure(kafka, elsewhere)
    original = next(r for r in _read(kafka, first.topic) if r.offset == first.offset)
    (copied,) = _send(kafka, elsewhere, [(original.key, original.value, original.headers)])
    receiver = connector(PORTAL, topic_prefix="copy." + bus.prefix)
    subscription = receiver.subscribe(CaseOpened, group="g", handler=lambda r, m: pytest.fail("applied a copy"))
    subscription.run(idle_timeout_s=5)
    ((offset, reason),) = [(d.offset, d.reason) for d in list_dead_letters(kafka.client_config(), elsewhere)]
    assert (offset, reason) == (copied, "wrong-topic")


def _read(kafka, topic: str):
    from bus.transport import Consumer

    consumer = Consumer(kafka.client_config(), group=None)
    try:
        partitions = consumer.partitions_for(topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        records = []
        while any(consumer.position(p) < o for p, o in end.items()):
            records += consumer.poll(500)
        return records
    finally:
        consumer.close()


def test_a_topic_created_again_does_not_inherit_the_dead_lettered_positions_of_the_old_one(bus, connector, kafka):
    # The case: bookkeeping keyed by (group, topic, partition, offset) alone silently skipped a
    # tampered record at an offset once dead-lettered, after the topic (or cluster) was replaced.
    forge = _forge(bus, kafka)
    store_path = bus.directory / "portal.sqlite3"
    key, value, headers = forge.record()
    tampered = value[:-1] + bytes([value[-1] ^ 1])  # the very same bytes both times

    def consume_once() -> list[str]:
        _send(kafka, forge.topic, [(key, tampered, headers)])
        from connectors import AgencyConnector

        receiver = AgencyConnector(PORTAL, key=bus.key(PORTAL), settings=bus.settings(), store_path=store_path)
        try:
            subscription = receiver.subscribe(CaseOpened, group="g", handler=lambda r, m: None)
            subscription.run(max_records=1, idle_timeout_s=30)
            return [d.reason for d in list_dead_letters(kafka.client_config(), forge.topic)]
        finally:
            receiver.close()

    assert consume_once() == ["bad-signature"]  # offset 0 of the first incarnation
    _delete_topics(kafka, forge.topic, forge.topic + ".dlq")
    _ensure(kafka, forge.topic)
    assert consume_once() == ["bad-signature"], "the tampered record at offset 0 of the new topic was skipped"


def _delete_topics(kafka, *topics: str) -> None:
    admin = KafkaAdminClient(**kafka.client_config().client_settings())
    try:
        admin.delete_topics(list(topics))
        deadline = time.monotonic() + 60
        while set(topics) & set(admin.list_topics()):
            assert time.monotonic() < deadline, f"{topics} still listed a minute after deletion"
            time.sleep(0.2)  # the controller's deletion is asynchronous; there is no event to wait on
    finally:
        admin.close()


def test_records_sharing_a_batch_after_a_header_name_that_is_not_utf8_are_each_dead_lettered(
    bus, connector, kafka, monkeypatch
):
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
    assert applied == [first, good.offset]
    letters = list_dead_letters(kafka.client_config(), forge.topic)
    assert [(d.offset, d.reason) for d in letters] == [(poisoned, "unreadable-record"), (after, "unreadable-record")]
    assert all(d.omitted == "key,value,headers" and "not UTF-8" in d.error_message for d in letters)


class _FlakyRegistry:
    """The session's real registry, behind a first few failures of one kind (a fault, not a fake)."""

    def __init__(self, url: str, failures: list[BaseException]) -> None:
        self._registry, self._failures = RegistryClient(url), failures

    def id_for(self, subject: str, schema: dict[str, Any]) -> int:
        return self._registry.id_for(subject, schema)

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        if self._failures:
            raise self._failures.pop(0)
        return self._registry.schema_by_id(schema_id)


def test_an_unexpected_exception_is_the_reason_internal_error_named_by_its_type_not_its_text(bus, connector, kafka):
    crm = connector(CRM)
    first, second = crm.publish(case(5)), crm.publish(case(6))
    failing = _FlakyRegistry(bus.registry_url, [RuntimeError("lookup of GODE561231HDFRRN00 failed")])
    applied = _receive(connector(PORTAL, schema_source=failing), CaseOpened, until=second.offset)
    assert applied == [second.offset]
    (letter,) = list_dead_letters(kafka.client_config(), first.topic)
    assert (letter.offset, letter.reason, letter.error_class) == (first.offset, "internal-error", "RuntimeError")
    assert "GODE561231HDFRRN00" not in letter.error_message and "RuntimeError raised" in letter.error_message


def test_a_registry_out_of_reach_makes_the_consumer_wait_and_retry_never_dead_letter(bus, connector, kafka):
    delivery = connector(CRM).publish(case(7))
    unreachable = RegistryError("cannot reach the schema registry", http_status=503, error_code=50003)
    flaky = _FlakyRegistry(bus.registry_url, [unreachable, unreachable])
    assert _receive(connector(PORTAL, schema_source=flaky), CaseOpened, until=delivery.offset) == [delivery.offset]
    assert list_dead_letters(kafka.client_config(), delivery.topic) == []


def _failing_polls(monkeypatch, failures: list[Exception]) -> list[Exception]:
    """Make the next polls of consumers in a group (a subscription's, not the trust topic reader's)
    raise ``failures`` in turn (a fault a restarting broker or a moving coordinator gives), then poll
    the real broker again; what was raised."""
    real_poll, raised = Consumer.poll, []

    def poll(self, timeout_ms, max_records=None):
        if failures and self._group is not None:
            raised.append(failures.pop(0))
            raise raised[-1]
        return real_poll(self, timeout_ms, max_records)

    monkeypatch.setattr(Consumer, "poll", poll)
    return raised


def test_a_poll_kafka_fails_for_now_is_retried_and_the_records_are_applied(bus, connector, kafka, monkeypatch):
    delivery = connector(CRM).publish(case(8))
    moving = TransportError("poll failed: NotCoordinatorForGroupError", retriable=True)
    raised = _failing_polls(monkeypatch, [moving, moving])
    assert _receive(connector(PORTAL), CaseOpened, until=delivery.offset) == [delivery.offset]
    assert raised == [moving, moving]


def test_a_poll_refused_for_good_stops_the_subscription_naming_the_refusal(bus, connector, kafka, monkeypatch):
    connector(CRM).publish(case(9))
    refused = AccessDenied(principal="urn:mx:gob:portal", resource="consumer group g", right="READ")
    _failing_polls(monkeypatch, [refused])
    subscription = connector(PORTAL).subscribe(CaseOpened, group="g", handler=lambda *_: None)
    with pytest.raises(AccessDenied) as stopped:
        subscription.run(idle_timeout_s=60)
    assert "consumer group g" in str(stopped.value)


def test_a_record_too_large_to_keep_is_dead_lettered_without_its_bytes_and_never_replayed(bus, connector, kafka):
    forge = _forge(bus, kafka)
    _ensure(kafka, forge.topic)
    admin = Topics(kafka.client_config())
    try:
        admin.ensure(forge.topic + ".dlq")  # the broker's default limit: 1 MiB
    finally:
        admin.close()
    _alter_max_bytes(kafka, forge.topic, 3 * 1024 * 1024)
    data = forge.data()
    key, value, headers = forge.record(value=forge.encode(data) + b"\x00" * (2 * 1024 * 1024))
    (big,) = _send(kafka, forge.topic, [(key, value, headers)], max_request_size=3 * 1024 * 1024)
    good = connector(CRM).publish(case(8))
    receiver = connector(PORTAL)  # ENLACE_MAX_RECORD_BYTES: the default 1 MiB
    assert _receive(receiver, CaseOpened, until=good.offset) == [good.offset]
    (letter,) = list_dead_letters(kafka.client_config(), forge.topic)
    assert (letter.offset, letter.reason, letter.omitted) == (big, "too-large", "key,value,headers")
    assert letter.value == b"" and letter.key is None and letter.original_headers == []
    done = replay_dead_letters(kafka.client_config(), forge.topic, trust=receiver._trust)
    assert done.replayed == [] and [r.reason for r in done.refused] == ["not-kept"]


def _alter_max_bytes(kafka, topic: str, limit: int) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(**kafka.client_config().client_settings())
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": str(limit)})])
    finally:
        admin.close()


def test_replay_sends_a_dead_letter_only_to_the_topic_its_signature_names(bus, connector, kafka):
    forge = _forge(bus, kafka)
    other = bus.topic(catalog().get("CaseUpdated"))
    dlq = forge.topic + ".dlq"
    _ensure(kafka, other, dlq)
    key, value, headers = forge.record()
    # An operator-facing header says "replay me to the other topic": replay ignores it.
    honest = [*headers, ("enlace_dlq_topic", other.encode()), ("enlace_dlq_reason", b"handler-failed")]
    # A record signed for the other topic, planted in this topic's dead letters.
    planted_headers = forge.sign(forge.headers(), key, value, topic=other)
    planted = [*planted_headers, ("enlace_dlq_topic", other.encode())]
    unsigned = [(n, v) for n, v in headers if not n.startswith("enlace_")]
    _send(kafka, dlq, [(key, value, honest), (key, value, planted), (key, value, unsigned)])
    trust = TrustStore([TrustedKey.for_key(bus.keys[CRM])])
    done = replay_dead_letters(kafka.client_config(), forge.topic, trust=trust)
    assert [d.dlq_offset for d in done.replayed] == [0]
    assert [(r.letter.dlq_offset, r.reason) for r in done.refused] == [(1, "wrong-topic"), (2, "missing-signature")]
    assert [(r.key, r.value) for r in _read(kafka, forge.topic)] == [(key, value)]
    assert _read(kafka, other) == [], "nothing was written where an unsigned header pointed"
    from connectors import replay_progress

    progress = replay_progress(kafka.client_config(), forge.topic)[0]
    assert [progress.state_of(n) for n in range(4)] == ["replayed", "refused", "refused", "pending"]


def test_dead_letters_are_listed_whatever_their_headers_hold(bus, kafka, capsys, monkeypatch):
    dlq = bus.topic(CASES) + ".dlq"
    _ensure(kafka, dlq)
    hostile = HostileProducer(kafka.client_config().client_settings(), monkeypatch)
    odd = [
        [("enlace_dlq_partition", b"zero"), ("enlace_dlq_offset", None), ("enlace_dlq_attempts", b"\xff\xfe")],
        [("enlace_dlq_reason", None), ("enlace_dlq_null_headers", b"[" * 100_000), ("ce_id", b"\xc3\x28")],
        [("enlace_dlq_offset", b"99999999999999999999999"), ("enlace_dlq_time", b"\x00" * 10)],
        [("enlace_dlq_reason", b"x" * 50_000)],
    ]
    try:
        for headers in odd:
            hostile.send(dlq, key=None, value=b"v", headers=headers).get(30)
        hostile.flush(30)
        hostile.send(dlq, key=b"k", value=b"v", headers=[(RawName(b"\xff"), b"x")]).get(30)
    finally:
        hostile.close()
    letters = list_dead_letters(kafka.client_config(), dlq)
    assert len(letters) == 5
    assert (letters[0].partition, letters[0].offset, letters[0].attempts) == (-1, -1, 0)
    assert letters[1].reason == "?" and letters[2].offset == -1 and letters[4].reason == "unreadable-record"

    from ops.cli import main

    for name, value in kafka.client_config().settings().items():
        if value is not None:
            monkeypatch.setenv(f"ENLACE_{name.upper()}", value)
    for extra in ([], ["--json"]):
        monkeypatch.setattr("sys.argv", ["enlace", "dlq", "list", dlq, *extra])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0
        out = capsys.readouterr()
        assert len(out.out.splitlines()) == 5 and "5 dead letter(s)" in out.err
