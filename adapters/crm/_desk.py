"""The CRM's business: a case per service request, fiscal checks when the service needs one, closure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from adapters.crm._mapping import (
    CATALOGUE,
    CaseRow,
    case_opened_record,
    case_updated_record,
    taxpayer_status_request_record,
)
from bus.records.models import ServiceRequestSubmitted, TaxpayerStatusReported
from connectors import AgencyStore, Handler, Received, Transaction

__all__ = ["RECORDS_READ", "SCHEMA", "CrmDesk"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS case_numbers (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_id      TEXT PRIMARY KEY,
    curp         TEXT NOT NULL,
    service_code TEXT NOT NULL,
    status       TEXT NOT NULL,
    opened_at    TEXT NOT NULL,
    due          TEXT NOT NULL,
    request_id   TEXT UNIQUE,
    email        TEXT,
    phone        TEXT
);
CREATE TABLE IF NOT EXISTS tax_queries (
    query_id TEXT PRIMARY KEY,
    case_id  TEXT NOT NULL REFERENCES cases (case_id)
);
"""

RECORDS_READ = (ServiceRequestSubmitted, TaxpayerStatusReported)
_CASE_COLUMNS = "case_id, curp, service_code, status, opened_at, due, request_id, email, phone"


def _case(row: tuple[Any, ...]) -> CaseRow:
    case_id, curp, code, status, opened, due, request_id, email, phone = row
    return CaseRow(
        case_id,
        curp,
        code,
        status,
        dt.datetime.fromisoformat(opened),
        dt.date.fromisoformat(due),
        request_id,
        email,
        phone,
    )


class CrmDesk:
    """What the CRM does with the records it reads.

    Args:
        store: the CRM's agency store (holds its case tables too).
        clock: the current time (tests fix it).
    """

    def __init__(self, store: AgencyStore, *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.store = store
        self._clock = clock

    def on_service_request(self, record: ServiceRequestSubmitted, received: Received) -> None:
        """mx.gob.portal.ServiceRequestSubmitted: open a case; ask fiscal services if the service needs it."""
        tx = received.transaction
        request_id = str(record.request_id)
        if tx.execute("SELECT 1 FROM cases WHERE request_id = ?", (request_id,)).fetchone():
            return  # the same request sent again under another ce_id: one case per request
        now = self._clock()
        rule = CATALOGUE.get(record.service_code)
        row = CaseRow(
            case_id=self._next_case_id(tx, now.year),
            curp=record.applicant.curp,
            service_code=record.service_code,
            status="abierto",
            opened_at=now,
            due=now.date() + dt.timedelta(days=rule.sla_days if rule else 20),
            request_id=request_id,
            email=record.contact.email,
            phone=record.contact.phone,
        )
        self._insert(tx, row)
        tx.emit(case_opened_record(row))
        if rule is not None and rule.needs_tax_status:
            query_id = str(uuid.uuid4())
            tx.execute("INSERT INTO tax_queries (query_id, case_id) VALUES (?, ?)", (query_id, row.case_id))
            tx.emit(taxpayer_status_request_record(row, request_id=query_id, at=now))

    def on_taxpayer_status(self, record: TaxpayerStatusReported, received: Received) -> None:
        """mx.gob.sat.TaxpayerStatusReported: resolve the case, or ask the citizen to fix their status."""
        tx = received.transaction
        found = tx.execute(
            "SELECT c.case_id, c.curp, c.service_code, c.status, c.opened_at, c.due, c.request_id, c.email,"
            " c.phone FROM tax_queries q JOIN cases c USING (case_id) WHERE q.query_id = ?",
            (str(record.request_id),),
        ).fetchone()
        if found is None:
            return  # another CRM's question (fiscal services answer every asker on one topic)
        row = _case(found)
        if row.status != "abierto":
            return
        standing = record.standing
        if standing == "REFUSED":
            # Nothing was disclosed: the case stays with a caseworker, who sees why.
            self._change(tx, row, "abierto", f"fiscal services did not disclose the tax status ({record.refusal})")
            return
        if standing == "ACTIVE":
            status, note = "resuelto", "fiscal services confirm an active taxpayer; your request is resolved"
        elif standing == "NOT_REGISTERED":
            status, note = "espera_ciudadano", "you are not in the taxpayer register: register with SAT first"
        else:
            status, note = "espera_ciudadano", f"your taxpayer status is {standing.lower()}: please update it"
        self._change(tx, row, status, note)

    def _change(self, tx: Transaction, row: CaseRow, status: str, note: str) -> None:
        updated = dataclasses.replace(row, status=status)
        tx.execute("UPDATE cases SET status = ? WHERE case_id = ?", (status, row.case_id))
        tx.emit(case_updated_record(updated, previous=row.status, at=self._clock(), note=note))

    @staticmethod
    def _next_case_id(tx: Transaction, year: int) -> str:
        tx.execute(
            "INSERT INTO case_numbers (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1",
            (year,),
        )
        (last,) = tx.execute("SELECT last FROM case_numbers WHERE year = ?", (year,)).fetchone()
        return f"CRM-{year}-{last:06d}"

    @staticmethod
    def _insert(tx: Transaction, row: CaseRow) -> None:
        tx.execute(
            "INSERT INTO cases (case_id, curp, service_code, status, opened_at, due, request_id, email, phone)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.case_id,
                row.curp,
                row.service_code,
                row.status,
                row.opened_at.isoformat(),
                row.due.isoformat(),
                row.request_id,
                row.email,
                row.phone,
            ),
        )

    def case(self, case_id: str) -> CaseRow | None:
        """One case as the CRM holds it."""
        found = (
            self.store.reader().execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        )
        return _case(found) if found else None

    def counts(self) -> dict[str, int]:
        """Cases per CRM status."""
        return dict(self.store.reader().execute("SELECT status, count(*) FROM cases GROUP BY status").fetchall())

    def handlers(self) -> dict[type, Handler]:
        """The handler of each record type the CRM reads."""
        return dict(zip(RECORDS_READ, (self.on_service_request, self.on_taxpayer_status), strict=True))
