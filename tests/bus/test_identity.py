"""Agency keys, signatures over envelope headers and payload, and the trust store."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from bus import ConfigError, SignatureError
from bus.identity import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    BadSignature,
    DuplicateHeader,
    ExpiredKey,
    MissingSignature,
    RevokedKey,
    SenderMismatch,
    TrustedKey,
    TrustStore,
    UnknownKey,
    canonical_form,
    generate_key,
    load_key,
    sign_headers,
)

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


def _signed(key, headers=HEADERS, record_key=b"GODE561231GR8", value=b"\x00\x00\x00\x00\x01payload"):
    return sign_headers(key, headers, record_key, value), record_key, value


def _replace(headers, name, value):
    return [(n, value if n == name else v) for n, v in headers]


def test_a_signed_record_verifies_and_names_its_sender(sat_key, store):
    headers, key, value = _signed(sat_key)
    trusted = store.verify(headers, key, value)
    assert trusted.agency == SAT and trusted.key_id == sat_key.key_id
    assert dict(headers)[KEY_ID_HEADER] == sat_key.key_id.encode()


def test_header_order_does_not_matter(sat_key, store):
    headers, key, value = _signed(sat_key)
    store.verify(list(reversed(headers)), key, value)


def test_tampered_payload_fails(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature, match="altered"):
        store.verify(headers, key, value[:-1] + b"X")


def test_tampered_record_key_fails(sat_key, store):
    headers, _, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify(headers, b"XAXX010101000", value)


@pytest.mark.parametrize("name", ["ce_subject", "ce_type", "traceparent", "content-type"])
def test_tampered_signed_header_fails(sat_key, store, name):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify(_replace(headers, name, b"changed"), key, value)


def test_an_added_ce_header_fails_but_an_unsigned_one_does_not(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(BadSignature):
        store.verify([*headers, ("ce_partitionkey", b"x")], key, value)
    store.verify([*headers, ("x-proxy", b"hop")], key, value)


def test_a_duplicated_signed_header_is_refused(sat_key, store):
    headers, key, value = _signed(sat_key)
    with pytest.raises(DuplicateHeader, match="twice") as refused:
        store.verify([*headers, ("ce_subject", b"other")], key, value)
    assert refused.value.reason == "duplicate-header"


def test_an_unsigned_record_is_refused(store):
    with pytest.raises(MissingSignature, match="unsigned"):
        store.verify(HEADERS, b"k", b"v")


def test_an_unknown_key_is_refused_after_one_refresh(sat_key):
    refreshed = []
    store = TrustStore(refresh=lambda: refreshed.append(1))
    headers, key, value = _signed(sat_key)
    with pytest.raises(UnknownKey, match="not in the trust topic"):
        store.verify(headers, key, value)
    with pytest.raises(UnknownKey):
        store.verify(headers, key, value)
    assert refreshed == [1], "a second miss within the refresh interval does not re-read the topic"


def test_a_key_learned_on_refresh_verifies(sat_key):
    store = TrustStore()
    store.set_refresh(lambda: store.add(TrustedKey.for_key(sat_key)))
    headers, key, value = _signed(sat_key)
    assert store.verify(headers, key, value).agency == SAT


def test_a_revoked_key_fails(sat_key, store):
    store.add(store.get(sat_key.key_id).revoked("laptop stolen"))
    headers, key, value = _signed(sat_key)
    with pytest.raises(RevokedKey, match="laptop stolen"):
        store.verify(headers, key, value)


def test_an_expired_or_not_yet_valid_key_fails(sat_key):
    past = datetime.now(UTC) - timedelta(days=30)
    expired = TrustStore([TrustedKey.for_key(sat_key, valid_days=1, not_before=past)])
    future = TrustStore([TrustedKey.for_key(sat_key, not_before=datetime.now(UTC) + timedelta(days=1))])
    headers, key, value = _signed(sat_key)
    for store in (expired, future):
        with pytest.raises(ExpiredKey, match="valid from"):
            store.verify(headers, key, value)


def test_a_key_cannot_sign_for_another_agency(sat_key, store):
    headers, key, value = _signed(sat_key, headers=_replace(HEADERS, "ce_source", b"urn:mx:gob:crm"))
    with pytest.raises(SenderMismatch, match="urn:mx:gob:crm"):
        store.verify(headers, key, value)


def test_signature_errors_carry_a_reason_slug(sat_key, store):
    headers, key, _ = _signed(sat_key)
    with pytest.raises(SignatureError) as caught:
        store.verify(headers, key, b"other")
    assert caught.value.reason == "bad-signature"


def test_canonical_form_is_unambiguous_about_boundaries():
    one = canonical_form([("ce_a", b"b"), ("ce_c", b"")], None, b"v")
    two = canonical_form([("ce_a", b"bce_c")], None, b"v")
    assert one != two
    assert canonical_form([], None, b"") != canonical_form([], None, None)
    assert canonical_form([], b"", b"") != canonical_form([], None, b"")


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
