"""The portal's own tables (in its agency store): requests, their history, the access log, sign-in sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from bus.records import RecordModel
from connectors import AgencyStore, Transaction

__all__ = ["SCHEMA", "Citizen", "PortalStore", "RequestView", "secret_digest"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('service', 'information')),
    curp       TEXT NOT NULL,
    topic      TEXT NOT NULL,           -- the service asked for, or the agency asked
    status     TEXT NOT NULL,
    status_at  INTEGER NOT NULL,        -- event time (ms) of the change that set the status
    case_id    TEXT UNIQUE,
    folio      TEXT UNIQUE,
    deadline   TEXT,
    answer     TEXT,
    trace_id   TEXT,
    created_at TEXT NOT NULL,
    tracking_hash TEXT NOT NULL          -- SHA-256 of the tracking code shown once to the submitter
);
CREATE INDEX IF NOT EXISTS requests_curp ON requests (curp);
CREATE TABLE IF NOT EXISTS history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS access_log (
    access_id   TEXT PRIMARY KEY,
    curp        TEXT NOT NULL,
    accessor    TEXT NOT NULL,
    system      TEXT NOT NULL,
    at          TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    fields      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_curp ON access_log (curp);
-- Records that arrived before the one that links them to a request (another topic, no order
-- between topics): kept until the link arrives, then applied in event order.
CREATE TABLE IF NOT EXISTS waiting (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    link    TEXT NOT NULL,              -- 'case:<caseId>' or 'folio:<folio>'
    handler TEXT NOT NULL,
    payload TEXT NOT NULL               -- the record as its model's JSON
);
CREATE INDEX IF NOT EXISTS waiting_link ON waiting (link);
-- Signed-in citizens: the browser holds a random session id (in a signed cookie), this table only
-- its SHA-256, so a copy of the file signs nobody in.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,
    curp       TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL         -- epoch ms
);
-- The key that signs the portal's cookies, made once and shared by every process of the portal.
CREATE TABLE IF NOT EXISTS portal_keys (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""

# Compared against when a request id is unknown, so an unknown id costs the same as a wrong code.
_NO_SUCH_REQUEST = "0" * 64


def secret_digest(secret: str) -> str:
    """The SHA-256 (hex) a tracking code or session id is stored as."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Citizen:
    """A signed-in citizen, as the portal's session knows them."""

    curp: str
    name: str


