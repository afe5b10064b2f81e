"""The Interoperability Policy enforced at registration by the real service."""

from __future__ import annotations

import base64
import copy
import json
import uuid

import httpx
import pytest

from bus.registry import RegistryClient, RegistryError

pytestmark = pytest.mark.integration

PERSON = {
    "type": "record",
    "name": "Person",
    "namespace": "mx.gob.common",
    "doc": "A person.",
    "fields": [
        {"name": "curp", "type": "string", "doc": "CURP.", "classification": "personal"},
        {"name": "givenNames", "type": "string", "doc": "Names.", "classification": "personal"},
    ],
}


def case(name: str) -> dict:
    return {
        "type": "record",
        "name": name,
        "namespace": "mx.gob.pruebas",
        "doc": "A case.",
        "fields": [
            {"name": "caseId", "type": "string", "doc": "Id.", "classification": "public"},
            {"name": "citizen", "type": "mx.gob.common.Person", "doc": "Who.", "classification": "personal"},
        ],
    }


@pytest.fixture(scope="module")
def person(policy_registry) -> dict:
    """mx.gob.common.Person registered by its owner; the reference other records use."""
    with RegistryClient(policy_registry.url, credential=policy_registry.token("urn:mx:gob:interop")) as client:
        client.register("mx.gob.common.Person", PERSON)
        return {"name": "mx.gob.common.Person", "subject": "mx.gob.common.Person", "version": 1}


