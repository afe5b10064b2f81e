"""The four agencies' business logic, record by record, without a bus (the bus is in test_bus_*.py).

Each desk runs on ``connectors.testing.MemoryAgency``; records pass between desks as the connector
would pass them: taken from one agency's outbox once committed and handed, with their ce_id and the
sender's URN, to every desk that reads that record type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest

from adapters.crm._desk import SCHEMA as CRM_SCHEMA
from adapters.crm._desk import CrmDesk
from adapters.fiscal._desk import FiscalDesk
from adapters.fiscal._legacy import LegacyTaxpayer, format_line
from adapters.fiscal._store import SCHEMA as SAT_SCHEMA
from adapters.portal._forms import ServiceRequestForm
from adapters.portal._mapping import service_request_record
from adapters.transparencia._desk import SCHEMA as TRANSPARENCIA_SCHEMA
from adapters.transparencia._desk import TransparencyDesk
from bus import PolicyViolation
from bus.records import catalog
from bus.records.models import (
    CaseOpened,
    CaseUpdated,
    DataAccessLogged,
    InformationRequestAnswered,
    InformationRequestFiled,
    InformationRequestSubmitted,
    TaxpayerStatusChanged,
    TaxpayerStatusReported,
    TaxpayerStatusRequested,
)
from connectors.testing import MemoryAgency

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
ACTIVE_CURP, SUSPENDED_CURP, UNKNOWN_CURP = "GODE561231HDFRRN00", "MAPE900215MJCRRL09", "LOPJ850704HNLPRN02"
PORTAL = "urn:mx:gob:portal"


class Bus:
    """Hands each committed emitted record to the desks reading it; keeps what each agency published."""

    def __init__(self) -> None:
        self.agencies: dict[str, MemoryAgency] = {}
        self.desks: dict[str, object] = {}
        self.published: list[tuple[str, object]] = []

    def add(self, urn: str, schema: str, make) -> object:
        agency = self.agencies[urn] = MemoryAgency(urn, schema=schema, group=urn.rsplit(":", 1)[-1])
        desk = self.desks[urn] = make(agency.store)
        return desk

    def deliver(self, record, *, sender: str, ce_id: str) -> None:
        for urn, desk in self.desks.items():
            handler = desk.handlers().get(type(record))
            if handler:
                self.agencies[urn].deliver(handler, record, sender=sender, ce_id=ce_id)

    def run(self) -> None:
        moved = True
        while moved:
            moved = False
            for urn, agency in self.agencies.items():
                for ce_id, record in agency.take_emitted():
                    moved = True
                    self.published.append((urn, record))
                    self.deliver(record, sender=urn, ce_id=ce_id)

    def of(self, model: type) -> list:
        return [r for _, r in self.published if isinstance(r, model)]


@pytest.fixture
def bus() -> Bus:
    bus = Bus()
    clock = lambda: NOW  # noqa: E731
    bus.add("urn:mx:gob:crm", CRM_SCHEMA, lambda store: CrmDesk(store, clock=clock))
    sat = bus.add("urn:mx:gob:sat", SAT_SCHEMA, lambda store: FiscalDesk(store, clock=clock))
    sat.load_register(
        "\n".join(
            format_line(t)
            for t in (
                LegacyTaxpayer(
                    "GODE561231GR8", ACTIVE_CURP, "EMILIO GOMEZ DIAZ", "612", "A", dt.date(2019, 3, 1), ("ISR",)
                ),
                LegacyTaxpayer(
                    "MAPE900215KX0", SUSPENDED_CURP, "ELENA MARTINEZ PEREZ", "626", "S", dt.date(2025, 5, 1), ()
                ),
            )
        )
    )
    bus.add("urn:mx:gob:transparencia", TRANSPARENCIA_SCHEMA, lambda store: TransparencyDesk(store, clock=clock))
    return bus


def _submit(bus: Bus, curp: str, service: str, request_id: str) -> None:
    form = ServiceRequestForm(curp, "Emilio", "Gómez", "Díaz", service, True, "e@example.mx")
    record = service_request_record(form, request_id=request_id, submitted_at=NOW)
    bus.deliver(record, sender=PORTAL, ce_id=f"ce-{request_id}")
    bus.run()


def _information_request(request_id: str, agency: str, description: str) -> InformationRequestSubmitted:
    return InformationRequestSubmitted.from_avro(
        {
            "requestId": request_id,
            "requesterCurp": ACTIVE_CURP,
            "agencyAsked": agency,
            "description": description,
            "consentGiven": True,
            "privacyNoticeVersion": "portal-2026.1",
            "submittedAt": NOW,
        }
    )


def test_a_tax_certificate_request_opens_a_case_asks_fiscal_services_and_resolves(bus):
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "11111111-1111-4111-8111-111111111111")
    (opened,) = bus.of(CaseOpened)
    assert opened.case_id == "CRM-2026-000001" and opened.status == "OPEN"
    assert str(opened.service_request_id) == "11111111-1111-4111-8111-111111111111"
    assert opened.sla_due_date == dt.date(2026, 11, 7)
    (asked,) = bus.of(TaxpayerStatusRequested)
    (report,) = bus.of(TaxpayerStatusReported)
    assert report.request_id == asked.request_id and report.requested_by == "urn:mx:gob:crm"
    assert report.standing == "ACTIVE" and report.rfc == "GODE561231GR8"
    (updated,) = bus.of(CaseUpdated)
    assert (updated.previous_status, updated.status) == ("OPEN", "RESOLVED")


def test_a_suspended_taxpayer_is_asked_to_update_their_status(bus):
    _submit(bus, SUSPENDED_CURP, "SE-LICENCIA-FUNCIONAMIENTO", "22222222-2222-4222-8222-222222222222")
    (updated,) = bus.of(CaseUpdated)
    assert updated.status == "WAITING_CITIZEN" and "suspended" in updated.note


def test_someone_not_in_the_register_is_told_so(bus):
    _submit(bus, UNKNOWN_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "33333333-3333-4333-8333-333333333333")
    (report,) = bus.of(TaxpayerStatusReported)
    assert report.standing == "NOT_REGISTERED" and report.rfc is None
    assert "not in the taxpayer register" in bus.of(CaseUpdated)[0].note


def test_a_service_that_needs_no_fiscal_data_only_opens_a_case(bus):
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "44444444-4444-4444-8444-444444444444")
    assert len(bus.of(CaseOpened)) == 1
    assert bus.of(TaxpayerStatusRequested) == [] and bus.of(CaseUpdated) == []


def test_every_disclosure_of_personal_data_is_in_the_access_log(bus):
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "55555555-5555-4555-8555-555555555555")
    logged = bus.of(DataAccessLogged)
    assert {(a.accessor_agency, a.record_type) for a in logged} == {
        ("urn:mx:gob:crm", "mx.gob.portal.ServiceRequestSubmitted"),
        ("urn:mx:gob:crm", "mx.gob.sat.TaxpayerStatusReported"),
    }
    fiscal = next(a for a in logged if a.record_type == "mx.gob.sat.TaxpayerStatusReported")
    assert fiscal.data_subject_curp == ACTIVE_CURP and "rfc" in fiscal.fields_read
    assert fiscal.purpose and fiscal.legal_basis and fiscal.correlation_id == "CRM-2026-000001"


def test_a_record_delivered_twice_opens_one_case(bus):
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "66666666-6666-4666-8666-666666666666")
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "66666666-6666-4666-8666-666666666666")
    assert len(bus.of(CaseOpened)) == 1


def test_an_information_request_is_filed_with_its_legal_deadline_and_answered(bus):
    request = _information_request("77777777-7777-4777-8777-777777777777", "urn:mx:gob:sat", "SAT's 2026 budget?")
    bus.deliver(request, sender=PORTAL, ce_id="ce-i")
    bus.run()
    (filed,) = bus.of(InformationRequestFiled)
    assert filed.folio == "332026000000001" and filed.legal_deadline == dt.date(2026, 12, 1)
    assert filed.source_request_id == request.request_id
    (answered,) = bus.of(InformationRequestAnswered)
    assert answered.answer_type == "PUBLICLY_AVAILABLE" and answered.on_time is True


def test_fiscal_services_announce_a_status_change(bus):
    sat = bus.desks["urn:mx:gob:sat"]
    sat.change_status("GODE561231GR8", "C")
    bus.run()
    (changed,) = bus.of(TaxpayerStatusChanged)
    assert changed.status == "CANCELLED" and changed.taxpayer_type == "PERSON"
    assert changed.effective_date == NOW.date()


def test_every_record_an_agency_publishes_is_of_its_own_namespace_and_passes_its_rules(bus):
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "88888888-8888-4888-8888-888888888888")
    _submit(bus, SUSPENDED_CURP, "SE-LICENCIA-FUNCIONAMIENTO", "99999999-9999-4999-8999-999999999999")
    _submit(bus, UNKNOWN_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
    request = _information_request("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "urn:mx:gob:crm", "How many cases?")
    bus.deliver(request, sender=PORTAL, ce_id="ce-j")
    bus.desks["urn:mx:gob:sat"].change_status("MAPE900215KX0", "A")
    bus.run()
    published = {type(record) for _, record in bus.published}
    assert len(published) == 8
    for urn, record in bus.published:
        record_type = catalog().get(record.avro_name)
        assert record_type.owner == urn, f"{urn} published {record.avro_name}, owned by {record_type.owner}"
        type(record).from_avro(record.to_avro(), strict=True)  # what the connector checks before encoding


def test_emitting_another_agencys_record_is_refused_inside_the_handler(bus):
    crm = bus.agencies["urn:mx:gob:crm"]
    report = TaxpayerStatusReported.from_avro(catalog().get("TaxpayerStatusReported").example())

    def wrong(record, received):
        received.transaction.execute("INSERT INTO case_numbers (year, last) VALUES (1999, 1)")
        received.transaction.emit(report)  # fiscal services' record: not the CRM's to send

    with pytest.raises(PolicyViolation):
        crm.deliver(wrong, report, sender="urn:mx:gob:sat", ce_id="ce-wrong")
    assert crm.take() == [], "nothing emitted"
    assert crm.reader().execute("SELECT count(*) FROM case_numbers").fetchone()[0] == 0, "nothing written"


def test_records_resent_under_a_new_ce_id_change_nothing_downstream(bus):
    """A sender killed between its commit and its outbox bookkeeping resends with the same ce_id; even
    a resend under a new ce_id (a sender restored from a backup) is recognised by its business key."""
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "cccccccc-cccc-4ccc-8ccc-cccccccccccc")
    before = Counter(type(record) for _, record in bus.published)
    for urn, record in list(bus.published):
        bus.deliver(record, sender=urn, ce_id=f"resent-{uuid.uuid4()}")
    bus.run()
    assert Counter(type(record) for _, record in bus.published) == before


def _status_question(purpose_id: str) -> TaxpayerStatusRequested:
    return TaxpayerStatusRequested.from_avro(
        catalog().get("TaxpayerStatusRequested").example() | {"citizenCurp": ACTIVE_CURP, "purposeId": purpose_id}
    )


@pytest.mark.parametrize(
    ("asker", "purpose_id", "refusal"),
    [
        ("urn:mx:gob:crm", "", "purpose-missing"),  # a v1 question: no policy purpose named
        ("urn:mx:gob:crm", "case-tracking", "purpose-not-allowed"),  # a purpose, not one the CRM reads this for
        ("urn:mx:gob:crm", "no-such-purpose", "purpose-not-allowed"),
        ("urn:mx:gob:portal", "tax-status-check", "requester-not-allowed"),  # not a reader of the answer
    ],
)
def test_fiscal_services_answer_only_whom_the_policy_lets_ask_for_a_listed_purpose(bus, asker, purpose_id, refusal):
    bus.deliver(_status_question(purpose_id), sender=asker, ce_id=f"ce-{uuid.uuid4()}")
    bus.run()
    (report,) = bus.of(TaxpayerStatusReported)
    assert (report.standing, report.refusal, report.requested_by) == ("REFUSED", refusal, asker)
    assert report.rfc is None and report.regime is None and report.obligations == [] and report.status_since is None
    assert bus.of(DataAccessLogged) == [], "nothing was disclosed, so nothing is logged as disclosed"


def test_an_allowed_answer_carries_the_policys_purpose_and_legal_basis(bus):
    bus.deliver(_status_question("tax-status-check"), sender="urn:mx:gob:crm", ce_id="ce-allowed")
    bus.run()
    (report,) = bus.of(TaxpayerStatusReported)
    purpose = catalog().policy.purposes["tax-status-check"]
    assert report.standing == "ACTIVE" and report.refusal is None
    assert (report.purpose, report.legal_basis) == (purpose.text, purpose.basis)
    (logged,) = bus.of(DataAccessLogged)
    assert (logged.purpose, logged.legal_basis) == (purpose.text, purpose.basis)


def test_a_refusal_never_repeats_the_askers_own_purpose_text(bus, caplog):
    hostile = ACTIVE_CURP + " " + "x" * 10_000  # a sender may put anything in purposeId
    caplog.set_level("WARNING")
    bus.deliver(_status_question(hostile), sender="urn:mx:gob:crm", ce_id="ce-hostile")
    bus.run()
    (report,) = bus.of(TaxpayerStatusReported)
    assert (report.standing, report.refusal, report.purpose) == (
        "REFUSED",
        "purpose-not-allowed",
        "(not a policy purpose)",
    )
    assert ACTIVE_CURP not in caplog.text and "xxxx" not in caplog.text
