"""The consumer corpus (``tests/corpus/consumer_cases.py``) through a real broker: every case sent to
one topic and read by one connector in one run; each ends in its expected outcome, the consumer
never stops, nothing is dropped silently, a good record sent after all of them is applied, and no
dead-letter header or log line carries a personal value."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bus.codec import Codec
from bus.identity import TrustedKey, generate_key
from bus.records import catalog
from bus.registry import RegistryClient
from bus.transport import Topics
from connectors import RecordRefused, list_dead_letters
from tests.corpus.consumer_cases import (
    DUPLICATE,
    FAILING_REQUEST,
    MAX_RECORD_BYTES,
    PERSONAL_VALUES,
    REFUSED_REQUEST,
    Case,
    invoice_cases,
    taxpayer_status_cases,
)
from tests.corpus.forge import APPLIED, Forge, HostileProducer

pytestmark = pytest.mark.integration

SAT, CRM = "urn:mx:gob:sat", "urn:mx:gob:crm"


@pytest.fixture
def keys(bus):
    """The sender's keys in every state a key can be in, published (or not) in the test's trust topic."""
    now = datetime.now(UTC).replace(microsecond=0)
    month_ago = now - timedelta(days=30)
    made = {role: generate_key(CRM if role == "other" else SAT) for role in (
        "sender", "other", "unknown", "revoked", "expired", "not_yet_valid", "fresh"
    )}  # fmt: skip
    bus.trust(TrustedKey.for_key(made["sender"], not_before=month_ago))
    bus.trust(TrustedKey.for_key(made["other"], not_before=month_ago))
    revoked = TrustedKey.for_key(made["revoked"], not_before=month_ago)
    bus.trust(revoked)
    bus.trust(revoked.revoked("key leaked"))
    expired = made["expired"]
    bus.trust(TrustedKey(SAT, expired.key_id, expired.public_key, month_ago, now - timedelta(days=1)))
    bus.trust(TrustedKey.for_key(made["not_yet_valid"], not_before=now + timedelta(days=1)))
    bus.trust(TrustedKey.for_key(made["fresh"], not_before=now - timedelta(hours=1)))
    return made


def _run(cases: list[Case], record_type, *, bus, connector, kafka, keys, caplog, monkeypatch) -> None:
    topic = bus.topic(record_type)
    topics = Topics(kafka.client_config())
    try:
        topics.ensure(topic)
    finally:
        topics.close()
    forge = Forge(topic, record_type, Codec(RegistryClient(bus.registry_url)), keys, SAT)

    producer = HostileProducer(
        kafka.client_config().client_settings(), monkeypatch, max_request_size=4 * MAX_RECORD_BYTES
    )
    sent: list[tuple[Case, list]] = []
    try:
        for case in cases:
            made = case.make(forge)
            if case.alone:
                producer.flush(30)  # its own batch: nothing before it shares it...
            futures = [
                producer.send(topic, key=key, value=value, headers=headers)
                for key, value, headers in (made if isinstance(made, list) else [made])
            ]
            if case.alone:
                producer.flush(30)  # ...and nothing after it
            sent.append((case, futures))
        key, value, headers = forge.record()
        final = producer.send(topic, key=key, value=value, headers=headers).get(30).offset
        offsets = [(case, [f.get(30).offset for f in futures]) for case, futures in sent]
    finally:
        producer.close()

    applied: list[int] = []
    receiver = connector(CRM, max_record_bytes=MAX_RECORD_BYTES, handler_attempts=2)

    def handle(record, received):
        request = str(getattr(record, "request_id", ""))
        if request == FAILING_REQUEST:  # an agency's own error, whose text names the citizen
            raise LookupError(f"no taxpayer {record.citizen_curp} in the register")
        if request == REFUSED_REQUEST:
            raise RecordRefused("unhandled-type", "this desk does not handle reports of this kind")
        applied.append(received.offset)
        if received.offset == final:
            subscription.stop()  # the good record after the corpus: the run is over

    subscription = receiver.subscribe(record_type, group="corpus", handler=handle)
    with caplog.at_level(logging.INFO, logger="connectors"):
        subscription.run(idle_timeout_s=120)  # a bound in case the final record never arrives
    assert final in applied, "the good record sent after the corpus was not applied: the consumer stopped"

    letters = list_dead_letters(kafka.client_config(), topic)
    reasons = {letter.offset: letter.reason for letter in letters}
    assert len(reasons) == len(letters), "a record was dead-lettered twice"
    wrong = []
    for case, at in offsets:
        if case.expect == APPLIED:
            outcome = ["applied" if o in applied else reasons.get(o, "dropped") for o in at]
        elif case.expect == DUPLICATE:
            first, again = at
            outcome = [
                "applied" if first in applied else reasons.get(first, "dropped"),
                "duplicate" if again not in applied and again not in reasons else reasons.get(again, "applied twice"),
            ]
        else:
            outcome = [reasons.get(o, "applied" if o in applied else "dropped") for o in at]
        expected = ["applied", "duplicate"] if case.expect == DUPLICATE else [case.expect] * len(at)
        if outcome != expected:
            wrong.append(f"{case.name}: expected {case.expect}, got {', '.join(outcome)}")
    assert wrong == [], f"{len(wrong)} case(s) of {len(cases)} ended otherwise:\n" + "\n".join(wrong)

    records_in = sum(len(at) for _, at in offsets) + 1
    duplicates = sum(1 for case, _ in offsets if case.expect == DUPLICATE)
    assert (subscription.applied, subscription.dead_lettered, subscription.duplicates) == (
        len(applied),
        len(letters),
        duplicates,
    )
    assert records_in == len(applied) + len(letters) + duplicates, "0 silent drops: every record has an outcome"

    # A header sent NULL reaches the receiver as NULL (not empty), and its dead letter says so.
    null_cases = [case for case, _ in offsets if re.match(r"\S+ NULL", case.name) and case.expect != APPLIED]
    nulls = [letter for letter in letters if any(v is None for _, v in letter.original_headers)]
    assert len(nulls) == len(null_cases)
    assert not null_cases or any("is NULL" in letter.error_message for letter in nulls)
    for letter in letters:
        said = " ".join([letter.reason, letter.error_class, letter.error_message, letter.group, letter.agency])
        leaked = [value for value in PERSONAL_VALUES if value in said]
        assert leaked == [], f"dead letter of {letter.topic}@{letter.offset} names personal values {leaked}"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert [value for value in PERSONAL_VALUES if value in logged] == [], "a log line names a personal value"
    print(f"{len(cases)} cases, {records_in} records: {Counter(reasons.values()).most_common()}")


def test_every_taxpayer_status_case_ends_in_its_outcome_and_the_consumer_goes_on(
    bus, connector, kafka, keys, caplog, monkeypatch
):
    cases = taxpayer_status_cases()
    assert len(cases) >= 180
    _run(
        cases,
        catalog().get("TaxpayerStatusReported"),
        bus=bus,
        connector=connector,
        kafka=kafka,
        keys=keys,
        caplog=caplog,
        monkeypatch=monkeypatch,
    )


def test_every_invoice_case_ends_in_its_outcome_and_the_consumer_goes_on(
    bus, connector, kafka, keys, caplog, monkeypatch
):
    _run(
        invoice_cases(),
        catalog().get("InvoiceIssued"),
        bus=bus,
        connector=connector,
        kafka=kafka,
        keys=keys,
        caplog=caplog,
        monkeypatch=monkeypatch,
    )
