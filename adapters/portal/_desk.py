"""The portal's business: take citizens' requests, follow them as agencies answer, show the access log."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from adapters._ledger import Ledger, Transaction
from adapters._seam import Delivery
from adapters.portal._forms import FieldProblem, read_information_request, read_service_request
from adapters.portal._mapping import (
    CASE_STATUS_TEXT,
    FORM_FIELD_OF_RECORD_PATH,
    information_request_record,
    service_request_record,
)
from adapters.portal._store import PortalStore, RequestView
from bus import ValidationError

__all__ = ["RECORDS_READ", "PortalDesk", "Submission"]

SERVICE_REQUEST = "mx.gob.portal.ServiceRequestSubmitted"
INFORMATION_REQUEST = "mx.gob.portal.InformationRequestSubmitted"
RECORDS_READ = (
    "mx.gob.crm.CaseOpened",
    "mx.gob.crm.CaseUpdated",
    "mx.gob.transparencia.InformationRequestFiled",
    "mx.gob.transparencia.InformationRequestAnswered",
    "mx.gob.transparencia.DataAccessLogged",
)

Checker = Callable[[str, dict[str, Any]], None]
"""Validates a record against its schema and domain rules; raises ValidationError with a path."""

Submission = tuple[RequestView | None, list[FieldProblem]]


def _at(millis_or_datetime: Any) -> dt.datetime:
    if isinstance(millis_or_datetime, dt.datetime):
        return millis_or_datetime if millis_or_datetime.tzinfo else millis_or_datetime.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(int(millis_or_datetime) / 1000, dt.UTC)


def _problems_of(error: ValidationError) -> list[FieldProblem]:
    """A record's validation errors, each shown next to the form field it came from."""
    problems = []
    for problem in error.problems or [error]:
        field = FORM_FIELD_OF_RECORD_PATH.get(problem.path or "", "form")
        problems.append(FieldProblem(field, str(problem), problem.rule or "record"))
    return problems


class PortalDesk:
    """What the portal does; the web layer and the bus runtime both call it.

    Args:
        ledger: the portal's SQLite ledger (holds its tables too).
        check: validates an outgoing record (the shared records' model), before it is stored.
        trace_id: returns the current trace id, if any, to remember with a new request.
    """

    def __init__(self, ledger: Ledger, *, check: Checker, trace_id: Callable[[], str | None] = lambda: None):
        self.ledger = ledger
        self.store = PortalStore(ledger)
        self._check = check
        self._trace_id = trace_id

    # -- citizens ---------------------------------------------------------------------------

    def submit_service_request(self, payload: dict[str, Any]) -> Submission:
        """Validate and queue a service request; returns the new request or the problems per field."""
        form, problems = read_service_request(payload)
        if form is None:
            return None, problems
        request_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
        record = service_request_record(form, request_id=request_id, submitted_at=now)
        return self._submit(
            SERVICE_REQUEST,
            record,
            request_id=request_id,
            kind="service",
            curp=form.curp,
            topic=form.service,
            now=now,
        )

    def submit_information_request(self, payload: dict[str, Any]) -> Submission:
        """Validate and queue an information request; returns the new request or the problems."""
        form, problems = read_information_request(payload)
        if form is None:
            return None, problems
        request_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
        record = information_request_record(form, request_id=request_id, submitted_at=now)
        return self._submit(
            INFORMATION_REQUEST,
            record,
            request_id=request_id,
            kind="information",
            curp=form.curp,
            topic=form.agency,
            now=now,
        )

    def _submit(
        self,
        name: str,
        record: dict[str, Any],
        *,
        request_id: str,
        kind: str,
        curp: str,
        topic: str,
        now: dt.datetime,
    ) -> Submission:
        try:
            self._check(name, record)
        except ValidationError as exc:
            return None, _problems_of(exc)
        with self.ledger.transaction() as tx:
            self.store.add_request(
                tx,
                request_id=request_id,
                kind=kind,
                curp=curp,
                topic=topic,
                status="submitted",
                at=now,
                trace_id=self._trace_id(),
            )
            tx.emit(name, record)
        return self.store.request(request_id), []

    # -- records from other agencies ----------------------------------------------------------

    def on_case_opened(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.crm.CaseOpened: the CRM took the request; its case id links later updates."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            request_id = self.store.find(tx, request_id=record.get("serviceRequestId"))
            if request_id is None:
                return  # a case opened by another channel (phone, in person): not the portal's
            self.store.change_status(
                tx,
                request_id,
                status=CASE_STATUS_TEXT.get(record["status"], "case opened"),
                at=_at(record["openedAt"]),
                note=f"case {record['caseId']} opened",
                case_id=record["caseId"],
            )
            for _, waiting in self.store.take_waiting(tx, link=f"case:{record['caseId']}"):
                self._case_updated(tx, request_id, waiting)

    def on_case_updated(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.crm.CaseUpdated: show the case's new status to the citizen."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            request_id = self.store.find(tx, case_id=record["caseId"])
            if request_id is None:
                # It overtook its CaseOpened (another topic, no order between topics): keep it.
                self.store.wait(tx, link=f"case:{record['caseId']}", handler="case_updated", record=record)
                return
            self._case_updated(tx, request_id, record)

    def _case_updated(self, tx: Transaction, request_id: str, record: dict[str, Any]) -> None:
        self.store.change_status(
            tx,
            request_id,
            status=CASE_STATUS_TEXT.get(record["status"], record["status"].lower()),
            at=_at(record["updatedAt"]),
            note=record.get("note") or "",
        )

    def on_information_filed(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.transparencia.InformationRequestFiled: the request has a folio and a legal deadline."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            request_id = self.store.find(tx, request_id=record.get("sourceRequestId"))
            if request_id is None:
                return  # filed through another channel
            deadline = record["legalDeadline"]
            self.store.change_status(
                tx,
                request_id,
                status="filed",
                at=_at(record["filedAt"]),
                note=f"folio {record['folio']}, answer due by {deadline}",
                folio=record["folio"],
                deadline=str(deadline),
            )
            for _, waiting in self.store.take_waiting(tx, link=f"folio:{record['folio']}"):
                self._answered(tx, request_id, waiting)

    def on_information_answered(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.transparencia.InformationRequestAnswered: show the answer."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            request_id = self.store.find(tx, folio=record["folio"])
            if request_id is None:
                self.store.wait(tx, link=f"folio:{record['folio']}", handler="answered", record=record)
                return
            self._answered(tx, request_id, record)

    def _answered(self, tx: Transaction, request_id: str, record: dict[str, Any]) -> None:
        self.store.change_status(
            tx,
            request_id,
            status="answered",
            at=_at(record["answeredAt"]),
            note=record["answerType"].lower().replace("_", " "),
            answer=record["answerSummary"],
        )

    def on_data_access_logged(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.transparencia.DataAccessLogged: add to the citizen's access log."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            self.store.log_access(
                tx,
                access_id=record["accessId"],
                curp=record["dataSubjectCurp"],
                accessor=record["accessorAgency"],
                system=record["accessorSystem"],
                at=_at(record["accessedAt"]),
                purpose=record["purpose"],
                legal_basis=record["legalBasis"],
                fields=list(record["fieldsRead"]),
            )

    def handlers(self) -> dict[str, Callable[[dict[str, Any], Delivery], None]]:
        """The record each handler reads, for the runtime to subscribe."""
        return dict(
            zip(
                RECORDS_READ,
                (
                    self.on_case_opened,
                    self.on_case_updated,
                    self.on_information_filed,
                    self.on_information_answered,
                    self.on_data_access_logged,
                ),
                strict=True,
            )
        )
