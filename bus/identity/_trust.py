"""Which agency keys a receiver trusts, and verification of a record against them."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from bus._built import native as _native
from bus.identity._anchor import TrustStatement, UntrustedRecord
from bus.identity._batch import VerifiedNodes, parse_batch_place, root_statement
from bus.identity._errors import (
    BadBatchProof,
    BadSignature,
    DuplicateHeader,
    ExpiredKey,
    MissingSignature,
    RevokedKey,
    SenderMismatch,
    UnknownKey,
    UnsupportedSignatureVersion,
    WrongTopic,
)
from bus.identity._keys import AgencyKey
from bus.identity._signing import (
    BATCH_HEADER,
    BATCH_SIGNATURE_VERSION,
    KEY_ID_HEADER,
    PROOF_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION,
    SIGNATURE_VERSION_HEADER,
    TOPIC_HEADER,
    HeaderLayout,
    decode_signature,
    header_layout,
    record_digest,
)

__all__ = ["TrustStore", "TrustedKey"]

_SOURCE_HEADER = "ce_source"
# What verification reads, in the order _signature_headers gives the values.
_VERIFY_ORDER = (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION_HEADER,
    TOPIC_HEADER,
    _SOURCE_HEADER,
    BATCH_HEADER,
    PROOF_HEADER,
)
_VERIFY_HEADERS = frozenset(_VERIFY_ORDER)
_FORMS = (SIGNATURE_VERSION.encode(), BATCH_SIGNATURE_VERSION.encode())
_KEY_ID = re.compile(rb"ed25519:[0-9a-f]{32}")
# After an unknown key id, how long before asking the trust topic again for that same id: bounds the
# work a flood of records with made-up key ids can cause.
_REFRESH_EVERY_S = 5.0


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class TrustedKey:
    """One agency public key as published in the trust topic.

    Attributes:
        agency: the owning agency's URN.
        key_id: ``ed25519:<hex>``, derived from the key (checked on load).
        public_key: the Ed25519 public key.
        not_before, not_after: validity dates (UTC); outside them the key fails verification.
        revoked_at: when the key was revoked, or None.
        reason: why it was revoked, for people.
        encryption_key: the agency's X25519 public key published beside this signing key, for the
            data keys of fields it may read (``bus.encryption``); None when it published none.
    """

    agency: str
    key_id: str
    public_key: Ed25519PublicKey
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None = None
    reason: str = ""
    encryption_key: X25519PublicKey | None = None
    # What verify reads for every record: the POSIX times it may verify records between (not before
    # not_before, before not_after and the revocation) and the agency's URN as ce_source's bytes.
    _usable: tuple[float, float] = field(init=False, repr=False, compare=False)
    _source: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        until = self.not_after if self.revoked_at is None else min(self.not_after, self.revoked_at)
        object.__setattr__(self, "_usable", (self.not_before.timestamp(), until.timestamp()))
        object.__setattr__(self, "_source", self.agency.encode())

    @classmethod
    def for_key(
        cls,
        agency_key: AgencyKey,
        *,
        valid_days: int = 365,
        not_before: datetime | None = None,
        encryption_key: X25519PublicKey | None = None,
    ) -> TrustedKey:
        """The trust record for an agency's own key, valid ``valid_days`` from ``not_before`` (now),
        publishing ``encryption_key`` beside it when given."""
        start = (not_before or datetime.now(UTC)).replace(microsecond=0)
        return cls(
            agency_key.agency,
            agency_key.key_id,
            agency_key.public_key,
            start,
            start + timedelta(days=valid_days),
            encryption_key=encryption_key,
        )

    def statement(self, *, issued_at: datetime | None = None) -> TrustStatement:
        """This key's trust statement: its registration, or its revocation once revoked."""
        return TrustStatement(
            kind="revoke" if self.revoked_at is not None else "register",
            agency=self.agency,
            key_id=self.key_id,
            public_key=self.public_key,
            not_before=self.not_before,
            not_after=self.not_after,
            issued_at=(issued_at or datetime.now(UTC)).replace(microsecond=0),
            revoked_at=self.revoked_at,
            reason=self.reason,
            encryption_key=self.encryption_key,
        )

    @classmethod
    def from_statement(cls, statement: TrustStatement) -> TrustedKey:
        """The key a verified trust statement describes."""
        return cls(
            statement.agency,
            statement.key_id,
            statement.public_key,
            statement.not_before,
            statement.not_after,
            statement.revoked_at,
            statement.reason,
            statement.encryption_key,
        )

    def revoked(self, reason: str, *, at: datetime | None = None) -> TrustedKey:
        """This key, revoked from ``at`` (now) with a reason."""
        return replace(self, revoked_at=(at or datetime.now(UTC)).replace(microsecond=0), reason=reason)

    def check_usable(self, now: datetime) -> None:
        """Raise if the key may not verify records at ``now``.

        Raises:
            RevokedKey: revoked at or before ``now``.
            ExpiredKey: ``now`` is outside the validity dates.
        """
        if self.revoked_at is not None and self.revoked_at <= now:
            why = f": {self.reason}" if self.reason else ""
            raise RevokedKey(
                f"key {self.key_id} of {self.agency} was revoked at {_iso(self.revoked_at)}{why}",
                key_id=self.key_id,
                agency=self.agency,
            )
        if now < self.not_before or now >= self.not_after:
            raise ExpiredKey(
                f"key {self.key_id} of {self.agency} is valid from {_iso(self.not_before)} to "
                f"{_iso(self.not_after)}, not at {_iso(now)}",
                key_id=self.key_id,
                agency=self.agency,
            )

    def check_signed_at(self, moment: datetime, *, skew: timedelta = timedelta(0)) -> None:
        """Raise unless a record claiming to be made at ``moment`` (its ``ce_time``) falls in this
        key's validity: a key cannot vouch for records dated before it was issued or after it ended.

        Args:
            moment: the record's claimed time.
            skew: how far the sender's clock may run behind the issuer's (allowed before ``not_before``).

        Raises:
            ExpiredKey: ``moment`` is before ``not_before - skew`` or not before ``not_after``.
        """
        if moment < self.not_before - skew or moment >= self.not_after:
            raise ExpiredKey(
                f"record's ce_time is outside the validity of key {self.key_id} of {self.agency} "
                f"({_iso(self.not_before)} to {_iso(self.not_after)})",
                key_id=self.key_id,
                agency=self.agency,
            )


