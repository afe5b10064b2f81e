"""Trust records signed by the interoperability authority, and the rules that apply them (no broker)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from bus import ConfigError
from bus.identity import (
    AUTHORITY,
    MAX_VALIDITY,
    RevokedKey,
    TrustAnchor,
    TrustedKey,
    TrustStatement,
    TrustStore,
    UntrustedRecord,
    generate_key,
    sign_headers,
)

CRM = "urn:mx:gob:crm"
HEADERS = [("ce_id", b"1"), ("ce_source", CRM.encode()), ("ce_type", b"mx.gob.crm.CaseOpened")]


@pytest.fixture(scope="module")
def authority():
    return generate_key(AUTHORITY)


@pytest.fixture(scope="module")
def anchor(authority):
    return TrustAnchor.of(authority)


@pytest.fixture
def crm_key():
    return generate_key(CRM)


def _read(value: bytes, anchor: TrustAnchor, key: bytes | None = None) -> TrustStatement:
    return TrustStatement.read(value, anchor, kafka_key=key)


def _registration(key, *, issued_at=None, days=365) -> TrustStatement:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    trusted = TrustedKey(key.agency, key.key_id, key.public_key, start, start + timedelta(days=days))
    return trusted.statement(issued_at=issued_at)


def test_a_signed_registration_makes_the_key_trusted(authority, anchor, crm_key):
    statement = _registration(crm_key)
    read = _read(statement.signed(authority), anchor, statement.kafka_key)
    store = TrustStore()
    store.apply(read)
    headers = sign_headers(crm_key, HEADERS, b"k", b"v", topic="t")
    assert store.verify(headers, b"k", b"v", topic="t").agency == CRM


def test_an_unsigned_record_in_the_old_format_is_refused(anchor, crm_key):
    raw = base64.b64encode(crm_key.public_bytes()).decode()
    old = json.dumps({"agency": CRM, "key_id": crm_key.key_id, "algorithm": "Ed25519", "public_key": raw}).encode()
    with pytest.raises(UntrustedRecord) as caught:
        _read(old, anchor)
    assert caught.value.reason == "unsigned"


def test_a_record_signed_by_someone_else_than_the_pinned_authority_is_refused(anchor, crm_key):
    impostor = generate_key(AUTHORITY)  # a fresh key claiming to be the authority
    with pytest.raises(UntrustedRecord) as caught:
        _read(_registration(crm_key).signed(impostor), anchor)
    assert caught.value.reason == "unknown-signer"


def test_an_altered_statement_fails_the_signature(authority, anchor, crm_key):
    envelope = json.loads(_registration(crm_key).signed(authority))
    envelope["statement"] = envelope["statement"].replace(CRM, "urn:mx:gob:sat")
    with pytest.raises(UntrustedRecord) as caught:
        _read(json.dumps(envelope).encode(), anchor)
    assert caught.value.reason == "bad-signature"


def test_revocation_is_final(authority, anchor, crm_key):
    store = TrustStore()
    t0 = datetime.now(UTC).replace(microsecond=0)
    store.apply(_read(_registration(crm_key, issued_at=t0).signed(authority), anchor))
    revocation = TrustedKey.from_statement(_registration(crm_key)).revoked("laptop stolen").statement()
    store.apply(_read(revocation.signed(authority), anchor, revocation.kafka_key))
    later = _registration(crm_key, issued_at=t0 + timedelta(hours=1))  # re-registered without revoked_at
    store.apply(_read(later.signed(authority), anchor))
    with pytest.raises(RevokedKey, match="laptop stolen"):
        store.verify(sign_headers(crm_key, HEADERS, None, b"v", topic="t"), None, b"v", topic="t")


def test_a_revocation_seen_before_its_registration_still_holds(authority, anchor, crm_key):
    store = TrustStore()
    revocation = TrustedKey.from_statement(_registration(crm_key)).revoked("lost").statement()
    store.apply(_read(revocation.signed(authority), anchor))
    store.apply(_read(_registration(crm_key).signed(authority), anchor))
    assert store.get(crm_key.key_id).revoked_at is not None


def test_revocation_and_registration_never_share_a_kafka_key(crm_key):
    registration = _registration(crm_key)
    revocation = TrustedKey.from_statement(registration).revoked("x").statement()
    assert registration.kafka_key == crm_key.key_id.encode()
    assert revocation.kafka_key == crm_key.key_id.encode() + b"#revoked"


def test_a_record_under_another_records_kafka_key_is_refused(authority, anchor, crm_key):
    registration = _registration(crm_key)
    revocation = TrustedKey.from_statement(registration).revoked("x").statement()
    with pytest.raises(UntrustedRecord) as caught:
        _read(registration.signed(authority), anchor, revocation.kafka_key)
    assert caught.value.reason == "wrong-key"


def test_an_older_registration_does_not_replace_a_newer_one(authority, anchor, crm_key):
    store = TrustStore()
    now = datetime.now(UTC).replace(microsecond=0)
    store.apply(_read(_registration(crm_key, issued_at=now, days=30).signed(authority), anchor))
    replayed = _registration(crm_key, issued_at=now - timedelta(days=1), days=700)
    with pytest.raises(UntrustedRecord) as caught:
        store.apply(_read(replayed.signed(authority), anchor))
    assert caught.value.reason == "stale"
    assert (store.get(crm_key.key_id).not_after - store.get(crm_key.key_id).not_before).days == 30


def test_a_key_cannot_move_to_another_agency(authority, anchor, crm_key):
    store = TrustStore()
    store.apply(_read(_registration(crm_key).signed(authority), anchor))
    moved = TrustStatement(**{**_registration(crm_key).__dict__, "agency": "urn:mx:gob:sat"})
    with pytest.raises(UntrustedRecord) as caught:
        store.apply(_read(moved.signed(authority), anchor))
    assert caught.value.reason == "wrong-agency"


def test_a_tombstone_deletes_nothing(anchor):
    with pytest.raises(UntrustedRecord) as caught:
        _read(None, anchor)  # type: ignore[arg-type]
    assert caught.value.reason == "tombstone"


def test_validity_is_bounded(crm_key):
    with pytest.raises(UntrustedRecord) as caught:
        _registration(crm_key, days=MAX_VALIDITY.days + 1)
    assert caught.value.reason == "invalid-validity"


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"[]",
        b"\xff\xfe",
        b'{"version": 1, "statement": "{}", "signer": "x", "signature": "@@@"}',
        b'{"version": 2, "statement": "{}", "signer": "x", "signature": "AA"}',
        b'{"version": 1, "statement": 5, "signer": "x", "signature": "AA"}',
        b'{"version": 1, "statement": "{}", "signer": "x", "signature": "AA", "extra": 1}',
        b"[" * 100_000,  # deeper than the JSON parser's stack
        b'{"version": 1, "statement": "\\ud800", "signer": "x", "signature": "AA"}',  # a lone surrogate
    ],
)
def test_malformed_records_are_refused_without_crashing(anchor, value):
    with pytest.raises(UntrustedRecord):
        _read(value, anchor)


def test_a_validly_signed_but_malformed_statement_is_refused(authority, anchor):
    statement = b'{"kind": "register"}'
    signature = base64.urlsafe_b64encode(authority.private_key.sign(b"enlace-trust-record-v1\x00" + statement))
    envelope = {
        "version": 1,
        "statement": statement.decode(),
        "signer": authority.key_id,
        "signature": signature.decode().rstrip("="),
    }
    with pytest.raises(UntrustedRecord) as caught:
        _read(json.dumps(envelope).encode(), anchor)
    assert caught.value.reason == "malformed"


def test_only_the_authority_signs_trust_records(crm_key):
    with pytest.raises(ConfigError, match="signed by urn:mx:gob:interop"):
        _registration(crm_key).signed(crm_key)


def test_anchor_loads_pinned_public_key_files(authority, tmp_path):
    path = authority.save(tmp_path).with_suffix(".pub")
    assert TrustAnchor.load(str(path)).key_ids == [authority.key_id]
    with pytest.raises(ConfigError, match="not a readable PEM"):
        TrustAnchor.load(str(tmp_path / "missing.pub"))
