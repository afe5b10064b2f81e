"""Field-level encryption on the real broker: the reader the policy names opens the sensitive fields, an
agency that can read the topic but is not named gets no plaintext, a reader with the wrong key gets the
dead letter ``cannot-decrypt`` without the value in it."""

from __future__ import annotations

import json

import pytest

from bus import PolicyViolation
from bus.encryption import (
    ENCRYPTION_HEADER,
    CannotDecrypt,
    FieldEncryption,
    Keyring,
    NotAReader,
    RecordIdentity,
    generate_encryption_key,
)
from bus.identity import TrustedKey, generate_key
from bus.records import catalog
from bus.records.models import ServiceRequestSubmitted
from bus.transport import Consumer, Partition
from connectors import list_dead_letters

pytestmark = pytest.mark.integration

CRM, PORTAL, SAT = "urn:mx:gob:crm", "urn:mx:gob:portal", "urn:mx:gob:sat"
SUBMITTED = catalog().get("ServiceRequestSubmitted")
URI = SUBMITTED.example()["attachments"][0]["uri"]


def _publish_keys(bus, agency: str, directory) -> Keyring:
    """The agency's signing key and a fresh encryption key published beside it; its keyring's file."""
    signing, encryption = generate_key(agency), generate_encryption_key(agency)
    bus.keys[agency] = signing
    bus.trust(TrustedKey.for_key(signing, encryption_key=encryption.public_key))
    encryption.save(directory)
    return Keyring([encryption])


def _submit(connector) -> tuple[int, str]:
    delivery = connector(PORTAL).publish(ServiceRequestSubmitted.from_avro(SUBMITTED.example()))
    return delivery.offset, delivery.ce_id


def _raw(bus, offset: int):
    consumer = Consumer(bus.kafka, group=None)
    try:
        partition = Partition(bus.topic(SUBMITTED), 0)
        consumer.assign([partition])
        consumer.seek_to_beginning()
        for _ in range(40):
            for record in consumer.poll(500):
                if record.offset == offset:
                    return record
    finally:
        consumer.close()
    raise AssertionError(f"no record at offset {offset}")


def _receive(connector, agency: str, group: str, **settings):
    got = []
    subscription = connector(agency, **settings).subscribe(
        ServiceRequestSubmitted, group=group, handler=lambda record, received: got.append((record, received))
    )
    subscription.run(idle_timeout_s=3)
    return got


def test_the_reader_the_policy_names_opens_the_sensitive_field(connector, bus, unique_name, tmp_path):
    _publish_keys(bus, CRM, tmp_path / "crm")
    _publish_keys(bus, PORTAL, tmp_path / "portal")
    offset, ce_id = _submit(connector)

    raw = _raw(bus, offset)
    assert URI.encode() not in raw.value and all(URI.encode() not in (v or b"") for _, v in raw.headers)
    header = json.loads(dict(raw.headers)[ENCRYPTION_HEADER])
    assert header["fields"] == ["/attachments/0/uri"] and set(header["keys"]) == {CRM}

    got = _receive(connector, CRM, unique_name("crm"), encryption_keys=str(tmp_path / "crm"))
    assert [r.ce_id for _, r in got] == [ce_id]
    assert got[0][0].attachments[0].uri == URI  # opened before the model validated it (an https URI)


def test_an_agency_that_reads_the_topic_but_is_not_named_gets_no_plaintext(connector, bus, unique_name, tmp_path):
    _publish_keys(bus, CRM, tmp_path / "crm")
    sat_keys = _publish_keys(bus, SAT, tmp_path / "sat")
    offset, ce_id = _submit(connector)

    # Its connector (the test's clients may read any topic) dead-letters the record, its handler never sees it.
    got = _receive(connector, SAT, unique_name("sat"), encryption_keys=str(tmp_path / "sat"))
    assert got == []
    letter = next(d for d in list_dead_letters(bus.kafka, bus.topic(SUBMITTED)) if d.ce_id == ce_id)
    assert letter.reason == "not-a-reader" and letter.agency == SAT
    assert URI not in letter.error_message and URI.encode() not in (letter.value or b"")

    # With the record's bytes in hand, SAT's own key opens nothing: neither as itself, nor as CRM.
    raw = _raw(bus, offset)
    from bus.codec import Codec
    from bus.registry import RegistryClient

    with RegistryClient(bus.registry_url) as registry:
        decoded = Codec(registry).decode(raw.value, SUBMITTED)
    assert decoded["attachments"][0]["uri"] != URI
    identity = RecordIdentity(ce_id, "mx.gob.portal.ServiceRequestSubmitted.v1", bus.topic(SUBMITTED))
    header = dict(raw.headers)[ENCRYPTION_HEADER]
    with pytest.raises(NotAReader):
        FieldEncryption(catalog().policy, agency=SAT, keyring=sat_keys).open(SUBMITTED, decoded, header, identity)
    (sat_key,) = [sat_keys.get(k) for k in sat_keys.key_ids]
    crm_kid = json.loads(header)["keys"][CRM]["kid"]
    posing = Keyring([type(sat_key)(CRM, sat_key.private_key, crm_kid)])  # type: ignore[misc]
    with pytest.raises(CannotDecrypt, match="does not open"):
        FieldEncryption(catalog().policy, agency=CRM, keyring=posing).open(SUBMITTED, decoded, header, identity)


