"""The trust anchor: trust records signed by the interoperability authority, and how they apply.

An agency key counts only as registered by a record that the interoperability authority
(``urn:mx:gob:interop``) signed, the way X-Road members trust only the global configuration their
central server signed. Each agency pins the authority's public key(s) in its configuration
(``ENLACE_TRUST_ANCHOR``: one or more ``.pub`` files, comma-separated, so the authority can rotate its
own key by pinning the next one first).

A trust topic value, byte by byte (UTF-8 JSON object with exactly these members)::

    {"version": 1,
     "statement": "<the statement: a JSON text, kept as the exact string that was signed>",
     "signer": "ed25519:<key id of the authority key that signed>",
     "signature": "<base64url, no padding, of Ed25519(authority, b'enlace-trust-record-v1' + 0x00 + statement)>"}

and the statement's JSON members: ``kind`` (``register`` or ``revoke``), ``issued_at`` (ISO-8601 UTC),
``agency``, ``key_id``, ``algorithm`` (``Ed25519``), ``public_key`` (base64 raw key), ``not_before``,
``not_after``, ``revoked_at`` (revocations only), ``reason`` and, when the agency receives encrypted
fields, ``encryption_key`` (base64 raw X25519 public key: data keys of fields the policy lets it read
are wrapped for it, ``bus.encryption``). An agency rotates its encryption key by a newer registration
carrying the new one.

Rules (``TrustStore.apply``): an unsigned, malformed or wrongly signed record changes nothing and is
reported; validity is at most :data:`MAX_VALIDITY` long; a registration older than the one known is
ignored; revocation is final (a later registration cannot clear it, and the revocation's Kafka key —
``<key id>#revoked`` — differs from the registration's, so compaction never replaces one by the other);
a tombstone deletes nothing. Revoking a lost key needs only its public half, which the registration
already published.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from bus._errors import ConfigError, SignatureError
from bus.identity._keys import AgencyKey, key_id_for

__all__ = [
    "AUTHORITY",
    "MAX_VALIDITY",
    "TRUST_RECORD_VERSION",
    "TrustAnchor",
    "TrustStatement",
    "UntrustedRecord",
]

AUTHORITY = "urn:mx:gob:interop"
TRUST_RECORD_VERSION = 1
# Like a TLS certificate's longest accepted lifetime: a key that must be trusted longer is rotated.
MAX_VALIDITY = timedelta(days=825)
_DOMAIN = b"enlace-trust-record-v1\x00"
_REVOKED_SUFFIX = "#revoked"

StatementKind = Literal["register", "revoke"]


class UntrustedRecord(SignatureError):
    """A trust record that changes nothing; ``reason`` says why (``unsigned``, ``malformed``,
    ``unknown-signer``, ``bad-signature``, ``invalid-validity``, ``wrong-key``, ``tombstone``)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _time(text: object, field: str) -> datetime:
    if not isinstance(text, str):
        raise UntrustedRecord(f"trust statement field {field!r} is not a time", reason="malformed")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UntrustedRecord(f"trust statement field {field!r} is not an ISO-8601 time", reason="malformed") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TrustAnchor:
    """The interoperability authority's public keys an agency pins.

    Args:
        public_keys: one or more Ed25519 public keys (more while the authority rotates its own key).

    Raises:
        ConfigError: no key was given.
    """

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id_for(key): key for key in public_keys}
        if not self._keys:
            raise ConfigError("a trust anchor needs at least one public key of the interoperability authority")

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    @classmethod
    def load(cls, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> TrustAnchor:
        """Read pinned ``.pub`` files (PEM, as ``enlace agency keygen`` writes them).

        Args:
            paths: one path, a comma-separated list, or an iterable of paths.

        Raises:
            ConfigError: a file is missing or holds no Ed25519 public key.
        """
        if isinstance(paths, (str, os.PathLike)):
            names = [p.strip() for p in os.fspath(paths).split(",") if p.strip()]
        else:
            names = [os.fspath(p) for p in paths]
        keys = []
        for name in names:
            try:
                key = serialization.load_pem_public_key(Path(name).read_bytes())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"trust anchor {name}: not a readable PEM public key ({exc})") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise ConfigError(f"trust anchor {name}: the authority's key must be Ed25519")
            keys.append(key)
        return cls(keys)

    @classmethod
    def of(cls, authority: AgencyKey) -> TrustAnchor:
        """The anchor that pins ``authority``'s own key (for the authority's own tools and tests)."""
        return cls([authority.public_key])

    def verify(self, signer: str, statement: bytes, signature: bytes) -> None:
        """Check that a pinned key signed ``statement``.

        Raises:
            UntrustedRecord: the signer is not pinned, or the signature does not match.
        """
        key = self._keys.get(signer)
        if key is None:
            raise UntrustedRecord(
                f"trust record signed by {signer!r}, which is not a pinned authority key ({', '.join(self.key_ids)})",
                reason="unknown-signer",
            )
        try:
            key.verify(signature, _DOMAIN + statement)
        except InvalidSignature as exc:
            raise UntrustedRecord(
                f"trust record's signature by {signer} does not match its statement: altered or forged",
                reason="bad-signature",
            ) from exc