def post(registry, subject: str, schema: dict, refs: list, agency: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {registry.token(agency)}"} if agency else {}
    body = {"schema": json.dumps(schema), "references": refs}
    return httpx.post(f"{registry.url}/subjects/{subject}/versions", json=body, headers=headers, timeout=30)


def test_only_the_owner_with_its_credential_registers(policy_registry, person) -> None:
    name = f"Case{uuid.uuid4().hex[:6].upper()}"
    subject = f"mx.gob.pruebas.{name}"
    anonymous = post(policy_registry, subject, case(name), [person], None)
    assert anonymous.status_code == 401 and anonymous.json()["error_code"] == 40101
    other = post(policy_registry, subject, case(name), [person], "urn:mx:gob:otra")
    assert other.status_code == 403 and other.json()["error_code"] == 40301
    assert "urn:mx:gob:pruebas" in other.json()["message"]
    owner = post(policy_registry, subject, case(name), [person], "urn:mx:gob:pruebas")
    assert owner.status_code == 200, owner.text
    # Reads stay open.
    assert httpx.get(f"{policy_registry.url}/subjects/{subject}/versions", timeout=30).json() == [1]


def test_basic_auth_with_the_agency_as_user_is_accepted(policy_registry, person) -> None:
    name = f"Basic{uuid.uuid4().hex[:6].upper()}"
    token = policy_registry.token("urn:mx:gob:pruebas")
    good = base64.b64encode(f"urn:mx:gob:pruebas:{token}".encode()).decode()
    wrong_user = base64.b64encode(f"urn:mx:gob:otra:{token}".encode()).decode()
    body = {"schema": json.dumps(case(name)), "references": [person]}
    url = f"{policy_registry.url}/subjects/mx.gob.pruebas.{name}/versions"
    assert httpx.post(url, json=body, headers={"Authorization": f"Basic {wrong_user}"}, timeout=30).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": f"Basic {good}"}, timeout=30).status_code == 200


def test_a_non_conforming_schema_is_refused_with_rule_pointer_and_sentence(policy_registry, person) -> None:
    name = f"Bad{uuid.uuid4().hex[:6].upper()}"
    bad = case(name)
    bad["fields"][0]["name"] = "case_id"
    del bad["fields"][1]["classification"]
    response = post(policy_registry, f"mx.gob.pruebas.{name}", bad, [person], "urn:mx:gob:pruebas")
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == 42230
    found = {(d["rule"], d["pointer"]) for d in body["details"]}
    assert found == {("naming.field-camel-case", "/fields/0/name"), ("personal-data.classified", "/fields/1")}
    assert "[naming.field-camel-case] at /fields/0/name" in body["message"]


def test_copying_a_shared_type_instead_of_referencing_it_is_refused(policy_registry, person) -> None:
    name = f"Copy{uuid.uuid4().hex[:6].upper()}"
    copied = case(name)
    copied["fields"][1]["type"] = {**copy.deepcopy(PERSON), "name": "Citizen", "namespace": "mx.gob.pruebas"}
    response = post(policy_registry, f"mx.gob.pruebas.{name}", copied, [], "urn:mx:gob:pruebas")
    assert response.status_code == 422
    assert [(d["rule"], d["pointer"]) for d in response.json()["details"]] == [
        ("shared-types.reference", "/fields/1/type")
    ]


def test_shared_records_keep_full_transitive_and_breaking_changes_need_a_new_subject(policy_registry, person) -> None:
    name = f"Evolving{uuid.uuid4().hex[:6].upper()}"
    subject = f"mx.gob.pruebas.{name}"
    token = {"Authorization": f"Bearer {policy_registry.token('urn:mx:gob:pruebas')}"}
    assert post(policy_registry, subject, case(name), [person], "urn:mx:gob:pruebas").status_code == 200
    assert httpx.get(f"{policy_registry.url}/config/{subject}?defaultToGlobal=true", timeout=30).json() == {
        "compatibilityLevel": "FULL_TRANSITIVE"
    }
    weaker = httpx.put(
        f"{policy_registry.url}/config/{subject}", json={"compatibility": "NONE"}, headers=token, timeout=30
    )
    assert weaker.status_code == 422 and weaker.json()["details"][0]["rule"] == "compatibility.default-level"
    breaking = case(name)
    breaking["fields"].append(
        {"name": "priority", "type": "int", "doc": "No default: breaks.", "classification": "public"}
    )
    refused = post(policy_registry, subject, breaking, [person], "urn:mx:gob:pruebas")
    assert refused.status_code == 409 and "compatibility.breaking-change" in refused.json()["message"]
    assert f"{name}V2" in refused.json()["message"]
    # A soft delete does not make room for an overwrite.
    assert (
        httpx.delete(f"{policy_registry.url}/subjects/{subject}/versions/1", headers=token, timeout=30).status_code
        == 200
    )
    again = post(policy_registry, subject, breaking, [person], "urn:mx:gob:pruebas")
    assert again.status_code == 409


def test_deleting_needs_the_owner_and_a_referenced_shared_type_stays(policy_registry, person) -> None:
    url = f"{policy_registry.url}/subjects/mx.gob.common.Person"
    assert httpx.delete(url, timeout=30).status_code == 401
    owner = {"Authorization": f"Bearer {policy_registry.token('urn:mx:gob:interop')}"}
    name = f"Ref{uuid.uuid4().hex[:6].upper()}"
    assert (
        post(policy_registry, f"mx.gob.pruebas.{name}", case(name), [person], "urn:mx:gob:pruebas").status_code == 200
    )
    response = httpx.delete(url, headers=owner, timeout=30)
    assert response.status_code == 422 and response.json()["error_code"] == 42206


def test_the_client_raises_registry_errors_with_status_and_code(policy_registry, person) -> None:
    with RegistryClient(policy_registry.url) as anonymous, pytest.raises(RegistryError) as caught:
        anonymous.register("mx.gob.pruebas.Nope", case("Nope"), anonymous.auto_references(case("Nope")))
    assert caught.value.http_status == 401 and caught.value.error_code == 40101


def test_only_an_admin_sets_import_or_readonly_so_an_owner_cannot_skip_compatibility(policy_registry, person) -> None:
    name = f"Import{uuid.uuid4().hex[:6].upper()}"
    subject = f"mx.gob.pruebas.{name}"
    owner = {"Authorization": f"Bearer {policy_registry.token('urn:mx:gob:pruebas')}"}
    admin = {"Authorization": f"Bearer {policy_registry.token('urn:mx:gob:interop')}"}
    mode_url = f"{policy_registry.url}/mode/{subject}"
    assert post(policy_registry, subject, case(name), [person], "urn:mx:gob:pruebas").status_code == 200
    for mode in ("IMPORT", "READONLY"):
        refused = httpx.put(mode_url, json={"mode": mode}, headers=owner, timeout=30)
        assert (refused.status_code, refused.json()["error_code"]) == (403, 40301)
        assert "reserved to the policy's admins (urn:mx:gob:interop)" in refused.json()["message"]
    breaking = case(name)
    breaking["fields"].append({"name": "priority", "type": "int", "doc": "No default.", "classification": "public"})
    assert post(policy_registry, subject, breaking, [person], "urn:mx:gob:pruebas").status_code == 409
    # The admin freezes the subject; its owner can neither lift the freeze nor register.
    assert httpx.put(mode_url, json={"mode": "READONLY"}, headers=admin, timeout=30).json() == {"mode": "READONLY"}
    lifted = httpx.put(mode_url, json={"mode": "READWRITE"}, headers=owner, timeout=30)
    assert lifted.status_code == 403 and "from READONLY to READWRITE" in lifted.json()["message"]
    assert post(policy_registry, subject, breaking, [person], "urn:mx:gob:pruebas").status_code == 422
    assert httpx.put(mode_url, json={"mode": "READWRITE"}, headers=admin, timeout=30).status_code == 200
    assert httpx.get(mode_url, timeout=30).json() == {"mode": "READWRITE"}
