"""The agency store: one SQLite file per agency holding everything exactly-once needs.

It keeps the records each consumer group applied (by group, sender and ce_id), the positions it
dead-lettered (with the digest of what was there), both bound to the Kafka cluster's id and the
topic's id (so a new cluster or a topic created again under the same name never inherits another's
bookkeeping), the outbox (records ready to send: topic, key, value and headers, signed already)
and the agency's own tables. A handler's writes, the records it emits and the handled record's id
commit in one SQLite transaction, so a record redelivered after a crash is recognised and skipped
(exactly-once effects) and an emitted record is either stored with them or not at all.

Connections: each consumer's :class:`Batch` has its own, :meth:`AgencyStore.transaction` (writes not
caused by a received record) has one, the outbox publisher has one, and each reading thread has a
read-only one. WAL lets readers go on while one writer writes; ``BEGIN IMMEDIATE`` makes writers
of other processes of the agency wait for each other, and the writers of one process queue for
their turn first (:class:`_WriteTurn`), so the next one starts the moment the last one commits.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus._files import create_private_file

__all__ = ["AgencyStore", "Batch", "Outgoing", "Position", "Transaction"]

# Version 2 binds processed ids and dead-lettered positions to the cluster id and the topic id.
_LAYOUT_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS enlace_processed (
    cluster_id TEXT NOT NULL, topic_id TEXT NOT NULL,
    consumer_group TEXT NOT NULL, source TEXT NOT NULL, ce_id TEXT NOT NULL,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, processed_at REAL NOT NULL,
    PRIMARY KEY (cluster_id, topic_id, consumer_group, source, ce_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enlace_dead_lettered (
    cluster_id TEXT NOT NULL, topic_id TEXT NOT NULL,
    consumer_group TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    record_digest BLOB NOT NULL, reason TEXT NOT NULL, dead_lettered_at REAL NOT NULL,
    PRIMARY KEY (cluster_id, topic_id, consumer_group, topic, partition, "offset")) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS enlace_dead_lettered_age ON enlace_dead_lettered (dead_lettered_at);
CREATE TABLE IF NOT EXISTS enlace_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ce_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL, key BLOB, value BLOB NOT NULL, headers BLOB NOT NULL,
    created_at REAL NOT NULL,
    claimed_at REAL, claimed_by TEXT,     -- a publisher of this agency is sending it (see claim_pending)
    sent_at REAL);
CREATE INDEX IF NOT EXISTS enlace_outbox_pending ON enlace_outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS enlace_processed_age ON enlace_processed (processed_at);
"""