@dataclass(frozen=True)
class TrustStatement:
    """What one trust record says: a key registered (with its validity) or revoked, and when."""

    kind: StatementKind
    agency: str
    key_id: str
    public_key: Ed25519PublicKey
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None = None
    reason: str = ""
    encryption_key: X25519PublicKey | None = None

    def __post_init__(self) -> None:
        if self.not_after <= self.not_before:
            raise UntrustedRecord(f"key {self.key_id}: not_after is not after not_before", reason="invalid-validity")
        if self.not_after - self.not_before > MAX_VALIDITY:
            raise UntrustedRecord(
                f"key {self.key_id} would be valid {(self.not_after - self.not_before).days} days, more than the "
                f"{MAX_VALIDITY.days} a trust record may grant",
                reason="invalid-validity",
            )
        if (self.kind == "revoke") != (self.revoked_at is not None):
            raise UntrustedRecord(f"key {self.key_id}: only a revocation carries revoked_at", reason="malformed")

    @property
    def kafka_key(self) -> bytes:
        """The record's Kafka key: the key id, or ``<key id>#revoked`` for its revocation."""
        return (self.key_id + (_REVOKED_SUFFIX if self.kind == "revoke" else "")).encode()

    def _statement_json(self) -> bytes:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        body = {
            "kind": self.kind,
            "issued_at": _iso(self.issued_at),
            "agency": self.agency,
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw).decode(),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "reason": self.reason,
        }
        if self.revoked_at is not None:
            body["revoked_at"] = _iso(self.revoked_at)
        if self.encryption_key is not None:
            encryption = self.encryption_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            body["encryption_key"] = base64.b64encode(encryption).decode()
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()

    def signed(self, authority: AgencyKey) -> bytes:
        """The trust topic value: this statement signed with the authority's key.

        Raises:
            ConfigError: the key is not the interoperability authority's.
        """
        if authority.agency != AUTHORITY:
            raise ConfigError(f"trust records are signed by {AUTHORITY}, not by {authority.agency}")
        statement = self._statement_json()
        envelope = {
            "version": TRUST_RECORD_VERSION,
            "statement": statement.decode(),
            "signer": authority.key_id,
            "signature": _b64url(authority.private_key.sign(_DOMAIN + statement)),
        }
        return json.dumps(envelope, separators=(",", ":")).encode()

    @classmethod
    def read(cls, value: bytes | None, anchor: TrustAnchor, *, kafka_key: bytes | None = None) -> TrustStatement:
        """Verify and read a trust topic value.

        Args:
            value: the record's value.
            anchor: the pinned authority keys.
            kafka_key: the record's Kafka key, which must be the statement's own (a registration copied
                under a revocation's key, or the reverse, is refused).

        Raises:
            UntrustedRecord: anything short of a well-formed statement a pinned key signed.
        """
        if value is None:
            raise UntrustedRecord("a tombstone cannot delete a key's trust history", reason="tombstone")
        try:
            envelope = json.loads(value)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser's stack
            raise UntrustedRecord("trust record is not JSON", reason="malformed") from exc
        if not isinstance(envelope, dict) or "signature" not in envelope or "signer" not in envelope:
            raise UntrustedRecord("trust record is not signed by the interoperability authority", reason="unsigned")
        if envelope.get("version") != TRUST_RECORD_VERSION or set(envelope) != {
            "version",
            "statement",
            "signer",
            "signature",
        }:
            raise UntrustedRecord(
                f"trust record must be version {TRUST_RECORD_VERSION} with members version, statement, "
                "signer, signature",
                reason="malformed",
            )
        statement, signer, signature = envelope["statement"], envelope["signer"], envelope["signature"]
        if not all(isinstance(v, str) for v in (statement, signer, signature)):
            raise UntrustedRecord("trust record members must be strings", reason="malformed")
        try:
            raw_signature = _from_b64url(signature)
        except (ValueError, binascii.Error) as exc:
            raise UntrustedRecord("trust record's signature is not base64url", reason="malformed") from exc
        try:
            signed = statement.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate from a "\ud800" escape has no UTF-8 form
            raise UntrustedRecord("trust record's statement is not valid text", reason="malformed") from exc
        anchor.verify(signer, signed, raw_signature)
        read = cls._parse(statement)
        if kafka_key is not None and kafka_key != read.kafka_key:
            raise UntrustedRecord(
                f"trust record for {read.key_id} stored under Kafka key {kafka_key!r}, not {read.kafka_key!r}",
                reason="wrong-key",
            )
        return read

    @classmethod
    def _parse(cls, statement: str) -> TrustStatement:
        from bus.identity._keys import check_agency_urn

        try:
            body = json.loads(statement)
            kind = body["kind"]
            raw = base64.b64decode(body["public_key"], validate=True)
            public_key = Ed25519PublicKey.from_public_bytes(raw)
            agency = check_agency_urn(body["agency"])
            key_id = body["key_id"]
            encryption = body.get("encryption_key")
            encryption_key = (
                X25519PublicKey.from_public_bytes(base64.b64decode(encryption, validate=True))
                if encryption is not None
                else None
            )
        except (ValueError, KeyError, TypeError, RecursionError, binascii.Error, ConfigError) as exc:
            raise UntrustedRecord(f"malformed trust statement: {type(exc).__name__}", reason="malformed") from exc
        if kind not in ("register", "revoke") or body.get("algorithm") != "Ed25519":
            raise UntrustedRecord("trust statement kind or algorithm unknown", reason="malformed")
        if key_id_for(public_key) != key_id:
            raise UntrustedRecord(f"trust statement's key id {key_id} is not its public key's", reason="malformed")
        revoked = body.get("revoked_at")
        return cls(
            kind=kind,
            agency=agency,
            key_id=key_id,
            public_key=public_key,
            not_before=_time(body.get("not_before"), "not_before"),
            not_after=_time(body.get("not_after"), "not_after"),
            issued_at=_time(body.get("issued_at"), "issued_at"),
            revoked_at=_time(revoked, "revoked_at") if revoked is not None else None,
            reason=str(body.get("reason") or ""),
            encryption_key=encryption_key,
        )
