"""Evidence bundles: one logged record with everything needed to prove it offline, years later.

``build_proof`` takes one entry of an agency's message log and gathers, as one JSON document:

    {"format": "enlace-message-log-proof", "version": 1,
     "agency": "<the log's owner>",
     "entry": {"seq", "logged_at_ms", "direction", "topic", "partition", "offset", "ce_id", "sender",
               "group", "verification", "outcome",
               "key": base64 | null, "value": base64 | null, "headers": [[name, base64 | null], ...]},
     "previous_hash": "<hex: head_(seq-1) of the log's chain>",
     "chain": ["<hex: SHA-256 of entry seq+1>", ..., "<... of entry count>"],
     "checkpoint": {"value": "<the checkpoint as published: JSON text>", "topic", "partition", "offset"},
     "trust": ["<trust record as the trust topic holds it: JSON text>", ...]}

(base64 is standard with padding; the chain's and the checkpoint's layout are in
``connectors/_message_log.py``, trust records' in ``bus/identity/_anchor.py``). ``trust`` holds the
anchor-signed registration — and revocation, if any — of the record signer's key and of the key that
signed the checkpoint.

``check_proof`` needs nothing but the bundle and the interoperability authority's pinned public key
(its ``.pub`` file): no Kafka, no registry, no log. It holds only if, in order:

1. every trust record is signed by the pinned anchor (``trust-record``);
2. the record's signature verifies, by a ``bus.identity.TrustStore`` holding those keys and its
   ordinary ``verify``, with validity checked at the record's ``ce_time`` — so a key rotated or
   revoked *after* the record still proves it, one revoked before does not (``record-signature``,
   with the verifier's reason: ``bad-signature``, ``revoked-key``, ``expired-key``...);
3. the entry's sender is the key's agency (``sender``);
4. the entry, then each digest of ``chain``, folded into ``previous_hash``, give the checkpoint's
   head at the checkpoint's count (``chain``: the entry or its path was altered);
5. the checkpoint is the log owner's, signed by a key of that agency valid at its time
   (``checkpoint``);
6. the record is no later than the checkpoint that covers it, and, if its key was revoked, that
   checkpoint — signed, published to the shared topic and witnessed by the other agencies — is dated
   before the revocation: a stolen key cannot back-date records into a proof (``time``).

``previous_hash`` needs no signature: any other value leads to another head.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bus import EnlaceError, SignatureError
from bus.identity import TrustAnchor, TrustStatement, TrustStore, UntrustedRecord
from connectors._message_log import (
    CheckpointError,
    LogEntry,
    body_bytes,
    chain_head,
    entry_of_row,
    genesis_head,
    open_log,
    read_checkpoint,
)

__all__ = ["PROOF_FORMAT", "ProofError", "ProofSummary", "build_proof", "check_proof"]

PROOF_FORMAT = "enlace-message-log-proof"
PROOF_VERSION = 1
_SKEW = timedelta(minutes=5)


class ProofError(EnlaceError):
    """A proof that does not hold (or cannot be built); ``reason`` names the failed step."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"[{self.reason}] {self.message}"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: Any, where: str) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ProofError(f"{where} is not base64 text", reason="malformed")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProofError(f"{where} is not base64", reason="malformed") from exc


