"""The trust topic on a real broker: keys learned, rotated and revoked without a restart."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bus.identity import (
    RevokedKey,
    TrustedKey,
    TrustStore,
    TrustTopicReader,
    UnknownKey,
    generate_key,
    publish_trusted_key,
    sign_headers,
)

pytestmark = pytest.mark.integration

HEADERS = [("ce_id", b"1"), ("ce_source", b"urn:mx:gob:sat"), ("ce_type", b"mx.gob.sat.TaxpayerStatusChanged")]


def test_a_running_reader_learns_a_new_key_and_its_revocation(kafka, unique_name):
    topic = unique_name("trust")
    store = TrustStore()
    reader = TrustTopicReader(kafka.bootstrap_servers, store, topic=topic, poll_ms=200).start()
    try:
        key = generate_key("urn:mx:gob:sat")
        headers = sign_headers(key, HEADERS, b"k", b"v")
        publish_trusted_key(kafka.bootstrap_servers, TrustedKey.for_key(key), topic=topic)
        # No sleep: the store asks the reader to catch up when it meets an unknown key id.
        assert store.verify(headers, b"k", b"v").agency == "urn:mx:gob:sat"

        publish_trusted_key(kafka.bootstrap_servers, store.get(key.key_id).revoked("compromised"), topic=topic)
        assert reader.catch_up(10)
        with pytest.raises(RevokedKey, match="compromised"):
            store.verify(headers, b"k", b"v")
    finally:
        reader.stop()


def test_a_new_reader_starts_with_every_published_key(kafka, unique_name):
    topic = unique_name("trust")
    keys = [generate_key(f"urn:mx:gob:{name}") for name in ("sat", "crm", "portal")]
    for key in keys:
        publish_trusted_key(kafka.bootstrap_servers, TrustedKey.for_key(key), topic=topic)
    store = TrustStore()
    TrustTopicReader(kafka.bootstrap_servers, store, topic=topic).start().stop()
    assert {store.get(k.key_id).agency for k in keys} == {"urn:mx:gob:sat", "urn:mx:gob:crm", "urn:mx:gob:portal"}
    with pytest.raises(UnknownKey):
        store.verify(sign_headers(generate_key("urn:mx:gob:sat"), HEADERS, None, b"v"), None, b"v")


def _enlace(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import sys; from ops.cli import main; sys.argv = ['enlace', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_keygen_then_publish_key_makes_the_key_trusted(kafka, unique_name, tmp_path):
    topic = unique_name("trust")
    env = {
        **os.environ,
        "ENLACE_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "ENLACE_TRUST_TOPIC": topic,
        "PYTHONPATH": os.getcwd(),
    }
    made = _enlace("agency", "keygen", "urn:mx:gob:crm", "--out", str(tmp_path), env=env)
    assert made.returncode == 0, made.stderr
    key_path = made.stdout.strip().splitlines()[-1]
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    published = _enlace("agency", "publish-key", "--agency", "urn:mx:gob:crm", "--key-file", key_path, env=env)
    assert published.returncode == 0, published.stderr
    store = TrustStore()
    TrustTopicReader(kafka.bootstrap_servers, store, topic=topic).start().stop()
    (trusted,) = [store.get(k) for k in store._keys]
    assert trusted.agency == "urn:mx:gob:crm" and trusted.key_id in published.stdout