class TrustStore:
    """The public keys a receiver trusts, and :meth:`verify` for incoming records.

    Thread-safe for one writer (the trust topic reader) and many verifiers. When a record names a key
    id the store does not hold, ``refresh`` (if given) is asked to catch up with the trust topic once
    before the record is refused: a key published just before a record is then always found.

    Batch-signed records (form 3) are verified one by one like any other; the store remembers the
    trees whose root signature it verified (at most ``max_verified_nodes`` inner nodes), so the other
    records of a batch cost a few hashes, not a signature check.
    """

    def __init__(
        self,
        keys: Iterable[TrustedKey] = (),
        *,
        refresh: Callable[[], object] | None = None,
        max_verified_nodes: int = 65_536,
    ) -> None:
        self._keys: dict[str, TrustedKey] = {k.key_id: k for k in keys}
        self._issued: dict[str, datetime] = {}  # when the registration in force was issued
        self._revocations: dict[str, tuple[datetime, str]] = {}  # final: never cleared
        self._refresh = refresh
        self._last_refresh: dict[str, float] = {}
        self._lock = threading.Lock()
        self._verified = VerifiedNodes(max_verified_nodes)

    def add(self, trusted: TrustedKey) -> None:
        """Trust ``trusted`` (replacing an earlier record for the same key id, e.g. a revocation)."""
        self._keys[trusted.key_id] = trusted

    def apply(self, statement: TrustStatement) -> None:
        """Apply one verified trust statement by the trust anchor's rules (``bus.identity._anchor``).

        Raises:
            UntrustedRecord: the statement would un-revoke, re-date from the past, or move a key to
                another agency; nothing changed.
        """
        key_id = statement.key_id
        known = self._keys.get(key_id)
        if known is not None and known.agency != statement.agency:
            raise UntrustedRecord(
                f"key {key_id} is {known.agency}'s: a trust record cannot give it to {statement.agency}",
                reason="wrong-agency",
            )
        if statement.kind == "revoke":
            assert statement.revoked_at is not None
            earlier = self._revocations.get(key_id)
            if earlier is None or statement.revoked_at < earlier[0]:
                self._revocations[key_id] = (statement.revoked_at, statement.reason)
            at, reason = self._revocations[key_id]
            base = known or TrustedKey.from_statement(statement)  # a revocation alone keeps the key's history
            self._keys[key_id] = replace(base, revoked_at=at, reason=reason)
            return
        issued = self._issued.get(key_id)
        if known is not None and issued is not None and statement.issued_at <= issued:
            raise UntrustedRecord(
                f"registration of {key_id} issued {statement.issued_at:%Y-%m-%dT%H:%M:%SZ} is not newer than the one "
                "in force",
                reason="stale",
            )
        registered = TrustedKey.from_statement(statement)
        if key_id in self._revocations:  # revocation is final
            at, reason = self._revocations[key_id]
            registered = replace(registered, revoked_at=at, reason=reason)
        self._keys[key_id] = registered
        self._issued[key_id] = statement.issued_at

    def get(self, key_id: str) -> TrustedKey | None:
        """The key with this id, if trusted (whatever its dates)."""
        return self._keys.get(key_id)

    def encryption_key_of(self, agency: str, now: datetime) -> X25519PublicKey | None:
        """The encryption key ``agency`` published with its newest usable signing key registration
        (latest issued, then latest ``not_before``); None when it has none in force.

        A revoked or expired signing key takes its encryption key with it.
        """
        best: tuple[datetime, datetime, X25519PublicKey] | None = None
        for trusted in list(self._keys.values()):
            if trusted.agency != agency or trusted.encryption_key is None:
                continue
            try:
                trusted.check_usable(now)
            except (RevokedKey, ExpiredKey):
                continue
            rank = (self._issued.get(trusted.key_id, trusted.not_before), trusted.not_before, trusted.encryption_key)
            if best is None or rank[:2] > best[:2]:
                best = rank
        return best[2] if best is not None else None

    def set_refresh(self, refresh: Callable[[], object] | None) -> None:
        """Set the catch-up hook used for unknown key ids."""
        self._refresh = refresh

    def __len__(self) -> int:
        return len(self._keys)

    def verify(
        self,
        headers: Iterable[tuple[str, bytes | None]],
        key: bytes | None,
        value: bytes | None,
        *,
        topic: str,
        now: datetime | None = None,
    ) -> TrustedKey:
        """Check a record's signature (signed form 2, or 3 for a batch) and the topic it names; return the key.

        Any header value is accepted as input (NULL, empty, not UTF-8, repeated): each is a refusal
        with its reason, never another exception.

        Args:
            headers: the Kafka record's headers.
            key: the Kafka record's key.
            value: the Kafka record's value (payload).
            topic: the topic the record was read from; the signed ``enlace_topic`` must name it.
            now: the time to check validity dates against (now when omitted).

        Returns:
            The trusted key, whose ``agency`` is the verified sender.

        Raises:
            MissingSignature, UnsupportedSignatureVersion, DuplicateHeader, UnknownKey, RevokedKey,
                ExpiredKey, SenderMismatch, BadBatchProof, BadSignature, WrongTopic: each a
                SignatureError whose ``reason`` names the failure.
        """
        if not isinstance(headers, (list, tuple)):
            headers = list(headers)
        layout = header_layout(headers)
        key_id_raw, signature_raw, version, topic_raw, source, batch, proof = _signature_headers(headers, layout)
        if not key_id_raw and not signature_raw and version is None:
            raise MissingSignature(f"record has no {KEY_ID_HEADER}/{SIGNATURE_HEADER} header: it is unsigned")
        if version not in _FORMS:
            raise UnsupportedSignatureVersion(
                f"record is signed in form {_shown_version(version)}; receivers accept forms {SIGNATURE_VERSION} "
                f"and {BATCH_SIGNATURE_VERSION} (a batch) in {SIGNATURE_VERSION_HEADER}, binding records to topics"
            )
        if not key_id_raw or not signature_raw:
            missing = KEY_ID_HEADER if not key_id_raw else SIGNATURE_HEADER
            raise MissingSignature(f"record has no value in {missing}: it is not signed")
        key_id = _key_id(key_id_raw)
        trusted = self._lookup(key_id)
        if now is not None:
            trusted.check_usable(now)
        elif not trusted._usable[0] <= time.time() < trusted._usable[1]:
            trusted.check_usable(datetime.now(UTC))  # says why (revoked, not yet or no longer valid)
        if source != trusted._source:
            raise SenderMismatch(
                f"record's ce_source is not {trusted.agency}, whose key {key_id} signed it",
                key_id=key_id,
                agency=trusted.agency,
            )
        if version == _FORMS[0]:
            try:
                signature = decode_signature(signature_raw)
                trusted.public_key.verify(signature, record_digest(headers, key, value, layout=layout))
            except (InvalidSignature, ValueError) as exc:
                raise BadSignature(
                    f"signature by {key_id} of {trusted.agency} does not match the record's "
                    "topic, headers, key and payload: it was altered after signing",
                    key_id=key_id,
                    agency=trusted.agency,
                ) from exc
        elif not self._verified.known(key_id, signature_raw, (batch, proof), (layout, headers, key, value)):
            digest = record_digest(headers, key, value, layout=layout)
            self._verify_in_batch(trusted, batch, proof, signature_raw, digest)
        if topic_raw != topic.encode():
            raise WrongTopic(
                f"record signed by {trusted.agency} for another topic than {topic} (its {TOPIC_HEADER}): "
                "it was moved or misrouted",
                key_id=key_id,
                agency=trusted.agency,
            )
        return trusted

    def _verify_in_batch(
        self, trusted: TrustedKey, batch: bytes | None, proof: bytes | None, signature_raw: bytes, digest: bytes
    ) -> None:
        """Check a form-3 record: its digest, place (``enlace_batch``, ``enlace_proof``) and audit path
        lead to a root its key signed."""
        try:
            place = parse_batch_place(batch, proof)
        except ValueError as exc:
            raise BadBatchProof(
                f"record signed by {trusted.key_id} of {trusted.agency} in a batch: {exc}",
                key_id=trusted.key_id,
                agency=trusted.agency,
            ) from exc
        try:
            # The batch is known by its signature's header bytes: a record of a verified batch needs
            # them neither decoded nor checked again.
            signed_by = (trusted.key_id, place.size, bytes(signature_raw))
            known, root, nodes = self._verified.climb(signed_by, digest, place)
            if not known:
                signature = decode_signature(signature_raw)
                trusted.public_key.verify(signature, root_statement(trusted.key_id, place.size, root))
            # The nodes climbed through lead to a verified root: the next records of the batch stop there.
            self._verified.remember(signed_by, nodes)
        except (InvalidSignature, ValueError) as exc:
            raise BadSignature(
                f"batch signature by {trusted.key_id} of {trusted.agency} does not cover this record at leaf "
                f"{place.index} of {place.size}: the record's topic, headers, key or payload was altered, its "
                "leaf index or audit path changed, or it was joined to another batch's signature",
                key_id=trusted.key_id,
                agency=trusted.agency,
            ) from exc

    def _lookup(self, key_id: str) -> TrustedKey:
        trusted = self._keys.get(key_id)
        if trusted is None and self._refresh is not None and self._may_refresh(key_id):
            self._refresh()
            trusted = self._keys.get(key_id)
        if trusted is None:
            raise UnknownKey(f"key {key_id} is not in the trust topic: sender unknown", key_id=key_id)
        return trusted

    def _may_refresh(self, key_id: str) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last_refresh.get(key_id, -_REFRESH_EVERY_S) < _REFRESH_EVERY_S:
                return False
            if len(self._last_refresh) > 10_000:  # a flood of made-up ids must not grow this forever
                self._last_refresh.clear()
            self._last_refresh[key_id] = now
            return True