def test_a_named_reader_with_the_wrong_key_gets_cannot_decrypt(connector, bus, unique_name, tmp_path):
    _publish_keys(bus, CRM, tmp_path / "published")
    generate_encryption_key(CRM).save(tmp_path / "other")  # a key CRM holds, but not the one it published
    offset, ce_id = _submit(connector)

    got = _receive(connector, CRM, unique_name("crm"), encryption_keys=str(tmp_path / "other"))
    assert got == []
    letter = next(d for d in list_dead_letters(bus.kafka, bus.topic(SUBMITTED)) if d.ce_id == ce_id)
    assert (letter.reason, letter.error_class, letter.offset) == ("cannot-decrypt", "CannotDecrypt", offset)
    assert "not in its keyring" in letter.error_message and URI not in letter.error_message
    assert URI.encode() not in (letter.value or b"")
    assert all(URI.encode() not in (v or b"") for _, v in letter.original_headers)

    # The same record opens once the keyring holds the published key too (a rotated key kept).
    got = _receive(connector, CRM, unique_name("crm"), encryption_keys=f"{tmp_path / 'other'},{tmp_path / 'published'}")
    assert [r.ce_id for _, r in got] == [ce_id] and got[0][0].attachments[0].uri == URI


def test_a_reader_without_a_published_encryption_key_stops_the_send(connector, bus):
    bus.key(CRM)  # a signing key only
    with pytest.raises(PolicyViolation, match="no encryption key") as caught:
        _submit(connector)
    assert caught.value.rule == "encryption.reader-key" and URI not in str(caught.value)


def _resigned(bus, raw, *, value: bytes | None = None, change=lambda headers: headers):
    """The record ``raw`` with its value and headers changed, signed again by its sender (the portal), under a
    new ce_id (the same one would be skipped as a duplicate of the genuine record)."""
    from bus.envelope import new_event_id
    from bus.identity import KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER, sign_headers

    signing = {KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER}
    renamed = [(n, new_event_id().encode() if n == "ce_id" else v) for n, v in raw.headers if n not in signing]
    headers = change(renamed)
    value = raw.value if value is None else value
    return raw.key, value, sign_headers(bus.keys[PORTAL], headers, raw.key, value, topic=raw.topic)


def test_hostile_encryption_headers_are_dead_lettered_by_reason(connector, bus, unique_name, tmp_path):
    from bus.codec import Codec
    from bus.registry import RegistryClient
    from bus.transport import Producer

    _publish_keys(bus, CRM, tmp_path / "crm")
    offset, _ = _submit(connector)
    raw = _raw(bus, offset)
    with RegistryClient(bus.registry_url) as registry:
        clear = Codec(registry).encode(SUBMITTED, SUBMITTED.example())

    def without(headers):
        return [(n, v) for n, v in headers if n != ENCRYPTION_HEADER]

    def malformed(headers):
        return [*without(headers), (ENCRYPTION_HEADER, b'{"version": 1}')]

    tampered_header = [(n, v.replace(b"/uri", b"/sha256") if n == ENCRYPTION_HEADER else v) for n, v in raw.headers]
    cases = {
        "not-encrypted": _resigned(bus, raw, value=clear, change=without),  # the sender left the URI in clear
        "cannot-decrypt": _resigned(bus, raw, change=malformed),
        "duplicate-header": (raw.key, raw.value, [*raw.headers, (ENCRYPTION_HEADER, b"{}")]),  # added after signing
        "bad-signature": (raw.key, raw.value, tampered_header),  # the header is signed
    }
    producer = Producer(bus.kafka)
    try:
        sent = {reason: producer.send(raw.topic, key=k, value=v, headers=h) for reason, (k, v, h) in cases.items()}
        offsets = {reason: future.get(timeout=30).offset for reason, future in sent.items()}
    finally:
        producer.close()

    got = _receive(connector, CRM, unique_name("crm"), encryption_keys=str(tmp_path / "crm"))
    assert [r.offset for _, r in got] == [offset]  # only the genuine record reaches the handler
    letters = {d.offset: d for d in list_dead_letters(bus.kafka, bus.topic(SUBMITTED))}
    assert {reason: letters[at].reason for reason, at in offsets.items()} == {r: r for r in offsets}
    for at in offsets.values():
        assert URI not in letters[at].error_message