def build_proof(
    path: str, *, ce_id: str | None = None, seq: int | None = None, trust_records: list[bytes]
) -> dict[str, Any]:
    """The evidence bundle of one entry of a message log (the module docstring's layout).

    Args:
        path: the message log file.
        ce_id: the record's CloudEvents id (its first entry), or
        seq: the entry's number.
        trust_records: trust topic values; those about the record's and the checkpoint's signers are kept.

    Raises:
        ProofError: no such entry, its body was pruned, or no checkpoint covers it yet.
    """
    db, agency = open_log(path)
    try:
        columns = (
            'SELECT seq, logged_at_ms, direction, topic, partition, "offset", ce_id, sender, consumer_group,'
            " verification, outcome, body_digest, body FROM enlace_log"
        )
        if seq is not None:
            row = db.execute(columns + " WHERE seq = ?", (seq,)).fetchone()
        else:
            row = db.execute(columns + " WHERE ce_id = ? ORDER BY seq LIMIT 1", (ce_id,)).fetchone()
        if row is None:
            raise ProofError(f"{agency}'s log has no entry {seq if seq is not None else ce_id}", reason="no-entry")
        entry = entry_of_row(row)
        if entry.body is None:
            raise ProofError(
                f"entry {entry.seq}'s record was pruned by retention: it can no longer be shown", reason="pruned"
            )
        checkpoint_row = db.execute(
            'SELECT count, value, topic, partition, "offset" FROM enlace_log_checkpoints WHERE count >= ?'
            ' ORDER BY "offset" IS NULL, count LIMIT 1',
            (entry.seq,),
        ).fetchone()
        if checkpoint_row is None:
            raise ProofError(
                f"no checkpoint of {agency}'s log covers entry {entry.seq} yet: the next one is made within the "
                "checkpoint interval (or when the agency stops)",
                reason="no-checkpoint",
            )
        count, value, topic, partition, offset = checkpoint_row
        previous = db.execute("SELECT hash FROM enlace_log WHERE seq = ?", (entry.seq - 1,)).fetchone()
        chain = []
        for later in db.execute(
            'SELECT seq, logged_at_ms, direction, topic, partition, "offset", ce_id, sender, consumer_group,'
            " verification, outcome, body_digest FROM enlace_log WHERE seq > ? AND seq <= ? ORDER BY seq",
            (entry.seq, count),
        ):
            chain.append(entry_of_row(later).digest().hex())
    finally:
        db.close()
    key, record_value, headers = entry.record()
    checkpoint = read_checkpoint(bytes(value))
    signer = _header(headers, "enlace_keyid")
    wanted = {checkpoint.signer} | ({signer.decode("ascii", "replace")} if signer else set())
    return {
        "format": PROOF_FORMAT,
        "version": PROOF_VERSION,
        "agency": agency,
        "entry": {
            "seq": entry.seq,
            "logged_at_ms": entry.logged_at_ms,
            "direction": entry.direction,
            "topic": entry.topic,
            "partition": entry.partition,
            "offset": entry.offset,
            "ce_id": entry.ce_id,
            "sender": entry.sender,
            "group": entry.group,
            "verification": entry.verification,
            "outcome": entry.outcome,
            "key": _b64(key),
            "value": _b64(record_value),
            "headers": [[name, _b64(header_value)] for name, header_value in headers],
        },
        "previous_hash": (bytes(previous[0]) if previous else genesis_head(agency)).hex(),
        "chain": chain,
        "checkpoint": {"value": bytes(value).decode(), "topic": topic, "partition": partition, "offset": offset},
        "trust": [record.decode() for record in trust_records if _about(record, wanted)],
    }


def _about(record: bytes, key_ids: set[str]) -> bool:
    try:
        statement = json.loads(json.loads(record)["statement"])
        return statement.get("key_id") in key_ids
    except (ValueError, KeyError, TypeError):
        return False


def _header(headers: list[tuple[str, bytes | None]], name: str) -> bytes | None:
    return next((value for header, value in headers if header == name), None)


@dataclass(frozen=True)
class ProofSummary:
    """What a proof that holds shows."""

    agency: str
    seq: int
    direction: str
    ce_id: str
    ce_type: str
    sender: str
    signed_at: datetime
    key_id: str
    key_valid: str
    checkpoint_count: int
    checkpoint_at: datetime
    checkpoint_position: str

    def lines(self) -> list[str]:
        return [
            f"holds: entry {self.seq} of {self.agency}'s message log "
            f"({self.direction} {self.ce_type}, ce_id {self.ce_id})",
            f"signed by {self.sender} with {self.key_id} at {self.signed_at.isoformat()} ({self.key_valid})",
            f"covered by checkpoint {self.checkpoint_count} of {self.checkpoint_at.isoformat()} "
            f"{self.checkpoint_position}",
        ]


def check_proof(bundle: Any, anchor: TrustAnchor) -> ProofSummary:
    """Verify an evidence bundle offline against the pinned trust anchor (the module docstring's steps).

    Raises:
        ProofError: it does not hold; ``reason`` names the step and the message why.
    """
    entry, agency, previous, chain, checkpoint_part, trust_part = _parts(bundle)
    trust = TrustStore()
    for i, text in enumerate(trust_part):
        try:
            trust.apply(TrustStatement.read(text.encode("utf-8", "surrogatepass"), anchor))
        except UntrustedRecord as exc:
            raise ProofError(f"trust record {i} does not hold: {exc.reason}: {exc}", reason="trust-record") from exc
    key, value, headers = entry.record()
    signed_at = _ce_time(headers)
    try:
        trusted = trust.verify(headers, key, value, topic=entry.topic, now=signed_at)
        trusted.check_signed_at(signed_at, skew=_SKEW)
    except SignatureError as exc:
        why = getattr(exc, "reason", None) or "bad-signature"
        raise ProofError(
            f"the record's signature does not hold at its time: {why}: {exc}", reason="record-signature"
        ) from exc
    expected_sender = agency if entry.direction == "sent" else entry.sender
    if trusted.agency != expected_sender:
        raise ProofError(
            f"the entry says the record came from {expected_sender or 'nobody verified'}, "
            f"its key is {trusted.agency}'s",
            reason="sender",
        )
    head = chain_head(previous, entry.digest())
    for digest in chain:
        head = chain_head(head, digest)
    try:
        checkpoint = read_checkpoint(checkpoint_part.encode())
    except CheckpointError as exc:
        raise ProofError(f"the checkpoint: {exc}", reason="checkpoint") from exc
    count = entry.seq + len(chain)
    if checkpoint.agency != agency or checkpoint.count != count or checkpoint.head != head:
        raise ProofError(
            f"entry {entry.seq} and the {len(chain)} digests after it do not lead to checkpoint {checkpoint.count} of "
            f"{checkpoint.agency}'s log: the entry (its record, fields or place) or its path was altered",
            reason="chain",
        )
    try:
        checkpoint.verify(trust)
    except CheckpointError as exc:
        raise ProofError(f"the checkpoint does not hold: {exc.reason}: {exc}", reason="checkpoint") from exc
    if signed_at > checkpoint.at + _SKEW:
        raise ProofError("the record's ce_time is after the checkpoint that covers it", reason="time")
    if trusted.revoked_at is not None and checkpoint.at >= trusted.revoked_at:
        raise ProofError(
            f"the record is shown to exist only from {checkpoint.at.isoformat()}, after its key was revoked "
            f"({trusted.revoked_at.isoformat()}): it may have been signed with a stolen key",
            reason="time",
        )
    validity = f"valid {trusted.not_before:%Y-%m-%d} to {trusted.not_after:%Y-%m-%d}" + (
        f", revoked {trusted.revoked_at:%Y-%m-%dT%H:%M:%SZ}, after it" if trusted.revoked_at else ""
    )
    position = (
        f"published at {bundle['checkpoint'].get('topic')}@{bundle['checkpoint'].get('offset')}"
        if bundle["checkpoint"].get("offset") is not None
        else "(not published)"
    )
    ce_type = (_header(headers, "ce_type") or b"?").decode("utf-8", "replace")
    return ProofSummary(
        agency,
        entry.seq,
        entry.direction,
        entry.ce_id,
        ce_type,
        trusted.agency,
        signed_at,
        trusted.key_id,
        validity,
        checkpoint.count,
        checkpoint.at,
        position,
    )


