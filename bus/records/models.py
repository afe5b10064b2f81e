"""Typed shared records, generated from the catalog's .avsc files. Do not edit: run
``enlace records generate`` after changing a schema (a test fails while this file is out of date).

One class per record version (``CaseOpenedV1``, ``CaseOpenedV2``) and the latest version under the
plain name (``CaseOpened``). Fields have Python names and accept the Avro names too; construction
checks types and domain rules and raises ``bus.ValidationError`` with every problem.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from bus.records._model_base import (
    Bool,
    Const,
    Curp,
    DecimalDigits,
    Frozen,
    Int,
    Long,
    Maximum,
    Minimum,
    Pattern,
    RecordModel,
    Rfc,
    RfcLenient,
    Timestamp,
    Uuid,
)


# A Mexican federal entity, by the two-letter code RENAPO uses in the CURP (DF is Mexico City; NE is
# born abroad). UNKNOWN is read for a code this version does not know.
StateV1 = Literal[
    "UNKNOWN", "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG",
    "JC", "MC", "MN", "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS",
    "TL", "VZ", "YN", "ZS", "NE",
]


class AddressV1(RecordModel):
    """A postal address in Mexico, in the shape SEPOMEX codes it.

    Generated from schemas/mx.gob.common/Address/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.common.Address"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "86d4b82575848c45e6c2282a75c8fa454c07a4bb36ecfb6a2f324556e566e602"

    street: str = Field(
        description="Street, avenue or road name.",
    )
    exterior_number: str = Field(
        alias="exteriorNumber",
        description="Exterior number, as written (may hold letters, e.g. 12-B, or S/N).",
    )
    interior_number: str | None = Field(
        None,
        alias="interiorNumber",
        description="Interior number (apartment, office); null when there is none.",
    )
    neighborhood: str = Field(
        description="Colonia (neighbourhood or settlement).",
    )
    municipality: str = Field(
        description="Municipality, or borough (alcaldía) in Mexico City.",
    )
    state: StateV1 = Field(
        description="Federal entity.",
    )
    postal_code: Annotated[str, Pattern(r"^[0-9]{5}$")] = Field(
        alias="postalCode",
        description="Five-digit postal code (código postal).",
    )


# A channel an agency can use to reach a person.
ContactV1ContactChannel = Literal["UNKNOWN", "EMAIL", "PHONE", "SMS", "POSTAL_MAIL", "PORTAL"]


class ContactV1(RecordModel):
    """How an agency may reach a person about their procedure.

    Generated from schemas/mx.gob.common/Contact/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.common.Contact"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "23f83a20ad37040781f3d793fc3e851aef4b630bea4eda905177f4b2f394437f"

    email: Annotated[str, Pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = Field(
        None,
        description="E-mail address; null when the person gave none.",
    )
    phone: Annotated[str, Pattern(r"^\+?[0-9]{10,15}$")] | None = Field(
        None,
        description=(
            "Phone number, digits only, 10 national digits or with a + and country code; null "
            "when none."
        ),
    )
    preferred_channel: ContactV1ContactChannel = Field(
        "PORTAL",
        alias="preferredChannel",
        description="The channel the person prefers; PORTAL means their inbox in the Citizen's Portal.",
    )


# Sex as written in the CURP: H (hombre), M (mujer), X (non-binary, since 2023).
PersonV1Sex = Literal["UNKNOWN", "H", "M", "X"]


class PersonV1(RecordModel):
    """A person as the national population registry (RENAPO) identifies them. Records refer to this
    type; they never copy its fields.

    Generated from schemas/mx.gob.common/Person/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.common.Person"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "d2305251dbe65b06d5b9957068bba77fb905032dd52f1748ce95eddbb289905c"

    curp: Annotated[str, Curp] = Field(
        description="Clave Única de Registro de Población: 18 characters, validated with its check digit.",
    )
    given_names: str = Field(
        alias="givenNames",
        description="Given name or names, as registered.",
    )
    first_surname: str = Field(
        alias="firstSurname",
        description="First surname (paternal, by custom).",
    )
    second_surname: str | None = Field(
        None,
        alias="secondSurname",
        description="Second surname (maternal, by custom); null when the person has only one.",
    )
    birth_date: dt.date = Field(
        alias="birthDate",
        description="Date of birth.",
    )
    sex: PersonV1Sex = Field(
        description="Sex as registered in the CURP.",
    )
    state_of_birth: StateV1 = Field(
        alias="stateOfBirth",
        description="Federal entity of birth as registered in the CURP; NE when born abroad.",
    )


# Where a citizen reached the government.
CaseOpenedV1CaseChannel = Literal["UNKNOWN", "PORTAL", "PHONE", "IN_PERSON", "EMAIL"]


# Where a case stands.
CaseOpenedV1CaseStatus = Literal[
    "UNKNOWN", "OPEN", "IN_PROGRESS", "WAITING_CITIZEN", "WAITING_AGENCY", "RESOLVED", "CLOSED",
]


