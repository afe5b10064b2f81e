"""Agency key pairs: Ed25519 keys, their ids, and their files on disk."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bus._errors import ConfigError
from bus._files import private_dir, write_private

__all__ = ["AgencyKey", "check_agency_urn", "generate_key", "key_id_for", "load_key"]

# DESIGN.md "Names": agencies are urn:mx:gob:<name>. Other countries' URNs keep the same shape.
_URN = re.compile(r"^urn:[a-z0-9][a-z0-9-]*(:[a-z0-9][a-z0-9._-]*)+$")


def check_agency_urn(urn: str) -> str:
    """Return ``urn`` if it is an agency URN such as ``urn:mx:gob:sat``.

    Raises:
        ConfigError: the URN is malformed (says which part).
    """
    if not _URN.match(urn):
        raise ConfigError(
            f"agency URN {urn!r} is malformed: expected lowercase 'urn:<country>:<...>:<agency>', e.g. urn:mx:gob:sat"
        )
    return urn


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """The key id: ``ed25519:`` and the first 16 bytes of SHA-256 of the raw public key, in hex.

    Derived from the key itself, so a receiver can check that a trust record's id matches its key.
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).digest()[:16].hex()


@dataclass(frozen=True)
class AgencyKey:
    """An agency's signing identity: its URN, its private key and the key's id."""

    agency: str
    private_key: Ed25519PrivateKey
    key_id: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``<name>.key`` (PKCS#8 PEM, mode 0600) and ``<name>.pub`` into ``directory``.

        ``<name>`` is the URN's last part (``urn:mx:gob:sat`` gives ``sat.key``). An existing key file
        is never overwritten: losing a private key silently is worse than an error.

        Returns:
            The private key's path.

        Raises:
            ConfigError: the key file already exists.
        """
        folder = private_dir(directory)
        name = self.agency.rsplit(":", 1)[-1]
        private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
        if private_path.exists():
            raise ConfigError(f"{private_path} already exists; refusing to overwrite a private key")
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # 0600 from creation, written whole before it takes its name; never over an existing key.
        try:
            write_private(private_path, pem, overwrite=False)
        except FileExistsError as exc:
            raise ConfigError(f"{private_path} already exists; refusing to overwrite a private key") from exc
        public = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_private(public_path, public)  # public, but in a private folder like everything Enlace writes
        return private_path


def generate_key(agency: str) -> AgencyKey:
    """Make a new Ed25519 key pair for ``agency``.

    Raises:
        ConfigError: the agency URN is malformed.
    """
    private_key = Ed25519PrivateKey.generate()
    return AgencyKey(check_agency_urn(agency), private_key, key_id_for(private_key.public_key()))


def load_key(agency: str, path: str | os.PathLike[str]) -> AgencyKey:
    """Read an agency's private key from a PEM file written by :meth:`AgencyKey.save`.

    Raises:
        ConfigError: the file is missing, readable by group/others, or not an Ed25519 private key.
    """
    key_path = Path(path)
    try:
        mode = key_path.stat().st_mode
        data = key_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {key_path}: {exc.strerror}") from exc
    if mode & 0o077:
        raise ConfigError(f"key file {key_path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key_path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ConfigError(f"{key_path} holds a {type(private_key).__name__}, not an Ed25519 key")
    return AgencyKey(check_agency_urn(agency), private_key, key_id_for(private_key.public_key()))
