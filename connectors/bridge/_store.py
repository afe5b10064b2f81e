"""The bridge's own SQLite file (0600): idempotency keys and the agencies' named subscriptions.

An idempotency key (IETF draft ``httpapi-idempotency-key-header``) is kept per agency with the digest of
the request it came with and, once the request finished, its answer. A retry with the same key and the
same request gets the stored answer without publishing again; with another request, a refusal. A key
left ``in progress`` by a bridge that stopped mid-request is taken over by the next bridge, which
publishes the same records again under the same ce_ids (derived from the key), so receivers apply them
once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus._files import create_private_file

__all__ = ["BridgeStore", "Claim", "SavedSubscription"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    agency TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, owner TEXT NOT NULL,
    status INTEGER, answer TEXT, created REAL NOT NULL,
    PRIMARY KEY (agency, key)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    agency TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,
    PRIMARY KEY (agency, name)
);
"""


@dataclass(frozen=True)
class Claim:
    """What the store says about an idempotency key: new (go ahead), done (replay), or refused."""

    outcome: str  # "new", "done", "conflict" (another request), "busy" (in progress here)
    status: int | None = None
    answer: Any = None


@dataclass(frozen=True)
class SavedSubscription:
    agency: str
    name: str
    definition: dict[str, Any]


class BridgeStore:
    """Idempotency keys (kept ``retention_s``) and subscriptions, safe to use from many threads."""

    def __init__(self, path: str | Path, *, retention_s: float = 24 * 3600) -> None:
        path = Path(path)
        create_private_file(path)  # 0600 before SQLite writes anything to it
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._owner = uuid.uuid4().hex  # this bridge process: a row it leaves in progress is not busy for the next
        self._retention_s = retention_s

    def claim(self, agency: str, key: str, request_digest: str) -> Claim:
        """Take ``key`` for a request whose digest is ``request_digest``, or say why not."""
        with self._lock:
            self._db.execute("DELETE FROM idempotency WHERE created < ?", (time.time() - self._retention_s,))
            row = self._db.execute(
                "SELECT request, owner, status, answer FROM idempotency WHERE agency = ? AND key = ?", (agency, key)
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO idempotency (agency, key, request, owner, created) VALUES (?, ?, ?, ?, ?)",
                    (agency, key, request_digest, self._owner, time.time()),
                )
                return Claim("new")
            request, owner, status, answer = row
            if request != request_digest:
                return Claim("conflict")
            if status is not None:
                return Claim("done", status, json.loads(answer))
            if owner == self._owner:
                return Claim("busy")
            self._db.execute(
                "UPDATE idempotency SET owner = ? WHERE agency = ? AND key = ?", (self._owner, agency, key)
            )
            return Claim("new")  # left in progress by a bridge that stopped: publish again, same ce_ids

    def finish(self, agency: str, key: str, status: int, answer: Any) -> None:
        """Keep the answer given for ``key``, replayed to every retry."""
        with self._lock:
            self._db.execute(
                "UPDATE idempotency SET status = ?, answer = ? WHERE agency = ? AND key = ?",
                (status, json.dumps(answer), agency, key),
            )

    def release(self, agency: str, key: str) -> None:
        """Forget ``key`` (the request failed before publishing anything, so a retry starts afresh)."""
        with self._lock:
            self._db.execute("DELETE FROM idempotency WHERE agency = ? AND key = ?", (agency, key))

    def save_subscription(self, agency: str, name: str, definition: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?)", (agency, name, json.dumps(definition))
            )

    def delete_subscription(self, agency: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM subscriptions WHERE agency = ? AND name = ?", (agency, name))

    def subscriptions(self) -> list[SavedSubscription]:
        with self._lock:
            rows = self._db.execute(
                "SELECT agency, name, definition FROM subscriptions ORDER BY agency, name"
            ).fetchall()
        return [SavedSubscription(a, n, json.loads(d)) for a, n, d in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
