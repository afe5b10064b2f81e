"""Transparency's business: file and route information requests, answer in time, keep the access log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from adapters._ledger import Ledger
from adapters._seam import Delivery
from adapters.transparencia._deadlines import business_days_between, legal_deadline
from adapters.transparencia._mapping import (
    access_from_case_opened,
    access_from_status_report,
    answered_record,
    filed_record,
)
from adapters.transparencia._routing import answer_for

__all__ = ["RECORDS_READ", "SCHEMA", "TransparencyDesk"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS folio_numbers (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS information_requests (
    folio             TEXT PRIMARY KEY,
    source_request_id TEXT UNIQUE,
    agency            TEXT NOT NULL,
    curp              TEXT,
    filed_at          TEXT NOT NULL,
    deadline          TEXT NOT NULL,
    answered_at       TEXT,
    answer_type       TEXT
);
CREATE TABLE IF NOT EXISTS logged_accesses (access_id TEXT PRIMARY KEY);
"""

RECORDS_READ = (
    "mx.gob.portal.InformationRequestSubmitted",
    "mx.gob.sat.TaxpayerStatusReported",
    "mx.gob.crm.CaseOpened",
)
FILED = "mx.gob.transparencia.InformationRequestFiled"
ANSWERED = "mx.gob.transparencia.InformationRequestAnswered"
ACCESS_LOGGED = "mx.gob.transparencia.DataAccessLogged"
# The national platform's prefix of a folio: "33", then the year and a 9-digit sequence (15 digits).
_FOLIO_PREFIX = "33"


class TransparencyDesk:
    """What the transparency system does with the records it reads.

    Args:
        ledger: its SQLite ledger (with its own tables).
        clock: the current time (tests fix it).
    """

    def __init__(self, ledger: Ledger, *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.ledger = ledger
        self._clock = clock

    def on_information_request(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.portal.InformationRequestSubmitted: give a folio and deadline, route, answer."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            known = tx.db.execute(
                "SELECT 1 FROM information_requests WHERE source_request_id = ?", (record["requestId"],)
            ).fetchone()
            if known:
                return
            now = self._clock()
            folio = self._next_folio(tx.db, now.year)
            deadline = legal_deadline(now.date())
            tx.db.execute(
                "INSERT INTO information_requests (folio, source_request_id, agency, curp, filed_at, deadline)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    folio,
                    record["requestId"],
                    record["agencyAsked"],
                    record["requesterCurp"],
                    now.isoformat(),
                    deadline.isoformat(),
                ),
            )
            tx.emit(FILED, filed_record(record, folio=folio, filed_at=now, deadline=deadline))
            answer = answer_for(record["agencyAsked"], record["description"])
            tx.db.execute(
                "UPDATE information_requests SET answered_at = ?, answer_type = ? WHERE folio = ?",
                (now.isoformat(), answer.answer_type, folio),
            )
            tx.emit(
                ANSWERED,
                answered_record(
                    folio=folio,
                    agency=record["agencyAsked"],
                    answer_type=answer.answer_type,
                    summary=answer.summary,
                    uris=list(answer.uris),
                    answered_at=now,
                    deadline=deadline,
                ),
            )

    def on_status_report(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.sat.TaxpayerStatusReported: log that the asker read the citizen's fiscal data."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is not None:
                self._log_access(tx, access_from_status_report(record))

    def on_case_opened(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.crm.CaseOpened from a portal request: log that the CRM read the applicant's data."""
        if not record.get("serviceRequestId"):
            return  # not opened from a portal request: no data crossed agencies
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is not None:
                self._log_access(tx, access_from_case_opened(record, reader=delivery.sender))

    @staticmethod
    def _log_access(tx: Any, access: dict[str, Any]) -> None:
        # One entry per disclosure, even if the disclosing record was resent under another ce_id.
        if tx.db.execute(
            "INSERT OR IGNORE INTO logged_accesses (access_id) VALUES (?)", (access["accessId"],)
        ).rowcount:
            tx.emit(ACCESS_LOGGED, access)

    def deadlines(self, today: dt.date | None = None) -> dict[str, int]:
        """Open requests, and how many are overdue or due within 5 business days."""
        today = today or self._clock().date()
        rows = self.ledger.db.execute("SELECT deadline FROM information_requests WHERE answered_at IS NULL").fetchall()
        left = [business_days_between(today, dt.date.fromisoformat(d)) for (d,) in rows]
        return {
            "open": len(left),
            "overdue": sum(1 for n in left if n < 0),
            "due_soon": sum(1 for n in left if 0 <= n <= 5),
        }

    @staticmethod
    def _next_folio(db: Any, year: int) -> str:
        db.execute(
            "INSERT INTO folio_numbers (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1",
            (year,),
        )
        (last,) = db.execute("SELECT last FROM folio_numbers WHERE year = ?", (year,)).fetchone()
        return f"{_FOLIO_PREFIX}{year:04d}{last:09d}"

    def handlers(self) -> dict[str, Callable[[dict[str, Any], Delivery], None]]:
        """The record each handler reads."""
        return dict(
            zip(RECORDS_READ, (self.on_information_request, self.on_status_report, self.on_case_opened), strict=True)
        )
