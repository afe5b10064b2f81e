"""The portal's business: take citizens' requests, follow them as agencies answer, show the access log."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.portal._forms import FieldProblem, citizen_message, read_information_request, read_service_request
from adapters.portal._mapping import (
    CASE_STATUS_TEXT,
    FORM_FIELD_OF_RECORD_PATH,
    information_request_record,
    service_request_record,
)
from adapters.portal._store import PortalStore, RequestView
from bus import PolicyViolation, ValidationError
from bus.records import RecordModel
from bus.records.models import (
    CaseOpened,
    CaseUpdated,
    DataAccessLogged,
    InformationRequestAnswered,
    InformationRequestFiled,
)
from connectors import AgencyStore, Handler, Received, Transaction

__all__ = ["RECORDS_READ", "Accepted", "PortalDesk", "Submission", "new_tracking_code"]

RECORDS_READ = (CaseOpened, CaseUpdated, InformationRequestFiled, InformationRequestAnswered, DataAccessLogged)


def new_tracking_code() -> str:
    """A request's tracking code: 128 random bits (22 URL-safe characters), shown once, stored hashed."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Accepted:
    """A request the portal took: what the citizen sees, and the tracking code (given only here)."""

    request: RequestView
    tracking_code: str

    def as_json(self) -> dict[str, Any]:
        return {"request": self.request.as_json(), "tracking_code": self.tracking_code}


Submission = tuple[Accepted | None, list[FieldProblem]]


def _problems_of(error: ValidationError) -> list[FieldProblem]:
    """A record's validation errors, each shown next to the form field it came from."""
    problems = []
    for problem in error.problems or [error]:
        field = FORM_FIELD_OF_RECORD_PATH.get(problem.path or "", "form")
        problems.append(FieldProblem(field, citizen_message(problem), problem.rule or "record"))
    return problems


