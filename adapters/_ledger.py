"""Exactly-once effects for an agency: processed ids and an outbox in the agency's own SQLite store.

A handler's state changes, the records it emits and the ce_id of the record it handled are written
in one transaction. A record delivered again (after a crash, before the connector committed its
offset) finds its ce_id and changes nothing. Emitted records wait in the outbox with a ce_id fixed
at emit time until published; a resend after a crash carries the same ce_id, which receivers
deduplicate. So a killed and restarted adapter neither loses nor doubles an effect.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters._seam import Outbound

__all__ = ["Ledger", "Transaction", "decode_record", "encode_record"]

# Longer than a publish may take (the connector waits 30 s for Kafka's acknowledgement).
_CLAIM_TTL_S = 45.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    ce_id TEXT PRIMARY KEY,
    at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    ce_id       TEXT NOT NULL UNIQUE,
    record_name TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    claimed_at  REAL,                   -- a process of this agency is publishing it (see drain)
    sent_at     TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
"""


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the outbox")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$datetime":
            return dt.datetime.fromisoformat(value)
        if key == "$date":
            return dt.date.fromisoformat(value)
        if key == "$decimal":
            return decimal.Decimal(value)
    return obj


def encode_record(record: dict[str, Any]) -> str:
    """JSON for an Avro dict, keeping dates, timestamps and decimals exact."""
    return json.dumps(record, default=_tag, ensure_ascii=False, sort_keys=True)


def decode_record(text: str) -> dict[str, Any]:
    """The Avro dict :func:`encode_record` wrote."""
    return json.loads(text, object_hook=_untag)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class Transaction:
    """One handler's transaction: write the agency's state through ``db``, emit records with ``emit``."""

    db: sqlite3.Connection

    def emit(self, record_name: str, record: dict[str, Any]) -> str:
        """Queue a record for publishing when this transaction commits; returns its ce_id."""
        ce_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO outbox (ce_id, record_name, payload, created_at) VALUES (?, ?, ?, ?)",
            (ce_id, record_name, encode_record(record), _now()),
        )
        return ce_id


class Ledger:
    """An agency's SQLite database with its processed ids and outbox (and the agency's own tables).

    Args:
        path: the SQLite file (``":memory:"`` in unit tests).
        schema: the agency's own ``CREATE TABLE IF NOT EXISTS`` statements.
    """

    def __init__(self, path: Path | str, *, schema: str = "") -> None:
        self.path = str(path)
        # Web threads and the consumer thread share it; the lock serialises writers in-process and
        # BEGIN IMMEDIATE across processes of the same agency.
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        self._publish_lock = threading.Lock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA + schema)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction, committed on success and rolled back on any error."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self.db)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def once(self, ce_id: str) -> Iterator[Transaction | None]:
        """A transaction for handling record ``ce_id``; yields None if it was already handled.

        Usage::

            with ledger.once(delivery.ce_id) as tx:
                if tx is None:
                    return
                ...
        """
        with self.transaction() as tx:
            seen = tx.db.execute("SELECT 1 FROM processed WHERE ce_id = ?", (ce_id,)).fetchone()
            if seen:
                yield None
                return
            tx.db.execute("INSERT INTO processed (ce_id, at) VALUES (?, ?)", (ce_id, _now()))
            yield tx

    def pending(self, limit: int = 100) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Outbox rows not yet published: ``(seq, ce_id, record_name, record)``, oldest first."""
        rows = self.db.execute(
            "SELECT seq, ce_id, record_name, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [(seq, ce_id, name, decode_record(payload)) for seq, ce_id, name, payload in rows]

    def drain(self, outbound: Outbound) -> int:
        """Publish every pending outbox row, oldest first, marking each sent; returns how many.

        A failure stops the drain and propagates: the row stays pending and is sent (with the same
        ce_id) on the next drain.
        """
        sent = 0
        with self._publish_lock:
            while rows := self.pending():
                claimed = [row for row in rows if self._claim(row[0])]
                if not claimed:
                    break  # another process of this agency is publishing them
                for seq, ce_id, name, record in claimed:
                    try:
                        outbound.publish(name, record, ce_id=ce_id)
                    except BaseException:
                        self._release(seq)
                        raise
                    with self._lock:
                        self.db.execute("UPDATE outbox SET sent_at = ? WHERE seq = ?", (_now(), seq))
                    sent += 1
        return sent

    def _claim(self, seq: int) -> bool:
        """Take one row for publishing; several processes of one agency share the outbox.

        A claim older than ``_CLAIM_TTL_S`` belongs to a process that died while publishing: it is
        taken over (the record may then be sent twice, with the same ce_id).
        """
        now = time.time()
        with self._lock:
            return (
                self.db.execute(
                    "UPDATE outbox SET claimed_at = ? WHERE seq = ? AND sent_at IS NULL"
                    " AND (claimed_at IS NULL OR claimed_at < ?)",
                    (now, seq, now - _CLAIM_TTL_S),
                ).rowcount
                == 1
            )

    def _release(self, seq: int) -> None:
        with self._lock:
            self.db.execute("UPDATE outbox SET claimed_at = NULL WHERE seq = ? AND sent_at IS NULL", (seq,))

    def outbox_counts(self) -> dict[str, int]:
        """Published and pending outbox rows."""
        sent, pending = self.db.execute("SELECT count(sent_at), count(*) - count(sent_at) FROM outbox").fetchone()
        return {"published": int(sent), "pending": int(pending)}