class CaseOpenedV1(RecordModel):
    """The government CRM opened a case for a citizen's procedure or complaint. Keyed by the case
    id, so one case's events stay in order.

    Generated from schemas/mx.gob.crm/CaseOpened/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.crm.CaseOpened"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "0fb1103e0ee64af832d32f3d59855c86eb84c3223c8cb6a9b1f6418ff3b6ab64"
    avro_key: ClassVar[tuple[str, ...]] = ("case_id",)

    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description=(
            "The case's identifier: CRM-, the year it was opened, and a sequence number "
            "(CRM-2025-000123)."
        ),
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen the case is for, validated with its check digit.",
    )
    channel: CaseOpenedV1CaseChannel = Field(
        description="The channel through which the case came in.",
    )
    category: Annotated[str, Pattern(r"^[a-z0-9]+(\.[a-z0-9-]+)*$")] = Field(
        description=(
            "The case's category in the CRM's catalogue, dotted lowercase (e.g. "
            "fiscal.constancia-situacion)."
        ),
    )
    status: CaseOpenedV1CaseStatus = Field(
        description="The case's status when opened (normally OPEN).",
    )
    sla_due_date: dt.date = Field(
        alias="slaDueDate",
        description="The date by which the service level agreement says the case must be resolved.",
    )
    opened_at: Timestamp = Field(
        alias="openedAt",
        description="When the case was opened (UTC).",
    )
    service_request_id: Uuid | None = Field(
        None,
        alias="serviceRequestId",
        description=(
            "The portal's ServiceRequestSubmitted.requestId that caused the case; null when it "
            "came in another way."
        ),
    )
    contact: ContactV1 | None = Field(
        None,
        description=(
            "How to reach the citizen about this case; null to use what the citizen's portal "
            "profile says."
        ),
    )


# Where a citizen reached the government. CHAT and WHATSAPP are new in version 2; a version 1 reader
# reads them as UNKNOWN.
CaseOpenedV2CaseChannel = Literal[
    "UNKNOWN", "PORTAL", "PHONE", "IN_PERSON", "EMAIL", "CHAT", "WHATSAPP",
]


# Where a case stands.
CaseOpenedV2CaseStatus = Literal[
    "UNKNOWN", "OPEN", "IN_PROGRESS", "WAITING_CITIZEN", "WAITING_AGENCY", "RESOLVED", "CLOSED",
]


# How urgently a case must be handled.
CaseOpenedV2CasePriority = Literal["UNKNOWN", "LOW", "NORMAL", "HIGH", "URGENT"]


class CaseOpenedV2(RecordModel):
    """The government CRM opened a case for a citizen's procedure or complaint. Keyed by the case
    id, so one case's events stay in order. Version 2 adds the case's priority and the CHAT and
    WHATSAPP channels, and stays fully compatible with version 1 both ways.

    Generated from schemas/mx.gob.crm/CaseOpened/v2.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.crm.CaseOpened"
    avro_version: ClassVar[int] = 2
    avro_fingerprint: ClassVar[str] = "c8407ff7cf4f76ee6fedd57172776322df54c938a9c6380d6138b45b04128500"
    avro_key: ClassVar[tuple[str, ...]] = ("case_id",)

    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description=(
            "The case's identifier: CRM-, the year it was opened, and a sequence number "
            "(CRM-2025-000123)."
        ),
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen the case is for, validated with its check digit.",
    )
    channel: CaseOpenedV2CaseChannel = Field(
        description="The channel through which the case came in.",
    )
    category: Annotated[str, Pattern(r"^[a-z0-9]+(\.[a-z0-9-]+)*$")] = Field(
        description=(
            "The case's category in the CRM's catalogue, dotted lowercase (e.g. "
            "fiscal.constancia-situacion)."
        ),
    )
    status: CaseOpenedV2CaseStatus = Field(
        description="The case's status when opened (normally OPEN).",
    )
    priority: CaseOpenedV2CasePriority = Field(
        "NORMAL",
        description=(
            "How urgently the case must be handled; NORMAL when written by a version 1 sender. "
            "New in version 2."
        ),
    )
    sla_due_date: dt.date = Field(
        alias="slaDueDate",
        description="The date by which the service level agreement says the case must be resolved.",
    )
    opened_at: Timestamp = Field(
        alias="openedAt",
        description="When the case was opened (UTC).",
    )
    service_request_id: Uuid | None = Field(
        None,
        alias="serviceRequestId",
        description=(
            "The portal's ServiceRequestSubmitted.requestId that caused the case; null when it "
            "came in another way."
        ),
    )
    contact: ContactV1 | None = Field(
        None,
        description=(
            "How to reach the citizen about this case; null to use what the citizen's portal "
            "profile says."
        ),
    )


# Where a citizen reached the government.
CaseUpdatedV1CaseChannel = Literal["UNKNOWN", "PORTAL", "PHONE", "IN_PERSON", "EMAIL"]


# Where a case stands.
CaseUpdatedV1CaseStatus = Literal[
    "UNKNOWN", "OPEN", "IN_PROGRESS", "WAITING_CITIZEN", "WAITING_AGENCY", "RESOLVED", "CLOSED",
]


class CaseUpdatedV1(RecordModel):
    """A CRM case changed: its status, category, channel or service level date. Carries the case as
    it now stands. Keyed by the case id.

    Generated from schemas/mx.gob.crm/CaseUpdated/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.crm.CaseUpdated"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "b6b952b941ced9c86b7b24f235990d4ce4f3537d23b2b64702587c3517101f9a"
    avro_key: ClassVar[tuple[str, ...]] = ("case_id",)

    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description="The case's identifier, as in CaseOpened.",
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen the case is for, validated with its check digit.",
    )
    channel: CaseUpdatedV1CaseChannel = Field(
        description="The channel through which the case came in.",
    )
    category: Annotated[str, Pattern(r"^[a-z0-9]+(\.[a-z0-9-]+)*$")] = Field(
        description=(
            "The case's category in the CRM's catalogue, dotted lowercase (e.g. "
            "fiscal.constancia-situacion)."
        ),
    )
    status: CaseUpdatedV1CaseStatus = Field(
        description="The case's status after the update.",
    )
    previous_status: CaseUpdatedV1CaseStatus = Field(
        alias="previousStatus",
        description="The case's status before the update.",
    )
    sla_due_date: dt.date = Field(
        alias="slaDueDate",
        description="The date by which the case must be resolved, after the update.",
    )
    updated_at: Timestamp = Field(
        alias="updatedAt",
        description="When the case was updated (UTC).",
    )
    note: str | None = Field(
        None,
        description=(
            "A note for the citizen about the update, shown in their portal inbox; null when "
            "there is none."
        ),
    )


class TaxpayerStatusRequestedV1(RecordModel):
    """The government CRM asks fiscal services for a citizen's standing in the taxpayer register,
    because a case needs it. Fiscal services answer with TaxpayerStatusReported; the purpose and
    legal basis go to the citizen's access log. Keyed by the citizen's CURP.

    Generated from schemas/mx.gob.crm/TaxpayerStatusRequested/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.crm.TaxpayerStatusRequested"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "696b699ae9af45c28140c2f38efd2b2302fafd7064bb9b2671a4db3cbc7df998"
    avro_key: ClassVar[tuple[str, ...]] = ("citizen_curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description="The CRM's id for this question; the answer carries it back.",
    )
    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description="The case that needs the answer.",
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen whose tax standing is asked for.",
    )
    purpose: str = Field(
        description=(
            "Why the CRM needs the citizen's fiscal data, in words the citizen will read in their "
            "access log."
        ),
    )
    legal_basis: str = Field(
        alias="legalBasis",
        description="The law or consent that allows the CRM to obtain it.",
    )
    requested_at: Timestamp = Field(
        alias="requestedAt",
        description="When the CRM asked (UTC).",
    )


