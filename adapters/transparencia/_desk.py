"""Transparency's business: file and route information requests, answer in time, keep the access log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from adapters.transparencia._deadlines import business_days_between, legal_deadline
from adapters.transparencia._mapping import (
    access_from_case_opened,
    access_from_status_report,
    answered_record,
    filed_record,
)
from adapters.transparencia._routing import answer_for
from bus.records.models import CaseOpened, DataAccessLogged, InformationRequestSubmitted, TaxpayerStatusReported
from connectors import AgencyStore, Handler, Received, Transaction

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

RECORDS_READ = (InformationRequestSubmitted, TaxpayerStatusReported, CaseOpened)
# The national platform's prefix of a folio: "33", then the year and a 9-digit sequence (15 digits).
_FOLIO_PREFIX = "33"


class TransparencyDesk:
    """What the transparency system does with the records it reads.

    Args:
        store: its agency store (with its own tables).
        clock: the current time (tests fix it).
    """

    def __init__(self, store: AgencyStore, *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.store = store
        self._clock = clock

    def on_information_request(self, record: InformationRequestSubmitted, received: Received) -> None:
        """mx.gob.portal.InformationRequestSubmitted: give a folio and deadline, route, answer."""
        tx = received.transaction
        source_request_id = str(record.request_id)
        known = tx.execute(
            "SELECT 1 FROM information_requests WHERE source_request_id = ?", (source_request_id,)
        ).fetchone()
        if known:
            return  # the same request resent under another ce_id: one folio per request
        now = self._clock()
        folio = self._next_folio(tx, now.year)
        deadline = legal_deadline(now.date())
        tx.execute(
            "INSERT INTO information_requests (folio, source_request_id, agency, curp, filed_at, deadline)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                folio,
                source_request_id,
                record.agency_asked,
                record.requester_curp,
                now.isoformat(),
                deadline.isoformat(),
            ),
        )
        tx.emit(filed_record(record, folio=folio, filed_at=now, deadline=deadline))
        answer = answer_for(record.agency_asked, record.description)
        tx.execute(
            "UPDATE information_requests SET answered_at = ?, answer_type = ? WHERE folio = ?",
            (now.isoformat(), answer.answer_type, folio),
        )
        tx.emit(
            answered_record(
                folio=folio,
                agency=record.agency_asked,
                answer_type=answer.answer_type,
                summary=answer.summary,
                uris=list(answer.uris),
                answered_at=now,
                deadline=deadline,
            )
        )

    def on_status_report(self, record: TaxpayerStatusReported, received: Received) -> None:
        """mx.gob.sat.TaxpayerStatusReported: log that the asker read the citizen's fiscal data (a
        refusal disclosed nothing, so there is nothing to log)."""
        if record.standing == "REFUSED":
            return
        self._log_access(received.transaction, access_from_status_report(record))

    def on_case_opened(self, record: CaseOpened, received: Received) -> None:
        """mx.gob.crm.CaseOpened from a portal request: log that the CRM read the applicant's data."""
        if not record.service_request_id:
            return  # not opened from a portal request: no data crossed agencies
        self._log_access(received.transaction, access_from_case_opened(record, reader=received.sender))

    @staticmethod
    def _log_access(tx: Transaction, access: DataAccessLogged) -> None:
        # One entry per disclosure, even if the disclosing record was resent under another ce_id.
        if tx.execute(
            "INSERT OR IGNORE INTO logged_accesses (access_id) VALUES (?)", (str(access.access_id),)
        ).rowcount:
            tx.emit(access)

    def deadlines(self, today: dt.date | None = None) -> dict[str, int]:
        """Open requests, and how many are overdue or due within 5 business days."""
        today = today or self._clock().date()
        rows = (
            self.store.reader()
            .execute("SELECT deadline FROM information_requests WHERE answered_at IS NULL")
            .fetchall()
        )
        left = [business_days_between(today, dt.date.fromisoformat(d)) for (d,) in rows]
        return {
            "open": len(left),
            "overdue": sum(1 for n in left if n < 0),
            "due_soon": sum(1 for n in left if 0 <= n <= 5),
        }

    @staticmethod
    def _next_folio(tx: Transaction, year: int) -> str:
        tx.execute(
            "INSERT INTO folio_numbers (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1",
            (year,),
        )
        (last,) = tx.execute("SELECT last FROM folio_numbers WHERE year = ?", (year,)).fetchone()
        return f"{_FOLIO_PREFIX}{year:04d}{last:09d}"

    def handlers(self) -> dict[type, Handler]:
        """The handler of each record type transparency reads."""
        return dict(
            zip(RECORDS_READ, (self.on_information_request, self.on_status_report, self.on_case_opened), strict=True)
        )
