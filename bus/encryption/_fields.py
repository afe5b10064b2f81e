"""Field-level encryption: which fields of a record travel encrypted, and how they are sealed and opened.

Which fields: every leaf field whose own classification the policy encrypts (``sensitive`` always,
``personal`` where ``encryption.personal`` names the record or its namespace). A leaf that can carry
ciphertext is a ``string`` (no logical type), a nullable one (``["null", "string"]``), or an array or map
of strings (each item or value is sealed; map keys stay in clear). Records, arrays and maps of records
are walked: their fields decide by their own classification. A leaf of any other type (enum, number,
date, boolean, bytes, uuid) that the policy encrypts is refused (:class:`PolicyViolation`, rule
``encryption.field-type``), as is the record's key field (the Kafka key and ``ce_subject`` carry it in
clear: rule ``encryption.key-field``).

How (format version 1, after Confluent's field-level encryption: ciphertext in place of the value, so
the Avro schema and every tool that reads it are unchanged):

- a 256-bit data key per batch of records: a sender makes a fresh one for each record type and topic
  every 1,000 records or 60 seconds, and at once when a reader's published key changes (the wrapped
  keys are then reused, so only the first record of a batch pays for wrapping, and a reader unwraps
  each data key once); each sealed value is
  ``base64url(nonce (12 bytes) | AES-256-GCM(data key, nonce, UTF-8 value, aad))``, no padding, where
  ``aad = b"enlace-field-v1\\0" + ce_id + b"\\0" + ce_type + b"\\0" + topic + b"\\0" + JSON pointer``: a
  sealed value moved to another field, record or topic does not open;
- the data key is wrapped for each reader the policy names with HPKE (RFC 9180, base mode,
  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to the encryption key the reader published
  through the trust anchor, with ``info = b"enlace-dek-v1\\0" + ce_type + b"\\0" + topic + b"\\0" +
  reader URN``;
- the header ``enlace_encryption`` (covered by the signature) holds UTF-8 JSON
  ``{"version": 1, "fields": [<JSON pointers sealed>], "keys": {<reader URN>: {"kid": "x25519:<hex>",
  "dek": "<base64url wrapped key>"}}}``.

A record with nothing to seal (every such field null or empty) carries no header and needs no keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bus._errors import EnlaceError, PolicyViolation
from bus.encryption._keys import Keyring, encryption_key_id
from bus.policy import Policy
from bus.records import RecordType

__all__ = [
    "ENCRYPTION_FORMAT_VERSION",
    "ENCRYPTION_HEADER",
    "CannotDecrypt",
    "FieldEncryption",
    "FieldPlan",
    "NotAReader",
    "NotEncrypted",
    "RecordIdentity",
    "encryption_problems",
    "plan_for",
]

ENCRYPTION_HEADER = "enlace_encryption"
ENCRYPTION_FORMAT_VERSION = 1
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_FIELD_DOMAIN = b"enlace-field-v1\x00"
_KEY_DOMAIN = b"enlace-dek-v1\x00"
_NONCE_BYTES = 12
_MAX_HEADER_BYTES = 256 * 1024
_MAX_READERS = 256
_WILDCARD = "*"
_KEY_ID = re.compile(r"x25519:[0-9a-f]{32}")


class CannotDecrypt(EnlaceError):
    """A reader the record was encrypted for cannot open it; ``reason`` is the dead letter's slug.

    The message names the field (JSON pointer) or the key id, never a value.
    """

    reason = "cannot-decrypt"


class NotAReader(CannotDecrypt):
    """The record's data key is wrapped for other agencies only: the policy does not name this one."""

    reason = "not-a-reader"


class NotEncrypted(CannotDecrypt):
    """A field the policy encrypts arrived in clear (no ``enlace_encryption`` header)."""

    reason = "not-encrypted"


