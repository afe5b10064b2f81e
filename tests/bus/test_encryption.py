"""Field-level encryption without a broker: which fields the policy encrypts, sealing and opening, keys
published through the trust anchor, the keyring's files."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bus import ConfigError, PolicyViolation
from bus.encryption import (
    ENCRYPTION_HEADER,
    CannotDecrypt,
    FieldEncryption,
    Keyring,
    NotAReader,
    NotEncrypted,
    RecordIdentity,
    generate_encryption_key,
    load_encryption_key,
    plan_for,
)
from bus.identity import AUTHORITY, TrustAnchor, TrustedKey, TrustStatement, TrustStore, generate_key
from bus.policy import parse_policy
from bus.records import catalog

CRM, SAT, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:sat", "urn:mx:gob:portal"
SUBMITTED = "mx.gob.portal.ServiceRequestSubmitted"
URI = "https://portal.gob.mx/documentos/7d1f2c3b/identificacion.pdf"


@pytest.fixture(scope="module")
def submitted():
    return catalog().get(SUBMITTED)


def _identity(ce_id: str = "id-1") -> RecordIdentity:
    return RecordIdentity(ce_id, SUBMITTED + ".v1", "mx.gob.portal.service-request-submitted")


def _sender(keys: dict[str, object]) -> FieldEncryption:
    return FieldEncryption(catalog().policy, reader_key=lambda agency: keys.get(agency))  # type: ignore[arg-type,return-value]


def test_every_sensitive_field_of_the_shipped_schemas_is_a_string_the_plan_encrypts() -> None:
    policy = catalog().policy
    plans = {rt.full_name: plan_for(rt, policy).patterns for rt in catalog().records()}
    assert plans[SUBMITTED] == ["/attachments/*/uri"]
    for record_type in catalog().records():
        sensitive = [p for p, c in record_type.field_classifications().items() if c == "sensitive"]
        leaves = set(plans[record_type.full_name])
        # Every sensitive leaf is sealed; a sensitive container (the attachments array) is walked.
        assert all(p in leaves or any(leaf.startswith(p + "/") for leaf in leaves) for p in sensitive)


def test_the_personal_knob_adds_a_records_personal_string_fields(submitted) -> None:
    policy = replace(catalog().policy, encrypted_personal=frozenset({"mx.gob.crm.CaseOpened"}))
    assert plan_for(catalog().get("mx.gob.crm.CaseOpened"), policy).patterns == [
        "/citizenCurp",
        "/contact/email",
        "/contact/phone",
    ]
    assert plan_for(catalog().get("mx.gob.crm.CaseUpdated"), policy).patterns == []


@pytest.mark.parametrize(
    ("record", "rule", "pointer"),
    [
        ("mx.gob.sat.TaxpayerStatusReported", "encryption.field-type", "/standing"),  # an enum
        ("mx.gob.portal.ServiceRequestSubmitted", "encryption.field-type", "/applicant/birthDate"),  # a date
        ("mx.gob.crm.TaxpayerStatusRequested", "encryption.key-field", "/citizenCurp"),  # the Kafka key
    ],
)
def test_a_field_that_cannot_carry_ciphertext_is_refused_by_name(record, rule, pointer) -> None:
    policy = replace(catalog().policy, encrypted_personal=frozenset({record}))
    with pytest.raises(PolicyViolation) as caught:
        plan_for(catalog().get(record), policy)
    assert caught.value.rule == rule and caught.value.pointer == pointer


def test_the_policy_knob_is_parsed_and_checked() -> None:
    base = {"owners": {"mx.gob.crm": CRM}}
    policy = parse_policy({**base, "encryption": {"personal": ["mx.gob.crm"]}})
    assert policy.encrypts("mx.gob.crm.CaseOpened", "personal")
    assert policy.encrypts("mx.gob.sat.X", "sensitive") and not policy.encrypts("mx.gob.sat.X", "personal")
    assert not policy.encrypts("mx.gob.crm.CaseOpened", "public")
    for bad, words in [
        ({"personal": "mx.gob.crm"}, "must be a list"),
        ({"personal": ["mx.gob.nobody.X"]}, "no namespace"),
        ({"sensitive": []}, "unknown key"),
        (["mx.gob.crm"], "must be a mapping"),
    ]:
        with pytest.raises(ConfigError, match=words):
            parse_policy({**base, "encryption": bad})


def test_a_named_reader_opens_what_was_sealed_for_it(submitted) -> None:
    crm = generate_encryption_key(CRM)
    data = submitted.example()
    sealed, header = _sender({CRM: crm.public_key}).seal(submitted, data, _identity())
    assert header is not None and URI.encode() not in header
    assert sealed["attachments"][0]["uri"] != URI and URI not in json.dumps(sealed, default=str)
    assert data["attachments"][0]["uri"] == URI  # the caller's data is left as it was
    assert sealed["attachments"][0]["sha256"] == data["attachments"][0]["sha256"]  # public fields in clear
    body = json.loads(header)
    assert body["fields"] == ["/attachments/0/uri"] and set(body["keys"]) == {CRM}
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([crm]))
    assert reader.open(submitted, sealed, header, _identity()) == data


def test_a_data_key_serves_a_batch_then_a_fresh_one_is_made(submitted) -> None:
    crm = generate_encryption_key(CRM)
    sender = FieldEncryption(catalog().policy, reader_key={CRM: crm.public_key}.get, batch_records=2)
    headers = [json.loads(sender.seal(submitted, submitted.example(), _identity(f"r{i}"))[1] or b"") for i in range(3)]
    assert headers[0]["keys"] == headers[1]["keys"] != headers[2]["keys"]
    one, _ = sender.seal(submitted, submitted.example(), _identity("a"))
    two, _ = sender.seal(submitted, submitted.example(), _identity("a"))
    assert one != two  # a fresh nonce per value, even under one data key
    every = FieldEncryption(catalog().policy, reader_key={CRM: crm.public_key}.get, batch_records=1)
    assert len({every.seal(submitted, submitted.example(), _identity())[1] for _ in range(3)}) == 3


def test_a_rotated_reader_key_gets_a_fresh_data_key_at_once(submitted) -> None:
    old, new = generate_encryption_key(CRM), generate_encryption_key(CRM)
    published = {CRM: old.public_key}
    sender = FieldEncryption(catalog().policy, reader_key=published.get)
    first = json.loads(sender.seal(submitted, submitted.example(), _identity())[1] or b"")
    published[CRM] = new.public_key
    sealed, header = sender.seal(submitted, submitted.example(), _identity("r2"))
    assert json.loads(header or b"")["keys"][CRM]["kid"] == new.key_id != first["keys"][CRM]["kid"]
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([new]))
    assert reader.open(submitted, sealed, header, _identity("r2")) == submitted.example()


def test_a_batch_key_opens_each_record_of_the_batch_only_in_its_own_place(submitted) -> None:
    crm = generate_encryption_key(CRM)
    sender = _sender({CRM: crm.public_key})
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([crm]))
    a, header_a = sender.seal(submitted, submitted.example(), _identity("a"))
    b, header_b = sender.seal(submitted, submitted.example(), _identity("b"))
    assert reader.open(submitted, a, header_a, _identity("a")) == reader.open(submitted, b, header_b, _identity("b"))
    with pytest.raises(CannotDecrypt, match="/attachments/0/uri"):  # b's value in a's record
        reader.open(submitted, b, header_a, _identity("a"))


def test_nothing_to_seal_means_no_header_and_no_keys_needed(submitted) -> None:
    data = {**submitted.example(), "attachments": []}
    assert _sender({}).seal(submitted, data, _identity()) == (data, None)


def test_a_reader_without_a_published_key_stops_the_send(submitted) -> None:
    with pytest.raises(PolicyViolation) as caught:
        _sender({}).seal(submitted, submitted.example(), _identity())
    assert caught.value.rule == "encryption.reader-key" and CRM in str(caught.value)
    assert URI not in str(caught.value)


def test_another_agency_cannot_open_what_was_sealed_for_the_readers(submitted) -> None:
    crm, sat = generate_encryption_key(CRM), generate_encryption_key(SAT)
    sealed, header = _sender({CRM: crm.public_key}).seal(submitted, submitted.example(), _identity())
    outsider = FieldEncryption(catalog().policy, agency=SAT, keyring=Keyring([sat]))
    with pytest.raises(NotAReader) as caught:
        outsider.open(submitted, sealed, header, _identity())
    assert caught.value.reason == "not-a-reader"
    # Even claiming to be the reader, SAT's key does not open the data key wrapped for CRM.
    entry = json.loads(header or b"")["keys"][CRM]
    impostor = FieldEncryption(
        catalog().policy, agency=CRM, keyring=Keyring([replace(sat, agency=CRM, key_id=entry["kid"])])
    )
    with pytest.raises(CannotDecrypt, match="does not open"):
        impostor.open(submitted, sealed, header, _identity())


def test_a_reader_with_the_wrong_key_cannot_decrypt(submitted) -> None:
    published, kept = generate_encryption_key(CRM), generate_encryption_key(CRM)
    sealed, header = _sender({CRM: published.public_key}).seal(submitted, submitted.example(), _identity())
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([kept]))
    with pytest.raises(CannotDecrypt) as caught:
        reader.open(submitted, sealed, header, _identity())
    assert caught.value.reason == "cannot-decrypt" and published.key_id in str(caught.value)
    assert URI not in str(caught.value)


def test_a_sealed_value_does_not_open_in_another_record_or_field(submitted) -> None:
    crm = generate_encryption_key(CRM)
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([crm]))
    data = submitted.example()
    data["attachments"] = [data["attachments"][0], {**data["attachments"][0], "uri": URI + "2"}]
    sealed, header = _sender({CRM: crm.public_key}).seal(submitted, data, _identity())
    with pytest.raises(CannotDecrypt):  # same header, another ce_id: the data key's info differs
        reader.open(submitted, sealed, header, _identity("id-2"))
    swapped = {**sealed, "attachments": list(reversed(sealed["attachments"]))}
    with pytest.raises(CannotDecrypt, match="/attachments/0/uri"):
        reader.open(submitted, swapped, header, _identity())


@pytest.mark.parametrize(
    "header",
    [
        b"not json",
        b"[]",
        b'{"version": 2, "fields": [], "keys": {}}',
        b'{"version": true, "fields": [], "keys": {}}',
        b'{"version": 1, "fields": ["no-slash"], "keys": {}}',
        b'{"version": 1, "fields": [], "keys": {"urn:mx:gob:crm": {"kid": "x", "dek": "y"}}}',
        b'{"version": 1, "fields": [], "keys": {"urn:mx:gob:crm": "k"}}',
        b"[" * 100_000,
        b'{"version": 1, "fields": [], "keys": {}, "more": 1}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_header_is_cannot_decrypt_never_a_crash(submitted, header) -> None:
    crm = generate_encryption_key(CRM)
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([crm]))
    with pytest.raises(CannotDecrypt):
        reader.open(submitted, submitted.example(), header, _identity())


def test_a_bad_ciphertext_or_wrapped_key_is_cannot_decrypt(submitted) -> None:
    crm = generate_encryption_key(CRM)
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=Keyring([crm]))
    sealed, header = _sender({CRM: crm.public_key}).seal(submitted, submitted.example(), _identity())
    body = json.loads(header or b"")
    for uri in ["", "***", "AAAA", URI, 7]:
        bad = {**sealed, "attachments": [{**sealed["attachments"][0], "uri": uri}]}
        with pytest.raises(CannotDecrypt, match="/attachments/0/uri"):
            reader.open(submitted, bad, header, _identity())
    body["keys"][CRM]["dek"] = body["keys"][CRM]["dek"][:-4] + "AAAA"
    with pytest.raises(CannotDecrypt, match="does not open"):
        reader.open(submitted, sealed, json.dumps(body).encode(), _identity())


def test_a_sensitive_value_in_clear_without_the_header_is_refused(submitted) -> None:
    reader = FieldEncryption(catalog().policy, agency=CRM)
    with pytest.raises(NotEncrypted) as caught:
        reader.open(submitted, submitted.example(), None, _identity())
    assert caught.value.reason == "not-encrypted" and URI not in str(caught.value)
    empty = {**submitted.example(), "attachments": []}
    assert reader.open(submitted, empty, None, _identity()) == empty


def test_the_encryption_header_is_signed() -> None:
    from bus.identity import is_signed_header

    assert is_signed_header(ENCRYPTION_HEADER)


# -- keys through the trust anchor ----------------------------------------------------------------
def test_an_encryption_key_travels_in_the_signed_registration_and_rotates() -> None:
    authority, signing = generate_key(AUTHORITY), generate_key(CRM)
    anchor = TrustAnchor.of(authority)
    old, new = generate_encryption_key(CRM), generate_encryption_key(CRM)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    store = TrustStore()
    trusted = TrustedKey.for_key(signing, not_before=start, encryption_key=old.public_key)
    first = trusted.statement(issued_at=start)
    store.apply(TrustStatement.read(first.signed(authority), anchor, kafka_key=first.kafka_key))
    now = datetime.now(UTC)
    assert store.encryption_key_of(CRM, now) is not None
    assert store.encryption_key_of(CRM, now).public_bytes_raw() == old.public_key.public_bytes_raw()  # type: ignore[union-attr]
    assert store.encryption_key_of(SAT, now) is None
    rotated = replace(trusted, encryption_key=new.public_key).statement(issued_at=start + timedelta(seconds=30))
    store.apply(TrustStatement.read(rotated.signed(authority), anchor, kafka_key=rotated.kafka_key))
    assert store.encryption_key_of(CRM, now).public_bytes_raw() == new.public_key.public_bytes_raw()  # type: ignore[union-attr]
    store.add(store.get(signing.key_id).revoked("lost", at=start))  # type: ignore[union-attr]
    assert store.encryption_key_of(CRM, now) is None  # a revoked signing key takes its encryption key along


def test_a_registration_without_an_encryption_key_reads_as_before() -> None:
    authority, signing = generate_key(AUTHORITY), generate_key(CRM)
    statement = TrustedKey.for_key(signing).statement()
    assert b"encryption_key" not in statement.signed(authority)
    read = TrustStatement.read(statement.signed(authority), TrustAnchor.of(authority), kafka_key=statement.kafka_key)
    assert read.encryption_key is None


def test_old_records_stay_readable_while_the_rotated_key_is_kept(submitted, tmp_path) -> None:
    old, new = generate_encryption_key(CRM), generate_encryption_key(CRM)
    sealed, header = _sender({CRM: old.public_key}).seal(submitted, submitted.example(), _identity())
    old.save(tmp_path / "keys")
    new.save(tmp_path / "keys")
    keyring = Keyring.load(CRM, str(tmp_path / "keys"))
    assert set(keyring.key_ids) == {old.key_id, new.key_id}
    reader = FieldEncryption(catalog().policy, agency=CRM, keyring=keyring)
    assert reader.open(submitted, sealed, header, _identity()) == submitted.example()


def test_key_files_are_private_and_checked(tmp_path) -> None:
    key = generate_encryption_key(CRM)
    path = key.save(tmp_path / "keys")
    assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(tmp_path / "keys").st_mode & 0o777 == 0o700
    assert load_encryption_key(CRM, path).key_id == key.key_id
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        key.save(tmp_path / "keys")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_encryption_key(CRM, path)
    signing = generate_key(CRM).save(tmp_path / "signing")
    with pytest.raises(ConfigError, match="not an X25519 key"):
        load_encryption_key(CRM, signing)
    with pytest.raises(ConfigError, match="cannot read"):
        load_encryption_key(CRM, tmp_path / "missing.xkey")


def test_a_connector_refuses_to_start_on_a_policy_that_encrypts_what_cannot_be(tmp_path) -> None:
    import shutil

    from bus import load_settings
    from bus.records import default_schemas_dir, load_catalog
    from connectors import AgencyConnector

    shutil.copytree(default_schemas_dir(), tmp_path / "schemas")
    policy = tmp_path / "schemas" / "policy.yaml"
    policy.write_text(
        policy.read_text().replace("  personal: []", "  personal: [mx.gob.sat.TaxpayerStatusReported]"),
        encoding="utf-8",
    )
    records = load_catalog(tmp_path / "schemas")
    settings = load_settings({}).model_copy(
        update={"bootstrap_servers": "127.0.0.1:9", "registry_url": "http://127.0.0.1:9"}
    )
    with pytest.raises(ConfigError, match=r"encryption\.field-type.*/standing"):
        AgencyConnector(CRM, settings=settings, records=records)


@pytest.mark.parametrize("value", [7, "", "!!!", "AAAA", "A" * 44, None, ["x"]])
def test_a_signed_registration_with_a_malformed_encryption_key_changes_nothing(value) -> None:
    import base64

    from bus.identity import UntrustedRecord

    authority, signing = generate_key(AUTHORITY), generate_key(CRM)
    statement = TrustedKey.for_key(signing, encryption_key=generate_encryption_key(CRM).public_key).statement()
    body = json.loads(statement._statement_json())
    body["encryption_key"] = value
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    signature = base64.urlsafe_b64encode(authority.private_key.sign(b"enlace-trust-record-v1\x00" + text.encode()))
    envelope = {
        "version": 1,
        "statement": text,
        "signer": authority.key_id,
        "signature": signature.decode().rstrip("="),
    }
    raw = json.dumps(envelope).encode()
    if value is None:  # no key: a registration without one
        assert TrustStatement.read(raw, TrustAnchor.of(authority)).encryption_key is None
        return
    with pytest.raises(UntrustedRecord) as caught:
        TrustStatement.read(raw, TrustAnchor.of(authority))
    assert caught.value.reason == "malformed"


def test_an_unusable_published_key_stops_the_send_by_name(submitted) -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    low_order = X25519PublicKey.from_public_bytes(bytes(32))
    with pytest.raises(PolicyViolation, match="unusable") as caught:
        _sender({CRM: low_order}).seal(submitted, submitted.example(), _identity())
    assert caught.value.rule == "encryption.reader-key"
