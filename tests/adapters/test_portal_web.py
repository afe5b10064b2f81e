"""The citizen's portal: its JSON API and page, with problems shown next to the field they concern.

Citizens sign in through the session's development OpenID provider (node's oidc-provider, a real
provider on loopback); the portal's app runs in process on an in-memory agency store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bus.records import catalog
from bus.records.models import (
    CaseOpened,
    CaseUpdated,
    DataAccessLogged,
    InformationRequestAnswered,
    InformationRequestFiled,
    InformationRequestSubmitted,
    ServiceRequestSubmitted,
)
from ops.stack import citizens

PERSON = citizens(1)[0]  # the provider's first account
CURP = PERSON.curp
GOOD = {
    "given_names": PERSON.given_names,
    "first_surname": PERSON.first_surname,
    "second_surname": PERSON.second_surname,
    "email": "pedro@example.mx",
    "service": "RENAPO-CAMBIO-DOMICILIO",
    "details": "new address",
    "consent": True,
}
INFORMATION = {"curp": CURP, "agency": "urn:mx:gob:sat", "question": "SAT budget?", "consent": True}


def _record(model, **fields):
    """A full record of ``model``: its catalog example with ``fields`` (Avro names) replaced."""
    return model.from_avro(catalog().get(model.avro_name).example() | fields)


@pytest.fixture
def portal(make_portal, sign_in_as):
    """A portal whose client is signed in as the first account."""
    portal = make_portal()
    sign_in_as(portal.client, 0)
    return portal, portal.agency, portal.client


def _submit(client, body=GOOD) -> str:
    response = client.post("/api/service-requests", json=body)
    assert response.status_code == 202, response.text
    return response.json()["request"]["request_id"]


def _status(portal, request_id: str) -> dict:
    """What the signed-in citizen sees of one of their requests."""
    _, _, client = portal
    (view,) = [r for r in client.get("/api/me/requests").json()["requests"] if r["request_id"] == request_id]
    return view


def test_a_valid_service_request_is_accepted_and_published_as_a_shared_record(portal):
    _, agency, client = portal
    response = client.post("/api/service-requests", json=GOOD)
    assert response.status_code == 202
    request = response.json()["request"]
    assert request["status"] == "submitted" and "curp" not in request
    (record,) = agency.take(ServiceRequestSubmitted)
    assert str(record.request_id) == request["request_id"]
    assert record.applicant.curp == CURP  # the signed-in citizen's, from the ID token
    assert record.applicant.birth_date == dt.date(2003, 12, 3)
    assert record.applicant.sex == "H" and record.applicant.state_of_birth == "OC"


def test_a_wrong_curp_check_digit_is_reported_on_the_curp_field(make_portal):
    portal = make_portal()  # not signed in: an information request may be made without
    agency, client = portal.agency, portal.client
    response = client.post("/api/information-requests", json=INFORMATION | {"curp": "GODE561231HDFRRN04"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "curp" and error["rule"] == "curp.check_digit"
    assert "check digit" in error["message"] and "expected 0" in error["message"]
    assert agency.take() == []


def test_missing_consent_and_names_are_each_reported_on_their_field(portal):
    _, agency, client = portal
    body = GOOD | {"consent": False, "given_names": "", "service": "NOPE-NOPE"}
    errors = client.post("/api/service-requests", json=body).json()["errors"]
    assert {e["field"] for e in errors} == {"consent", "given_names", "service"}
    assert agency.take() == []


def test_a_body_that_is_not_a_json_object_is_refused_plainly(portal):
    _, _, client = portal
    response = client.post("/api/service-requests", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "form"
    response = client.post("/api/service-requests", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_the_citizen_sees_the_status_change_when_the_crm_opens_and_resolves_the_case(portal):
    desk, _, client = portal
    request_id = _submit(client)
    opened_at = dt.datetime.now(dt.UTC)
    desk.deliver(
        "on_case_opened",
        _record(
            CaseOpened,
            **{"caseId": "CRM-2026-000007", "serviceRequestId": request_id, "status": "OPEN", "openedAt": opened_at},
        ),
        "ce-1",
        "urn:mx:gob:crm",
    )
    assert _status(portal, request_id)["status"] == "case opened"
    desk.deliver(
        "on_case_updated",
        _record(
            CaseUpdated,
            **{
                "caseId": "CRM-2026-000007",
                "status": "RESOLVED",
                "note": "done",
                "updatedAt": opened_at + dt.timedelta(seconds=1),
            },
        ),
        "ce-2",
        "urn:mx:gob:crm",
    )
    mine = client.get("/api/me/requests").json()["requests"]
    assert [r["status"] for r in mine] == ["resolved"]
    assert [h["status"] for h in mine[0]["history"]] == ["submitted", "case opened", "resolved"]


def test_an_update_that_overtakes_its_case_opened_waits_for_it(portal):
    desk, _, client = portal
    request_id = _submit(client)
    now = dt.datetime.now(dt.UTC)
    desk.deliver(
        "on_case_updated",
        _record(
            CaseUpdated,
            **{"caseId": "CRM-2026-000099", "status": "RESOLVED", "updatedAt": now + dt.timedelta(seconds=1)},
        ),
        "ce-3",
        "urn:mx:gob:crm",
    )
    assert desk.store.waiting_count() == 1
    desk.deliver(
        "on_case_opened",
        _record(
            CaseOpened,
            **{"caseId": "CRM-2026-000099", "serviceRequestId": request_id, "status": "OPEN", "openedAt": now},
        ),
        "ce-3b",
        "urn:mx:gob:crm",
    )
    view = _status(portal, request_id)
    assert view["status"] == "resolved" and [h["status"] for h in view["history"]][-1] == "resolved"
    assert desk.store.waiting_count() == 0


def test_an_older_update_does_not_roll_the_status_back(portal):
    desk, _, client = portal
    request_id = _submit(client)
    now = dt.datetime.now(dt.UTC)
    desk.deliver(
        "on_case_opened",
        _record(
            CaseOpened,
            **{"caseId": "CRM-2026-000008", "serviceRequestId": request_id, "status": "OPEN", "openedAt": now},
        ),
        "ce-4",
        "urn:mx:gob:crm",
    )
    desk.deliver(
        "on_case_updated",
        _record(
            CaseUpdated,
            **{"caseId": "CRM-2026-000008", "status": "RESOLVED", "updatedAt": now + dt.timedelta(seconds=2)},
        ),
        "ce-5",
        "urn:mx:gob:crm",
    )
    desk.deliver(
        "on_case_updated",
        _record(
            CaseUpdated,
            **{"caseId": "CRM-2026-000008", "status": "IN_PROGRESS", "updatedAt": now + dt.timedelta(seconds=1)},
        ),
        "ce-6",
        "urn:mx:gob:crm",
    )
    assert _status(portal, request_id)["status"] == "resolved"


def test_the_access_log_shows_who_read_the_citizens_data(portal):
    desk, _, client = portal
    entry = {
        "accessId": "0b6f5b7e-3d3a-4f7e-8d71-4f0c2a7d9e10",
        "dataSubjectCurp": CURP,
        "accessorAgency": "urn:mx:gob:crm",
        "accessorSystem": "case management",
        "fieldsRead": ["rfc"],
        "purpose": "issue a certificate",
        "legalBasis": "CFF art. 69",
        "accessedAt": dt.datetime.now(dt.UTC),
    }
    desk.deliver("on_data_access_logged", _record(DataAccessLogged, **entry), "ce-7", "urn:mx:gob:transparencia")
    desk.deliver("on_data_access_logged", _record(DataAccessLogged, **entry), "ce-7", "urn:mx:gob:transparencia")
    (access,) = client.get("/api/me/access-log").json()["accesses"]
    assert access["accessor"] == "urn:mx:gob:crm" and access["fields"] == ["rfc"]


def test_an_information_request_is_published_and_followed_by_its_folio(portal):
    desk, agency, client = portal
    answer = client.post("/api/information-requests", json=INFORMATION).json()
    request_id, code = answer["request"]["request_id"], answer["tracking_code"]
    (record,) = agency.take(InformationRequestSubmitted)
    InformationRequestSubmitted.from_avro(record.to_avro(), strict=True)
    filed_at = dt.datetime.now(dt.UTC)
    desk.deliver(
        "on_information_filed",
        _record(
            InformationRequestFiled,
            **{
                "folio": "332026000000001",
                "sourceRequestId": request_id,
                "filedAt": filed_at,
                "legalDeadline": dt.date(2026, 12, 1),
            },
        ),
        "ce-8",
        "urn:mx:gob:transparencia",
    )
    desk.deliver(
        "on_information_answered",
        _record(
            InformationRequestAnswered,
            **{
                "folio": "332026000000001",
                "answerType": "PUBLICLY_AVAILABLE",
                "answerSummary": "see the budget",
                "answeredAt": filed_at,
            },
        ),
        "ce-9",
        "urn:mx:gob:transparencia",
    )
    view = client.post("/api/requests/status", json={"request_id": request_id, "tracking_code": code}).json()
    assert (view["status"], view["folio"], view["deadline"], view["answer"]) == (
        "answered",
        "332026000000001",
        "2026-12-01",
        "see the budget",
    )


def test_the_page_has_a_place_for_each_fields_error_and_health_answers(portal):
    _, _, client = portal
    page = client.get("/").text
    for field in ("curp", "given_names", "first_surname", "service", "consent", "tracking_code"):
        assert f'data-for="{field}"' in page
    assert "<script>" not in page and "style=" not in page  # the CSP allows the portal's own files only
    assert client.get("/static/portal.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/health").json() == {"status": "UP"}


def test_a_case_opened_resent_under_a_new_ce_id_adds_nothing(portal):
    desk, _, client = portal
    request_id = _submit(client)
    opened = {
        "caseId": "CRM-2026-000010",
        "serviceRequestId": request_id,
        "status": "OPEN",
        "openedAt": dt.datetime.now(dt.UTC),
    }
    desk.deliver("on_case_opened", _record(CaseOpened, **opened), "ce-10", "urn:mx:gob:crm")
    desk.deliver("on_case_opened", _record(CaseOpened, **opened), "ce-10-resent", "urn:mx:gob:crm")
    history = _status(portal, request_id)["history"]
    assert [h["status"] for h in history] == ["submitted", "case opened"]