@dataclass(frozen=True)
class RequestView:
    """What the citizen sees of one request (the CURP is not repeated: they know it)."""

    request_id: str
    kind: str
    topic: str
    status: str
    case_id: str | None
    folio: str | None
    deadline: str | None
    answer: str | None
    trace_id: str | None
    created_at: str
    history: tuple[dict[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "history": list(self.history)}


_Record = TypeVar("_Record", bound=RecordModel)


class PortalStore:
    """Reads and writes of the portal's tables; writes take the caller's transaction."""

    def __init__(self, store: AgencyStore) -> None:
        self.agency_store = store

    def _reader(self) -> Any:
        return self.agency_store.reader()

    @staticmethod
    def add_request(
        tx: Transaction,
        *,
        request_id: str,
        kind: str,
        curp: str,
        topic: str,
        status: str,
        at: dt.datetime,
        tracking_code: str,
        trace_id: str | None = None,
    ) -> None:
        """Record a new request and its first status; only the tracking code's digest is kept."""
        tx.execute(
            "INSERT INTO requests (request_id, kind, curp, topic, status, status_at, trace_id, created_at,"
            " tracking_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id,
                kind,
                curp,
                topic,
                status,
                _ms(at),
                trace_id,
                at.isoformat(timespec="seconds"),
                secret_digest(tracking_code),
            ),
        )
        tx.execute(
            "INSERT INTO history (request_id, at, status) VALUES (?, ?, ?)",
            (request_id, at.isoformat(timespec="seconds"), status),
        )

    @staticmethod
    def find(
        tx: Transaction,
        *,
        request_id: str | None = None,
        case_id: str | None = None,
        folio: str | None = None,
    ) -> str | None:
        """The request id known by any of its ids, or None."""
        for column, value in (("request_id", request_id), ("case_id", case_id), ("folio", folio)):
            if value:
                row = tx.execute(f"SELECT request_id FROM requests WHERE {column} = ?", (value,)).fetchone()
                if row:
                    return str(row[0])
        return None

    @staticmethod
    def change_status(
        tx: Transaction,
        request_id: str,
        *,
        status: str,
        at: dt.datetime,
        note: str = "",
        **columns: str | None,
    ) -> None:
        """Apply a status change; an older event than the current status only adds to the history.

        Args:
            tx: the handler's transaction.
            request_id: the portal's request id.
            status: the status the citizen sees.
            at: the event's time (records on different topics may arrive out of order).
            note: a line for the history.
            **columns: case_id, folio, deadline or answer to set.
        """
        stamp = at.isoformat(timespec="seconds")
        repeated = tx.execute(
            "SELECT 1 FROM history WHERE request_id = ? AND status = ? AND at = ?", (request_id, status, stamp)
        ).fetchone()
        if repeated:
            return  # the same change resent under another ce_id (after a sender's crash)
        updates = {k: v for k, v in columns.items() if k in {"case_id", "folio", "deadline", "answer"} and v}
        sets = "".join(f", {k} = ?" for k in updates)
        tx.execute(
            f"UPDATE requests SET request_id = request_id{sets} WHERE request_id = ?",
            (*updates.values(), request_id),
        )
        tx.execute(
            "UPDATE requests SET status = ?, status_at = ? WHERE request_id = ? AND status_at <= ?",
            (status, _ms(at), request_id, _ms(at)),
        )
        tx.execute(
            "INSERT INTO history (request_id, at, status, note) VALUES (?, ?, ?, ?)",
            (request_id, at.isoformat(timespec="seconds"), status, note),
        )

    @staticmethod
    def wait(tx: Transaction, *, link: str, record: RecordModel) -> None:
        """Keep a record until the request it belongs to is known by ``link``."""
        tx.execute(
            "INSERT INTO waiting (link, handler, payload) VALUES (?, ?, ?)",
            (link, record.avro_name, record.model_dump_json()),
        )

    @staticmethod
    def take_waiting(tx: Transaction, *, link: str, model: type[_Record]) -> list[_Record]:
        """The records waiting for ``link`` (all of one model), oldest first, removed from the table."""
        rows = tx.execute("SELECT payload FROM waiting WHERE link = ? ORDER BY seq", (link,)).fetchall()
        tx.execute("DELETE FROM waiting WHERE link = ?", (link,))
        return [model.model_validate_json(payload) for (payload,) in rows]

    def waiting_count(self) -> int:
        """Records still waiting for their request to be known."""
        return int(self._reader().execute("SELECT count(*) FROM waiting").fetchone()[0])

    @staticmethod
    def log_access(
        tx: Transaction,
        *,
        access_id: str,
        curp: str,
        accessor: str,
        system: str,
        at: dt.datetime,
        purpose: str,
        legal_basis: str,
        fields: list[str],
    ) -> None:
        """Record that an agency read a citizen's personal data."""
        tx.execute(
            "INSERT OR IGNORE INTO access_log (access_id, curp, accessor, system, at, purpose, legal_basis,"
            " fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                access_id,
                curp,
                accessor,
                system,
                at.isoformat(timespec="seconds"),
                purpose,
                legal_basis,
                ",".join(fields),
            ),
        )

    def request(self, request_id: str) -> RequestView | None:
        """One request with its history, or None."""
        cursor = self._reader().execute(
            "SELECT request_id, kind, topic, status, case_id, folio, deadline, answer, trace_id,"
            " created_at FROM requests WHERE request_id = ?",
            (request_id,),
        )
        row = cursor.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cursor.description]
        history = tuple(
            {"at": at, "status": status, "note": note}
            for at, status, note in self._reader().execute(
                "SELECT at, status, note FROM history WHERE request_id = ? ORDER BY at, seq", (request_id,)
            )
        )
        return RequestView(**dict(zip(names, row, strict=True)), history=history)

    def tracked_request(self, request_id: str, tracking_code: str) -> RequestView | None:
        """The request, if ``tracking_code`` is the one it was given (compared in constant time); else None.

        An unknown id and a wrong code both answer None, after the same comparison.
        """
        row = (
            self._reader().execute("SELECT tracking_hash FROM requests WHERE request_id = ?", (request_id,)).fetchone()
        )
        stored = str(row[0]) if row else _NO_SUCH_REQUEST
        if not hmac.compare_digest(stored, secret_digest(tracking_code)) or row is None:
            return None
        return self.request(request_id)

    def requests_of(self, curp: str) -> list[RequestView]:
        """A citizen's requests, newest first."""
        ids = [
            r[0]
            for r in self._reader().execute(
                "SELECT request_id FROM requests WHERE curp = ? ORDER BY created_at DESC, rowid DESC", (curp,)
            )
        ]
        return [view for view in (self.request(i) for i in ids) if view is not None]

    def count_by_status(self) -> dict[str, int]:
        """How many requests are in each status."""
        return dict(self._reader().execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall())

    def access_log(self, curp: str) -> list[dict[str, Any]]:
        """Who read this citizen's personal data, when, why — newest first."""
        rows = self._reader().execute(
            "SELECT accessor, system, at, purpose, legal_basis, fields FROM access_log WHERE curp = ? ORDER BY at DESC",
            (curp,),
        )
        return [
            {
                "accessor": a,
                "system": s,
                "at": at,
                "purpose": p,
                "legal_basis": lb,
                "fields": [f for f in fs.split(",") if f],
            }
            for a, s, at, p, lb, fs in rows.fetchall()
        ]

    # -- sign-in sessions -------------------------------------------------------------------------

    def cookie_key(self) -> bytes:
        """The key signing the portal's cookies: made (256 random bits) by the first process, then read."""
        row = self._reader().execute("SELECT value FROM portal_keys WHERE name = 'cookies'").fetchone()
        if row:
            return bytes(row[0])
        with self.agency_store.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO portal_keys (name, value) VALUES ('cookies', ?)", (secrets.token_bytes(32),)
            )
            return bytes(tx.execute("SELECT value FROM portal_keys WHERE name = 'cookies'").fetchone()[0])

    def open_session(self, citizen: Citizen, *, lifetime_s: float) -> str:
        """A new session for ``citizen``; returns its random id (for the cookie), stores its digest.

        Expired sessions are removed at the same time.
        """
        session_id = secrets.token_urlsafe(32)
        now = int(time.time() * 1000)
        with self.agency_store.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            tx.execute(
                "INSERT INTO sessions (id_hash, curp, name, expires_at) VALUES (?, ?, ?, ?)",
                (secret_digest(session_id), citizen.curp, citizen.name, now + int(lifetime_s * 1000)),
            )
        return session_id

    def session_citizen(self, session_id: str) -> Citizen | None:
        """The citizen of a session id that has not expired, or None."""
        row = (
            self._reader()
            .execute(
                "SELECT curp, name FROM sessions WHERE id_hash = ? AND expires_at >= ?",
                (secret_digest(session_id), int(time.time() * 1000)),
            )
            .fetchone()
        )
        return Citizen(str(row[0]), str(row[1])) if row else None

    def close_session(self, session_id: str) -> None:
        """Forget a session (signing out)."""
        with self.agency_store.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE id_hash = ?", (secret_digest(session_id),))