@dataclass(frozen=True)
class RecordIdentity:
    """What binds a sealed value to its record: ``ce_id``, ``ce_type`` and the topic it is sent to."""

    ce_id: str
    ce_type: str
    topic: str

    def _parts(self) -> bytes:
        return b"\x00".join(part.encode() for part in (self.ce_id, self.ce_type, self.topic)) + b"\x00"

    def field_aad(self, pointer: str) -> bytes:
        return _FIELD_DOMAIN + self._parts() + pointer.encode()

    def key_info(self, reader: str) -> bytes:
        # Not the ce_id: one data key serves a batch of records of one type on one topic.
        return _KEY_DOMAIN + self.ce_type.encode() + b"\x00" + self.topic.encode() + b"\x00" + reader.encode()


@dataclass
class _DataKey:
    """A sender's data key for one record type and topic, and its keys wrapped for the readers."""

    aead: AESGCM
    wrapped: dict[str, dict[str, str]]
    reader_keys: tuple[str, ...]  # the readers' key ids it was wrapped to
    uses: int
    until: float  # time.monotonic()


@dataclass(frozen=True)
class FieldPlan:
    """The leaves of one record version that travel encrypted, as paths (``*`` for every item of an
    array or value of a map), e.g. ``("attachments", "*", "uri")``."""

    record: str
    leaves: tuple[tuple[str, ...], ...]

    @property
    def patterns(self) -> list[str]:
        """The leaves as JSON pointers with ``*``, e.g. ``/attachments/*/uri``."""
        return ["/" + "/".join(leaf) for leaf in self.leaves]

    def sealed_values(self, data: Any) -> Iterator[tuple[str, str]]:
        """(pointer, value) of every non-empty string at an encrypted leaf of ``data``."""
        for leaf in self.leaves:
            yield from _values(data, leaf, "")


def plan_for(record_type: RecordType, policy: Policy) -> FieldPlan:
    """The encrypted leaves of ``record_type`` under ``policy``.

    Raises:
        PolicyViolation: a field the policy encrypts cannot carry ciphertext, or is the key field.
    """
    leaves: list[tuple[str, ...]] = []
    if record_type.kind == "record":
        parsed = record_type.parsed
        _walk(parsed, parsed["__named_schemas"], (), leaves, set(), record_type, policy)
    key = tuple(record_type.key_field.split(".")) if record_type.key_field else None
    if key is not None and key in leaves:
        raise PolicyViolation(
            f"{record_type.full_name}: {'/' + '/'.join(key)} is the record's key field, which the Kafka key "
            "and ce_subject carry in clear: encrypting it in the payload would protect nothing",
            rule="encryption.key-field",
            pointer="/" + "/".join(key),
            subject=record_type.subject,
        )
    return FieldPlan(record_type.full_name, tuple(leaves))


def encryption_problems(records: Iterable[RecordType], policy: Policy) -> list[PolicyViolation]:
    """Every record version whose fields the policy encrypts but cannot be (see :func:`plan_for`)."""
    problems = []
    for record_type in records:
        try:
            plan_for(record_type, policy)
        except PolicyViolation as exc:
            problems.append(exc)
    return problems


def _walk(
    node: Any,
    named: Mapping[str, Any],
    path: tuple[str, ...],
    leaves: list[tuple[str, ...]],
    seen: set[str],
    record_type: RecordType,
    policy: Policy,
) -> None:
    """Collect encrypted leaves below a record schema ``node`` (fields decide by their classification)."""
    for member in node.get("fields", ()):
        child = (*path, member["name"])
        classification = member.get(policy.classification_property)
        kind = member["type"]
        if isinstance(classification, str) and policy.encrypts(record_type.full_name, classification):
            leaf = _string_leaf(kind, named)
            if leaf is not None:
                leaves.append((*child, *leaf))
                continue
            if not _records_in(kind, named):
                raise PolicyViolation(
                    f"{record_type.full_name}: {'/' + '/'.join(child)} is classified {classification}, which the "
                    f"policy encrypts, but its type {_type_name(kind)} cannot carry ciphertext: only strings "
                    "(alone, nullable, or in arrays and maps) can; make it a string or change the policy",
                    rule="encryption.field-type",
                    pointer="/" + "/".join(child),
                    subject=record_type.subject,
                )
        for record, suffix in _records_in(kind, named):
            if record["name"] not in seen:
                _walk(record, named, (*child, *suffix), leaves, seen | {record["name"]}, record_type, policy)


