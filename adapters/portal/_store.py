"""The portal's own tables (in its agency store): requests, their history, the access log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from bus.records import RecordModel
from connectors import AgencyStore, Transaction

__all__ = ["SCHEMA", "PortalStore", "RequestView"]

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
    created_at TEXT NOT NULL
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
"""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class RequestView:
    """What the citizen sees of one request."""

    request_id: str
    kind: str
    curp: str
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
        trace_id: str | None = None,
    ) -> None:
        """Record a new request and its first status."""
        tx.execute(
            "INSERT INTO requests (request_id, kind, curp, topic, status, status_at, trace_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (request_id, kind, curp, topic, status, _ms(at), trace_id, at.isoformat(timespec="seconds")),
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
            "SELECT request_id, kind, curp, topic, status, case_id, folio, deadline, answer, trace_id,"
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
