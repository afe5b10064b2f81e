"""The processed-id store: which records a consumer group has applied, in SQLite.

A handler's own effects written through :class:`Transaction` commit atomically with the record's id,
so a record redelivered after a crash is recognised and skipped: exactly-once effects. Records are
applied in batches inside one SQLite transaction (one fsync per batch); Kafka offsets are committed
only after that transaction. Per record the store costs one look-up: the batch's ids are kept in
memory and written together just before the batch commits, and a record's savepoint is opened only
when its handler writes through the transaction (it is what a failed attempt rolls back to).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

__all__ = ["ProcessedStore", "Transaction"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS enlace_processed (
    consumer_group TEXT NOT NULL, source TEXT NOT NULL, ce_id TEXT NOT NULL,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, processed_at REAL NOT NULL,
    PRIMARY KEY (consumer_group, source, ce_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enlace_dead_lettered (
    consumer_group TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    reason TEXT NOT NULL, dead_lettered_at REAL NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition, "offset")) WITHOUT ROWID;
"""


class Transaction:
    """What a handler writes its effects through: the open transaction of the record in hand.

    Only ``execute`` and ``executemany``: committing or rolling back is the connector's job (it
    commits the effects together with the record's id).
    """

    __slots__ = ("_connection", "_store")

    def __init__(self, connection: sqlite3.Connection, store: ProcessedStore) -> None:
        self._connection, self._store = connection, store

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self._store.open_savepoint()
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        self._store.open_savepoint()
        return self._connection.executemany(sql, rows)


class ProcessedStore:
    """SQLite store of applied records (by group, sender and ce_id) and dead-lettered positions.

    Args:
        path: the database file (created with mode 0600 if missing); effects tables may live in it too.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        # Autocommit mode: transactions are begun and ended explicitly below, never implicitly.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed batch survives power loss, not only a crash
        self._db.executescript(_SCHEMA)
        self._in_batch = False
        self._claimed: dict[tuple[str, str, str], tuple[Any, ...]] = {}  # the open batch's ids, in order
        self._in_hand: tuple[str, str, str] | None = None  # the record between claim and end or undo
        self._savepoint = False  # whether the record in hand has a savepoint (its handler wrote)
        self.transaction = Transaction(self._db, self)

    # -- batches -----------------------------------------------------------------------------------
    def begin_batch(self) -> None:
        """Start the batch transaction (takes the write lock: concurrent consumers of one file queue)."""
        if not self._in_batch:
            self._db.execute("BEGIN IMMEDIATE")
            self._in_batch = True

    def commit_batch(self) -> None:
        """Make the batch's effects and ids durable (in one transaction: both or neither)."""
        if self._in_batch:
            self._db.executemany("INSERT INTO enlace_processed VALUES (?, ?, ?, ?, ?, ?, ?)", self._claimed.values())
            self._db.execute("COMMIT")
            self._in_batch = False
        self._claimed.clear()

    def rollback_batch(self) -> None:
        if self._in_batch:
            self._db.execute("ROLLBACK")
            self._in_batch = False
        self._claimed.clear()
        self._in_hand, self._savepoint = None, False

    # -- one record --------------------------------------------------------------------------------
    def seen(self, group: str, source: str, ce_id: str) -> bool:
        """Whether this group already applied the record ``(source, ce_id)`` (in the open batch or before)."""
        if (group, source, ce_id) in self._claimed:
            return True
        row = self._db.execute(
            "SELECT 1 FROM enlace_processed WHERE consumer_group=? AND source=? AND ce_id=?", (group, source, ce_id)
        ).fetchone()
        return row is not None

    def dead_lettered(self, group: str, topic: str, partition: int, offset: int) -> bool:
        """Whether this group already dead-lettered the record at this position."""
        row = self._db.execute(
            'SELECT 1 FROM enlace_dead_lettered WHERE consumer_group=? AND topic=? AND partition=? AND "offset"=?',
            (group, topic, partition, offset),
        ).fetchone()
        return row is not None

    def claim(self, group: str, source: str, ce_id: str, topic: str, partition: int, offset: int) -> bool:
        """Take the record in hand and mark it processed in the open batch; False (and nothing in hand)
        if this group already applied it. :meth:`undo_record` takes the mark back with the handler's writes.
        """
        if self.seen(group, source, ce_id):
            return False
        self._in_hand = (group, source, ce_id)
        self._claimed[self._in_hand] = (group, source, ce_id, topic, partition, offset, time.time())
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
        """Undo what the record's handler wrote and its mark (before a retry or a dead letter)."""
        if self._savepoint:
            self._db.execute("ROLLBACK TO enlace_record")
            self._db.execute("RELEASE enlace_record")
        if self._in_hand is not None:
            del self._claimed[self._in_hand]
        self._in_hand, self._savepoint = None, False

    def mark_dead_lettered(self, group: str, topic: str, partition: int, offset: int, reason: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO enlace_dead_lettered VALUES (?, ?, ?, ?, ?, ?)",
            (group, topic, partition, offset, reason, time.time()),
        )

    def prune(self, older_than_s: float) -> int:
        """Forget ids applied more than ``older_than_s`` ago (keep longer than the topic's retention)."""
        cutoff = time.time() - older_than_s
        cursor = self._db.execute("DELETE FROM enlace_processed WHERE processed_at < ?", (cutoff,))
        self._db.execute("DELETE FROM enlace_dead_lettered WHERE dead_lettered_at < ?", (cutoff,))
        return cursor.rowcount

    def close(self) -> None:
        self.rollback_batch()
        self._db.close()