def _ce_time(headers: list[tuple[str, bytes | None]]) -> datetime:
    raw = _header(headers, "ce_time")
    try:
        moment = datetime.fromisoformat((raw or b"").decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProofError(
            "the record has no readable ce_time: its time cannot be known", reason="record-signature"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parts(bundle: Any) -> tuple[LogEntry, str, bytes, list[bytes], str, list[str]]:
    def bad(why: str) -> ProofError:
        return ProofError(f"not an evidence bundle: {why}", reason="malformed")

    if not isinstance(bundle, dict) or bundle.get("format") != PROOF_FORMAT or bundle.get("version") != PROOF_VERSION:
        raise bad(f"format must be {PROOF_FORMAT!r} version {PROOF_VERSION}")
    raw, agency = bundle.get("entry"), bundle.get("agency")
    checkpoint, trust = bundle.get("checkpoint"), bundle.get("trust")
    if not isinstance(raw, dict) or not isinstance(agency, str) or not isinstance(checkpoint, dict):
        raise bad("entry, agency and checkpoint are required")
    if not isinstance(trust, list) or not all(isinstance(t, str) for t in trust):
        raise bad("trust must be a list of trust records (text)")
    if not isinstance(checkpoint.get("value"), str):
        raise bad("checkpoint.value must be the checkpoint's text")
    try:
        texts = {
            name: raw[name] for name in ("direction", "topic", "ce_id", "sender", "group", "verification", "outcome")
        }
        numbers = {name: raw[name] for name in ("seq", "logged_at_ms", "partition", "offset")}
        headers_raw = raw["headers"]
    except KeyError as exc:
        raise bad(f"entry.{exc.args[0]} is missing") from exc
    if not all(isinstance(v, str) for v in texts.values()):
        raise bad("entry's text fields must be text")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()) or numbers["seq"] < 1:
        raise bad("entry's numbers must be whole numbers (seq from 1)")
    if not isinstance(headers_raw, list) or not all(
        isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) for h in headers_raw
    ):
        raise bad("entry.headers must be [name, base64 or null] pairs")
    headers = [(name, _unb64(value, f"entry.headers[{name!r}]")) for name, value in headers_raw]
    body = body_bytes(_unb64(raw.get("key"), "entry.key"), _unb64(raw.get("value"), "entry.value"), headers)
    try:
        entry = LogEntry(
            numbers["seq"],
            numbers["logged_at_ms"],
            texts["direction"],
            texts["topic"],
            numbers["partition"],
            numbers["offset"],
            texts["ce_id"],
            texts["sender"],
            texts["group"],
            texts["verification"],
            texts["outcome"],
            hashlib.sha256(body).digest(),
            body,
        )
        entry.canonical()  # numbers out of their field's range fail here
        previous = bytes.fromhex(bundle.get("previous_hash", ""))
        chain = [bytes.fromhex(d) for d in bundle.get("chain", [])]
    except (ValueError, TypeError, OverflowError, struct.error) as exc:
        raise bad(f"{type(exc).__name__} in entry, previous_hash or chain") from exc
    if len(previous) != 32 or any(len(d) != 32 for d in chain):
        raise bad("previous_hash and chain digests must be 32 bytes in hex")
    return entry, agency, previous, chain, checkpoint["value"], trust
