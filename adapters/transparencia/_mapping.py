"""Transparency's records (check against schemas/mx.gob.transparencia/*.avsc).

Also the access log's rules: which record, read by whom, discloses which personal fields.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from bus.records.models import (
    CaseOpened,
    DataAccessLogged,
    InformationRequestAnswered,
    InformationRequestFiled,
    InformationRequestSubmitted,
    TaxpayerStatusReported,
)

__all__ = [
    "ACCESS_NAMESPACE",
    "access_from_case_opened",
    "access_from_status_report",
    "answered_record",
    "filed_record",
]

# accessId is derived from what was disclosed (the question answered, the case opened), so the same
# disclosure logged twice, even from a record resent under a new ce_id, gives the same id and the
# citizen sees one entry.
ACCESS_NAMESPACE = uuid.UUID("6f1d0c1e-4a59-4c35-9a8f-3d2f9e0c7a11")


def filed_record(
    request: InformationRequestSubmitted, *, folio: str, filed_at: dt.datetime, deadline: dt.date
) -> InformationRequestFiled:
    """``mx.gob.transparencia.InformationRequestFiled`` v2, from the portal's InformationRequestSubmitted."""
    return InformationRequestFiled.from_avro(
        {
            "folio": folio,
            "requestType": "PUBLIC_INFORMATION",
            "requesterCurp": request.requester_curp,
            "agencyAsked": request.agency_asked,
            "description": request.description,
            "deliveryMode": "ELECTRONIC",
            "filedAt": filed_at,
            "legalDeadline": deadline,
            "sourceRequestId": request.request_id,
        }
    )


def answered_record(
    *,
    folio: str,
    agency: str,
    answer_type: str,
    summary: str,
    uris: list[str],
    answered_at: dt.datetime,
    deadline: dt.date,
) -> InformationRequestAnswered:
    """``mx.gob.transparencia.InformationRequestAnswered`` v1."""
    return InformationRequestAnswered.from_avro(
        {
            "folio": folio,
            "agency": agency,
            "answerType": answer_type,
            "answerSummary": summary,
            "documentUris": uris,
            "answeredAt": answered_at,
            "legalDeadline": deadline,
            "onTime": answered_at.date() <= deadline,
        }
    )


def _access(disclosure: str, **fields: Any) -> DataAccessLogged:
    return DataAccessLogged.from_avro(
        {"accessId": uuid.uuid5(ACCESS_NAMESPACE, disclosure), "accessorOfficial": None, **fields}
    )


def access_from_status_report(report: TaxpayerStatusReported) -> DataAccessLogged:
    """``DataAccessLogged``: fiscal services disclosed a citizen's tax status to the agency that asked."""
    disclosed = ["standing"] + (["rfc", "regime", "obligations", "statusSince"] if report.rfc else [])
    return _access(
        f"mx.gob.sat.TaxpayerStatusReported:{report.request_id}",
        dataSubjectCurp=report.citizen_curp,
        accessorAgency=report.requested_by,
        accessorSystem="case management (fiscal status query)",
        recordType="mx.gob.sat.TaxpayerStatusReported",
        fieldsRead=disclosed,
        purpose=report.purpose,
        legalBasis=report.legal_basis,
        accessedAt=report.reported_at,
        correlationId=report.case_id,
    )


def access_from_case_opened(case: CaseOpened, *, reader: str) -> DataAccessLogged:
    """``DataAccessLogged``: the CRM read the applicant's identity and contact to open a case."""
    return _access(
        f"mx.gob.crm.CaseOpened:{case.case_id}",
        dataSubjectCurp=case.citizen_curp,
        accessorAgency=reader,
        accessorSystem="case management",
        recordType="mx.gob.portal.ServiceRequestSubmitted",
        fieldsRead=["applicant", "contact"],
        purpose="open a case for the citizen's service request",
        legalBasis="consent given on the citizen's portal (privacy notice)",
        accessedAt=case.opened_at,
        correlationId=case.case_id,
    )
