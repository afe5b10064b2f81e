"""The trust topic on a real broker: keys learned, rotated and revoked without a restart, and only
as the interoperability authority signed them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from kafka import KafkaProducer

from bus import TransportError
from bus.identity import (
    AUTHORITY,
    RevokedKey,
    TrustAnchor,
    TrustedKey,
    TrustStore,
    TrustTopicReader,
    UnknownKey,
    generate_key,
    publish_trusted_key,
    sign_headers,
)
from bus.transport import Consumer

pytestmark = pytest.mark.integration

HEADERS = [("ce_id", b"1"), ("ce_source", b"urn:mx:gob:sat"), ("ce_type", b"mx.gob.sat.TaxpayerStatusChanged")]


def _reader(kafka, topic, authority, store, **options) -> TrustTopicReader:
    return TrustTopicReader(
        kafka.client_config(), store, anchor=TrustAnchor.of(authority.key), topic=topic, **options
    ).start()


def test_a_running_reader_learns_a_new_key_and_its_revocation(kafka, unique_name, authority):
    topic = unique_name("trust")
    store = TrustStore()
    reader = _reader(kafka, topic, authority, store, poll_ms=200)
    try:
        key = generate_key("urn:mx:gob:sat")
        headers = sign_headers(key, HEADERS, b"k", b"v", topic="t")
        publish_trusted_key(kafka.client_config(), TrustedKey.for_key(key), authority=authority.key, topic=topic)
        # No sleep: the store asks the reader to catch up when it meets an unknown key id.
        assert store.verify(headers, b"k", b"v", topic="t").agency == "urn:mx:gob:sat"

        revoked = store.get(key.key_id).revoked("compromised")
        publish_trusted_key(kafka.client_config(), revoked, authority=authority.key, topic=topic)
        assert reader.catch_up(10)
        with pytest.raises(RevokedKey, match="compromised"):
            store.verify(headers, b"k", b"v", topic="t")
    finally:
        reader.stop()


def test_a_read_kafka_fails_for_now_is_retried_and_the_reader_follows_on(kafka, unique_name, authority, monkeypatch):
    topic = unique_name("trust")
    store = TrustStore()
    reader = _reader(kafka, topic, authority, store, poll_ms=200)
    real_poll, failed = Consumer.poll, threading.Event()
    failures = [TransportError("poll failed: LeaderNotAvailableError", retriable=True)] * 2

    def poll(self, timeout_ms, max_records=None):
        if failures:
            raise failures.pop()
        failed.set()  # both failures met the reader; this poll reads the broker again
        return real_poll(self, timeout_ms, max_records)

    try:
        monkeypatch.setattr(Consumer, "poll", poll)
        assert failed.wait(20)
        key = generate_key("urn:mx:gob:sat")
        publish_trusted_key(kafka.client_config(), TrustedKey.for_key(key), authority=authority.key, topic=topic)
        assert reader.catch_up(20)
        assert store.get(key.key_id).agency == "urn:mx:gob:sat"
    finally:
        reader.stop()


def test_a_new_reader_starts_with_every_published_key(kafka, unique_name, authority):
    topic = unique_name("trust")
    keys = [generate_key(f"urn:mx:gob:{name}") for name in ("sat", "crm", "portal")]
    for key in keys:
        publish_trusted_key(kafka.client_config(), TrustedKey.for_key(key), authority=authority.key, topic=topic)
    store = TrustStore()
    _reader(kafka, topic, authority, store).stop()
    assert {store.get(k.key_id).agency for k in keys} == {"urn:mx:gob:sat", "urn:mx:gob:crm", "urn:mx:gob:portal"}
    with pytest.raises(UnknownKey):
        store.verify(
            sign_headers(generate_key("urn:mx:gob:sat"), HEADERS, None, b"v", topic="t"), None, b"v", topic="t"
        )


def test_forged_unsigned_and_tombstone_records_change_nothing_and_are_reported(kafka, unique_name, authority):
    topic = unique_name("trust")
    real = generate_key("urn:mx:gob:crm")
    publish_trusted_key(kafka.client_config(), TrustedKey.for_key(real), authority=authority.key, topic=topic)
    impostor_key = generate_key("urn:mx:gob:crm")
    forger = generate_key(AUTHORITY)  # not the pinned authority
    # A fresh key published as the CRM's by someone who is not the authority:
    publish_trusted_key(kafka.client_config(), TrustedKey.for_key(impostor_key), authority=forger, topic=topic)
    # A forged revocation of the real key, and an unsigned record in the old format:
    publish_trusted_key(
        kafka.client_config(), TrustedKey.for_key(real).revoked("forged"), authority=forger, topic=topic
    )
    producer = KafkaProducer(**kafka.client_config().client_settings())
    try:
        unsigned = json.dumps({"agency": "urn:mx:gob:crm", "key_id": impostor_key.key_id}).encode()
        producer.send(topic, key=impostor_key.key_id.encode(), value=unsigned).get(timeout=30)
        producer.send(topic, key=real.key_id.encode(), value=None).get(timeout=30)  # a tombstone
    finally:
        producer.close()
    store = TrustStore()
    reader = _reader(kafka, topic, authority, store)
    reader.stop()
    assert store.get(impostor_key.key_id) is None
    assert store.get(real.key_id).revoked_at is None
    assert store.verify(
        sign_headers(real, [*HEADERS[:1], ("ce_source", b"urn:mx:gob:crm")], None, b"v", topic="t"),
        None,
        b"v",
        topic="t",
    )
    assert [reason for _, reason, _ in reader.rejected] == ["unknown-signer", "unknown-signer", "unsigned", "tombstone"]


def _enlace(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import sys; from ops.cli import main; sys.argv = ['enlace', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_keygen_publish_key_and_revoke_a_lost_key_by_its_id(kafka, unique_name, tmp_path):
    topic = unique_name("trust")
    env = {
        **os.environ,
        "ENLACE_KAFKA_CONFIG": str(kafka.client_config().write_properties(tmp_path / "kafka.properties")),
        "ENLACE_TRUST_TOPIC": topic,
        "PYTHONPATH": os.getcwd(),
    }
    made_authority = _enlace("agency", "keygen", AUTHORITY, "--out", str(tmp_path / "authority"), env=env)
    assert made_authority.returncode == 0, made_authority.stderr
    env["ENLACE_AUTHORITY_KEY"] = made_authority.stdout.strip().splitlines()[-1]
    made = _enlace("agency", "keygen", "urn:mx:gob:crm", "--out", str(tmp_path), env=env)
    assert made.returncode == 0, made.stderr
    key_path = made.stdout.strip().splitlines()[-1]
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    public = key_path.removesuffix(".key") + ".pub"
    published = _enlace("agency", "publish-key", "--agency", "urn:mx:gob:crm", "--key-file", public, env=env)
    assert published.returncode == 0, published.stderr
    authority = TrustAnchor.load(env["ENLACE_AUTHORITY_KEY"].removesuffix(".key") + ".pub")
    store = TrustStore()
    TrustTopicReader(kafka.client_config(), store, anchor=authority, topic=topic).start().stop()
    (key_id,) = store._keys
    assert store.get(key_id).agency == "urn:mx:gob:crm" and key_id in published.stdout

    os.unlink(key_path)  # lost: the revocation needs only the key's id
    revoked = _enlace(
        "agency", "revoke-key", "--agency", "urn:mx:gob:crm", "--key-id", key_id, "--reason", "lost", env=env
    )
    assert revoked.returncode == 0, revoked.stderr
    store = TrustStore()
    TrustTopicReader(kafka.client_config(), store, anchor=authority, topic=topic).start().stop()
    assert store.get(key_id).revoked_at is not None and store.get(key_id).reason == "lost"


def test_cli_publish_key_without_the_authority_key_is_refused(kafka, unique_name, tmp_path):
    env = {
        **os.environ,
        "ENLACE_KAFKA_CONFIG": str(kafka.client_config().write_properties(tmp_path / "kafka.properties")),
        "PYTHONPATH": os.getcwd(),
    }
    env.pop("ENLACE_AUTHORITY_KEY", None)
    key_path = generate_key("urn:mx:gob:crm").save(tmp_path)
    refused = _enlace("agency", "publish-key", "--agency", "urn:mx:gob:crm", "--key-file", str(key_path), env=env)
    assert refused.returncode == 1
    assert "--authority-key" in refused.stderr


def test_cli_publish_key_with_a_malformed_public_key_file_says_so(tmp_path):
    env = {**os.environ, "ENLACE_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PYTHONPATH": os.getcwd()}
    env["ENLACE_AUTHORITY_KEY"] = str(generate_key(AUTHORITY).save(tmp_path / "authority"))
    broken = tmp_path / "crm.pub"
    broken.write_text("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n")
    refused = _enlace("agency", "publish-key", "--agency", "urn:mx:gob:crm", "--key-file", str(broken), env=env)
    assert refused.returncode == 1
    assert "not a readable PEM public key" in refused.stderr and "Traceback" not in refused.stderr
