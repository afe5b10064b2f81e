"""Agency keys, signatures over envelope headers and payload, and the trust store."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from bus import ConfigError, SignatureError
from bus.identity import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION_HEADER,
    TOPIC_HEADER,
    BadSignature,
    DuplicateHeader,
    ExpiredKey,
    MissingSignature,
    RevokedKey,
    SenderMismatch,
    TrustedKey,
    TrustStore,
    UnknownKey,
    UnsupportedSignatureVersion,
    WrongTopic,
    canonical_form,
    generate_key,
    load_key,
    record_digest,
    sign_headers,
)

pytestmark = pytest.mark.usefixtures("both_builds")  # the C build and the Python loops alike

SAT = "urn:mx:gob:sat"
HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"7d6c0f5e-0000-4000-8000-000000000001"),
    ("ce_source", SAT.encode()),
    ("ce_type", b"mx.gob.sat.TaxpayerStatusChanged"),
    ("ce_subject", b"GODE561231GR8"),
    ("content-type", b"application/avro"),
    ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
]


@pytest.fixture(scope="module")
def sat_key():
    return generate_key(SAT)


@pytest.fixture
def store(sat_key):
    return TrustStore([TrustedKey.for_key(sat_key, not_before=datetime.now(UTC) - timedelta(days=1))])


TOPIC = "mx.gob.sat.taxpayer-status-changed"


def _signed(key, headers=HEADERS, record_key=b"GODE561231GR8", value=b"\x00\x00\x00\x00\x01payload", topic=TOPIC):
    return sign_headers(key, headers, record_key, value, topic=topic), record_key, value


def _replace(headers, name, value):
    return [(n, value if n == name else v) for n, v in headers]


def test_a_signed_record_verifies_and_names_its_sender(sat_key, store):
    headers, key, value = _signed(sat_key)
    trusted = store.verify(headers, key, value, topic=TOPIC)
    assert trusted.agency == SAT and trusted.key_id == sat_key.key_id
    assert dict(headers)[KEY_ID_HEADER] == sat_key.key_id.encode()


def test_header_order_does_not_matter(sat_key, store):
    headers, key, value = _signed(sat_key)
    store.verify(list(reversed(headers)), key, value, topic=TOPIC)


def test_tampered_payload_fails(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature, match="altered"):
        store.verify(headers, key, value[:-1] + b"X", topic=TOPIC)


def test_tampered_record_key_fails(sat_key, store):
    headers, _, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify(headers, b"XAXX010101000", value, topic=TOPIC)


@pytest.mark.parametrize("name", ["ce_subject", "ce_type", "traceparent", "content-type"])
def test_tampered_signed_header_fails(sat_key, store, name):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify(_replace(headers, name, b"changed"), key, value, topic=TOPIC)


def test_an_added_ce_header_fails_but_an_unsigned_one_does_not(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify([*headers, ("ce_partitionkey", b"x")], key, value, topic=TOPIC)
    store.verify([*headers, ("x-proxy", b"hop")], key, value, topic=TOPIC)


def test_a_duplicated_signed_header_is_refused(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(DuplicateHeader, match="twice") as refused:
        store.verify([*headers, ("ce_subject", b"other")], key, value, topic=TOPIC)
    assert refused.value.reason == "duplicate-header"


def test_an_unsigned_record_is_refused(store):
    with pytest.raises(MissingSignature, match="unsigned"):
        store.verify(HEADERS, b"k", b"v", topic=TOPIC)
    with pytest.raises(MissingSignature, match="unsigned"):
        store.verify([*HEADERS, (KEY_ID_HEADER, None), (SIGNATURE_HEADER, b"")], b"k", b"v", topic=TOPIC)


def test_an_unknown_key_is_refused_after_one_refresh(sat_key):
    refreshed = []
    store = TrustStore(refresh=lambda: refreshed.append(1))
    headers, key, value = _signed(sat_key)
    with pytest.raises(UnknownKey, match="not in the trust topic"):
        store.verify(headers, key, value, topic=TOPIC)
    with pytest.raises(UnknownKey):
        store.verify(headers, key, value, topic=TOPIC)
    assert refreshed == [1], "a second miss within the refresh interval does not re-read the topic"


def test_a_key_learned_on_refresh_verifies(sat_key):
    store = TrustStore()
    store.set_refresh(lambda: store.add(TrustedKey.for_key(sat_key)))
    headers, key, value = _signed(sat_key)
    assert store.verify(headers, key, value, topic=TOPIC).agency == SAT


def test_a_revoked_key_fails(sat_key, store):
    store.add(store.get(sat_key.key_id).revoked("laptop stolen"))
    headers, key, value = _signed(sat_key)
    with pytest.raises(RevokedKey, match="laptop stolen"):
        store.verify(headers, key, value, topic=TOPIC)


def test_an_expired_or_not_yet_valid_key_fails(sat_key):
    past = datetime.now(UTC) - timedelta(days=30)
    expired = TrustStore([TrustedKey.for_key(sat_key, valid_days=1, not_before=past)])
    future = TrustStore([TrustedKey.for_key(sat_key, not_before=datetime.now(UTC) + timedelta(days=1))])
    headers, key, value = _signed(sat_key)
    for store in (expired, future):
        with pytest.raises(ExpiredKey, match="valid from"):
            store.verify(headers, key, value, topic=TOPIC)


def test_a_key_cannot_sign_for_another_agency(sat_key, store):
    headers, key, value = _signed(sat_key, headers=_replace(HEADERS, "ce_source", b"urn:mx:gob:crm"))
    with pytest.raises(SenderMismatch, match="ce_source is not urn:mx:gob:sat"):
        store.verify(headers, key, value, topic=TOPIC)


def test_signature_errors_carry_a_reason_slug(sat_key, store):
    headers, key, _ = _signed(sat_key)
    with pytest.raises(SignatureError) as caught:
        store.verify(headers, key, b"other", topic=TOPIC)
    assert caught.value.reason == "bad-signature"


def test_canonical_form_is_unambiguous_about_boundaries():
    one = canonical_form([("ce_a", b"b"), ("ce_c", b"")], None, b"v")
    two = canonical_form([("ce_a", b"bce_c")], None, b"v")
    assert one != two
    assert canonical_form([], None, b"") != canonical_form([], None, None)
    assert canonical_form([], b"", b"") != canonical_form([], None, b"")
    assert canonical_form([("ce_a", None)], None, b"v") != canonical_form([("ce_a", b"")], None, b"v")


def test_the_signature_covers_the_sha256_digest_of_the_canonical_form(sat_key):
    headers, key, value = _signed(sat_key)
    digest = record_digest(headers, key, value)
    assert digest == hashlib.sha256(canonical_form(headers, key, value)).digest()
    assert canonical_form(headers, key, value).startswith(b"ENLACE-SIG-2\n")
    sat_key.public_key.verify(_signature(headers), digest)  # raises if it signed anything else


def test_the_signed_form_names_its_version_and_topic(sat_key):
    headers, _, _ = _signed(sat_key)
    assert dict(headers)[SIGNATURE_VERSION_HEADER] == b"2"
    assert dict(headers)[TOPIC_HEADER] == TOPIC.encode()


def test_a_record_read_from_another_topic_is_refused_as_wrong_topic(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(WrongTopic, match="another topic") as refused:
        store.verify(headers, key, value, topic="mx.gob.crm.case-opened")
    assert refused.value.reason == "wrong-topic"


def test_a_tampered_topic_header_fails_the_signature(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify(
            _replace(headers, TOPIC_HEADER, b"mx.gob.crm.case-opened"), key, value, topic="mx.gob.crm.case-opened"
        )


def _version_one(key, headers=HEADERS, record_key=b"GODE561231GR8", value=b"v"):
    """A record signed the way version 1 did: no enlace_sigv, no enlace_topic."""
    signed = sign_headers(key, headers, record_key, value, topic=TOPIC)
    return [(n, v) for n, v in signed if n not in (SIGNATURE_VERSION_HEADER, TOPIC_HEADER)], record_key, value


@pytest.mark.parametrize("version", [None, b"", b"1", b"4", b"\xff", b"2 "])
def test_a_record_in_another_signed_form_is_refused_with_its_reason(sat_key, store, version):
    headers, key, value = _version_one(sat_key)
    if version is not None:
        headers = [*headers, (SIGNATURE_VERSION_HEADER, version)]
    with pytest.raises(UnsupportedSignatureVersion) as refused:
        store.verify(headers, key, value, topic=TOPIC)
    assert refused.value.reason == "unsupported-signature-version"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        (KEY_ID_HEADER, None, "missing-signature"),
        (KEY_ID_HEADER, b"", "missing-signature"),
        (KEY_ID_HEADER, b"\xff\xfe", "unknown-key"),
        (KEY_ID_HEADER, b"ed25519:" + b"0" * 32, "unknown-key"),
        (KEY_ID_HEADER, b"rsa:1234", "unknown-key"),
        (SIGNATURE_HEADER, None, "missing-signature"),
        (SIGNATURE_HEADER, b"", "missing-signature"),
        (SIGNATURE_HEADER, b"\xff" * 86, "bad-signature"),
        (SIGNATURE_HEADER, b"not base64 at all!", "bad-signature"),
        (SIGNATURE_HEADER, b"AAAA", "bad-signature"),
        (TOPIC_HEADER, None, "bad-signature"),
        ("ce_source", None, "sender-mismatch"),
        ("ce_source", b"\xff", "sender-mismatch"),
        ("ce_subject", None, "bad-signature"),
    ],
)
def test_any_header_value_is_a_refusal_with_a_reason_never_a_crash(sat_key, store, name, value, reason):
    headers, key, record_value = _signed(sat_key)
    with pytest.raises(SignatureError) as refused:
        store.verify(_replace(headers, name, value), key, record_value, topic=TOPIC)
    assert refused.value.reason == reason


@pytest.mark.parametrize("name", [KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION_HEADER, TOPIC_HEADER])
def test_a_repeated_signature_header_is_refused(sat_key, store, name):
    headers, key, value = _signed(sat_key)
    with pytest.raises(DuplicateHeader):
        store.verify([*headers, (name, dict(headers)[name])], key, value, topic=TOPIC)


def test_a_record_dated_outside_its_keys_validity_is_refused(sat_key):
    start = datetime.now(UTC) - timedelta(days=10)
    trusted = TrustedKey.for_key(sat_key, valid_days=20, not_before=start)
    trusted.check_signed_at(start + timedelta(days=1))
    trusted.check_signed_at(start - timedelta(seconds=30), skew=timedelta(minutes=1))
    for moment in (start - timedelta(days=1), start + timedelta(days=20)):
        with pytest.raises(ExpiredKey, match="ce_time is outside the validity"):
            trusted.check_signed_at(moment)


def _signature(headers):
    raw = dict(headers)[SIGNATURE_HEADER]
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def test_saved_private_key_is_0600_and_loads_back(sat_key, tmp_path):
    path = sat_key.save(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.name == "sat.key" and (tmp_path / "sat.pub").exists()
    assert load_key(SAT, path).key_id == sat_key.key_id
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        sat_key.save(tmp_path)


def test_a_key_file_readable_by_others_is_refused(sat_key, tmp_path):
    path = sat_key.save(tmp_path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_key(SAT, path)


def test_a_malformed_agency_urn_is_refused():
    with pytest.raises(ConfigError, match="malformed"):
        generate_key("SAT")


def test_signature_header_is_base64url(sat_key):
    headers, _, _ = _signed(sat_key)
    signature = dict(headers)[SIGNATURE_HEADER]
    assert len(signature) == 86 and b"=" not in signature
