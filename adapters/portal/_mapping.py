"""Portal forms <-> shared records, field by field (check against the .avsc files named below).

Records are the shared records' models (``bus.records.models``): building one checks every rule
of its schema and raises ``bus.ValidationError`` with each problem's path in Avro names
(``/applicant/curp``), which ``FORM_FIELD_OF_RECORD_PATH`` puts next to the form's field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters.portal._forms import SERVICES, InformationRequestForm, ServiceRequestForm
from bus.records.models import InformationRequestSubmitted, Person, ServiceRequestSubmitted

__all__ = [
    "CASE_STATUS_TEXT",
    "FORM_FIELD_OF_RECORD_PATH",
    "PRIVACY_NOTICE_VERSION",
    "information_request_record",
    "person_from_curp",
    "service_request_record",
]

# The privacy notice the page shows next to the consent box; its version travels with the consent.
PRIVACY_NOTICE_VERSION = "portal-2026.1"

# What the citizen sees for each mx.gob.crm.CaseStatus symbol.
CASE_STATUS_TEXT = {
    "OPEN": "case opened",
    "IN_PROGRESS": "in progress",
    "WAITING_CITIZEN": "waiting for you",
    "WAITING_AGENCY": "waiting for another agency",
    "RESOLVED": "resolved",
    "CLOSED": "closed",
    "UNKNOWN": "being processed",
}

# A record problem's JSON pointer -> the form field to show it next to.
FORM_FIELD_OF_RECORD_PATH = {
    "/applicant/curp": "curp",
    "/applicant/givenNames": "given_names",
    "/applicant/firstSurname": "first_surname",
    "/applicant/secondSurname": "second_surname",
    "/contact/email": "email",
    "/contact/phone": "phone",
    "/serviceCode": "service",
    "/consentGiven": "consent",
    "/requesterCurp": "curp",
    "/agencyAsked": "agency",
    "/description": "question",
}


def _person_fields(curp: str, *, given_names: str, first_surname: str, second_surname: str) -> dict[str, Any]:
    century = 1900 if curp[16].isdigit() else 2000
    return {
        "curp": curp,
        "givenNames": given_names,
        "firstSurname": first_surname,
        "secondSurname": second_surname or None,
        "birthDate": dt.date(century + int(curp[4:6]), int(curp[6:8]), int(curp[8:10])),
        "sex": curp[10] if curp[10] in "HMX" else "UNKNOWN",
        "stateOfBirth": curp[11:13],
    }


def person_from_curp(curp: str, *, given_names: str, first_surname: str, second_surname: str) -> Person:
    """An ``mx.gob.common.Person`` whose birth date, sex and state of birth are read from the CURP.

    The CURP encodes them (positions 5-10 YYMMDD, 11 sex, 12-13 state; position 17 is a digit for
    births before 2000 and a letter after), so the citizen is not asked twice.

    Raises:
        ValidationError: the CURP, or a name, breaks the record's rules.
    """
    return Person.from_avro(
        {**_person_fields(curp, given_names=given_names, first_surname=first_surname, second_surname=second_surname)}
    )


def service_request_record(
    form: ServiceRequestForm, *, request_id: str, submitted_at: dt.datetime
) -> ServiceRequestSubmitted:
    """``mx.gob.portal.ServiceRequestSubmitted`` v1: schemas/mx.gob.portal/ServiceRequestSubmitted/v1.avsc.

    Raises:
        ValidationError: the form breaks the record's rules (every problem, each with its path).
    """
    return ServiceRequestSubmitted.from_avro(
        {
            "requestId": request_id,
            # Nested as fields, not as a Person built first, so a problem's path starts at /applicant.
            "applicant": _person_fields(
                form.curp,
                given_names=form.given_names,
                first_surname=form.first_surname,
                second_surname=form.second_surname,
            ),
            "address": None,
            "contact": {
                "email": form.email or None,
                "phone": form.phone or None,
                "preferredChannel": "EMAIL" if form.email else "PORTAL",
            },
            "serviceCode": form.service,
            "serviceName": SERVICES[form.service],
            "details": {"description": form.details} if form.details else {},
            "attachments": [],
            "consentGiven": form.consent,
            "privacyNoticeVersion": PRIVACY_NOTICE_VERSION,
            "submittedAt": submitted_at,
        }
    )


def information_request_record(
    form: InformationRequestForm, *, request_id: str, submitted_at: dt.datetime
) -> InformationRequestSubmitted:
    """``mx.gob.portal.InformationRequestSubmitted`` v1.

    See schemas/mx.gob.portal/InformationRequestSubmitted/v1.avsc.

    Raises:
        ValidationError: the form breaks the record's rules (every problem, each with its path).
    """
    return InformationRequestSubmitted.from_avro(
        {
            "requestId": request_id,
            "requesterCurp": form.curp,
            "agencyAsked": form.agency,
            "description": form.question,
            "contactEmail": form.email or None,
            "consentGiven": form.consent,
            "privacyNoticeVersion": PRIVACY_NOTICE_VERSION,
            "submittedAt": submitted_at,
        }
    )
