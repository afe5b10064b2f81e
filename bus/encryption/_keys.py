"""Agency encryption keys: X25519 key pairs, their ids, their files, and the keyring an agency keeps."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from bus._errors import ConfigError
from bus._files import private_dir, write_private
from bus.identity import check_agency_urn

__all__ = ["EncryptionKey", "Keyring", "encryption_key_id", "generate_encryption_key", "load_encryption_key"]


def encryption_key_id(public_key: X25519PublicKey) -> str:
    """``x25519:`` and the first 16 bytes of SHA-256 of the raw public key, in hex (as signing key ids)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "x25519:" + hashlib.sha256(raw).digest()[:16].hex()


@dataclass(frozen=True)
class EncryptionKey:
    """One of an agency's X25519 key pairs: data keys wrapped for its public half open with it."""

    agency: str
    private_key: X25519PrivateKey
    key_id: str

    @property
    def public_key(self) -> X25519PublicKey:
        return self.private_key.public_key()

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``<name>.<key id hex>.xkey`` (PKCS#8 PEM, 0600 from creation) and its public half
        ``.xpub`` (what the operator publishes) into ``directory`` (0700).

        Each key has a file of its own, so a rotated key stays beside the new one as long as the agency
        keeps it (records encrypted for it stay readable).

        Raises:
            ConfigError: the file already exists.
        """
        folder = private_dir(directory)
        path = folder / f"{self.agency.rsplit(':', 1)[-1]}.{self.key_id.split(':', 1)[1]}.xkey"
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            write_private(path, pem, overwrite=False)
        except FileExistsError as exc:
            raise ConfigError(f"{path} already exists; refusing to overwrite a private key") from exc
        public = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_private(path.with_suffix(".xpub"), public)
        return path


def generate_encryption_key(agency: str) -> EncryptionKey:
    """A new X25519 key pair for ``agency``.

    Raises:
        ConfigError: the agency URN is malformed.
    """
    private_key = X25519PrivateKey.generate()
    return EncryptionKey(check_agency_urn(agency), private_key, encryption_key_id(private_key.public_key()))


def load_encryption_key(agency: str, path: str | os.PathLike[str]) -> EncryptionKey:
    """Read one private key written by :meth:`EncryptionKey.save`.

    Raises:
        ConfigError: the file is missing, readable by group or others, or not an X25519 private key.
    """
    key_path = Path(path)
    try:
        mode = key_path.stat().st_mode
        data = key_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read encryption key file {key_path}: {exc.strerror}") from exc
    if mode & 0o077:
        raise ConfigError(f"key file {key_path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key_path} is not an unencrypted PEM private key: {type(exc).__name__}") from exc
    if not isinstance(private_key, X25519PrivateKey):
        raise ConfigError(f"{key_path} holds a {type(private_key).__name__}, not an X25519 key")
    return EncryptionKey(agency, private_key, encryption_key_id(private_key.public_key()))


class Keyring:
    """The encryption keys an agency keeps: its current one and the rotated ones it still holds.

    Args:
        keys: the agency's key pairs, any order.
    """

    def __init__(self, keys: Iterable[EncryptionKey] = ()) -> None:
        self._keys = {key.key_id: key for key in keys}

    @classmethod
    def load(cls, agency: str, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> Keyring:
        """Read key files: one path, a comma-separated list (``ENLACE_ENCRYPTION_KEYS``), or an
        iterable; a folder stands for every ``.xkey`` file in it.

        Raises:
            ConfigError: a file is unusable (see :func:`load_encryption_key`).
        """
        if isinstance(paths, (str, os.PathLike)):
            names = [Path(p.strip()) for p in os.fspath(paths).split(",") if p.strip()]
        else:
            names = [Path(p) for p in paths]
        files: list[Path] = []
        for name in names:
            files.extend(sorted(name.glob("*.xkey")) if name.is_dir() else [name])
        return cls(load_encryption_key(agency, file) for file in files)

    def get(self, key_id: str) -> EncryptionKey | None:
        """The key pair with this id, if the agency still keeps it."""
        return self._keys.get(key_id)

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