def _resolve(kind: Any, named: Mapping[str, Any]) -> Any:
    return named.get(kind, kind) if isinstance(kind, str) else kind


def _is_string(kind: Any, named: Mapping[str, Any]) -> bool:
    kind = _resolve(kind, named)
    return kind == "string" or (isinstance(kind, dict) and kind.get("type") == "string" and "logicalType" not in kind)


def _string_leaf(kind: Any, named: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``()`` for a string or nullable string, ``("*",)`` for an array or map of them, else None."""
    kind = _resolve(kind, named)
    if isinstance(kind, list):
        branches = [b for b in kind if b != "null"]
        return () if len(branches) == 1 and len(kind) == 2 and _is_string(branches[0], named) else None
    if _is_string(kind, named):
        return ()
    if isinstance(kind, dict) and kind.get("type") in ("array", "map"):
        items = kind["items"] if kind["type"] == "array" else kind["values"]
        return (_WILDCARD,) if _is_string(items, named) else None
    return None


def _records_in(kind: Any, named: Mapping[str, Any]) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """The record schemas a field's type holds (directly, in a union, as array items or map values)."""
    kind = _resolve(kind, named)
    if isinstance(kind, list):
        return [found for branch in kind for found in _records_in(branch, named)]
    if not isinstance(kind, dict):
        return []
    if kind.get("type") in ("record", "error"):
        return [(kind, ())]
    if kind.get("type") in ("array", "map"):
        items = kind["items"] if kind["type"] == "array" else kind["values"]
        return [(record, (_WILDCARD, *suffix)) for record, suffix in _records_in(items, named)]
    return []


def _type_name(kind: Any) -> str:
    if isinstance(kind, dict):
        return str(kind.get("logicalType") or kind.get("type"))
    if isinstance(kind, list):
        return "a union of " + ", ".join(_type_name(b) for b in kind)
    return str(kind)


def _escape(step: str) -> str:
    return step.replace("~", "~0").replace("/", "~1")


def _values(node: Any, leaf: tuple[str, ...], pointer: str) -> Iterator[tuple[str, str]]:
    if not leaf:
        if isinstance(node, str) and node:
            yield pointer, node
        return
    step, rest = leaf[0], leaf[1:]
    if step == _WILDCARD:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _values(item, rest, f"{pointer}/{index}")
        elif isinstance(node, dict):
            for name, item in node.items():
                yield from _values(item, rest, f"{pointer}/{_escape(str(name))}")
    elif isinstance(node, dict) and step in node:
        yield from _values(node[step], rest, f"{pointer}/{_escape(step)}")


def _replaced(node: Any, leaf: tuple[str, ...], pointer: str, seal: Callable[[str, str], str]) -> Any:
    """``node`` with every non-empty string at ``leaf`` replaced by ``seal(pointer, value)``; the
    containers on the way are copied, the caller's data is left as it was."""
    if not leaf:
        return seal(pointer, node) if isinstance(node, str) and node else node
    step, rest = leaf[0], leaf[1:]
    if step == _WILDCARD:
        if isinstance(node, list):
            return [_replaced(item, rest, f"{pointer}/{i}", seal) for i, item in enumerate(node)]
        if isinstance(node, dict):
            return {k: _replaced(v, rest, f"{pointer}/{_escape(str(k))}", seal) for k, v in node.items()}
        return node
    if isinstance(node, dict) and step in node:
        return {**node, step: _replaced(node[step], rest, f"{pointer}/{_escape(step)}", seal)}
    return node


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if "=" in text:
        raise ValueError("padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldEncryption:
    """Seals a record's encrypted fields for its readers (sending) and opens them (receiving).

    Args:
        policy: the Interoperability Policy (what is encrypted, who reads each record).
        reader_key: the encryption public key a reader agency published (the trust store's
            ``encryption_key_of``, bound to the current time); needed to send.
        agency: the receiving agency's URN; needed to receive.
        keyring: the receiving agency's private encryption keys (current and rotated ones kept).
        batch_records, batch_seconds: how many records, and for how long, one data key serves (per
            record type and topic); 1 record gives every record a data key of its own.
        opened_keys: how many data keys a receiver keeps unwrapped (the senders' current batches);
            0 unwraps each record's.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        reader_key: Callable[[str], X25519PublicKey | None] | None = None,
        agency: str | None = None,
        keyring: Keyring | None = None,
        batch_records: int = 1000,
        batch_seconds: float = 60.0,
        opened_keys: int = 256,
    ) -> None:
        self._policy, self._reader_key = policy, reader_key
        self._agency, self._keyring = agency, keyring or Keyring()
        self._batch_records, self._batch_seconds = batch_records, batch_seconds
        self._plans: dict[RecordType, FieldPlan] = {}
        self._readers: dict[str, tuple[str, ...]] = {}
        self._batches: dict[tuple[str, str], _DataKey] = {}
        self._opened: dict[tuple[str, str, str, str], AESGCM] = {}
        self._opened_keys = opened_keys
        self._lock = threading.Lock()

    def plan(self, record_type: RecordType) -> FieldPlan:
        """The record version's encrypted leaves (computed once per version).

        Raises:
            PolicyViolation: see :func:`plan_for`.
        """
        plan = self._plans.get(record_type)
        if plan is None:
            plan = self._plans[record_type] = plan_for(record_type, self._policy)
        return plan

    # -- sending -----------------------------------------------------------------------------------
    def seal(
        self, record_type: RecordType, data: dict[str, Any], identity: RecordIdentity
    ) -> tuple[dict[str, Any], bytes | None]:
        """The record with its encrypted fields sealed, and the ``enlace_encryption`` header's value
        (None, and ``data`` itself, when there is nothing to seal).

        Raises:
            PolicyViolation: a reader the policy names has published no encryption key (nothing is
                sent: a reader left out would get a record it cannot read), or the record has values
                to seal and the policy names no reader.
        """
        plan = self.plan(record_type)
        first = next(plan.sealed_values(data), None) if plan.leaves else None
        if first is None:
            return data, None
        batch = self._data_key(record_type, identity, first[0])
        aead = batch.aead
        sealed: list[str] = []

        def seal_one(pointer: str, value: str) -> str:
            nonce = os.urandom(_NONCE_BYTES)
            sealed.append(pointer)
            return _b64(nonce + aead.encrypt(nonce, value.encode(), identity.field_aad(pointer)))

        out = data
        for leaf in plan.leaves:
            out = _replaced(out, leaf, "", seal_one)
        header = {"version": ENCRYPTION_FORMAT_VERSION, "fields": sealed, "keys": batch.wrapped}
        return out, json.dumps(header, separators=(",", ":")).encode()

    def _data_key(self, record_type: RecordType, identity: RecordIdentity, pointer: str) -> _DataKey:
        """The batch's data key for this record type and topic: the current one, or a new one wrapped
        for every reader when it has served its records or time, or a reader's key changed."""
        readers = self._readers_of(record_type, pointer)
        publics = [(reader, self._public_key(record_type, reader, pointer)) for reader in readers]
        reader_keys = tuple(encryption_key_id(public) for _, public in publics)
        slot = (identity.ce_type, identity.topic)
        now = time.monotonic()
        with self._lock:
            batch = self._batches.get(slot)
            if (
                batch is None
                or batch.reader_keys != reader_keys
                or batch.uses >= self._batch_records
                or now >= batch.until
            ):
                data_key = AESGCM.generate_key(bit_length=256)
                wrapped = {
                    reader: {"kid": kid, "dek": _wrapped(record_type, reader, kid, public, data_key, identity, pointer)}
                    for (reader, public), kid in zip(publics, reader_keys, strict=True)
                }
                batch = self._batches[slot] = _DataKey(
                    AESGCM(data_key), wrapped, reader_keys, 0, now + self._batch_seconds
                )
            batch.uses += 1
            return batch

    def _readers_of(self, record_type: RecordType, pointer: str) -> tuple[str, ...]:
        readers = self._readers.get(record_type.full_name)
        if readers is None:
            readers = tuple(sorted(self._policy.readers_of(record_type.full_name)))
            self._readers[record_type.full_name] = readers
        if not readers:
            raise PolicyViolation(
                f"{record_type.full_name} carries an encrypted field ({pointer}) and the policy names no reader "
                "for it: nobody could read it",
                rule="encryption.readers",
                pointer=pointer,
                subject=record_type.subject,
            )
        return readers

    def _public_key(self, record_type: RecordType, reader: str, pointer: str) -> X25519PublicKey:
        public = self._reader_key(reader) if self._reader_key is not None else None
        if public is None:
            raise PolicyViolation(
                f"cannot encrypt {pointer} of {record_type.full_name} for {reader}, a reader the policy names: it "
                "has no encryption key in force in the trust topic (publish one with its signing key)",
                rule="encryption.reader-key",
                pointer=pointer,
                subject=record_type.subject,
            )
        return public

    # -- receiving ---------------------------------------------------------------------------------
    def open(
        self, record_type: RecordType, data: dict[str, Any], header: bytes | None, identity: RecordIdentity
    ) -> dict[str, Any]:
        """The record with the fields its ``enlace_encryption`` header lists opened.

        Raises:
            NotEncrypted: no header, yet a field the policy encrypts holds a value.
            NotAReader: the data key is not wrapped for this agency.
            CannotDecrypt: the header is malformed, the key it was wrapped to is not in the keyring, or a
                key or value does not open (wrong key, or altered).
        """
        if header is None:
            for pointer, _ in self.plan(record_type).sealed_values(data):
                raise NotEncrypted(
                    f"{record_type.full_name}: {pointer} arrived in clear, but the policy encrypts it "
                    f"(no {ENCRYPTION_HEADER} header)",
                    pointer=pointer,
                )
            return data
        fields, keys = _parse_header(header)
        entry = keys.get(self._agency or "")
        if entry is None:
            raise NotAReader(
                f"{record_type.full_name}'s encrypted fields are for {', '.join(sorted(keys)) or 'nobody'}, not for "
                f"{self._agency}: the policy does not name it among the record's readers"
            )
        slot = (entry["kid"], entry["dek"], identity.ce_type, identity.topic)
        aead = self._opened.get(slot)
        if aead is None:
            aead = AESGCM(self._unwrap(entry, identity))
            with self._lock:
                if len(self._opened) >= self._opened_keys:
                    self._opened.clear()
                if self._opened_keys:
                    self._opened[slot] = aead
        out = data
        for pointer in fields:
            out = _open_at(out, pointer, aead, identity)
        return out

    def _unwrap(self, entry: Mapping[str, str], identity: RecordIdentity) -> bytes:
        key = self._keyring.get(entry["kid"])
        if key is None:
            raise CannotDecrypt(
                f"the data key is wrapped for {self._agency}'s encryption key {entry['kid']}, which is not in its "
                f"keyring ({', '.join(self._keyring.key_ids) or 'empty'}; ENLACE_ENCRYPTION_KEYS)",
                key_id=entry["kid"],
            )
        try:
            data_key = _SUITE.decrypt(_unb64(entry["dek"]), key.private_key, info=identity.key_info(key.agency))
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise CannotDecrypt(
                f"the data key wrapped for {entry['kid']} does not open: wrapped for another record or altered",
                key_id=entry["kid"],
            ) from exc
        if len(data_key) != 32:
            raise CannotDecrypt(f"the data key wrapped for {entry['kid']} is not 256 bits", key_id=entry["kid"])
        return data_key


def _wrapped(
    record_type: RecordType,
    reader: str,
    kid: str,
    public: X25519PublicKey,
    data_key: bytes,
    identity: RecordIdentity,
    pointer: str,
) -> str:
    try:
        return _b64(_SUITE.encrypt(data_key, public, info=identity.key_info(reader)))
    except ValueError as exc:  # a low-order point: no shared secret can come of it
        raise PolicyViolation(
            f"cannot encrypt {pointer} of {record_type.full_name} for {reader}: its published encryption key "
            f"{kid} is unusable (not a key an X25519 exchange can use)",
            rule="encryption.reader-key",
            pointer=pointer,
            subject=record_type.subject,
        ) from exc


def _parse_header(header: bytes) -> tuple[list[str], dict[str, dict[str, str]]]:
    def malformed(why: str) -> CannotDecrypt:
        return CannotDecrypt(f"the {ENCRYPTION_HEADER} header is malformed: {why}")

    if len(header) > _MAX_HEADER_BYTES:
        raise malformed(f"{len(header)} bytes, over {_MAX_HEADER_BYTES}")
    try:
        body = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise malformed("not UTF-8 JSON") from exc
    if not isinstance(body, dict) or set(body) != {"version", "fields", "keys"}:
        raise malformed("expected exactly the members version, fields, keys")
    if body["version"] != ENCRYPTION_FORMAT_VERSION or isinstance(body["version"], bool):
        raise malformed(f"version must be {ENCRYPTION_FORMAT_VERSION}")
    fields, keys = body["fields"], body["keys"]
    if not isinstance(fields, list) or not all(isinstance(f, str) and f.startswith("/") for f in fields):
        raise malformed("fields must be a list of JSON pointers")
    if not isinstance(keys, dict) or len(keys) > _MAX_READERS:
        raise malformed(f"keys must map at most {_MAX_READERS} reader URNs to a wrapped key")
    for entry in keys.values():
        if (
            not isinstance(entry, dict)
            or set(entry) != {"kid", "dek"}
            or not all(isinstance(v, str) for v in entry.values())
            or not _KEY_ID.fullmatch(entry["kid"])
        ):
            raise malformed("each key must have exactly the members kid (x25519:<32 hex>) and dek (base64url)")
    return fields, keys


def _steps(pointer: str) -> Iterable[str]:
    return (step.replace("~1", "/").replace("~0", "~") for step in pointer[1:].split("/"))


def _open_at(data: dict[str, Any], pointer: str, aead: AESGCM, identity: RecordIdentity) -> dict[str, Any]:
    """``data`` with the value at ``pointer`` opened (containers on the way copied); a pointer to a field
    this reader's version does not have is skipped."""

    def opened(node: Any, steps: list[str]) -> Any:
        if not steps:
            return _open_value(node, pointer, aead, identity)
        step, rest = steps[0], steps[1:]
        if isinstance(node, dict) and step in node:
            return {**node, step: opened(node[step], rest)}
        if isinstance(node, list) and step.isdigit() and int(step) < len(node):
            index = int(step)
            return [*node[:index], opened(node[index], rest), *node[index + 1 :]]
        return node

    return opened(data, list(_steps(pointer)))  # type: ignore[no-any-return]


def _open_value(value: Any, pointer: str, aead: AESGCM, identity: RecordIdentity) -> str:
    if not isinstance(value, str):
        raise CannotDecrypt(f"{pointer} is listed as encrypted but holds no ciphertext", pointer=pointer)
    try:
        sealed = _unb64(value)
        if len(sealed) < _NONCE_BYTES + 16:
            raise ValueError("short")
        return aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], identity.field_aad(pointer)).decode()
    except (InvalidTag, ValueError, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise CannotDecrypt(
            f"{pointer} does not open with the record's data key: moved from another field or record, or altered",
            pointer=pointer,
        ) from exc