class PortalDesk:
    """What the portal does; the web layer and the bus runtime both call it.

    Args:
        store: the portal's agency store (holds its tables too).
        trace_id: returns the current trace id, if any, to remember with a new request.
    """

    def __init__(self, store: AgencyStore, *, trace_id: Callable[[], str | None] = lambda: None):
        self.agency_store = store
        self.store = PortalStore(store)
        self._trace_id = trace_id

    # -- citizens ---------------------------------------------------------------------------

    def submit_service_request(self, payload: dict[str, Any]) -> Submission:
        """Validate and queue a service request; returns the new request or the problems per field."""
        form, problems = read_service_request(payload)
        if form is None:
            return None, problems
        request_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
        try:
            record: RecordModel = service_request_record(form, request_id=request_id, submitted_at=now)
        except ValidationError as exc:
            return None, _problems_of(exc)
        return self._submit(record, request_id=request_id, kind="service", curp=form.curp, topic=form.service, now=now)

    def submit_information_request(self, payload: dict[str, Any]) -> Submission:
        """Validate and queue an information request; returns the new request or the problems."""
        form, problems = read_information_request(payload)
        if form is None:
            return None, problems
        request_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
        try:
            record: RecordModel = information_request_record(form, request_id=request_id, submitted_at=now)
        except ValidationError as exc:
            return None, _problems_of(exc)
        return self._submit(
            record, request_id=request_id, kind="information", curp=form.curp, topic=form.agency, now=now
        )

    def _submit(
        self, record: RecordModel, *, request_id: str, kind: str, curp: str, topic: str, now: dt.datetime
    ) -> Submission:
        tracking_code = new_tracking_code()
        try:
            with self.agency_store.transaction() as tx:
                self.store.add_request(
                    tx,
                    request_id=request_id,
                    kind=kind,
                    curp=curp,
                    topic=topic,
                    status="submitted",
                    at=now,
                    tracking_code=tracking_code,
                    trace_id=self._trace_id(),
                )
                tx.emit(record)  # sent once the transaction commits, by the connector's publisher
        except ValidationError as exc:  # refused at emit (e.g. too large for its topic): nothing stored
            return None, _problems_of(exc)
        except PolicyViolation as exc:
            return None, [FieldProblem("form", str(exc), exc.rule or "policy")]
        view = self.store.request(request_id)
        assert view is not None  # committed just above
        return Accepted(view, tracking_code), []

    # -- records from other agencies ----------------------------------------------------------

    def on_case_opened(self, record: CaseOpened, received: Received) -> None:
        """mx.gob.crm.CaseOpened: the CRM took the request; its case id links later updates."""
        tx = received.transaction
        request_id = self.store.find(tx, request_id=_text(record.service_request_id))
        if request_id is None:
            return  # a case opened by another channel (phone, in person): not the portal's
        self.store.change_status(
            tx,
            request_id,
            status=CASE_STATUS_TEXT.get(record.status, "case opened"),
            at=record.opened_at,
            note=f"case {record.case_id} opened",
            case_id=record.case_id,
        )
        for waiting in self.store.take_waiting(tx, link=f"case:{record.case_id}", model=CaseUpdated):
            self._case_updated(tx, request_id, waiting)

    def on_case_updated(self, record: CaseUpdated, received: Received) -> None:
        """mx.gob.crm.CaseUpdated: show the case's new status to the citizen."""
        tx = received.transaction
        request_id = self.store.find(tx, case_id=record.case_id)
        if request_id is None:
            # It overtook its CaseOpened (another topic, no order between topics): keep it.
            self.store.wait(tx, link=f"case:{record.case_id}", record=record)
            return
        self._case_updated(tx, request_id, record)

    def _case_updated(self, tx: Transaction, request_id: str, record: CaseUpdated) -> None:
        self.store.change_status(
            tx,
            request_id,
            status=CASE_STATUS_TEXT.get(record.status, record.status.lower()),
            at=record.updated_at,
            note=record.note or "",
        )

    def on_information_filed(self, record: InformationRequestFiled, received: Received) -> None:
        """mx.gob.transparencia.InformationRequestFiled: the request has a folio and a legal deadline."""
        tx = received.transaction
        request_id = self.store.find(tx, request_id=_text(record.source_request_id))
        if request_id is None:
            return  # filed through another channel
        deadline = record.legal_deadline
        self.store.change_status(
            tx,
            request_id,
            status="filed",
            at=record.filed_at,
            note=f"folio {record.folio}, answer due by {deadline}",
            folio=record.folio,
            deadline=str(deadline),
        )
        for waiting in self.store.take_waiting(tx, link=f"folio:{record.folio}", model=InformationRequestAnswered):
            self._answered(tx, request_id, waiting)

    def on_information_answered(self, record: InformationRequestAnswered, received: Received) -> None:
        """mx.gob.transparencia.InformationRequestAnswered: show the answer."""
        tx = received.transaction
        request_id = self.store.find(tx, folio=record.folio)
        if request_id is None:
            self.store.wait(tx, link=f"folio:{record.folio}", record=record)
            return
        self._answered(tx, request_id, record)

    def _answered(self, tx: Transaction, request_id: str, record: InformationRequestAnswered) -> None:
        self.store.change_status(
            tx,
            request_id,
            status="answered",
            at=record.answered_at,
            note=record.answer_type.lower().replace("_", " "),
            answer=record.answer_summary,
        )

    def on_data_access_logged(self, record: DataAccessLogged, received: Received) -> None:
        """mx.gob.transparencia.DataAccessLogged: add to the citizen's access log."""
        self.store.log_access(
            received.transaction,
            access_id=str(record.access_id),
            curp=record.data_subject_curp,
            accessor=record.accessor_agency,
            system=record.accessor_system,
            at=record.accessed_at,
            purpose=record.purpose,
            legal_basis=record.legal_basis,
            fields=list(record.fields_read),
        )

    def handlers(self) -> dict[type, Handler]:
        """The handler of each record type the portal reads, for the runtime to subscribe."""
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


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
