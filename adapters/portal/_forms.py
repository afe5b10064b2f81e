"""The portal's own input: what a citizen types in the page (or sends to the JSON API).

Checks here are the ones a citizen can fix on the spot; each problem names the form field, so the
page shows it next to that field. Identifier rules (the CURP's format and check digit) come from the
shared records' validators, so the portal and every agency agree on them. No message repeats the
value sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bus import ValidationError

__all__ = [
    "SERVICES",
    "FieldProblem",
    "InformationRequestForm",
    "ServiceRequestForm",
    "addressable_agencies",
    "check_curp",
    "citizen_message",
    "read_information_request",
    "read_service_request",
]

# The services the portal offers (catalogue code -> name); which of them need fiscal data is the
# CRM's business, not the portal's.
SERVICES = {
    "SAT-CONSTANCIA-SITUACION-FISCAL": "Tax status certificate (constancia de situación fiscal)",
    "SE-LICENCIA-FUNCIONAMIENTO": "Business operating licence",
    "RENAPO-CAMBIO-DOMICILIO": "Change of address on record",
}
# The same patterns as mx.gob.common.Contact, so what the portal accepts the record accepts.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one form field, worded for the citizen."""

    field: str
    message: str
    rule: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "rule": self.rule}


@dataclass(frozen=True)
class ServiceRequestForm:
    """A service request as the portal's page sends it."""

    curp: str
    given_names: str
    first_surname: str
    second_surname: str
    service: str
    consent: bool
    email: str = ""
    phone: str = ""
    details: str = ""


@dataclass(frozen=True)
class InformationRequestForm:
    """An information request (transparency) as the portal's page sends it."""

    curp: str
    agency: str
    question: str
    consent: bool
    email: str = ""


def addressable_agencies() -> dict[str, str]:
    """The agencies a citizen may address an information request to: URN -> the name citizens know.

    Read from the agencies' declarations (``answers_information_requests``), in start order.
    """
    from adapters._agencies import agencies  # at call time: discovery imports this package too

    return {a.urn: a.title for a in agencies() if a.answers_information_requests}


def citizen_message(error: ValidationError) -> str:
    """A validation error's message without the value it quotes: answers never repeat what was sent
    (it may be personal data, or megabytes); the field and the rule say where and why."""
    message = error.message
    if isinstance(error.value, str) and error.value:
        message = message.replace(f" {error.value!r}", "").replace(repr(error.value), "it")
    suffix = f" [{error.rule}]"
    return message[: -len(suffix)] if message.endswith(suffix) else message


def check_curp(value: str) -> FieldProblem | None:
    """The CURP's problem for the citizen, or None; the rules are the shared records' validator's."""
    from bus.records import validate_curp  # the one CURP rule set every agency uses

    try:
        validate_curp(value)
    except ValidationError as exc:
        return FieldProblem("curp", citizen_message(exc), exc.rule or "curp")
    return None


def _text(
    payload: dict[str, Any],
    name: str,
    problems: list[FieldProblem],
    *,
    required: bool,
    label: str,
    max_len: int = 200,
) -> str:
    value = payload.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(FieldProblem(name, f"{label} must be text", "form.type"))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(FieldProblem(name, f"{label} is required", "form.required"))
    elif len(value) > max_len:
        problems.append(FieldProblem(name, f"{label} is longer than {max_len} characters", "form.length"))
        return ""  # no further check runs on an overlong value (patterns stay linear)
    return value


def _consent(payload: dict[str, Any], problems: list[FieldProblem]) -> bool:
    consent = payload.get("consent")
    if consent not in (True, "true", "on", "yes", "1"):
        problems.append(
            FieldProblem(
                "consent",
                "consent is required: we cannot process your personal data without it",
                "form.consent_required",
            )
        )
        return False
    return True


def _curp_and_email(payload: dict[str, Any], problems: list[FieldProblem]) -> tuple[str, str]:
    curp = _text(payload, "curp", problems, required=True, label="CURP", max_len=18 * 2).upper()
    if curp:
        problem = check_curp(curp)
        if problem:
            problems.append(problem)
    email = _text(payload, "email", problems, required=False, label="e-mail")
    if email and not _EMAIL.match(email):
        problems.append(FieldProblem("email", "the e-mail address is not one (name@domain)", "form.email"))
    return curp, email


def read_service_request(payload: dict[str, Any]) -> tuple[ServiceRequestForm | None, list[FieldProblem]]:
    """Read a service request; returns the form, or None and every problem found.

    Args:
        payload: the JSON object (or form fields) the page sent.
    """
    problems: list[FieldProblem] = []
    curp, email = _curp_and_email(payload, problems)
    given = _text(payload, "given_names", problems, required=True, label="given names", max_len=100)
    first = _text(payload, "first_surname", problems, required=True, label="first surname", max_len=100)
    second = _text(payload, "second_surname", problems, required=False, label="second surname", max_len=100)
    phone = _text(payload, "phone", problems, required=False, label="phone", max_len=20).replace(" ", "")
    if phone and not _PHONE.match(phone):
        problems.append(FieldProblem("phone", "a phone number has 10 to 15 digits", "form.phone"))
    service = _text(payload, "service", problems, required=True, label="service")
    if service and service not in SERVICES:
        problems.append(
            FieldProblem("service", "that is not a service the portal offers (see /api/catalog)", "form.service")
        )
    details = _text(payload, "details", problems, required=False, label="details", max_len=2000)
    consent = _consent(payload, problems)
    if problems:
        return None, problems
    form = ServiceRequestForm(curp, given, first, second, service, consent, email, phone, details)
    return form, []


def read_information_request(
    payload: dict[str, Any],
) -> tuple[InformationRequestForm | None, list[FieldProblem]]:
    """Read an information request; returns the form, or None and every problem found."""
    problems: list[FieldProblem] = []
    curp, email = _curp_and_email(payload, problems)
    agency = _text(payload, "agency", problems, required=True, label="agency")
    if agency and agency not in addressable_agencies():
        problems.append(FieldProblem("agency", "that is not an agency you can ask (see /api/catalog)", "form.agency"))
    question = _text(payload, "question", problems, required=True, label="question", max_len=4000)
    consent = _consent(payload, problems)
    if problems:
        return None, problems
    return InformationRequestForm(curp, agency, question, consent, email), []
