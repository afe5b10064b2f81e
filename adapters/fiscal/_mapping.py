"""Fiscal services' register lines <-> shared records (check against schemas/mx.gob.sat/*.avsc)."""

from __future__ import annotations

import datetime as dt

from adapters.fiscal._legacy import LegacyTaxpayer
from bus.policy import Purpose
from bus.records.models import TaxpayerStatusChanged, TaxpayerStatusReported, TaxpayerStatusRequested

__all__ = ["STATUS_SYMBOL", "status_changed_record", "status_refused_record", "status_reported_record", "taxpayer_type"]

# Register status code -> mx.gob.sat.TaxpayerStatus / TaxStanding symbol.
STATUS_SYMBOL = {"A": "ACTIVE", "S": "SUSPENDED", "C": "CANCELLED"}


def taxpayer_type(rfc: str) -> str:
    """A person's RFC has 13 characters, a company's 12 (mx.gob.sat.TaxpayerType)."""
    return "PERSON" if len(rfc) == 13 else "COMPANY"


def status_changed_record(
    before: LegacyTaxpayer, after: LegacyTaxpayer, *, changed_at: dt.datetime
) -> TaxpayerStatusChanged:
    """``mx.gob.sat.TaxpayerStatusChanged`` v2 (schemas/mx.gob.sat/TaxpayerStatusChanged/v2.avsc)."""
    return TaxpayerStatusChanged.from_avro(
        {
            "rfc": after.rfc,
            "taxpayerType": taxpayer_type(after.rfc),
            "regime": after.regime_code,
            "status": STATUS_SYMBOL[after.status_code],
            "previousStatus": STATUS_SYMBOL[before.status_code],
            "obligations": list(after.obligations),
            "effectiveDate": after.status_since,
            "changedAt": changed_at,
        }
    )


def status_reported_record(
    taxpayer: LegacyTaxpayer | None,
    *,
    request: TaxpayerStatusRequested,
    asker: str,
    purpose: Purpose,
    reported_at: dt.datetime,
) -> TaxpayerStatusReported:
    """``mx.gob.sat.TaxpayerStatusReported`` v2: the answer to a TaxpayerStatusRequested.

    Args:
        taxpayer: the register's entry for the citizen, or None when not registered.
        request: the TaxpayerStatusRequested record answered.
        asker: the URN of the agency that asked (the request's verified sender).
        purpose: the policy's purpose the question named, which the policy lets ``asker`` read for.
        reported_at: when the answer is given.
    """
    return TaxpayerStatusReported.from_avro(
        {
            "requestId": request.request_id,
            "caseId": request.case_id,
            "requestedBy": asker,
            "citizenCurp": request.citizen_curp,
            "standing": STATUS_SYMBOL[taxpayer.status_code] if taxpayer else "NOT_REGISTERED",
            "rfc": taxpayer.rfc if taxpayer else None,
            "regime": taxpayer.regime_code if taxpayer else None,
            "obligations": list(taxpayer.obligations) if taxpayer else [],
            "statusSince": taxpayer.status_since if taxpayer else None,
            "purpose": purpose.text,
            "legalBasis": purpose.basis,
            "refusal": None,
            "reportedAt": reported_at,
        }
    )


def status_refused_record(
    *, request: TaxpayerStatusRequested, asker: str, purpose: str, refusal: str, reported_at: dt.datetime
) -> TaxpayerStatusReported:
    """``mx.gob.sat.TaxpayerStatusReported`` v2 that discloses nothing: standing REFUSED and the reason
    (``purpose-missing``, ``purpose-not-allowed``, ``requester-not-allowed``), so the asker knows why.

    ``purpose`` is the question's purpose as the policy names it (an id of its purposes, or a fixed
    text): never the asker's own text, which could carry anything onto a topic others read."""
    return TaxpayerStatusReported.from_avro(
        {
            "requestId": request.request_id,
            "caseId": request.case_id,
            "requestedBy": asker,
            "citizenCurp": request.citizen_curp,
            "standing": "REFUSED",
            "purpose": purpose,
            "legalBasis": "none: not disclosed",
            "refusal": refusal,
            "reportedAt": reported_at,
        }
    )