_MEMORY = ":memory:"
_LOOK_UP_AT_ONCE = 500  # ids per query of Batch.look_up (SQLite allows 32,766 variables)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record was read: the cluster, the incarnation of its topic, the partition and offset.

    ``cluster_id`` and ``topic_id`` are Kafka's (``bus.transport.TopicIdentity``); "" where the
    broker gives none (then the topic's name and the record's digest are what remains to tell
    records apart).
    """

    cluster_id: str
    topic_id: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Outgoing:
    """A record prepared for Kafka (validated, encoded, wrapped), as the outbox keeps it; the outbox
    publisher signs the records it sends together (one batch signature) just before sending them."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    ce_id: str


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row claimed for sending."""

    seq: int
    outgoing: Outgoing


Emitter = Callable[[Any], Outgoing]
"""Prepares a typed record for the outbox (the connector's outbound path)."""


def _no_emitter(record: Any) -> Outgoing:
    raise RuntimeError("this store has no outbound path: open it through AgencyConnector to emit records")


def encode_headers(headers: list[tuple[str, bytes]]) -> bytes:
    """Headers as length-prefixed bytes (u16 name length, name, u32 value length, value, repeated)."""
    parts = []
    for name, value in headers:
        encoded = name.encode()
        parts.append(struct.pack(">H", len(encoded)) + encoded + struct.pack(">I", len(value)) + value)
    return b"".join(parts)


def decode_headers(data: bytes) -> list[tuple[str, bytes]]:
    """The headers :func:`encode_headers` wrote."""
    headers, at = [], 0
    while at < len(data):
        (name_length,) = struct.unpack_from(">H", data, at)
        name = data[at + 2 : at + 2 + name_length].decode()
        at += 2 + name_length
        (value_length,) = struct.unpack_from(">I", data, at)
        headers.append((name, bytes(data[at + 4 : at + 4 + value_length])))
        at += 4 + value_length
    return headers


class Transaction:
    """What a handler (or a web request) writes through: the open transaction of the agency store.

    ``execute`` and ``executemany`` write the agency's own tables; ``emit`` adds a record to the
    outbox. Committing or rolling back is the connector's job: a handler's writes commit with the
    handled record's id, a :meth:`AgencyStore.transaction` block's on leaving it.
    """

    __slots__ = ("_before_write", "_connection", "_emitter")

    def __init__(
        self, connection: sqlite3.Connection, *, emitter: Emitter, before_write: Callable[[], None] = lambda: None
    ) -> None:
        self._connection, self._emitter, self._before_write = connection, emitter, before_write

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        """Run one statement inside the transaction."""
        self._before_write()
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        """Run one statement per row inside the transaction."""
        self._before_write()
        return self._connection.executemany(sql, rows)

    def emit(self, record: Any) -> str:
        """Prepare a record for sending now and keep it in the outbox; it is sent after the commit.

        The record is checked, encoded and wrapped in its envelope (carrying the current trace context,
        so it continues the trace of the record being handled) here, once; it is signed with the
        records sent with it. A resend after a crash sends the same record with the same ce_id (its
        signature may differ: another batch), so receivers deduplicate it by its ce_id.

        Args:
            record: a generated record model instance (e.g. ``CaseOpened(...)``).

        Returns:
            The record's ce_id.

        Raises:
            PolicyViolation: this agency may not publish this record.
            ValidationError: the record is invalid or too large for its topic.
        """
        outgoing = self._emitter(record)
        self._before_write()
        self._connection.execute(
            "INSERT INTO enlace_outbox (ce_id, topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                outgoing.ce_id,
                outgoing.topic,
                outgoing.key,
                outgoing.value,
                encode_headers(outgoing.headers),
                time.time(),
            ),
        )
        return outgoing.ce_id


# How long a writer waits for another: SQLite's busy timeout (another process), or its turn (this one).
_BUSY_TIMEOUT_S = 30.0


def _connect(target: str) -> sqlite3.Connection:
    # Autocommit mode: transactions are begun and ended explicitly, never implicitly.
    connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_S)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")  # a committed batch survives power loss, not only a crash
    return connection


class _WriteTurn:
    """The turn to write the store among one process's writers: consumers' batches, web
    transactions, the outbox publisher.

    SQLite makes a writer that finds the file locked retry on a timer (its busy handler sleeps 1, 2,
    5, 10 ... 100 ms between tries), so a writer queued behind a batch of a few milliseconds could
    wait tens more after it ended. Queued on this lock instead, the next writer is woken as the last
    one commits; SQLite's timer is left only between processes sharing the file. A turn is not
    re-entrant, and may be given back by another thread than the one that took it (a consumer's
    rebalance listener may commit its batch on the Kafka client's thread).
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait for the turn.

        Raises:
            sqlite3.OperationalError: another writer of this process kept it ``_BUSY_TIMEOUT_S``
                (as SQLite itself says after its busy timeout).
        """
        if not self._lock.acquire(timeout=_BUSY_TIMEOUT_S):
            raise sqlite3.OperationalError(
                f"database is locked: another writer of this process held the agency store for {_BUSY_TIMEOUT_S:.0f}s"
            )

    def give_back(self) -> None:
        """End the turn (after COMMIT or ROLLBACK): the next writer waiting goes now."""
        self._lock.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        """The turn for the ``with`` block."""
        self.take()
        try:
            yield
        finally:
            self.give_back()


class _NoTurn(_WriteTurn):
    """An in-memory store's: one connection used by one thread, where a turn would only deadlock."""

    def take(self) -> None:
        pass

    def give_back(self) -> None:
        pass