class TaxpayerStatusRequestedV2(RecordModel):
    """The government CRM asks fiscal services for a citizen's standing in the taxpayer register,
    because a case needs it. Fiscal services answer with TaxpayerStatusReported; the purpose and
    legal basis go to the citizen's access log. Keyed by the citizen's CURP.

    Generated from schemas/mx.gob.crm/TaxpayerStatusRequested/v2.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.crm.TaxpayerStatusRequested"
    avro_version: ClassVar[int] = 2
    avro_fingerprint: ClassVar[str] = "f24212e619da34efc3c29ecb1a21386327df77ffc667cd025e5870bc7f53e1ea"
    avro_key: ClassVar[tuple[str, ...]] = ("citizen_curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description="The CRM's id for this question; the answer carries it back.",
    )
    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description="The case that needs the answer.",
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen whose tax standing is asked for.",
    )
    purpose: str = Field(
        description=(
            "Why the CRM needs the citizen's fiscal data, in words the citizen will read in their "
            "access log."
        ),
    )
    legal_basis: str = Field(
        alias="legalBasis",
        description="The law or consent that allows the CRM to obtain it.",
    )
    purpose_id: str = Field(
        "",
        alias="purposeId",
        description=(
            "The Interoperability Policy's purpose (an id of policy.yaml's purposes, e.g. "
            "tax-status-check) the CRM asks under. Fiscal services answer only when the policy "
            "lets the asker read TaxpayerStatusReported for this purpose; empty (a v1 question) "
            "is refused."
        ),
    )
    requested_at: Timestamp = Field(
        alias="requestedAt",
        description="When the CRM asked (UTC).",
    )


class InformationRequestSubmittedV1(RecordModel):
    """A citizen, identified by CURP, asked an agency for public information through the Citizen's
    Portal. The transparency system files it (InformationRequestFiled) with a folio and a legal
    deadline. Keyed by the requester's CURP.

    Generated from schemas/mx.gob.portal/InformationRequestSubmitted/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.portal.InformationRequestSubmitted"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "dcb520b6b867ee9934f87b7408ccfc7412d076006456397ca2a5d4792efcbb0f"
    avro_key: ClassVar[tuple[str, ...]] = ("requester_curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description=(
            "The portal's id for this request; the transparency system carries it as "
            "sourceRequestId so the portal can follow the request."
        ),
    )
    requester_curp: Annotated[str, Curp] = Field(
        alias="requesterCurp",
        description="CURP of the citizen asking, as checked by the portal.",
    )
    agency_asked: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="agencyAsked",
        description="URN of the agency the question is addressed to (e.g. urn:mx:gob:sat).",
    )
    description: str = Field(
        description=(
            "The information requested, in the citizen's words (may name people, so handled as "
            "personal)."
        ),
    )
    contact_email: Annotated[str, Pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = Field(
        None,
        alias="contactEmail",
        description="Where the citizen wants to be told of the answer, if not only on the portal.",
    )
    consent_given: Annotated[Bool, Const(True)] = Field(
        alias="consentGiven",
        description=(
            "The citizen consented to the processing of their personal data for this request; "
            "always true, a request without consent is never sent."
        ),
    )
    privacy_notice_version: str = Field(
        alias="privacyNoticeVersion",
        description="Version of the privacy notice the citizen was shown when consenting.",
    )
    submitted_at: Timestamp = Field(
        alias="submittedAt",
        description="When the citizen submitted the request (UTC).",
    )


class ServiceRequestSubmittedV1Attachment(RecordModel):
    """A document the citizen attached, passed by reference: the bytes stay in the portal's
    document store.

    Generated from schemas/mx.gob.portal/ServiceRequestSubmitted/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.portal.Attachment"
    avro_version: ClassVar[int] = 1

    uri: Annotated[str, Pattern(r"^https://\S+$")] = Field(
        description="Where an authorised agency fetches the document (HTTPS).",
    )
    media_type: Annotated[str, Pattern(r"^[a-z]+/[a-z0-9.+-]+$")] = Field(
        alias="mediaType",
        description="The document's media type (e.g. application/pdf).",
    )
    sha256: Annotated[str, Pattern(r"^[0-9a-f]{64}$")] = Field(
        description=(
            "SHA-256 of the document's bytes, lowercase hex, so the receiver can check what it "
            "fetched."
        ),
    )
    size_bytes: Annotated[Long, Minimum(0)] = Field(
        alias="sizeBytes",
        description="The document's size in bytes.",
    )


class ServiceRequestSubmittedV1(RecordModel):
    """A citizen, identified by CURP, submitted a request for a government service through the
    Citizen's Portal. Keyed by the applicant's CURP, so one citizen's requests stay in order.

    Generated from schemas/mx.gob.portal/ServiceRequestSubmitted/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.portal.ServiceRequestSubmitted"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "0a0ccedb4c667c923055ce44898a16974bc6765fceb51d706dd26258fb237ec3"
    avro_key: ClassVar[tuple[str, ...]] = ("applicant", "curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description="The request's identifier, given by the portal.",
    )
    applicant: PersonV1 = Field(
        description="The citizen who asks, as RENAPO identifies them.",
    )
    address: AddressV1 | None = Field(
        None,
        description=(
            "The applicant's address, when the service needs one (e.g. for delivery); null "
            "otherwise."
        ),
    )
    contact: ContactV1 = Field(
        description="How the agencies may reach the applicant about this request.",
    )
    service_code: Annotated[str, Pattern(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")] = Field(
        alias="serviceCode",
        description=(
            "The service requested, by its code in the national catalogue of procedures (e.g. "
            "SAT-CONSTANCIA-SITUACION-FISCAL)."
        ),
    )
    service_name: str = Field(
        alias="serviceName",
        description="The service's name as the citizen saw it in the portal.",
    )
    details: Annotated[dict[str, str], Frozen] = Field(
        default_factory=dict,
        validate_default=True,
        description="The answers the citizen gave to the service's form, by question id.",
    )
    attachments: Annotated[list[ServiceRequestSubmittedV1Attachment], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        description=(
            "Documents attached to the request, by reference. Classified sensitive: identity or "
            "medical documents may be among them."
        ),
    )
    consent_given: Annotated[Bool, Const(True)] = Field(
        alias="consentGiven",
        description=(
            "The applicant accepted the privacy notice and consented to the agencies processing "
            "their data for this request. Must be true: without consent the portal does not send "
            "the request."
        ),
    )
    privacy_notice_version: str = Field(
        alias="privacyNoticeVersion",
        description="Version of the privacy notice (aviso de privacidad) the applicant accepted.",
    )
    submitted_at: Timestamp = Field(
        alias="submittedAt",
        description="When the request was submitted (UTC).",
    )


# The CFDI's kind (TipoDeComprobante): I income, E expense, T transfer, N payroll, P payment.
InvoiceIssuedV1InvoiceType = Literal["UNKNOWN", "INCOME", "EXPENSE", "TRANSFER", "PAYROLL", "PAYMENT"]


class InvoiceIssuedV1(RecordModel):
    """Summary of an electronic invoice (CFDI) that fiscal services certified. Keyed by the
    issuer's RFC, so one issuer's invoices stay in order.

    Generated from schemas/mx.gob.sat/InvoiceIssued/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.InvoiceIssued"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "ed94bd4fa34d3597c4aea4cad123d45a687722b244b6e05c3e4ab5b9dd61292a"
    avro_key: ClassVar[tuple[str, ...]] = ("issuer_rfc",)

    folio: Uuid = Field(
        description="The CFDI's fiscal folio (folio fiscal), the UUID given when the invoice was stamped.",
    )
    issuer_rfc: Annotated[str, Rfc] = Field(
        alias="issuerRfc",
        description="RFC of the issuer (emisor), validated with its check digit.",
    )
    receiver_rfc: Annotated[str, Rfc] = Field(
        alias="receiverRfc",
        description=(
            "RFC of the receiver (receptor); XAXX010101000 for the general public, XEXX010101000 "
            "for foreigners."
        ),
    )
    invoice_type: InvoiceIssuedV1InvoiceType = Field(
        alias="invoiceType",
        description="The kind of invoice.",
    )
    issued_at: Timestamp = Field(
        alias="issuedAt",
        description="When the invoice was issued (UTC).",
    )
    subtotal: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        description="Amount before taxes and discounts, in the invoice currency.",
    )
    taxes: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        description="Taxes transferred minus taxes withheld, in the invoice currency.",
    )
    total: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        description="Total amount, in the invoice currency.",
    )
    currency: Annotated[str, Pattern(r"^[A-Z]{3}$")] = Field(
        "MXN",
        description="ISO 4217 currency code of the amounts.",
    )
    exchange_rate: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 6)] | None = Field(
        None,
        alias="exchangeRate",
        description="Pesos per unit of the currency, when the currency is not MXN.",
    )


# The period a declaration covers: the whole year, or one month (M01 is January).
TaxDeclarationFiledV1FiscalPeriod = Literal[
    "UNKNOWN", "ANNUAL", "M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09", "M10",
    "M11", "M12",
]


# A first (NORMAL) declaration, or one that corrects an earlier one (COMPLEMENTARY).
TaxDeclarationFiledV1DeclarationType = Literal["UNKNOWN", "NORMAL", "COMPLEMENTARY"]


class TaxDeclarationFiledV1(RecordModel):
    """A taxpayer filed a tax declaration and fiscal services issued its receipt (acuse de recibo).
    Keyed by the RFC.

    Generated from schemas/mx.gob.sat/TaxDeclarationFiled/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.TaxDeclarationFiled"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "51ff7e62e22476e9cd559738441be7c48ace1f0d881f53aa0be7afffc304f7f5"
    avro_key: ClassVar[tuple[str, ...]] = ("rfc",)

    declaration_id: Uuid = Field(
        alias="declarationId",
        description="Identifier of this filing, unique across fiscal services.",
    )
    rfc: Annotated[str, Rfc] = Field(
        description="RFC of the taxpayer who filed, validated with its check digit.",
    )
    fiscal_year: Annotated[Int, Minimum(2000), Maximum(2100)] = Field(
        alias="fiscalYear",
        description="The fiscal year declared (ejercicio).",
    )
    period: TaxDeclarationFiledV1FiscalPeriod = Field(
        description="The period declared within the fiscal year.",
    )
    declaration_type: TaxDeclarationFiledV1DeclarationType = Field(
        alias="declarationType",
        description="Whether this declaration is the first for the period or a complementary one.",
    )
    tax_base: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        alias="taxBase",
        description="Taxable base, in Mexican pesos.",
    )
    tax_due: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        alias="taxDue",
        description="Tax due for the period, in Mexican pesos.",
    )
    tax_paid: Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits(18, 2)] = Field(
        alias="taxPaid",
        description=(
            "Tax paid with this declaration, in Mexican pesos (may be 0 when the amount is "
            "settled later)."
        ),
    )
    filing_receipt: Annotated[str, Pattern(r"^[A-Z0-9]{8,40}$")] = Field(
        alias="filingReceipt",
        description="Number of the filing receipt (número de operación of the acuse de recibo).",
    )
    filed_at: Timestamp = Field(
        alias="filedAt",
        description="When the declaration was received (UTC).",
    )


