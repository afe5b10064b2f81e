"""The message log: every record an agency sends and receives, hash-chained, checkpointed, witnessed.

Like X-Road's message log (every message, its signature and a timestamp, archived so that removal or
alteration is detectable), each agency's connector appends one **entry** per record it sent (when
Kafka acknowledged it, or failed to) and per record it received (with the verification outcome and
what became of it: applied, a duplicate, or dead-lettered with its reason). The entry keeps the
record's wire bytes — Kafka key, value and headers as sent or received, so the signature still
verifies and personal fields stay encrypted exactly as they were on the bus.

The log is a SQLite file beside the agency store (``<store name>.log.sqlite3``, mode 0600, folder
0700). Byte by byte (``u8``/``u32``/``u64`` big-endian; ``i32``/``i64`` two's complement; ``str`` is
``u32 length | UTF-8``, header names with ``surrogateescape``; ``opt`` is ``u8 present (1/0) | u32
length | bytes``, a NULL told apart from empty):

    body   = b"ENLACE-LOG-BODY-1\\n" | opt key | opt value
             | u32 n | n times (str name | opt value)           headers in the order received
    entry  = b"ENLACE-LOG-1\\n" | u64 seq | u64 logged_at_ms | str direction ("sent"/"received")
             | str topic | i32 partition | i64 offset            -1 where not known
             | str ce_id | str sender | str group | str verification | str outcome
             | SHA-256(body)                                     32 bytes: the body digest
    head_0 = SHA-256(b"enlace-log-genesis-v1\\x00" | agency URN)
    head_n = SHA-256(b"enlace-log-chain-v1\\x00" | head_(n-1) | SHA-256(entry_n))

``sender`` is this agency for what it sent and the verified sender for what it received ("" when
the signature did not verify); ``verification`` is ``verified``, the refusal's reason
(``bad-signature``, ``unknown-key``...), ``unchecked`` (refused before the signature was read: size,
envelope) or ``off`` (signatures turned off); ``outcome`` is ``acknowledged`` / ``failed`` for sends
and ``applied`` / ``duplicate`` / ``dead-lettered:<reason>`` for receipts.

The chain holds the body's digest, not the body: retention (the policy's ``topics.retention`` for the
record's topic, ``Policy.retention_of``) drops an old entry's body and keeps its fields and digest, so
the whole chain still verifies; what a pruned entry said can no longer be shown, only that it was
there. An entry's place, fields and body are fixed by its hash: altering one, removing one or
swapping two breaks the chain at the first entry touched (``verify_log`` names it).

**Checkpoints.** After ``checkpoint_every`` new entries, or ``checkpoint_interval_s`` with new ones,
and when the connector closes, the agency signs ``(agency, count, head, time)`` with its Ed25519 key
and publishes it to the shared checkpoints topic (``enlace.checkpoints``; Kafka key: the agency
URN). Its value (UTF-8 JSON, like a trust record)::

    {"version": 1, "statement": "<JSON text, exactly as signed>", "signer": "ed25519:<key id>",
     "signature": "<base64url, no padding, of Ed25519(key, b'enlace-log-checkpoint-v1' + 0x00 + statement)>"}

and the statement's members: ``agency``, ``count`` (entries covered: head_count), ``head`` (hex) and
``time`` (ISO-8601 UTC, milliseconds). Every agency may write that topic and read it; the ACLs cannot
say *which* key an agency writes under, so readers check that the signer's key belongs to the agency
the checkpoint names. Other agencies' connectors **witness** it (``CheckpointWitness``: verify, then
store it in their own log's ``enlace_log_witnessed``): an agency that rewrote its history — even
recomputing every hash and re-signing — no longer matches the checkpoints the others hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from bus import EnlaceError, SignatureError
from bus._built import native as _native  # the C build of body_bytes, or None
from bus._files import create_private_file
from bus.identity import AgencyKey, TrustStore
from bus.transport import Consumer, KafkaClientConfig, Record, SendFuture

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointWitness",
    "LogEntry",
    "LogProblem",
    "LogVerification",
    "MessageLog",
    "WitnessedCheckpoint",
    "body_bytes",
    "chain_head",
    "entry_of_row",
    "genesis_head",
    "log_path_for",
    "open_log",
    "read_checkpoint",
    "verify_log",
    "witnessed_in",
]

_log = logging.getLogger("connectors")

_ENTRY_MAGIC = b"ENLACE-LOG-1\n"
_BODY_MAGIC = b"ENLACE-LOG-BODY-1\n"
_GENESIS_TAG = b"enlace-log-genesis-v1\x00"
_CHAIN_TAG = b"enlace-log-chain-v1\x00"
_CHECKPOINT_TAG = b"enlace-log-checkpoint-v1\x00"
CHECKPOINT_VERSION = 1
_U32 = struct.Struct(">I")
_TIMES, _PLACE = struct.Struct(">QQ"), struct.Struct(">iq")  # seq and logged_at_ms; partition and offset

_SCHEMA = """
CREATE TABLE IF NOT EXISTS enlace_log_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enlace_log (
    seq INTEGER PRIMARY KEY, logged_at_ms INTEGER NOT NULL, direction TEXT NOT NULL,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    ce_id TEXT NOT NULL, sender TEXT NOT NULL, consumer_group TEXT NOT NULL,
    verification TEXT NOT NULL, outcome TEXT NOT NULL,
    body_digest BLOB NOT NULL, body BLOB,            -- body NULL once retention pruned it
    pruned_at_ms INTEGER, hash BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS enlace_log_ce_id ON enlace_log (ce_id);
CREATE TABLE IF NOT EXISTS enlace_log_checkpoints (
    count INTEGER PRIMARY KEY, head BLOB NOT NULL, at_ms INTEGER NOT NULL, value BLOB NOT NULL,
    topic TEXT, partition INTEGER, "offset" INTEGER);   -- where it was published, once acknowledged
CREATE TABLE IF NOT EXISTS enlace_log_witnessed (
    agency TEXT NOT NULL, count INTEGER NOT NULL, head BLOB NOT NULL, at_ms INTEGER NOT NULL,
    value BLOB NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    seen_at_ms INTEGER NOT NULL, PRIMARY KEY (agency, count, head)) WITHOUT ROWID;
"""

_FLUSH_EVERY_S = 0.2
_FLUSH_AT = 2000  # buffered entries that wake the writer before its interval
_PRUNE_EVERY_S = 3600.0
_PUBLISH_TIMEOUT_S = 10.0
_FIRST_PUBLISH_BACKOFF_S = 0.5  # a checkpoint that could not be published is tried again after this, doubling,
_MAX_PUBLISH_BACKOFF_S = 60.0  # up to this

Headers = list[tuple[str, bytes | None]]
PublishCheckpoint = Callable[[bytes], SendFuture]
"""Sends one checkpoint value to the checkpoints topic (the connector's producer)."""
RetentionOf = Callable[[str], float | None]
"""How long (seconds) entries of a topic keep their bodies; None: as long as the log."""


# -- the format ---------------------------------------------------------------------------------------
def _str(text: str) -> bytes:
    data = text.encode("utf-8", "surrogateescape")
    return _U32.pack(len(data)) + data


def _opt(data: bytes | None) -> bytes:
    return b"\x00" if data is None else b"\x01" + _U32.pack(len(data)) + bytes(data)


# Texts that repeat from record to record (header names; an entry's direction, topic, sender, group,
# verification and outcome), length-prefixed once. They come from the wire too: only short ones
# are kept, and only so many.
_TEXTS: dict[str, bytes] = {}
_TEXTS_LIMIT, _TEXT_CACHED_UP_TO = 4096, 512


def _repeated(text: str) -> bytes:
    """``_str(text)``, remembered."""
    encoded = _TEXTS.get(text)
    if encoded is None:
        encoded = _str(text)
        if len(_TEXTS) < _TEXTS_LIMIT and len(encoded) <= _TEXT_CACHED_UP_TO:
            _TEXTS[text] = encoded
    return encoded


def body_bytes(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]) -> bytes:
    """The entry's body: the record's wire bytes (see the module docstring)."""
    if _native is not None:
        body = _native.log_body(_BODY_MAGIC, key, value, headers)
        if body is not None:
            return body
    parts = [_BODY_MAGIC, _opt(key), _opt(value), _U32.pack(len(headers))]
    append, pack = parts.append, _U32.pack
    for name, header_value in headers:
        append(_repeated(name))
        if header_value is None:
            append(b"\x00")
        else:
            append(b"\x01")
            append(pack(len(header_value)))
            append(header_value)
    return b"".join(parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ValueError("truncated")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def u32(self) -> int:
        (value,) = _U32.unpack(self.take(4))
        return int(value)

    def opt(self) -> bytes | None:
        flag = self.take(1)
        if flag == b"\x00":
            return None
        if flag != b"\x01":
            raise ValueError("bad presence flag")
        return self.take(self.u32())

    def text(self) -> str:
        return self.take(self.u32()).decode("utf-8", "surrogateescape")


def parse_body(body: bytes) -> tuple[bytes | None, bytes | None, Headers]:
    """Key, value and headers from an entry's body.

    Raises:
        ValueError: not a body :func:`body_bytes` wrote.
    """
    reader = _Reader(body)
    if reader.take(len(_BODY_MAGIC)) != _BODY_MAGIC:
        raise ValueError("not an entry body")
    key, value = reader.opt(), reader.opt()
    headers = [(reader.text(), reader.opt()) for _ in range(reader.u32())]
    if reader.at != len(body):
        raise ValueError("trailing bytes")
    return key, value, headers


@dataclass(frozen=True)
class LogEntry:
    """One entry of an agency's message log (the fields the chain covers, and the body if kept)."""

    seq: int
    logged_at_ms: int
    direction: str
    topic: str
    partition: int
    offset: int
    ce_id: str
    sender: str
    group: str
    verification: str
    outcome: str
    body_digest: bytes
    body: bytes | None = None

    def canonical(self) -> bytes:
        """The entry's canonical bytes (the module docstring's ``entry``)."""
        return entry_canonical(
            self.seq,
            self.logged_at_ms,
            self.direction,
            self.topic,
            self.partition,
            self.offset,
            self.ce_id,
            self.sender,
            self.group,
            self.verification,
            self.outcome,
            self.body_digest,
        )

    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: what the chain folds in."""
        return hashlib.sha256(self.canonical()).digest()

    def record(self) -> tuple[bytes | None, bytes | None, Headers]:
        """The record's key, value and headers.

        Raises:
            ValueError: the body was pruned, or is not one the log wrote.
        """
        if self.body is None:
            raise ValueError(f"entry {self.seq}'s body was pruned by retention")
        return parse_body(self.body)


def entry_canonical(
    seq: int,
    logged_at_ms: int,
    direction: str,
    topic: str,
    partition: int,
    offset: int,
    ce_id: str,
    sender: str,
    group: str,
    verification: str,
    outcome: str,
    body_digest: bytes,
) -> bytes:
    """An entry's canonical bytes from its fields (:meth:`LogEntry.canonical`, without the object)."""
    return b"".join(
        (
            _ENTRY_MAGIC,
            _TIMES.pack(seq, logged_at_ms),
            _repeated(direction),
            _repeated(topic),
            _PLACE.pack(partition, offset),
            _str(ce_id),
            _repeated(sender),
            _repeated(group),
            _repeated(verification),
            _repeated(outcome),
            body_digest,
        )
    )


def entry_of_row(row: tuple[Any, ...]) -> LogEntry:
    """A :class:`LogEntry` from the log table's columns, seq to body_digest (and body, if selected)."""
    seq, at_ms, direction, topic, partition, offset, ce_id, sender, group, verification, outcome, digest = row[:12]
    body = row[12] if len(row) > 12 else None
    return LogEntry(
        int(seq),
        int(at_ms),
        direction,
        topic,
        int(partition),
        int(offset),
        ce_id,
        sender,
        group,
        verification,
        outcome,
        bytes(digest),
        None if body is None else bytes(body),
    )


def genesis_head(agency: str) -> bytes:
    """The chain's start for ``agency``'s log (head_0)."""
    return hashlib.sha256(_GENESIS_TAG + agency.encode()).digest()


def chain_head(previous: bytes, entry_digest: bytes) -> bytes:
    """head_n from head_(n-1) and SHA-256 of entry n."""
    return hashlib.sha256(_CHAIN_TAG + previous + entry_digest).digest()


def log_path_for(store_path: str | os.PathLike[str]) -> Path:
    """The message log beside an agency store: ``crm.sqlite3`` → ``crm.log.sqlite3``."""
    path = Path(store_path)
    return path.with_name(path.name.removesuffix(".sqlite3") + ".log.sqlite3")


# -- checkpoints --------------------------------------------------------------------------------------
def _iso_ms(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class CheckpointError(SignatureError):
    """A checkpoint that proves nothing; ``reason`` says why (``malformed``, ``unknown-key``,
    ``wrong-agency``, ``bad-signature``, ``revoked-key``, ``expired-key``)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Checkpoint:
    """An agency's signed statement that its log's first ``count`` entries end in ``head``.

    ``value`` is the checkpoint as published (the module docstring's layout); ``statement`` the exact
    signed bytes inside it.
    """

    agency: str
    count: int
    head: bytes
    at: datetime
    signer: str
    signature: bytes
    statement: bytes
    value: bytes

    @classmethod
    def make(cls, key: AgencyKey, *, count: int, head: bytes, at_ms: int) -> Checkpoint:
        """Sign a checkpoint with the agency's key."""
        statement = json.dumps(
            {"agency": key.agency, "count": count, "head": head.hex(), "time": _iso_ms(at_ms)},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        signature = key.private_key.sign(_CHECKPOINT_TAG + statement)
        value = json.dumps(
            {
                "version": CHECKPOINT_VERSION,
                "statement": statement.decode(),
                "signer": key.key_id,
                "signature": _b64url(signature),
            },
            separators=(",", ":"),
        ).encode()
        return read_checkpoint(value)

    @property
    def at_ms(self) -> int:
        return int(self.at.timestamp() * 1000)

    def verify(self, trust: TrustStore) -> None:
        """Check the signature, that the signer's key is the named agency's and valid at ``at``.

        Raises:
            CheckpointError: it does not hold (``reason`` says why).
        """
        trusted = trust.get(self.signer)
        if trusted is None:
            raise CheckpointError(f"checkpoint signed by {self.signer}, a key nobody trusts", reason="unknown-key")
        if trusted.agency != self.agency:
            raise CheckpointError(
                f"checkpoint of {self.agency} signed by {self.signer}, which is {trusted.agency}'s key",
                reason="wrong-agency",
            )
        try:
            trusted.check_usable(self.at)
        except SignatureError as exc:
            reason = getattr(exc, "reason", None) or "expired-key"
            raise CheckpointError(f"checkpoint's key at its time: {exc}", reason=reason) from exc
        try:
            trusted.public_key.verify(self.signature, _CHECKPOINT_TAG + self.statement)
        except InvalidSignature as exc:
            raise CheckpointError(
                f"checkpoint {self.count} of {self.agency}: its signature does not match its statement",
                reason="bad-signature",
            ) from exc


def read_checkpoint(value: bytes | None) -> Checkpoint:
    """Parse a checkpoint value (without verifying its signature: see :meth:`Checkpoint.verify`).

    Raises:
        CheckpointError: anything but a well-formed checkpoint (reason ``malformed``).
    """

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint is malformed: {why}", reason="malformed")

    if value is None:
        raise bad("no value")
    try:
        outer = json.loads(value)
        if not isinstance(outer, dict) or set(outer) != {"version", "statement", "signer", "signature"}:
            raise bad("members must be version, statement, signer, signature")
        if outer["version"] != CHECKPOINT_VERSION:
            raise bad(f"version is not {CHECKPOINT_VERSION}")
        statement_text, signer, signature_text = outer["statement"], outer["signer"], outer["signature"]
        if not all(isinstance(v, str) for v in (statement_text, signer, signature_text)):
            raise bad("members must be strings")
        statement = statement_text.encode()
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        body = json.loads(statement)
        if not isinstance(body, dict) or set(body) != {"agency", "count", "head", "time"}:
            raise bad("statement members must be agency, count, head, time")
        agency, count, head, at = body["agency"], body["count"], bytes.fromhex(body["head"]), body["time"]
        if not isinstance(agency, str) or not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise bad("agency must be text and count a whole number")
        if len(head) != 32 or not isinstance(at, str):
            raise bad("head must be 32 bytes in hex and time a text")
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise bad("time has no offset")
    except CheckpointError:
        raise
    except (ValueError, TypeError, RecursionError, UnicodeError, binascii.Error) as exc:
        raise bad(type(exc).__name__) from exc
    return Checkpoint(agency, count, head, moment, signer, signature, statement, bytes(value))


# -- the log ------------------------------------------------------------------------------------------
def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        return connection
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


# when (ms), direction, topic, partition, offset, ce_id, sender, group, verification, outcome, body
_Pending = tuple[int, str, str, int, int, str, str, str, str, str, bytes]


class MessageLog:
    """One agency's append-only, hash-chained message log (see the module docstring).

    Appending (:meth:`sent`, :meth:`received`) only queues the record: a writer thread chains and
    stores queued entries every 0.2 s (or when 2,000 wait), in one SQLite transaction that reads
    the head under the write lock, so processes of one agency sharing the file extend one chain.
    :meth:`flush` writes what is queued now (a consumer calls it before committing its batch's
    offsets, so a record is in the log before Kafka lets it go). The same thread makes and
    publishes checkpoints and prunes bodies past their retention.

    Args:
        path: the SQLite file (created 0600, its folder 0700).
        agency: the owning agency's URN (fixed in the file at creation).
        signing_key: signs checkpoints; None: no checkpoints (a receive-only connector).
        publish: sends a checkpoint to the checkpoints topic; None: checkpoints stay in the file.
        checkpoint_topic: where ``publish`` sends them (kept with each acknowledged checkpoint).
        checkpoint_every, checkpoint_interval_s: a checkpoint after this many entries, or this
            long with new ones.
        retention: how long a topic's entries keep their bodies (None: always).

    Raises:
        EnlaceError: the file belongs to another agency's log.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        agency: str,
        signing_key: AgencyKey | None = None,
        publish: PublishCheckpoint | None = None,
        checkpoint_topic: str = "enlace.checkpoints",
        checkpoint_every: int = 1000,
        checkpoint_interval_s: float = 60.0,
        retention: RetentionOf | None = None,
    ) -> None:
        self.path, self.agency = Path(path), agency
        create_private_file(self.path)
        self._key, self._publish, self.checkpoint_topic = signing_key, publish, checkpoint_topic
        self._every, self._interval_s, self._retention = checkpoint_every, checkpoint_interval_s, retention
        self._db = _connect(self.path)
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO enlace_log_meta VALUES ('agency', ?)", (agency,))
        (owner,) = self._db.execute("SELECT value FROM enlace_log_meta WHERE name = 'agency'").fetchone()
        if owner != agency:
            self._db.close()
            raise EnlaceError(f"{self.path} is {owner}'s message log, not {agency}'s")
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()  # the queue
        self._write_lock = threading.Lock()  # the connection
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._last_checkpoint_at = time.monotonic()
        self._publish_failures, self._next_publish_at = 0, 0.0  # backoff after a failed publish
        self._pruned_at = 0.0
        self._thread = threading.Thread(target=self._run, name=f"message-log-{agency.rsplit(':', 1)[-1]}", daemon=True)
        self._thread.start()

    # -- appending (any thread, cheap) --------------------------------------------------------------
    def sent(
        self, topic: str, partition: int, offset: int, *, ce_id: str, body: bytes, outcome: str = "acknowledged"
    ) -> None:
        """Log a record this agency sent (``outcome``: ``acknowledged`` or ``failed``).

        Args:
            body: the record as sent, :func:`body_bytes` of its key, value and signed headers (made
                by the caller when it sends, so that nothing else of the record is kept meanwhile).
        """
        self._queue((self._now_ms(), "sent", topic, partition, offset, ce_id, self.agency, "", "signed", outcome, body))

    def received(self, record: Record, *, ce_id: str, sender: str, group: str, verification: str, outcome: str) -> None:
        """Log a record this agency received, with its verification outcome and what became of it."""
        self._queue(
            (
                self._now_ms(),
                "received",
                record.topic,
                record.partition,
                record.offset,
                ce_id,
                sender,
                group,
                verification,
                outcome,
                body_bytes(record.key, record.value, record.headers),
            )
        )

    @staticmethod
    def _now_ms() -> int:
        return time.time_ns() // 1_000_000

    def _queue(self, pending: _Pending) -> None:
        with self._lock:
            self._pending.append(pending)
            many = len(self._pending) >= _FLUSH_AT
        if many:
            self._wake.set()

    # -- writing ------------------------------------------------------------------------------------
    def flush(self) -> int:
        """Chain and store every queued entry now; returns the log's entry count."""
        with self._write_lock:
            return self._write_pending()

    def _write_pending(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq, hash FROM enlace_log ORDER BY seq DESC LIMIT 1").fetchone()
            seq, head = (int(row[0]), bytes(row[1])) if row else (0, genesis_head(self.agency))
            rows = []
            sha256 = hashlib.sha256
            for queued in pending:
                seq += 1
                fields, body = queued[:10], queued[10]  # logged_at_ms to outcome, and the body
                body_digest = sha256(body).digest()
                canonical = entry_canonical(seq, *fields, body_digest)
                head = sha256(_CHAIN_TAG + head + sha256(canonical).digest()).digest()  # chain_head, inline
                rows.append((seq, *fields, body_digest, body, head))
            if rows:
                db.executemany(
                    'INSERT INTO enlace_log (seq, logged_at_ms, direction, topic, partition, "offset", ce_id, sender,'
                    " consumer_group, verification, outcome, body_digest, body, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except BaseException:
            db.execute("ROLLBACK")
            with self._lock:  # kept for the next round, in their order
                self._pending[:0] = pending
            raise
        db.execute("COMMIT")
        return seq

    def checkpoint(self, *, force: bool = False, publish_timeout_s: float = _PUBLISH_TIMEOUT_S) -> Checkpoint | None:
        """Sign a checkpoint of the log's head if due (or ``force``) and publish the unpublished ones.

        Returns:
            The checkpoint made now, or None (no key, nothing new, not due).
        """
        made = None
        with self._write_lock:
            count = self._write_pending()
            if self._key is not None and count > 0:
                row = self._db.execute("SELECT max(count) FROM enlace_log_checkpoints").fetchone()
                last = int(row[0] or 0)
                due = count - last >= self._every or time.monotonic() - self._last_checkpoint_at >= self._interval_s
                if count > last and (due or force):
                    (head,) = self._db.execute("SELECT hash FROM enlace_log WHERE seq = ?", (count,)).fetchone()
                    made = Checkpoint.make(self._key, count=count, head=bytes(head), at_ms=self._now_ms())
                    self._db.execute(
                        "INSERT OR IGNORE INTO enlace_log_checkpoints (count, head, at_ms, value) VALUES (?, ?, ?, ?)",
                        (made.count, made.head, made.at_ms, made.value),
                    )
                    self._last_checkpoint_at = time.monotonic()
            unpublished = self._db.execute(
                'SELECT count, value FROM enlace_log_checkpoints WHERE "offset" IS NULL ORDER BY count'
            ).fetchall()
        if self._publish is not None and unpublished and (force or time.monotonic() >= self._next_publish_at):
            self._publish_checkpoints(unpublished, publish_timeout_s)
        return made

    def _publish_checkpoints(self, unpublished: list[tuple[int, bytes]], timeout_s: float) -> None:
        assert self._publish is not None
        try:
            futures = [(count, self._publish(bytes(value))) for count, value in unpublished]
            acknowledged = [(count, future.get(timeout=timeout_s)) for count, future in futures]
        except Exception as exc:  # kept, and published on a later round, after a backoff
            self._publish_failures += 1
            backoff = min(_MAX_PUBLISH_BACKOFF_S, _FIRST_PUBLISH_BACKOFF_S * 2 ** min(self._publish_failures - 1, 8))
            self._next_publish_at = time.monotonic() + backoff
            _log.warning(
                "log checkpoint of %s not published yet (%d unpublished), trying again in %.1fs: %s",
                self.agency,
                len(unpublished),
                backoff,
                exc,
            )
            return
        self._publish_failures, self._next_publish_at = 0, 0.0
        with self._write_lock:
            self._db.executemany(
                'UPDATE enlace_log_checkpoints SET topic = ?, partition = ?, "offset" = ? WHERE count = ?',
                [(ack.topic, ack.partition, ack.offset, count) for count, ack in acknowledged],
            )

    def witness(self, checkpoint: Checkpoint, *, topic: str, partition: int, offset: int) -> bool:
        """Keep another agency's verified checkpoint; False (and a warning) if it contradicts one kept before."""
        with self._write_lock:
            known = self._db.execute(
                "SELECT head FROM enlace_log_witnessed WHERE agency = ? AND count = ?",
                (checkpoint.agency, checkpoint.count),
            ).fetchall()
            self._db.execute(
                "INSERT OR IGNORE INTO enlace_log_witnessed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    checkpoint.agency,
                    checkpoint.count,
                    checkpoint.head,
                    checkpoint.at_ms,
                    checkpoint.value,
                    topic,
                    partition,
                    offset,
                    self._now_ms(),
                ),
            )
        forked = any(bytes(head) != checkpoint.head for (head,) in known)
        if forked:
            _log.error(
                "%s published two different heads for its log's first %d entries (%s@%d): its history was rewritten",
                checkpoint.agency,
                checkpoint.count,
                topic,
                offset,
            )
        return not forked

    def witnessed_offset(self, topic: str, partition: int) -> int | None:
        """The next checkpoints-topic offset to read (after the last one witnessed), if any."""
        with self._write_lock:
            (last,) = self._db.execute(
                'SELECT max("offset") FROM enlace_log_witnessed WHERE topic = ? AND partition = ?', (topic, partition)
            ).fetchone()
        return None if last is None else int(last) + 1

    def prune(self, *, now_ms: int | None = None) -> int:
        """Drop the bodies of entries older than their topic's retention (the chain stays whole)."""
        if self._retention is None:
            return 0
        now_ms = now_ms if now_ms is not None else self._now_ms()
        pruned = 0
        with self._write_lock:
            topics = [t for (t,) in self._db.execute("SELECT DISTINCT topic FROM enlace_log WHERE body IS NOT NULL")]
            for topic in topics:
                keep_s = self._retention(topic)
                if keep_s is None:
                    continue
                pruned += self._db.execute(
                    "UPDATE enlace_log SET body = NULL, pruned_at_ms = ? WHERE topic = ? AND body IS NOT NULL"
                    " AND logged_at_ms < ?",
                    (now_ms, topic, now_ms - int(keep_s * 1000)),
                ).rowcount
        return pruned

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(_FLUSH_EVERY_S)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.checkpoint()
                if time.monotonic() - self._pruned_at >= _PRUNE_EVERY_S:
                    self._pruned_at = time.monotonic()
                    if pruned := self.prune():
                        _log.info("message log of %s: %d bodies past their retention pruned", self.agency, pruned)
            except Exception as exc:  # the entries stay queued and are written on the next round
                _log.warning("message log of %s not written yet: %s", self.agency, exc)

    def close(self, *, publish_timeout_s: float = 5.0) -> None:
        """Write what is queued, make a last checkpoint and publish it (waiting a bounded time), close.

        Closing again does nothing.
        """
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=30)
        try:
            self.checkpoint(force=True, publish_timeout_s=publish_timeout_s)
        finally:
            with self._write_lock:
                self._db.close()


# -- witnessing ---------------------------------------------------------------------------------------
class CheckpointWitness:
    """Follows the checkpoints topic and keeps every other agency's verified checkpoint in ``log``.

    A checkpoint is kept only if its signer's key (from the trust store) is the agency it names and
    was valid at its time; one that is not is logged with its reason and ignored. Reading resumes
    after the last checkpoint witnessed.
    """

    def __init__(
        self, kafka: KafkaClientConfig, log: MessageLog, trust: TrustStore, *, topic: str, poll_ms: int = 500
    ) -> None:
        self._kafka, self._log, self._trust, self.topic, self._poll_ms = kafka, log, trust, topic, poll_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.witnessed = 0
        self.rejected: list[tuple[int, str]] = []

    def start(self) -> CheckpointWitness:
        """Start following in a daemon thread."""
        self._thread = threading.Thread(target=self._follow, name=f"witness-{self.topic}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _follow(self) -> None:
        try:
            consumer = Consumer(self._kafka, group=None, isolation_level="read_uncommitted")
        except Exception as exc:
            _log.warning("not witnessing checkpoints on %s: %s", self.topic, exc)
            return
        try:
            partitions = consumer.partitions_for(self.topic)
            if not partitions:
                _log.warning("not witnessing checkpoints: topic %s does not exist", self.topic)
                return
            consumer.assign(partitions)
            consumer.seek_to_beginning()
            starts = {(p.topic, p.partition): self._log.witnessed_offset(p.topic, p.partition) or 0 for p in partitions}
            while not self._stop.is_set():
                for record in consumer.poll(self._poll_ms):
                    if record.offset >= starts.get((record.topic, record.partition), 0):
                        self._witness(record)
        except Exception as exc:
            _log.warning("stopped witnessing checkpoints on %s: %s", self.topic, exc)
        finally:
            consumer.close()

    def _witness(self, record: Record) -> None:
        try:
            checkpoint = read_checkpoint(record.value)
            if record.key != checkpoint.agency.encode():
                raise CheckpointError("checkpoint stored under another agency's Kafka key", reason="wrong-agency")
            if checkpoint.agency == self._log.agency:
                return  # its own: the log holds it already
            checkpoint.verify(self._trust)
        except CheckpointError as exc:
            self.rejected.append((record.offset, exc.reason))
            _log.warning("ignoring checkpoint at %s@%d (%s): %s", record.topic, record.offset, exc.reason, exc)
            return
        self._log.witness(checkpoint, topic=record.topic, partition=record.partition, offset=record.offset)
        self.witnessed += 1


# -- verifying ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogProblem:
    """One thing wrong with a log: the first entry concerned, the rule, and a sentence."""

    seq: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """A checkpoint of this log as someone else kept it (who, and where it was published)."""

    checkpoint: Checkpoint
    witness: str
    topic: str = ""
    partition: int = -1
    offset: int = -1


@dataclass
class LogVerification:
    """What :func:`verify_log` found."""

    agency: str
    entries: int = 0
    pruned: int = 0
    checkpoints: int = 0
    witnessed: int = 0
    problems: list[LogProblem] | None = None

    @property
    def holds(self) -> bool:
        return not self.problems


def _entries(db: sqlite3.Connection) -> Iterator[tuple[LogEntry, bytes]]:
    for row in db.execute(
        'SELECT seq, logged_at_ms, direction, topic, partition, "offset", ce_id, sender, consumer_group,'
        " verification, outcome, body_digest, body, hash FROM enlace_log ORDER BY seq"
    ):
        yield entry_of_row(row[:13]), bytes(row[13])


def open_log(path: str | os.PathLike[str]) -> tuple[sqlite3.Connection, str]:
    """A read-only connection to a message log and the agency it belongs to.

    Raises:
        EnlaceError: the file is missing or not a message log.
    """
    file = Path(path)
    if not file.is_file():
        raise EnlaceError(f"{file}: no message log there")
    db = _connect(file, read_only=True)
    try:
        row = db.execute("SELECT value FROM enlace_log_meta WHERE name = 'agency'").fetchone()
    except sqlite3.DatabaseError as exc:
        db.close()
        raise EnlaceError(f"{file} is not a message log ({exc})") from exc
    if row is None:
        db.close()
        raise EnlaceError(f"{file} is not a message log: it names no agency")
    return db, str(row[0])


def witnessed_in(path: str | os.PathLike[str], agency: str) -> list[WitnessedCheckpoint]:
    """The checkpoints of ``agency`` that another agency's log (``path``) witnessed."""
    db, witness = open_log(path)
    try:
        rows = db.execute(
            'SELECT value, topic, partition, "offset" FROM enlace_log_witnessed WHERE agency = ? ORDER BY count',
            (agency,),
        ).fetchall()
    finally:
        db.close()
    return [WitnessedCheckpoint(read_checkpoint(bytes(v)), witness, t, p, o) for v, t, p, o in rows]


def verify_log(
    path: str | os.PathLike[str],
    *,
    witnessed: list[WitnessedCheckpoint] = (),  # type: ignore[assignment]
    trust: TrustStore | None = None,
    max_problems: int = 20,
) -> LogVerification:
    """Check a message log end to end: every entry's body against its digest, every entry's place and
    fields against the chain, the log's own checkpoints and the checkpoints others witnessed.

    Pruned entries (body dropped by retention) are checked by their fields and digest only, and
    counted in ``pruned``. With ``trust``, checkpoint signatures are checked too.

    Returns:
        The report; ``problems`` lists what is broken, the first broken entry first.

    Raises:
        EnlaceError: the file is not a message log.
    """
    db, agency = open_log(path)
    report = LogVerification(agency, problems=[])
    problems: list[LogProblem] = report.problems or []
    report.problems = problems
    try:
        own = [
            (read_checkpoint(bytes(value)), topic, partition, offset)
            for value, topic, partition, offset in db.execute(
                'SELECT value, topic, partition, "offset" FROM enlace_log_checkpoints ORDER BY count'
            )
        ]
        wanted = {c.count for c, *_ in own} | {w.checkpoint.count for w in witnessed}
        heads: dict[int, bytes] = {0: genesis_head(agency)}
        head, expected = genesis_head(agency), 1
        for entry, stored in _entries(db):
            report.entries += 1
            if entry.seq != expected:
                missing = f"entry {expected}" if entry.seq == expected + 1 else f"entries {expected} to {entry.seq - 1}"
                problems.append(LogProblem(expected, "log.missing", f"{missing} missing: removed from the log"))
            if entry.body is None:
                report.pruned += 1
            elif hashlib.sha256(entry.body).digest() != entry.body_digest:
                problems.append(
                    LogProblem(
                        entry.seq,
                        "log.body-altered",
                        "its record bytes (key, value or headers) are not those its digest in the chain holds: altered",
                    )
                )
            head = chain_head(head, entry.digest())
            if head != stored:
                problems.append(
                    LogProblem(
                        entry.seq,
                        "log.chain-broken",
                        "its fields or its place do not give the hash stored with it: altered, reordered, or an "
                        "entry before it was changed",
                    )
                )
                head = stored  # go on from what the log says, to find independent breaks
            if entry.seq in wanted:
                heads[entry.seq] = head
            expected = entry.seq + 1
            if len(problems) >= max_problems:
                break
        last = expected - 1
        for checkpoint, topic, _, offset in own:
            report.checkpoints += 1
            where = f" (published at {topic}@{offset})" if topic else ""
            _check_checkpoint(checkpoint, agency, heads, last, f"its own checkpoint{where}", trust, problems)
        for seen in witnessed:
            report.witnessed += 1
            label = f"the checkpoint {seen.witness} witnessed" + (
                f" at {seen.topic}@{seen.offset}" if seen.topic else ""
            )
            _check_checkpoint(seen.checkpoint, agency, heads, last, label, trust, problems)
    finally:
        db.close()
    problems.sort(key=lambda p: p.seq)
    return report


def _check_checkpoint(
    checkpoint: Checkpoint,
    agency: str,
    heads: dict[int, bytes],
    last: int,
    label: str,
    trust: TrustStore | None,
    problems: list[LogProblem],
) -> None:
    count = checkpoint.count
    if checkpoint.agency != agency:
        problems.append(LogProblem(count, "checkpoint.agency", f"{label} is {checkpoint.agency}'s, not {agency}'s"))
        return
    if trust is not None:
        try:
            checkpoint.verify(trust)
        except CheckpointError as exc:
            problems.append(LogProblem(count, f"checkpoint.{exc.reason}", f"{label}: {exc}"))
    if count > last:
        problems.append(
            LogProblem(
                last + 1,
                "log.truncated",
                f"{label} covers {count} entries, the log holds {last}: entries {last + 1} to {count} were removed",
            )
        )
    elif heads.get(count) != checkpoint.head:
        problems.append(
            LogProblem(
                count,
                "checkpoint.mismatch",
                f"{label} says the first {count} entries end in {checkpoint.head.hex()[:16]}..., the log's entries "
                "end elsewhere: an entry up to this one was rewritten",
            )
        )
