"""Every endpoint and error code of the Confluent API, against the real service on a real broker."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration

CT = "application/vnd.schemaregistry.v1+json"


def rec(*fields: dict, name: str = "R") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "t", "fields": list(fields)})


V1 = rec({"name": "a", "type": "int"})
V2 = rec({"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": ""})
BREAKS = rec({"name": "a", "type": "int"}, {"name": "c", "type": "string"})


@pytest.fixture
def http(plain_registry) -> httpx.Client:
    with httpx.Client(base_url=plain_registry.url, headers={"Content-Type": CT}, timeout=30) as client:
        yield client


@pytest.fixture
def subject() -> str:
    return f"s-{uuid.uuid4().hex[:8]}-value"


def register(http: httpx.Client, subject: str, schema: str, **extra: object) -> httpx.Response:
    return http.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})


def error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    return body["message"]


def test_register_then_read_back_every_way(http, subject) -> None:
    first = register(http, subject, V1)
    assert first.status_code == 200 and first.headers["content-type"].startswith(CT)
    schema_id = first.json()["id"]
    second_id = register(http, subject, V2).json()["id"]
    assert second_id != schema_id
    assert subject in http.get("/subjects").json()
    assert http.get(f"/subjects/{subject}/versions").json() == [1, 2]
    for version in ("2", "latest", "-1"):
        body = http.get(f"/subjects/{subject}/versions/{version}").json()
        assert body["version"] == 2 and body["id"] == second_id and json.loads(body["schema"]) == json.loads(V2)
    assert http.get(f"/subjects/{subject}/versions/1/schema").json() == json.loads(V1)
    assert json.loads(http.get(f"/schemas/ids/{schema_id}").json()["schema"]) == json.loads(V1)
    assert http.get(f"/schemas/ids/{schema_id}/schema").json() == json.loads(V1)
    assert http.get(f"/schemas/ids/{schema_id}/versions").json() == [{"subject": subject, "version": 1}]
    assert http.get("/schemas/types").json() == ["AVRO"]
    looked_up = http.post(f"/subjects/{subject}", json={"schema": V1})
    assert looked_up.json()["version"] == 1 and looked_up.json()["id"] == schema_id


def test_an_equivalent_schema_gets_the_existing_id(http, subject) -> None:
    schema_id = register(http, subject, V1).json()["id"]
    spaced = (
        '{ "fields": [ {"type": "int", "name": "a", "doc": "only a doc"} ],\n'
        '  "name": "R", "type": "record", "namespace": "t" }'
    )
    assert register(http, subject, spaced).json()["id"] == schema_id
    assert http.get(f"/subjects/{subject}/versions").json() == [1]
    other = f"other-{subject}"
    assert register(http, other, V1).json()["id"] == schema_id  # ids are global per schema


def test_application_json_and_capitalised_booleans_are_accepted(http, subject) -> None:
    response = http.post(
        f"/subjects/{subject}/versions?normalize=False",
        json={"schema": V1},
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert http.post(f"/subjects/{subject}?normalize=False&deleted=False", json={"schema": V1}).status_code == 200
    assert http.get("/subjects?deleted=TRUE").status_code == 200


def test_not_found_codes(http, subject) -> None:
    error(http.get(f"/subjects/{subject}/versions"), 404, 40401)
    register(http, subject, V1)
    error(http.get(f"/subjects/{subject}/versions/7"), 404, 40402)
    error(http.get("/schemas/ids/987654321"), 404, 40403)
    error(http.post(f"/subjects/{subject}", json={"schema": V2}), 404, 40403)
    error(http.get("/no/such/route"), 404, 404)


def test_invalid_version_schema_and_levels(http, subject) -> None:
    register(http, subject, V1)
    for bad in ("0", "one", "-2", "99999999999", "¹", "٣"):  # digits to str.isdigit(), not to int()
        error(http.get(f"/subjects/{subject}/versions/{bad}"), 422, 42202)
    assert "not JSON" in error(register(http, subject, "{not json"), 422, 42201)
    assert "Undefined type: nope" in error(register(http, subject, '{"type": "nope"}'), 422, 42201)
    error(register(http, subject, V1, schemaType="PROTOBUF"), 422, 42201)
    error(http.put("/config/" + subject, json={"compatibility": "SIDEWAYS"}), 422, 42203)
    error(http.put("/mode/" + subject, json={"mode": "SOMETIMES"}), 422, 42204)


def test_incompatible_schema_is_409_with_the_reason(http, subject) -> None:
    register(http, subject, V1)
    message = error(register(http, subject, BREAKS), 409, 409)
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in message and "'c'" in message
    check = http.post(f"/compatibility/subjects/{subject}/versions/latest?verbose=true", json={"schema": BREAKS}).json()
    assert check["is_compatible"] is False and any("'c'" in m for m in check["messages"])
    assert http.post(f"/compatibility/subjects/{subject}/versions/1", json={"schema": V2}).json() == {
        "is_compatible": True
    }
    assert http.post(f"/compatibility/subjects/{subject}/versions", json={"schema": V2}).json()["is_compatible"] is True
    fresh = f"none-{subject}"
    assert http.post(f"/compatibility/subjects/{fresh}/versions/latest", json={"schema": BREAKS}).json()[
        "is_compatible"
    ]
    error(http.post(f"/compatibility/subjects/{fresh}/versions/3", json={"schema": BREAKS}), 404, 40401)


def test_config_subject_level_and_global(http, subject) -> None:
    assert http.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    error(http.get(f"/config/{subject}"), 404, 40408)
    assert http.get(f"/config/{subject}?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}
    assert http.put(f"/config/{subject}", json={"compatibility": "NONE"}).json() == {"compatibility": "NONE"}
    assert http.get(f"/config/{subject}").json() == {"compatibilityLevel": "NONE"}
    register(http, subject, V1)
    assert register(http, subject, BREAKS).status_code == 200  # NONE lets anything through
    assert http.delete(f"/config/{subject}").json() == {"compatibilityLevel": "NONE"}
    error(http.get(f"/config/{subject}"), 404, 40408)


def test_global_config_change_applies_to_subjects_without_their_own(http, subject) -> None:
    try:
        assert http.put("/config", json={"compatibility": "FULL"}).status_code == 200
        assert http.get(f"/config/{subject}?defaultToGlobal=true").json() == {"compatibilityLevel": "FULL"}
    finally:
        http.put("/config", json={"compatibility": "BACKWARD"})


def test_modes(http, subject) -> None:
    assert http.get("/mode").json() == {"mode": "READWRITE"}
    error(http.get(f"/mode/{subject}"), 404, 40409)
    assert http.put(f"/mode/{subject}", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    assert "read-only" in error(register(http, subject, V1), 422, 42205)
    http.put(f"/mode/{subject}", json={"mode": "IMPORT"})
    assert register(http, subject, V1, id=4242, version=5).json() == {"id": 4242}
    assert http.get(f"/subjects/{subject}/versions/5").json()["id"] == 4242
    http.put(f"/mode/{subject}", json={"mode": "READWRITE"})
    error(register(http, subject, V2, id=4343), 422, 42205)  # ids are chosen by the registry outside IMPORT


def test_soft_then_permanent_deletes(http, subject) -> None:
    register(http, subject, V1)
    register(http, subject, V2)
    assert http.delete(f"/subjects/{subject}/versions/1").json() == 1
    error(http.delete(f"/subjects/{subject}/versions/1"), 404, 40406)
    error(http.delete(f"/subjects/{subject}/versions/2?permanent=true"), 404, 40407)
    assert http.get(f"/subjects/{subject}/versions").json() == [2]
    assert http.get(f"/subjects/{subject}/versions?deleted=true").json() == [1, 2]
    assert http.get(f"/subjects/{subject}/versions/1?deleted=true").json()["version"] == 1
    assert http.delete(f"/subjects/{subject}/versions/1?permanent=true").json() == 1
    assert http.get(f"/subjects/{subject}/versions?deleted=true").json() == [2]
    error(http.delete(f"/subjects/{subject}?permanent=true"), 404, 40405)
    assert http.delete(f"/subjects/{subject}").json() == [2]
    error(http.delete(f"/subjects/{subject}"), 404, 40404)
    assert subject not in http.get("/subjects").json()
    assert subject in http.get("/subjects?deleted=true").json()
    assert http.delete(f"/subjects/{subject}?permanent=true").json() == [2]
    error(http.delete(f"/subjects/{subject}"), 404, 40401)


def test_references_resolve_and_protect_the_referenced_version(http, subject) -> None:
    person = json.dumps(
        {
            "type": "record",
            "name": "Person",
            "namespace": "mx.gob.common",
            "fields": [{"name": "curp", "type": "string"}],
        }
    )
    shared = f"mx.gob.common.Person-{uuid.uuid4().hex[:6]}"
    person_id = register(http, shared, person).json()["id"]
    case = json.dumps(
        {
            "type": "record",
            "name": "Case",
            "namespace": "t",
            "fields": [{"name": "who", "type": "mx.gob.common.Person"}],
        }
    )
    refs = [{"name": "mx.gob.common.Person", "subject": shared, "version": 1}]
    error(register(http, subject, case), 422, 42201)  # unknown type without the reference
    case_id = register(http, subject, case, references=refs).json()["id"]
    assert http.get(f"/schemas/ids/{case_id}").json()["references"] == refs
    assert http.get(f"/subjects/{shared}/versions/1/referencedby").json() == [case_id]
    assert http.post(f"/subjects/{subject}", json={"schema": case, "references": refs}).json()["id"] == case_id
    error(http.delete(f"/subjects/{shared}/versions/1"), 422, 42206)
    error(http.delete(f"/subjects/{shared}"), 422, 42206)
    assert http.get(f"/schemas/ids/{person_id}").status_code == 200
    missing = [{"name": "mx.gob.common.Person", "subject": shared, "version": 9}]
    assert "does not exist" in error(register(http, subject, case, references=missing), 422, 42201)


def test_bad_bodies_never_give_a_500(http, subject) -> None:
    error(http.post(f"/subjects/{subject}/versions", content=b"{oops"), 400, 400)
    error(http.post(f"/subjects/{subject}/versions", json={"schema": V1, "surprise": 1}), 422, 422)
    error(http.post(f"/subjects/{subject}/versions", json=[1, 2]), 422, 422)
    huge = json.dumps({"schema": rec({"name": "a", "type": "int", "doc": "x" * 2_000_000})})
    assert "at most 1048576 bytes" in error(http.post(f"/subjects/{subject}/versions", content=huge), 413, 413)
    large = json.dumps({"schema": rec({"name": "a", "type": "int", "doc": "x" * 300_000})})
    assert "[max_bytes]" in error(http.post(f"/subjects/{subject}/versions", content=large), 422, 42209)
    error(http.get("/schemas/ids/notanumber"), 404, 404)
    error(http.put("/config", content=b"null"), 422, 422)