# Persona física (PERSON) or persona moral (COMPANY).
TaxpayerStatusChangedV1TaxpayerType = Literal["UNKNOWN", "PERSON", "COMPANY"]


# A taxpayer's status in the register.
TaxpayerStatusChangedV1TaxpayerStatus = Literal["UNKNOWN", "ACTIVE", "SUSPENDED", "CANCELLED"]


class TaxpayerStatusChangedV1(RecordModel):
    """Fiscal services changed a taxpayer's status in the federal taxpayer register (RFC). Keyed by
    the RFC, so one taxpayer's changes stay in order.

    Generated from schemas/mx.gob.sat/TaxpayerStatusChanged/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.TaxpayerStatusChanged"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "19b404a6b851bf176cbacc0183b16332dddd4c47dfd7dd6b59964ae115bfbce6"
    avro_key: ClassVar[tuple[str, ...]] = ("rfc",)

    rfc: Annotated[str, Rfc] = Field(
        description=(
            "The taxpayer's RFC: 13 characters for people, 12 for companies, validated with its "
            "check digit."
        ),
    )
    taxpayer_type: TaxpayerStatusChangedV1TaxpayerType = Field(
        alias="taxpayerType",
        description="Whether the taxpayer is a person or a company.",
    )
    regime: Annotated[str, Pattern(r"^[0-9]{3}$")] = Field(
        description=(
            "Fiscal regime, as its three-digit code in SAT's c_RegimenFiscal catalogue (e.g. 605 "
            "salaries, 626 RESICO)."
        ),
    )
    status: TaxpayerStatusChangedV1TaxpayerStatus = Field(
        description="The status after the change.",
    )
    obligations: Annotated[list[str], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        description=(
            "The taxpayer's current fiscal obligations, by SAT's obligation descriptions (e.g. "
            "'Declaración anual de ISR')."
        ),
    )
    effective_date: dt.date = Field(
        alias="effectiveDate",
        description="The date from which the new status holds.",
    )
    changed_at: Timestamp = Field(
        alias="changedAt",
        description="When fiscal services recorded the change (UTC).",
    )


# Persona física (PERSON) or persona moral (COMPANY).
TaxpayerStatusChangedV2TaxpayerType = Literal["UNKNOWN", "PERSON", "COMPANY"]


# A taxpayer's status in the register. REACTIVATED is new in version 2; a version 1 reader reads it as
# UNKNOWN.
TaxpayerStatusChangedV2TaxpayerStatus = Literal[
    "UNKNOWN", "ACTIVE", "SUSPENDED", "CANCELLED", "REACTIVATED",
]


class TaxpayerStatusChangedV2(RecordModel):
    """Fiscal services changed a taxpayer's status in the federal taxpayer register (RFC). Keyed by
    the RFC, so one taxpayer's changes stay in order. Version 2 adds the previous status and the
    REACTIVATED status, and stays fully compatible with version 1 both ways.

    Generated from schemas/mx.gob.sat/TaxpayerStatusChanged/v2.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.TaxpayerStatusChanged"
    avro_version: ClassVar[int] = 2
    avro_fingerprint: ClassVar[str] = "7c596e53ce9bb89f9f4dbcd6ffc74fd926835dd25121244cfed5e076fba9df3c"
    avro_key: ClassVar[tuple[str, ...]] = ("rfc",)

    rfc: Annotated[str, Rfc] = Field(
        description=(
            "The taxpayer's RFC: 13 characters for people, 12 for companies, validated with its "
            "check digit."
        ),
    )
    taxpayer_type: TaxpayerStatusChangedV2TaxpayerType = Field(
        alias="taxpayerType",
        description="Whether the taxpayer is a person or a company.",
    )
    regime: Annotated[str, Pattern(r"^[0-9]{3}$")] = Field(
        description=(
            "Fiscal regime, as its three-digit code in SAT's c_RegimenFiscal catalogue (e.g. 605 "
            "salaries, 626 RESICO)."
        ),
    )
    status: TaxpayerStatusChangedV2TaxpayerStatus = Field(
        description="The status after the change.",
    )
    previous_status: TaxpayerStatusChangedV2TaxpayerStatus | None = Field(
        None,
        alias="previousStatus",
        description=(
            "The status before the change; null for a new registration, or when written by a "
            "version 1 sender. New in version 2."
        ),
    )
    obligations: Annotated[list[str], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        description=(
            "The taxpayer's current fiscal obligations, by SAT's obligation descriptions (e.g. "
            "'Declaración anual de ISR')."
        ),
    )
    effective_date: dt.date = Field(
        alias="effectiveDate",
        description="The date from which the new status holds.",
    )
    changed_at: Timestamp = Field(
        alias="changedAt",
        description="When fiscal services recorded the change (UTC).",
    )


