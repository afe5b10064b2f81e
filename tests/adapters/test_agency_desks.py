"""The four agencies' business logic, record by record, without a bus (the bus is in test_bus_*.py).

Records pass between desks as the runtime would pass them: drained from one desk's outbox and handed
to every desk that reads that record, with the sender's URN.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from adapters._ledger import Ledger
from adapters._seam import Delivery, RecordingOutbound
from adapters.crm._desk import SCHEMA as CRM_SCHEMA
from adapters.crm._desk import CrmDesk
from adapters.fiscal._desk import FiscalDesk
from adapters.fiscal._legacy import LegacyTaxpayer, format_line
from adapters.fiscal._store import SCHEMA as SAT_SCHEMA
from adapters.portal._forms import ServiceRequestForm
from adapters.portal._mapping import service_request_record
from adapters.transparencia._desk import SCHEMA as TRANSPARENCIA_SCHEMA
from adapters.transparencia._desk import TransparencyDesk

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
ACTIVE_CURP, SUSPENDED_CURP, UNKNOWN_CURP = "GODE561231HDFRRN00", "MAPE900215MJCRRL09", "LOPJ850704HNLPRN02"


class Bus:
    """Hands each emitted record to the desks reading it; counts what each agency published."""

    def __init__(self) -> None:
        self.desks: dict[str, object] = {}
        self.published: list[tuple[str, str, dict]] = []

    def run(self) -> None:
        moved = True
        while moved:
            moved = False
            for urn, desk in self.desks.items():
                outbound = RecordingOutbound()
                if desk.ledger.drain(outbound):
                    moved = True
                for name, record, ce_id in outbound.sent:
                    self.published.append((urn, name, record))
                    for other in self.desks.values():
                        handler = other.handlers().get(name)
                        if handler:
                            handler(record, Delivery(ce_id=ce_id, sender=urn))

    def of(self, name: str) -> list[dict]:
        return [r for _, n, r in self.published if n == name]


@pytest.fixture
def bus() -> Bus:
    bus = Bus()
    clock = lambda: NOW  # noqa: E731
    bus.desks["urn:mx:gob:crm"] = CrmDesk(Ledger(":memory:", schema=CRM_SCHEMA), clock=clock)
    sat = FiscalDesk(Ledger(":memory:", schema=SAT_SCHEMA), clock=clock)
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
    bus.desks["urn:mx:gob:sat"] = sat
    bus.desks["urn:mx:gob:transparencia"] = TransparencyDesk(
        Ledger(":memory:", schema=TRANSPARENCIA_SCHEMA), clock=clock
    )
    return bus


def _submit(bus: Bus, curp: str, service: str, request_id: str) -> None:
    form = ServiceRequestForm(curp, "Emilio", "Gómez", "Díaz", service, True, "e@example.mx")
    record = service_request_record(form, request_id=request_id, submitted_at=NOW)
    for handler in (d.handlers().get("mx.gob.portal.ServiceRequestSubmitted") for d in bus.desks.values()):
        if handler:
            handler(record, Delivery(ce_id=f"ce-{request_id}", sender="urn:mx:gob:portal"))
    bus.run()


def test_a_tax_certificate_request_opens_a_case_asks_fiscal_services_and_resolves(bus):
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "11111111-1111-4111-8111-111111111111")
    (opened,) = bus.of("mx.gob.crm.CaseOpened")
    assert opened["caseId"] == "CRM-2026-000001" and opened["status"] == "OPEN"
    assert opened["serviceRequestId"] == "11111111-1111-4111-8111-111111111111"
    assert opened["slaDueDate"] == dt.date(2026, 11, 7)
    (asked,) = bus.of("mx.gob.crm.TaxpayerStatusRequested")
    (report,) = bus.of("mx.gob.sat.TaxpayerStatusReported")
    assert report["requestId"] == asked["requestId"] and report["requestedBy"] == "urn:mx:gob:crm"
    assert report["standing"] == "ACTIVE" and report["rfc"] == "GODE561231GR8"
    (updated,) = bus.of("mx.gob.crm.CaseUpdated")
    assert (updated["previousStatus"], updated["status"]) == ("OPEN", "RESOLVED")


def test_a_suspended_taxpayer_is_asked_to_update_their_status(bus):
    _submit(bus, SUSPENDED_CURP, "SE-LICENCIA-FUNCIONAMIENTO", "22222222-2222-4222-8222-222222222222")
    (updated,) = bus.of("mx.gob.crm.CaseUpdated")
    assert updated["status"] == "WAITING_CITIZEN" and "suspended" in updated["note"]


def test_someone_not_in_the_register_is_told_so(bus):
    _submit(bus, UNKNOWN_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "33333333-3333-4333-8333-333333333333")
    (report,) = bus.of("mx.gob.sat.TaxpayerStatusReported")
    assert report["standing"] == "NOT_REGISTERED" and report["rfc"] is None
    assert "not in the taxpayer register" in bus.of("mx.gob.crm.CaseUpdated")[0]["note"]


def test_a_service_that_needs_no_fiscal_data_only_opens_a_case(bus):
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "44444444-4444-4444-8444-444444444444")
    assert len(bus.of("mx.gob.crm.CaseOpened")) == 1
    assert bus.of("mx.gob.crm.TaxpayerStatusRequested") == [] and bus.of("mx.gob.crm.CaseUpdated") == []


def test_every_disclosure_of_personal_data_is_in_the_access_log(bus):
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "55555555-5555-4555-8555-555555555555")
    logged = bus.of("mx.gob.transparencia.DataAccessLogged")
    assert {(a["accessorAgency"], a["recordType"]) for a in logged} == {
        ("urn:mx:gob:crm", "mx.gob.portal.ServiceRequestSubmitted"),
        ("urn:mx:gob:crm", "mx.gob.sat.TaxpayerStatusReported"),
    }
    fiscal = next(a for a in logged if a["recordType"] == "mx.gob.sat.TaxpayerStatusReported")
    assert fiscal["dataSubjectCurp"] == ACTIVE_CURP and "rfc" in fiscal["fieldsRead"]
    assert fiscal["purpose"] and fiscal["legalBasis"] and fiscal["correlationId"] == "CRM-2026-000001"


def test_a_record_delivered_twice_opens_one_case(bus):
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "66666666-6666-4666-8666-666666666666")
    _submit(bus, ACTIVE_CURP, "RENAPO-CAMBIO-DOMICILIO", "66666666-6666-4666-8666-666666666666")
    assert len(bus.of("mx.gob.crm.CaseOpened")) == 1


def test_an_information_request_is_filed_with_its_legal_deadline_and_answered(bus):
    request = {
        "requestId": "77777777-7777-4777-8777-777777777777",
        "requesterCurp": ACTIVE_CURP,
        "agencyAsked": "urn:mx:gob:sat",
        "description": "What is SAT's budget for 2026?",
        "submittedAt": NOW,
    }
    bus.desks["urn:mx:gob:transparencia"].on_information_request(request, Delivery("ce-i", "urn:mx:gob:portal"))
    bus.run()
    (filed,) = bus.of("mx.gob.transparencia.InformationRequestFiled")
    assert filed["folio"] == "332026000000001" and filed["legalDeadline"] == dt.date(2026, 12, 1)
    assert filed["sourceRequestId"] == request["requestId"]
    (answered,) = bus.of("mx.gob.transparencia.InformationRequestAnswered")
    assert answered["answerType"] == "PUBLICLY_AVAILABLE" and answered["onTime"] is True


def test_fiscal_services_announce_a_status_change(bus):
    sat = bus.desks["urn:mx:gob:sat"]
    sat.change_status("GODE561231GR8", "C")
    bus.run()
    (changed,) = bus.of("mx.gob.sat.TaxpayerStatusChanged")
    assert changed["status"] == "CANCELLED" and changed["taxpayerType"] == "PERSON"
    assert changed["effectiveDate"] == NOW.date()


def test_every_record_an_agency_publishes_passes_its_schema_and_domain_rules(bus):
    from bus import records  # imported, never skipped: a broken import must fail the test

    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "88888888-8888-4888-8888-888888888888")
    _submit(bus, SUSPENDED_CURP, "SE-LICENCIA-FUNCIONAMIENTO", "99999999-9999-4999-8999-999999999999")
    _submit(bus, UNKNOWN_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
    request = {
        "requestId": "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
        "requesterCurp": ACTIVE_CURP,
        "agencyAsked": "urn:mx:gob:crm",
        "description": "How many cases did you open?",
        "submittedAt": NOW,
    }
    bus.desks["urn:mx:gob:transparencia"].on_information_request(request, Delivery("ce-j", "urn:mx:gob:portal"))
    bus.desks["urn:mx:gob:sat"].change_status("MAPE900215KX0", "A")
    bus.run()
    published = {name for _, name, _ in bus.published}
    assert len(published) == 8
    for urn, name, record in bus.published:
        record_type = records.catalog().get(name)
        assert record_type.owner == urn, f"{urn} published {name}, owned by {record_type.owner}"
        records.check(record_type, record)


def test_records_resent_under_a_new_ce_id_change_nothing_downstream(bus):
    """A sender killed between Kafka's ack and its outbox bookkeeping resends with a new ce_id."""
    _submit(bus, ACTIVE_CURP, "SAT-CONSTANCIA-SITUACION-FISCAL", "cccccccc-cccc-4ccc-8ccc-cccccccccccc")
    before = Counter(name for _, name, _ in bus.published)
    for urn, name, record in list(bus.published):
        for desk in bus.desks.values():
            handler = desk.handlers().get(name)
            if handler:
                handler(record, Delivery(ce_id=f"resent-{name}-{id(record)}", sender=urn))
    bus.run()
    assert Counter(name for _, name, _ in bus.published) == before