def _signature_headers(headers: Sequence[tuple[str, bytes | None]], layout: HeaderLayout) -> list[bytes | None]:
    """The values of the headers verification reads (``_VERIFY_ORDER``), None for one not there.

    Raises:
        DuplicateHeader: one of them occurs twice (which one would count?).
    """
    if layout.repeated:
        for name in sorted(layout.repeated & _VERIFY_HEADERS):
            raise DuplicateHeader(f"header {name!r} occurs twice; a signed header must be unique", header=name)
    positions = layout.positions_of(_VERIFY_ORDER)
    picked = _native.pick(headers, positions) if _native is not None else None
    return picked if picked is not None else [headers[i][1] if i >= 0 else None for i in positions]


def _key_id(raw: bytes) -> str:
    """The key id of an ``enlace_keyid`` value.

    Raises:
        UnknownKey: the value is not a key id (``ed25519:`` and 32 lowercase hex digits).
    """
    known = _key_ids.get(raw) if type(raw) is bytes else None
    if known is not None:
        return known
    if not isinstance(raw, (bytes, bytearray)) or not _KEY_ID.fullmatch(raw):
        raise UnknownKey(f"{KEY_ID_HEADER} is not a key id (ed25519: and 32 hex digits): sender unknown")
    key_id = raw.decode("ascii")
    if len(_key_ids) < 4096:  # well-formed ids only, and a bounded number (they come from the wire)
        _key_ids[bytes(raw)] = key_id
    return key_id


_key_ids: dict[bytes, str] = {}


def _shown_version(version: bytes | None) -> str:
    if version is None:
        return "1 (no enlace_sigv header)"
    if version.isdigit() and len(version) <= 4:
        return version.decode("ascii")
    return "unknown (enlace_sigv is not a version number)"