# A person's standing in the taxpayer register, or NOT_REGISTERED when the register holds no one with
# that CURP.
TaxpayerStatusReportedV1TaxStanding = Literal[
    "UNKNOWN", "ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED",
]


class TaxpayerStatusReportedV1(RecordModel):
    """Fiscal services answer a TaxpayerStatusRequested: the citizen's standing in the taxpayer
    register as of now, or that they are not registered. Disclosing it is logged in the
    citizen's access log (DataAccessLogged). Keyed by the citizen's CURP.

    Generated from schemas/mx.gob.sat/TaxpayerStatusReported/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.TaxpayerStatusReported"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "3a769a10c50dab120a7e929278fc3bc004e3e90bee16e614830637e399ba1735"
    avro_key: ClassVar[tuple[str, ...]] = ("citizen_curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description="The requestId of the TaxpayerStatusRequested answered.",
    )
    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description="The asker's case, copied from the question.",
    )
    requested_by: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="requestedBy",
        description=(
            "URN of the agency that asked (the question's verified sender): the reader of the "
            "data disclosed."
        ),
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen asked about.",
    )
    standing: TaxpayerStatusReportedV1TaxStanding = Field(
        description="The citizen's standing in the register.",
    )
    rfc: Annotated[str, Rfc] | None = Field(
        None,
        description="The citizen's RFC; null when not registered.",
    )
    regime: Annotated[str, Pattern(r"^[0-9]{3}$")] | None = Field(
        None,
        description="The citizen's tax regime (SAT catalogue c_RegimenFiscal); null when not registered.",
    )
    obligations: Annotated[list[str], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        description="The citizen's tax obligation codes; empty when not registered.",
    )
    status_since: dt.date | None = Field(
        None,
        alias="statusSince",
        description="Since when the standing holds; null when not registered.",
    )
    purpose: str = Field(
        description="The asker's purpose, copied from the question for the access log.",
    )
    legal_basis: str = Field(
        alias="legalBasis",
        description="The asker's legal basis, copied from the question for the access log.",
    )
    reported_at: Timestamp = Field(
        alias="reportedAt",
        description="When fiscal services answered (UTC).",
    )


# A person's standing in the taxpayer register, NOT_REGISTERED when the register holds no one with
# that CURP, or REFUSED when fiscal services did not disclose it (see refusal).
TaxpayerStatusReportedV2TaxStanding = Literal[
    "UNKNOWN", "ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED", "REFUSED",
]


class TaxpayerStatusReportedV2(RecordModel):
    """Fiscal services answer a TaxpayerStatusRequested: the citizen's standing in the taxpayer
    register as of now, or that they are not registered. Disclosing it is logged in the
    citizen's access log (DataAccessLogged). Keyed by the citizen's CURP.

    Generated from schemas/mx.gob.sat/TaxpayerStatusReported/v2.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.sat.TaxpayerStatusReported"
    avro_version: ClassVar[int] = 2
    avro_fingerprint: ClassVar[str] = "ecbfc9bf720f0a94e15daddb0e0cbfcd70c8e2a452ad3af5aaa61934a44f9fe9"
    avro_key: ClassVar[tuple[str, ...]] = ("citizen_curp",)

    request_id: Uuid = Field(
        alias="requestId",
        description="The requestId of the TaxpayerStatusRequested answered.",
    )
    case_id: Annotated[str, Pattern(r"^CRM-[0-9]{4}-[0-9]{6,10}$")] = Field(
        alias="caseId",
        description="The asker's case, copied from the question.",
    )
    requested_by: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="requestedBy",
        description=(
            "URN of the agency that asked (the question's verified sender): the reader of the "
            "data disclosed."
        ),
    )
    citizen_curp: Annotated[str, Curp] = Field(
        alias="citizenCurp",
        description="CURP of the citizen asked about.",
    )
    standing: TaxpayerStatusReportedV2TaxStanding = Field(
        description="The citizen's standing in the register.",
    )
    rfc: Annotated[str, Rfc] | None = Field(
        None,
        description="The citizen's RFC; null when not registered.",
    )
    regime: Annotated[str, Pattern(r"^[0-9]{3}$")] | None = Field(
        None,
        description="The citizen's tax regime (SAT catalogue c_RegimenFiscal); null when not registered.",
    )
    obligations: Annotated[list[str], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        description="The citizen's tax obligation codes; empty when not registered.",
    )
    status_since: dt.date | None = Field(
        None,
        alias="statusSince",
        description="Since when the standing holds; null when not registered.",
    )
    purpose: str = Field(
        description=(
            "Why the asker receives the data, in the policy's plain words for the purpose the "
            "question named (the access log shows it to the citizen)."
        ),
    )
    legal_basis: str = Field(
        alias="legalBasis",
        description="The policy's legal ground for that purpose.",
    )
    refusal: str | None = Field(
        None,
        description=(
            "Why nothing was disclosed, when standing is REFUSED: purpose-missing (the question "
            "names no policy purpose), purpose-not-allowed (the policy does not let the asker "
            "read this record for that purpose), requester-not-allowed (the policy names no "
            "purpose for which the asker may read it); null otherwise."
        ),
    )
    reported_at: Timestamp = Field(
        alias="reportedAt",
        description="When fiscal services answered (UTC).",
    )


