"""The CRM's own case rows <-> shared records (check against the latest schemas/mx.gob.crm/*/v*.avsc).

The CRM keeps cases in its own table with its own vocabulary (Spanish status names, a service
catalogue); this module is the only place that knows both vocabularies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bus.records.models import CaseOpened, CaseUpdated, Contact, TaxpayerStatusRequested

__all__ = [
    "CATALOGUE",
    "CRM_STATUS",
    "CaseRow",
    "ServiceRule",
    "case_opened_record",
    "case_updated_record",
    "taxpayer_status_request_record",
]

# CRM status (its own word) -> mx.gob.crm.CaseStatus symbol.
CRM_STATUS = {
    "abierto": "OPEN",
    "en_proceso": "IN_PROGRESS",
    "espera_ciudadano": "WAITING_CITIZEN",
    "espera_dependencia": "WAITING_AGENCY",
    "resuelto": "RESOLVED",
    "cerrado": "CLOSED",
}


@dataclass(frozen=True)
class ServiceRule:
    """How the CRM handles one portal service."""

    category: str  # mx.gob.crm category, e.g. "tramite.constancia-situacion-fiscal"
    sla_days: int
    needs_tax_status: bool
    purpose: str = ""  # why fiscal data is needed, for this service
    legal_basis: str = ""
    purpose_id: str = "tax-status-check"  # the policy's purpose the CRM asks fiscal services under


CATALOGUE = {
    "SAT-CONSTANCIA-SITUACION-FISCAL": ServiceRule(
        "tramite.constancia-situacion-fiscal",
        5,
        True,
        "issue the tax status certificate the citizen requested",
        "Código Fiscal de la Federación, art. 69; consent given on the portal",
    ),
    "SE-LICENCIA-FUNCIONAMIENTO": ServiceRule(
        "tramite.licencia-funcionamiento",
        15,
        True,
        "check the applicant is an active taxpayer before granting a business licence",
        "Ley General de Mejora Regulatoria, art. 3; consent given on the portal",
    ),
    "RENAPO-CAMBIO-DOMICILIO": ServiceRule("tramite.cambio-domicilio", 10, False),
}
UNKNOWN_SERVICE = ServiceRule("tramite.otro", 20, False)


@dataclass(frozen=True)
class CaseRow:
    """A case as the CRM stores it."""

    case_id: str
    curp: str
    service_code: str
    status: str  # one of CRM_STATUS
    opened_at: dt.datetime
    due: dt.date
    request_id: str | None
    email: str | None = None
    phone: str | None = None


def _contact(row: CaseRow) -> Contact | None:
    if not (row.email or row.phone):
        return None
    return Contact.from_avro(
        {"email": row.email, "phone": row.phone, "preferredChannel": "EMAIL" if row.email else "PHONE"}
    )


def case_opened_record(row: CaseRow) -> CaseOpened:
    """``mx.gob.crm.CaseOpened`` v2 (v1 readers ignore ``priority``)."""
    return CaseOpened.from_avro(
        {
            "caseId": row.case_id,
            "citizenCurp": row.curp,
            "channel": "PORTAL",
            "category": CATALOGUE.get(row.service_code, UNKNOWN_SERVICE).category,
            "status": CRM_STATUS[row.status],
            "priority": "NORMAL",
            "slaDueDate": row.due,
            "openedAt": row.opened_at,
            "serviceRequestId": row.request_id,
            "contact": _contact(row),
        }
    )


def case_updated_record(row: CaseRow, *, previous: str, at: dt.datetime, note: str | None) -> CaseUpdated:
    """``mx.gob.crm.CaseUpdated`` v1: the case as it now stands, and the status it left."""
    return CaseUpdated.from_avro(
        {
            "caseId": row.case_id,
            "citizenCurp": row.curp,
            "channel": "PORTAL",
            "category": CATALOGUE.get(row.service_code, UNKNOWN_SERVICE).category,
            "status": CRM_STATUS[row.status],
            "previousStatus": CRM_STATUS[previous],
            "slaDueDate": row.due,
            "updatedAt": at,
            "note": note,
        }
    )


def taxpayer_status_request_record(row: CaseRow, *, request_id: str, at: dt.datetime) -> TaxpayerStatusRequested:
    """``mx.gob.crm.TaxpayerStatusRequested`` v2: the CRM asks fiscal services about the citizen, under
    the policy's purpose for the service."""
    rule = CATALOGUE[row.service_code]
    return TaxpayerStatusRequested.from_avro(
        {
            "requestId": request_id,
            "caseId": row.case_id,
            "citizenCurp": row.curp,
            "purpose": rule.purpose,
            "legalBasis": rule.legal_basis,
            "purposeId": rule.purpose_id,
            "requestedAt": at,
        }
    )
