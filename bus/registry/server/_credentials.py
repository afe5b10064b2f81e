"""Agency credentials for registry writes: bearer tokens, stored only as SHA-256 hashes.

The credentials file (``ENLACE_REGISTRY_CREDENTIALS``, mode 0600) maps agency URNs to token hashes::

    urn:mx:gob:sat:
      - sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

A client sends ``Authorization: Bearer <token>``, or HTTP Basic with the agency URN as user and the
token as password (what confluent-kafka's ``basic.auth.user.info`` sends). Tokens are 256-bit
random strings, so one SHA-256 is enough to make a stolen file useless; no token is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path

import yaml

from bus._errors import ConfigError
from bus._files import write_private

__all__ = ["AgencyCredentials", "add_agency_token", "hash_token"]


def hash_token(token: str) -> str:
    """The stored form of a token: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class AgencyCredentials:
    """Which agency a request's credential belongs to."""

    def __init__(self, hashes: Mapping[str, list[str]]) -> None:
        self._agency_by_hash = {h: agency for agency, hs in hashes.items() for h in hs}

    @classmethod
    def load(cls, path: str | Path | None) -> AgencyCredentials:
        """Read a credentials file; None gives credentials that accept nobody.

        Raises:
            ConfigError: the file is unreadable or not a mapping of agency to hash list.
        """
        if path is None:
            return cls({})
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the registry credentials {path}: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ConfigError(f"registry credentials {path}: expected agency URN: [sha256:<hex>, ...]")
        return cls({str(k): [str(h) for h in v] for k, v in data.items()})

    def agency_for(self, authorization: str | None) -> str | None:
        """The agency whose token an ``Authorization`` header carries, or None."""
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        user = None
        if scheme.lower() == "basic":
            try:
                # Agency URNs hold colons, tokens never do: split at the last one.
                user, _, token = base64.b64decode(value.strip(), validate=True).decode("utf-8").rpartition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        elif scheme.lower() == "bearer":
            token = value.strip()
        else:
            return None
        digest = hash_token(token)
        agency = None
        for known, owner in self._agency_by_hash.items():
            if hmac.compare_digest(known, digest):
                agency = owner
        if agency is None or (user and user != agency):
            return None
        return agency


def add_agency_token(path: str | Path, agency: str) -> str:
    """Make a new token for an agency, store its hash in the credentials file (0600), return it.

    Args:
        path: the credentials file (created when missing).
        agency: the agency's URN.

    Returns:
        The token: shown once, never stored.
    """
    path = Path(path)
    data: dict[str, list[str]] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    token = secrets.token_urlsafe(32)
    data.setdefault(agency, []).append(hash_token(token))
    write_private(path, yaml.safe_dump(data, sort_keys=True))
    return token