class DataAccessLoggedV1(RecordModel):
    """An agency read a person's personal data: who read whose data, when, for what purpose and on
    what legal basis. The citizen-visible access log; keyed by the CURP of the person whose data
    was read.

    Generated from schemas/mx.gob.transparencia/DataAccessLogged/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.transparencia.DataAccessLogged"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "60667ab8f32f2c422ea2adb0e6aea168018c5af44a3956a7226b6855e0bf20ff"
    avro_key: ClassVar[tuple[str, ...]] = ("data_subject_curp",)

    access_id: Uuid = Field(
        alias="accessId",
        description="The log entry's identifier.",
    )
    data_subject_curp: Annotated[str, Curp] = Field(
        alias="dataSubjectCurp",
        description="CURP of the person whose data was read.",
    )
    accessor_agency: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="accessorAgency",
        description="URN of the agency that read the data.",
    )
    accessor_system: str = Field(
        alias="accessorSystem",
        description="The agency's system that read it (e.g. crm-adapter).",
    )
    accessor_official: str | None = Field(
        None,
        alias="accessorOfficial",
        description=(
            "Identifier of the public official who read it, when a person did; null for an "
            "automated process."
        ),
    )
    record_type: str = Field(
        alias="recordType",
        description="Full name of the shared record read (e.g. mx.gob.portal.ServiceRequestSubmitted).",
    )
    fields_read: Annotated[list[str], Frozen] = Field(
        alias="fieldsRead",
        description="JSON pointers of the personal fields read (e.g. /applicant/birthDate).",
    )
    purpose: str = Field(
        description="Why the data was read, in words the citizen understands.",
    )
    legal_basis: str = Field(
        alias="legalBasis",
        description="The law and article that allow the access (e.g. LGPDPPSO art. 22 fr. II).",
    )
    accessed_at: Timestamp = Field(
        alias="accessedAt",
        description="When the data was read (UTC).",
    )
    correlation_id: str | None = Field(
        None,
        alias="correlationId",
        description=(
            "The ce_id of the bus record whose data was read, or the trace id, to connect the "
            "entry to the exchange; null when none."
        ),
    )


# The kind of answer the law provides for: delivered, already public, reserved or confidential (in
# whole or part), nonexistent, not this agency's competence, or delivery after payment.
InformationRequestAnsweredV1AnswerType = Literal[
    "UNKNOWN", "DELIVERED", "PUBLICLY_AVAILABLE", "PARTIALLY_RESERVED", "RESERVED",
    "CONFIDENTIAL", "NONEXISTENT", "NOT_COMPETENT", "REQUIRES_PAYMENT",
]


class InformationRequestAnsweredV1(RecordModel):
    """The agency asked answered an information request. Keyed by the folio, so a request's filing
    and answer stay in order.

    Generated from schemas/mx.gob.transparencia/InformationRequestAnswered/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.transparencia.InformationRequestAnswered"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "8febe2135d745429604d659ae482fb37a1085f1302259a7e717cfd19b4c4ae14"
    avro_key: ClassVar[tuple[str, ...]] = ("folio",)

    folio: Annotated[str, Pattern(r"^[0-9]{15}$")] = Field(
        description="The folio of the request answered, as in InformationRequestFiled.",
    )
    agency: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        description="URN of the agency that answered.",
    )
    answer_type: InformationRequestAnsweredV1AnswerType = Field(
        alias="answerType",
        description="The kind of answer.",
    )
    answer_summary: str = Field(
        alias="answerSummary",
        description=(
            "The answer, or its legal reasoning when the information is not delivered (may name "
            "the requester)."
        ),
    )
    document_uris: Annotated[list[str], Frozen] = Field(
        default_factory=list,
        validate_default=True,
        alias="documentUris",
        description="Where the delivered documents can be fetched (HTTPS), when the answer delivers any.",
    )
    answered_at: Timestamp = Field(
        alias="answeredAt",
        description="When the answer was given (UTC).",
    )
    legal_deadline: dt.date = Field(
        alias="legalDeadline",
        description="The legal deadline the answer was due by.",
    )
    on_time: Bool = Field(
        alias="onTime",
        description="Whether the answer was given on or before the legal deadline.",
    )