class AgencyStore:
    """One agency's SQLite file: processed ids, dead-lettered positions, the outbox, its own tables.

    Made by :class:`~connectors.AgencyConnector` (``connector.store``); an agency's desk writes
    through :meth:`transaction` or a handler's ``received.transaction`` and reads through
    :meth:`reader`.

    Args:
        path: the database file (created with mode 0600, its folder 0700, if missing), or
            ``":memory:"`` for unit tests (one connection shared by everything, one thread).
        schema: the agency's own ``CREATE TABLE IF NOT EXISTS`` statements.
        emitter: prepares a record for the outbox (the connector's outbound path).
        committed: called after every commit that may have added outbox rows (wakes the publisher).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        schema: str = "",
        emitter: Emitter = _no_emitter,
        committed: Callable[[], None] = lambda: None,
    ) -> None:
        self.in_memory = str(path) == _MEMORY
        self.path = Path(path)
        if not self.in_memory:
            create_private_file(self.path)
        self.emitter, self.committed = emitter, committed
        self._shared = _connect(_MEMORY) if self.in_memory else None
        self._writer = self.connect()
        _upgrade(self._writer)
        self._writer.executescript(_SCHEMA + schema)
        self._write_lock = threading.RLock()  # web threads share the write connection
        self._turn: _WriteTurn = _NoTurn() if self.in_memory else _WriteTurn()
        self._readers = threading.local()
        self._opened: list[sqlite3.Connection] = [self._writer]

    def connect(self) -> sqlite3.Connection:
        """A new connection to the store (the shared one when in memory)."""
        if self._shared is not None:
            return self._shared
        return _connect(str(self.path))

    # -- writes not caused by a received record ---------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction (``execute``, ``executemany``, ``emit``), committed on leaving the block
        and rolled back on any error; the outbox publisher is woken after the commit.

        It waits for its turn (a consumer's open batch, which has its own connection, holds it).
        """
        with self._write_lock, self._turn.held():
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._writer, emitter=self.emitter)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")
        self.committed()

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (for web pages and health counts)."""
        if self.in_memory:
            assert self._shared is not None
            return self._shared
        connection = getattr(self._readers, "connection", None)
        if connection is None:
            connection = self._readers.connection = self.connect()
            connection.execute("PRAGMA query_only=ON")
            self._opened.append(connection)
        return connection

    def batch(self) -> Batch:
        """A consumer's batch transaction on its own connection (one per subscription)."""
        return Batch(self.connect(), self)  # the batch closes its connection (its consumer's thread uses it)

    # -- the outbox ---------------------------------------------------------------------------------
    def claim_pending(self, connection: sqlite3.Connection, *, limit: int, claim_ttl_s: float) -> list[OutboxRow]:
        """Take up to ``limit`` unsent rows, oldest first, for one publishing round.

        One UPDATE claims them under SQLite's write lock, so two publishers (threads or processes
        sharing the file) never hold the same row. A claim older than ``claim_ttl_s`` belongs to a
        publisher that died mid-send and is taken over: that row may be sent twice, with its ce_id.
        """
        # A read first: in WAL it takes no lock, so an empty outbox never delays a consumer's batch.
        if connection.execute("SELECT 1 FROM enlace_outbox WHERE sent_at IS NULL LIMIT 1").fetchone() is None:
            return []
        now, token = time.time(), uuid.uuid4().hex
        with self._turn.held():
            connection.execute(
                "UPDATE enlace_outbox SET claimed_at = ?, claimed_by = ? WHERE seq IN ("
                " SELECT seq FROM enlace_outbox WHERE sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?)"
                " ORDER BY seq LIMIT ?)",
                (now, token, now - claim_ttl_s, limit),
            )
        rows = connection.execute(
            "SELECT seq, ce_id, topic, key, value, headers FROM enlace_outbox"
            " WHERE claimed_by = ? AND sent_at IS NULL ORDER BY seq",
            (token,),
        ).fetchall()
        return [
            OutboxRow(seq, Outgoing(topic, key, bytes(value), decode_headers(headers), ce_id))
            for seq, ce_id, topic, key, value, headers in rows
        ]

    def mark_sent(self, connection: sqlite3.Connection, seqs: list[int]) -> None:
        """Mark rows acknowledged by Kafka (one transaction: one fsync for the round)."""
        if seqs:
            now = time.time()
            with self._turn.held():
                _in_transaction(
                    connection, "UPDATE enlace_outbox SET sent_at = ? WHERE seq = ?", [(now, s) for s in seqs]
                )

    def release(self, connection: sqlite3.Connection, seqs: list[int]) -> None:
        """Give back rows that failed to send, so the next round (of any publisher) takes them."""
        if seqs:
            with self._turn.held():
                _in_transaction(
                    connection,
                    "UPDATE enlace_outbox SET claimed_at = NULL, claimed_by = NULL WHERE seq = ? AND sent_at IS NULL",
                    [(s,) for s in seqs],
                )

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows published (and not pruned yet) and pending."""
        sent, pending = (
            self.reader().execute("SELECT count(sent_at), count(*) - count(sent_at) FROM enlace_outbox").fetchone()
        )
        return {"published": int(sent), "pending": int(pending)}

    # -- upkeep -------------------------------------------------------------------------------------
    def prune(self, older_than_s: float, connection: sqlite3.Connection | None = None) -> int:
        """Forget processed ids, dead-lettered positions and sent outbox rows older than ``older_than_s``.

        Returns:
            How many rows were deleted.
        """
        cutoff = time.time() - older_than_s
        db = connection or self._writer
        with self._write_lock if connection is None else nullcontext(), self._turn.held():
            db.execute("BEGIN IMMEDIATE")
            try:
                deleted = db.execute("DELETE FROM enlace_processed WHERE processed_at < ?", (cutoff,)).rowcount
                deleted += db.execute("DELETE FROM enlace_dead_lettered WHERE dead_lettered_at < ?", (cutoff,)).rowcount
                deleted += db.execute("DELETE FROM enlace_outbox WHERE sent_at < ?", (cutoff,)).rowcount
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return deleted

    def close(self) -> None:
        """Close every connection this store opened."""
        for connection in self._opened:
            connection.close()
        self._opened.clear()
        if self._shared is not None:
            self._shared.close()


def _upgrade(connection: sqlite3.Connection) -> None:
    """Bring a store written by an earlier version to the current layout.

    Processed ids and dead-lettered positions of layout 1 were bound to no cluster and no topic id:
    they are dropped, not guessed onto the current cluster (which could skip a record of another).
    Records applied just before the upgrade are redelivered only if their offsets were not committed:
    stop agencies cleanly (``enlace down``) before upgrading.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version < _LAYOUT_VERSION:
            connection.execute("DROP TABLE IF EXISTS enlace_processed")
            connection.execute("DROP TABLE IF EXISTS enlace_dead_lettered")
            connection.execute(f"PRAGMA user_version = {_LAYOUT_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _in_transaction(connection: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(sql, rows)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class Batch:
    """A consumer's batch of applied records, in one SQLite transaction on its own connection.

    Per poll the batch costs one look-up per sender (:meth:`look_up`; a record not looked up is
    asked about alone); its ids are kept in memory and written together just before the batch
    commits, and a record's savepoint is opened only when its handler writes (it is what a failed
    attempt rolls back to). Kafka offsets are committed only after :meth:`commit_batch`.
    """

    def __init__(self, connection: sqlite3.Connection, store: AgencyStore) -> None:
        self._db, self._store = connection, store
        self._in_batch = False
        self._claimed: dict[tuple[str, ...], tuple[Any, ...]] = {}  # the open batch's ids, in order
        self._looked_up: dict[tuple[str, ...], bool] = {}  # ids asked about in the open batch: applied before?
        self._in_hand: tuple[str, ...] | None = None  # the record between claim and end or undo
        self._savepoint = False  # whether the record in hand has a savepoint (its handler wrote)
        self.transaction = Transaction(connection, emitter=store.emitter, before_write=self.open_savepoint)

    # -- batches -----------------------------------------------------------------------------------
    def begin_batch(self) -> None:
        """Start the batch transaction (takes the store's write turn until it commits or rolls back)."""
        if not self._in_batch:
            self._store._turn.take()
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._store._turn.give_back()
                raise
            self._in_batch = True

    def commit_batch(self) -> None:
        """Make the batch's effects, emitted records and ids durable (in one transaction: all or none)."""
        if self._in_batch:
            self._db.executemany(
                "INSERT INTO enlace_processed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._claimed.values()
            )
            self._db.execute("COMMIT")
            self._in_batch = False
            self._store._turn.give_back()
            self._store.committed()
        self._claimed.clear()
        self._looked_up.clear()

    def rollback_batch(self) -> None:
        """Drop the whole batch (its records are redelivered)."""
        if self._in_batch:
            try:
                self._db.execute("ROLLBACK")
            finally:
                self._in_batch = False
                self._store._turn.give_back()
        self._claimed.clear()
        self._looked_up.clear()
        self._in_hand, self._savepoint = None, False

    def look_up(self, group: str, ids: Iterable[tuple[str, str, str, str]]) -> None:
        """Ask once which of these records this group applied before, so that :meth:`seen` answers for
        them without a query each: one query per cluster, topic and sender, up to 500 ids each.

        Only inside the open batch: its write lock keeps the answer true until the batch ends (no other
        connection can mark a record applied meanwhile), and the answers are dropped with it.

        Args:
            group: the consumer group.
            ids: ``(cluster_id, topic_id, source, ce_id)`` of the records about to be claimed.
        """
        if not self._in_batch:
            return
        asked: dict[tuple[str, str, str], list[str]] = {}
        for cluster_id, topic_id, source, ce_id in ids:
            asked.setdefault((cluster_id, topic_id, source), []).append(ce_id)
        for (cluster_id, topic_id, source), ce_ids in asked.items():
            for start in range(0, len(ce_ids), _LOOK_UP_AT_ONCE):
                chunk = ce_ids[start : start + _LOOK_UP_AT_ONCE]
                applied = {
                    row[0]
                    for row in self._db.execute(
                        "SELECT ce_id FROM enlace_processed WHERE cluster_id=? AND topic_id=? AND consumer_group=?"
                        f" AND source=? AND ce_id IN ({','.join('?' * len(chunk))})",
                        (cluster_id, topic_id, group, source, *chunk),
                    )
                }
                for ce_id in chunk:
                    self._looked_up[(cluster_id, topic_id, group, source, ce_id)] = ce_id in applied

    # -- one record --------------------------------------------------------------------------------
    def seen(self, group: str, source: str, ce_id: str, *, at: Position) -> bool:
        """Whether this group already applied the record ``(source, ce_id)`` read from ``at``'s cluster
        and topic (in the open batch or before)."""
        key = (at.cluster_id, at.topic_id, group, source, ce_id)
        if key in self._claimed:
            return True
        known = self._looked_up.get(key)
        if known is not None:
            return known
        row = self._db.execute(
            "SELECT 1 FROM enlace_processed WHERE cluster_id=? AND topic_id=? AND consumer_group=? AND source=?"
            " AND ce_id=?",
            (at.cluster_id, at.topic_id, group, source, ce_id),
        ).fetchone()
        return row is not None

    def dead_lettered(self, group: str, at: Position, digest: bytes) -> bool:
        """Whether this group already dead-lettered this very record (same bytes) at this position."""
        row = self._db.execute(
            "SELECT 1 FROM enlace_dead_lettered WHERE cluster_id=? AND topic_id=? AND consumer_group=? AND topic=?"
            ' AND partition=? AND "offset"=? AND record_digest=?',
            (at.cluster_id, at.topic_id, group, at.topic, at.partition, at.offset, digest),
        ).fetchone()
        return row is not None

    def claim(self, group: str, source: str, ce_id: str, *, at: Position) -> bool:
        """Take the record in hand and mark it processed in the open batch; False (and nothing in hand)
        if this group already applied it. :meth:`undo_record` takes the mark back with the handler's writes.
        """
        if self.seen(group, source, ce_id, at=at):
            return False
        self._in_hand = (at.cluster_id, at.topic_id, group, source, ce_id)
        self._claimed[self._in_hand] = (*self._in_hand, at.topic, at.partition, at.offset, time.time())
        return True

    def open_savepoint(self) -> None:
        """Open the savepoint of the record in hand before its handler's first write (no-op otherwise)."""
        if self._in_hand is not None and not self._savepoint:
            self._db.execute("SAVEPOINT enlace_record")
            self._savepoint = True

    def end_record(self) -> None:
        """Keep the record in hand: its handler's writes and its mark commit with the batch."""
        if self._savepoint:
            self._db.execute("RELEASE enlace_record")
        self._in_hand, self._savepoint = None, False

    def undo_record(self) -> None:
        """Undo what the record's handler wrote and emitted, and its mark (before a retry or a dead letter)."""
        if self._savepoint:
            self._db.execute("ROLLBACK TO enlace_record")
            self._db.execute("RELEASE enlace_record")
        if self._in_hand is not None:
            del self._claimed[self._in_hand]
        self._in_hand, self._savepoint = None, False

    def mark_dead_lettered(self, group: str, at: Position, digest: bytes, reason: str) -> None:
        """Remember that this group dead-lettered the record with ``digest`` at ``at`` (commits with the batch)."""
        self._db.execute(
            "INSERT OR REPLACE INTO enlace_dead_lettered VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at.cluster_id, at.topic_id, group, at.topic, at.partition, at.offset, digest, reason, time.time()),
        )

    def close(self) -> None:
        """Roll back what is not committed and close the batch's connection."""
        self.rollback_batch()
        if not self._store.in_memory:
            self._db.close()
