"""``enlace agency encryption-keygen`` and the encryption key ``publish-key`` sends (no broker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus import ConfigError
from bus.encryption import load_encryption_key
from bus.identity import generate_key
from ops.cli import app
from ops.cli._agency import _encryption_public_key

CRM = "urn:mx:gob:crm"


def test_encryption_keygen_adds_a_private_key_to_the_keyring_folder(tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["agency", "encryption-keygen", CRM, "--out", str(tmp_path / "ring")])
    second = runner.invoke(app, ["agency", "encryption-keygen", CRM, "--out", str(tmp_path / "ring")])
    assert first.exit_code == second.exit_code == 0, first.output
    paths = [result.output.strip().splitlines()[-1] for result in (first, second)]
    assert paths[0] != paths[1]  # a rotation keeps the old key beside the new one
    for path in map(Path, paths):
        assert os.stat(path).st_mode & 0o777 == 0o600
        public = load_encryption_key(CRM, path).public_key.public_bytes_raw()
        assert _encryption_public_key(CRM, path.with_suffix(".xpub")).public_bytes_raw() == public
        assert _encryption_public_key(CRM, path).public_bytes_raw() == public  # only its public half is sent
    assert os.stat(tmp_path / "ring").st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "cannot read|not an unencrypted PEM"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a readable PEM public key"),
        (b"garbage", "not an unencrypted PEM"),
    ],
)
def test_a_bad_encryption_key_file_is_named(tmp_path, content, words):
    path = tmp_path / "bad.xpub"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=words):
        _encryption_public_key(CRM, path)


def test_a_signing_key_is_not_an_encryption_key(tmp_path):
    signing = generate_key(CRM).save(tmp_path)
    with pytest.raises(ConfigError, match="not an X25519 public key"):
        _encryption_public_key(CRM, signing.with_suffix(".pub"))
    with pytest.raises(ConfigError, match="not an X25519 key"):
        _encryption_public_key(CRM, signing)