# Access to public information, or one of the ARCO rights over one's own personal data.
InformationRequestFiledV1InformationRequestType = Literal[
    "UNKNOWN", "PUBLIC_INFORMATION", "PERSONAL_DATA_ACCESS", "PERSONAL_DATA_CORRECTION",
    "PERSONAL_DATA_CANCELLATION", "PERSONAL_DATA_OPPOSITION",
]


# How the requester wants to receive the information.
InformationRequestFiledV1DeliveryMode = Literal[
    "UNKNOWN", "ELECTRONIC", "SIMPLE_COPY", "CERTIFIED_COPY", "ON_SITE",
]


class InformationRequestFiledV1(RecordModel):
    """A person filed a request for access to public information, or to their own personal data,
    through the transparency system. Keyed by the folio.

    Generated from schemas/mx.gob.transparencia/InformationRequestFiled/v1.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.transparencia.InformationRequestFiled"
    avro_version: ClassVar[int] = 1
    avro_fingerprint: ClassVar[str] = "6f891e4d0287b326684d189dc49bb4d0aaa304bc02e6e2bd4dd0edb5b91b9cae"
    avro_key: ClassVar[tuple[str, ...]] = ("folio",)

    folio: Annotated[str, Pattern(r"^[0-9]{15}$")] = Field(
        description="The request's 15-digit folio in the national transparency platform.",
    )
    request_type: InformationRequestFiledV1InformationRequestType = Field(
        alias="requestType",
        description="What kind of request this is.",
    )
    requester_curp: Annotated[str, Curp] | None = Field(
        None,
        alias="requesterCurp",
        description=(
            "CURP of the requester. Null for public information, which may be requested "
            "anonymously; required by law for ARCO requests."
        ),
    )
    agency_asked: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="agencyAsked",
        description="URN of the agency the request is addressed to (e.g. urn:mx:gob:sat).",
    )
    description: str = Field(
        description=(
            "The information requested, in the requester's words (may name people, so handled as "
            "personal)."
        ),
    )
    delivery_mode: InformationRequestFiledV1DeliveryMode = Field(
        "ELECTRONIC",
        alias="deliveryMode",
        description="How the requester wants the answer delivered.",
    )
    filed_at: Timestamp = Field(
        alias="filedAt",
        description="When the request was filed (UTC).",
    )
    legal_deadline: dt.date = Field(
        alias="legalDeadline",
        description=(
            "The last day the agency may answer by law (20 working days after filing, unless "
            "extended)."
        ),
    )


# Access to public information, or one of the ARCO rights over one's own personal data.
InformationRequestFiledV2InformationRequestType = Literal[
    "UNKNOWN", "PUBLIC_INFORMATION", "PERSONAL_DATA_ACCESS", "PERSONAL_DATA_CORRECTION",
    "PERSONAL_DATA_CANCELLATION", "PERSONAL_DATA_OPPOSITION",
]


# How the requester wants to receive the information.
InformationRequestFiledV2DeliveryMode = Literal[
    "UNKNOWN", "ELECTRONIC", "SIMPLE_COPY", "CERTIFIED_COPY", "ON_SITE",
]


class InformationRequestFiledV2(RecordModel):
    """A person filed a request for access to public information, or to their own personal data,
    through the transparency system. Keyed by the folio. Version 2 adds sourceRequestId, so the
    channel that took the request (e.g. the portal) can follow it; fully compatible with version
    1.

    Generated from schemas/mx.gob.transparencia/InformationRequestFiled/v2.avsc.
    """

    avro_name: ClassVar[str] = "mx.gob.transparencia.InformationRequestFiled"
    avro_version: ClassVar[int] = 2
    avro_fingerprint: ClassVar[str] = "bd004c0ce602e92a402b52d4412f55f4c36e087a44b9ff5fe9856c0c86710d51"
    avro_key: ClassVar[tuple[str, ...]] = ("folio",)

    folio: Annotated[str, Pattern(r"^[0-9]{15}$")] = Field(
        description="The request's 15-digit folio in the national transparency platform.",
    )
    request_type: InformationRequestFiledV2InformationRequestType = Field(
        alias="requestType",
        description="What kind of request this is.",
    )
    requester_curp: Annotated[str, Curp] | None = Field(
        None,
        alias="requesterCurp",
        description=(
            "CURP of the requester. Null for public information, which may be requested "
            "anonymously; required by law for ARCO requests."
        ),
    )
    agency_asked: Annotated[str, Pattern(r"^urn:mx:gob:[a-z0-9-]+$")] = Field(
        alias="agencyAsked",
        description="URN of the agency the request is addressed to (e.g. urn:mx:gob:sat).",
    )
    description: str = Field(
        description=(
            "The information requested, in the requester's words (may name people, so handled as "
            "personal)."
        ),
    )
    delivery_mode: InformationRequestFiledV2DeliveryMode = Field(
        "ELECTRONIC",
        alias="deliveryMode",
        description="How the requester wants the answer delivered.",
    )
    filed_at: Timestamp = Field(
        alias="filedAt",
        description="When the request was filed (UTC).",
    )
    legal_deadline: dt.date = Field(
        alias="legalDeadline",
        description=(
            "The last day the agency may answer by law (20 working days after filing, unless "
            "extended)."
        ),
    )
    source_request_id: Uuid | None = Field(
        None,
        alias="sourceRequestId",
        description=(
            "The id the channel that took the request gave it (the portal's requestId); null when "
            "filed directly."
        ),
    )


# The latest version of each record, under its plain name.
Address = AddressV1
Contact = ContactV1
Person = PersonV1
CaseOpened = CaseOpenedV2
CaseUpdated = CaseUpdatedV1
TaxpayerStatusRequested = TaxpayerStatusRequestedV2
InformationRequestSubmitted = InformationRequestSubmittedV1
ServiceRequestSubmitted = ServiceRequestSubmittedV1
InvoiceIssued = InvoiceIssuedV1
TaxDeclarationFiled = TaxDeclarationFiledV1
TaxpayerStatusChanged = TaxpayerStatusChangedV2
TaxpayerStatusReported = TaxpayerStatusReportedV2
DataAccessLogged = DataAccessLoggedV1
InformationRequestAnswered = InformationRequestAnsweredV1
InformationRequestFiled = InformationRequestFiledV2


__all__ = [
    "Address",
    "AddressV1",
    "CaseOpened",
    "CaseOpenedV1",
    "CaseOpenedV1CaseChannel",
    "CaseOpenedV1CaseStatus",
    "CaseOpenedV2",
    "CaseOpenedV2CaseChannel",
    "CaseOpenedV2CasePriority",
    "CaseOpenedV2CaseStatus",
    "CaseUpdated",
    "CaseUpdatedV1",
    "CaseUpdatedV1CaseChannel",
    "CaseUpdatedV1CaseStatus",
    "Contact",
    "ContactV1",
    "ContactV1ContactChannel",
    "DataAccessLogged",
    "DataAccessLoggedV1",
    "InformationRequestAnswered",
    "InformationRequestAnsweredV1",
    "InformationRequestAnsweredV1AnswerType",
    "InformationRequestFiled",
    "InformationRequestFiledV1",
    "InformationRequestFiledV1DeliveryMode",
    "InformationRequestFiledV1InformationRequestType",
    "InformationRequestFiledV2",
    "InformationRequestFiledV2DeliveryMode",
    "InformationRequestFiledV2InformationRequestType",
    "InformationRequestSubmitted",
    "InformationRequestSubmittedV1",
    "InvoiceIssued",
    "InvoiceIssuedV1",
    "InvoiceIssuedV1InvoiceType",
    "Person",
    "PersonV1",
    "PersonV1Sex",
    "ServiceRequestSubmitted",
    "ServiceRequestSubmittedV1",
    "ServiceRequestSubmittedV1Attachment",
    "StateV1",
    "TaxDeclarationFiled",
    "TaxDeclarationFiledV1",
    "TaxDeclarationFiledV1DeclarationType",
    "TaxDeclarationFiledV1FiscalPeriod",
    "TaxpayerStatusChanged",
    "TaxpayerStatusChangedV1",
    "TaxpayerStatusChangedV1TaxpayerStatus",
    "TaxpayerStatusChangedV1TaxpayerType",
    "TaxpayerStatusChangedV2",
    "TaxpayerStatusChangedV2TaxpayerStatus",
    "TaxpayerStatusChangedV2TaxpayerType",
    "TaxpayerStatusReported",
    "TaxpayerStatusReportedV1",
    "TaxpayerStatusReportedV1TaxStanding",
    "TaxpayerStatusReportedV2",
    "TaxpayerStatusReportedV2TaxStanding",
    "TaxpayerStatusRequested",
    "TaxpayerStatusRequestedV1",
    "TaxpayerStatusRequestedV2",
]
