"""The catalog of shared records and record validation against schemas and domain rules."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from bus import SchemaError, ValidationError
from bus.records import catalog, check, from_json, load_catalog, validate

EXPECTED_RECORDS = {
    "mx.gob.sat.TaxpayerStatusChanged",
    "mx.gob.sat.TaxDeclarationFiled",
    "mx.gob.sat.InvoiceIssued",
    "mx.gob.crm.CaseOpened",
    "mx.gob.crm.CaseUpdated",
    "mx.gob.portal.ServiceRequestSubmitted",
    "mx.gob.transparencia.InformationRequestFiled",
    "mx.gob.transparencia.InformationRequestAnswered",
    "mx.gob.transparencia.DataAccessLogged",
}
ALL_VERSIONS = [t for t in catalog().records() if t.kind == "record"]


def test_catalog_holds_the_shared_records_and_types() -> None:
    names = set(catalog().names())
    assert names >= EXPECTED_RECORDS
    assert {"mx.gob.common.Person", "mx.gob.common.Address", "mx.gob.common.Contact"} <= names


def test_at_least_two_records_have_a_second_version() -> None:
    evolved = [name for name in catalog().names() if len(catalog().versions(name)) >= 2]
    assert len(evolved) >= 2


def test_get_by_short_or_full_name_gives_latest_unless_a_version_is_asked() -> None:
    latest = catalog().get("CaseOpened")
    assert latest is catalog().get("mx.gob.crm.CaseOpened")
    assert latest.version == 2
    assert catalog().get("CaseOpened", 1).version == 1


def test_unknown_record_or_version_is_a_schema_error_naming_it() -> None:
    with pytest.raises(SchemaError, match="no record named 'CaseClosed'"):
        catalog().get("CaseClosed")
    with pytest.raises(SchemaError, match="has no version 9 \\(it has v1, v2\\)"):
        catalog().get("CaseOpened", 9)


def test_record_type_names_topic_key_owner_and_subject() -> None:
    case = catalog().get("CaseOpened")
    assert (case.name, case.namespace, case.full_name) == (
        "CaseOpened",
        "mx.gob.crm",
        "mx.gob.crm.CaseOpened",
    )
    assert case.topic == "mx.gob.crm.case-opened"
    assert case.key_field == "caseId"
    assert case.owner == "urn:mx:gob:crm"
    assert case.subject == "mx.gob.crm.CaseOpened"
    assert case.path.name == "v2.avsc"
    assert catalog().get("ServiceRequestSubmitted").topic == "mx.gob.portal.service-request-submitted"


def test_every_namespace_has_an_owner_from_the_policy() -> None:
    for record_type in catalog().records():
        assert record_type.owner and record_type.owner.startswith("urn:mx:gob:"), record_type


def test_records_reference_shared_types_instead_of_copying_them() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    assert [r.full_name for r in request.references()] == [
        "mx.gob.common.Address",
        "mx.gob.common.Contact",
        "mx.gob.common.Person",
    ]
    transitive = [r.full_name for r in request.references(transitive=True)]
    assert transitive.index("mx.gob.common.State") < transitive.index("mx.gob.common.Person")
    assert "mx.gob.common.Person" in json.dumps(request.schema)
    assert '"givenNames"' not in request.path.read_text()


def test_records_iterates_shared_types_before_the_records_that_use_them() -> None:
    order = [t.full_name for t in catalog().records()]
    for record_type in catalog().records():
        for ref in record_type.references():
            assert order.index(ref.full_name) < order.index(record_type.full_name)


@pytest.mark.parametrize("record_type", ALL_VERSIONS, ids=lambda t: f"{t.name}-v{t.version}")
def test_every_record_and_field_has_a_doc_and_a_classification(record_type) -> None:
    assert record_type.schema.get("doc")
    for member in record_type.schema["fields"]:
        assert member.get("doc"), f"{record_type.path}: {member['name']} has no doc"
        assert member.get("classification") in ("public", "personal", "sensitive"), member["name"]


@pytest.mark.parametrize("record_type", ALL_VERSIONS, ids=lambda t: f"{t.name}-v{t.version}")
def test_every_version_has_a_valid_example(record_type) -> None:
    data = record_type.example()
    assert validate(record_type, data) == []


def test_classification_of_a_record_is_its_most_protected_field() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    fields = request.field_classifications()
    assert fields["/applicant/curp"] == "personal"
    assert fields["/attachments/*/uri"] == "sensitive"
    assert request.classification == "sensitive"
    assert catalog().get("Person").classification == "personal"


def test_key_of_reads_a_nested_key_field() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    assert request.key_of(request.example()) == "ROMA900215HJCDRN09"


def test_key_of_a_record_without_its_key_is_a_validation_error() -> None:
    case = catalog().get("CaseOpened")
    with pytest.raises(ValidationError, match="/caseId must hold a non-empty string"):
        case.key_of({"caseId": None})


@pytest.mark.parametrize("data", [{}, {"applicant": None}, {"applicant": "ROMA900215HJCDRN09"}, {"applicant": {}}])
def test_key_of_a_nested_key_field_that_is_absent_is_a_validation_error(data: dict) -> None:
    request = catalog().get("ServiceRequestSubmitted")
    with pytest.raises(ValidationError, match="/applicant/curp must hold a non-empty string") as raised:
        request.key_of(data)
    assert (raised.value.path, raised.value.rule) == ("/applicant/curp", "record.key")


# --- validation ------------------------------------------------------------------------------


def _case() -> dict:
    return catalog().get("CaseOpened").example()


def test_valid_record_has_no_problems() -> None:
    assert validate("CaseOpened", _case()) == []
    check("CaseOpened", _case())


def test_validate_reports_every_problem_with_pointer_rule_and_value() -> None:
    data = _case()
    data["citizenCurp"] = "ROMA900215HJCDRN07"
    data["channel"] = "FAX"
    data["slaDueDate"] = "2025-06-13"
    del data["status"]
    data["contact"] = {"email": "not-an-email", "preferredChannel": "EMAIL", "fax": "1"}
    data["colour"] = "blue"
    problems = {(p.path, p.rule): p for p in validate("CaseOpened", data)}
    assert set(problems) == {
        ("/citizenCurp", "curp.check_digit"),
        ("/channel", "avro.enum"),
        ("/slaDueDate", "avro.type"),
        ("/status", "avro.required"),
        ("/contact/email", "pattern"),
        ("/contact/fax", "avro.unknown_field"),
        ("/colour", "avro.unknown_field"),
    }
    assert problems[("/citizenCurp", "curp.check_digit")].value == "ROMA900215HJCDRN07"
    assert "check digit is 7, expected 9" in problems[("/citizenCurp", "curp.check_digit")].message
    assert "expected date, got str" in problems[("/slaDueDate", "avro.type")].message
    assert all(p.record == "mx.gob.crm.CaseOpened" for p in problems.values())


def test_check_raises_one_error_listing_all_problems() -> None:
    data = _case() | {"channel": "FAX", "citizenCurp": "X"}
    with pytest.raises(ValidationError) as raised:
        check("CaseOpened", data)
    assert len(raised.value.problems) == 2
    assert "/channel" in str(raised.value) and "/citizenCurp" in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("openedAt", dt.datetime(2025, 1, 1, 12, 0), "avro.timestamp"),  # naive: which time zone?
        ("openedAt", "2025-01-01T12:00:00Z", "avro.type"),
        ("serviceRequestId", "not-a-uuid", "avro.uuid"),
        ("caseId", "CASE-1", "pattern"),
        ("caseId", 123, "avro.type"),
    ],
)
def test_wrong_values_are_caught_with_their_rule(field: str, value: object, rule: str) -> None:
    problems = validate("CaseOpened", _case() | {field: value})
    assert [(p.path, p.rule) for p in problems] == [(f"/{field}", rule)]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (decimal.Decimal("1.234"), "3 decimal places, at most 2"),
        (decimal.Decimal("12345678901234567.00"), "17 digits before the decimal point, at most 16"),
        (decimal.Decimal("NaN"), "not a finite number"),
        (1.5, "expected decimal(18,2), got float"),
    ],
)
def test_decimals_must_fit_precision_and_scale(value: object, fragment: str) -> None:
    data = catalog().get("TaxDeclarationFiled").example() | {"taxDue": value}
    problems = validate("TaxDeclarationFiled", data)
    assert len(problems) == 1 and fragment in problems[0].message


def test_int_range_and_minimum_are_checked() -> None:
    declaration = catalog().get("TaxDeclarationFiled")
    assert [p.rule for p in validate(declaration, declaration.example() | {"fiscalYear": 1999})] == ["range"]
    assert [p.rule for p in validate(declaration, declaration.example() | {"fiscalYear": 2**40})] == [
        "avro.range",
        "range",
    ]


def test_consent_must_be_given() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    problems = validate(request, request.example() | {"consentGiven": False})
    assert [(p.path, p.rule) for p in problems] == [("/consentGiven", "const")]
    assert "must be true" in problems[0].message


def test_optional_curp_is_checked_when_present() -> None:
    filed = catalog().get("InformationRequestFiled")
    assert validate(filed, filed.example() | {"requesterCurp": None}) == []
    assert [p.rule for p in validate(filed, filed.example() | {"requesterCurp": "ROMA900215HJCDRN00"})] == [
        "curp.check_digit"
    ]


def test_nested_shared_type_problems_carry_the_nested_pointer() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    data = request.example()
    data["applicant"]["stateOfBirth"] = "XX"
    data["attachments"][0]["sha256"] = "ABC"
    data["details"]["a/b"] = 5
    paths = {(p.path, p.rule) for p in validate(request, data)}
    assert paths == {
        ("/applicant/stateOfBirth", "avro.enum"),
        ("/attachments/0/sha256", "pattern"),
        ("/details/a~1b", "avro.type"),
    }


def test_from_json_converts_dates_timestamps_decimals_and_uuids() -> None:
    declaration = catalog().get("TaxDeclarationFiled")
    raw = json.loads(declaration.example_path.read_text())
    data = from_json(declaration, raw)
    assert data["taxDue"] == decimal.Decimal("61234.55")
    assert data["filedAt"] == dt.datetime(2025, 4, 28, 18, 42, 11, 500000, tzinfo=dt.UTC)
    assert isinstance(data["declarationId"], uuid.UUID)
    invoice = from_json("InvoiceIssued", json.loads(catalog().get("InvoiceIssued").example_path.read_text()))
    assert invoice["issuedAt"].utcoffset() == dt.timedelta(hours=-6)


def test_from_json_reports_bad_text_forms() -> None:
    raw = json.loads(catalog().get("TaxDeclarationFiled").example_path.read_text())
    raw |= {"filedAt": "yesterday", "taxDue": "lots", "declarationId": "x"}
    with pytest.raises(ValidationError) as raised:
        from_json("TaxDeclarationFiled", raw)
    assert {(p.path, p.rule) for p in raised.value.problems} == {
        ("/filedAt", "avro.timestamp"),
        ("/taxDue", "avro.decimal"),
        ("/declarationId", "avro.uuid"),
    }


# --- loading errors --------------------------------------------------------------------------


@pytest.fixture
def schemas_copy(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(catalog().root, target)
    return target


def test_catalog_loads_from_another_folder(schemas_copy: Path) -> None:
    assert load_catalog(schemas_copy).names() == catalog().names()


def test_schema_in_the_wrong_folder_is_refused_naming_the_file(schemas_copy: Path) -> None:
    source = schemas_copy / "mx.gob.crm" / "CaseOpened" / "v1.avsc"
    target = schemas_copy / "mx.gob.crm" / "CaseUpdated" / "v2.avsc"
    target.write_text(source.read_text())
    with pytest.raises(SchemaError, match=re.escape("defines mx.gob.crm.CaseOpened, so it belongs in")):
        load_catalog(schemas_copy)


def test_reference_to_an_unknown_shared_type_is_refused(schemas_copy: Path) -> None:
    path = schemas_copy / "mx.gob.crm" / "CaseUpdated" / "v1.avsc"
    path.write_text(path.read_text().replace('"type": "CaseStatus"', '"type": "mx.gob.common.CaseStatus"'))
    with pytest.raises(SchemaError, match=re.escape("unknown shared type mx.gob.common.CaseStatus")):
        load_catalog(schemas_copy)


def test_record_without_key_field_is_refused(schemas_copy: Path) -> None:
    path = schemas_copy / "mx.gob.crm" / "CaseUpdated" / "v1.avsc"
    schema = json.loads(path.read_text())
    del schema["keyField"]
    path.write_text(json.dumps(schema))
    with pytest.raises(SchemaError, match='needs a "keyField"'):
        load_catalog(schemas_copy)


def test_invalid_json_is_refused_naming_the_file(schemas_copy: Path) -> None:
    path = schemas_copy / "mx.gob.crm" / "CaseUpdated" / "v1.avsc"
    path.write_text("{")
    with pytest.raises(SchemaError, match=re.escape("CaseUpdated/v1.avsc: not valid JSON")):
        load_catalog(schemas_copy)


def test_schemas_dir_comes_from_the_environment(schemas_copy: Path, monkeypatch) -> None:
    from bus.records import default_schemas_dir

    monkeypatch.setenv("ENLACE_SCHEMAS_DIR", str(schemas_copy))
    assert default_schemas_dir() == schemas_copy


def test_the_records_door_does_not_offer_the_code_generator() -> None:
    import bus.records

    assert not {"generate_models_source", "models_path", "write_models"} & set(bus.records.__all__)


def test_every_problem_of_a_catalog_is_listed_at_once(schemas_copy: Path) -> None:
    (schemas_copy / "mx.gob.crm" / "CaseUpdated" / "v1.avsc").write_text("{")
    case = schemas_copy / "mx.gob.crm" / "CaseOpened" / "v1.avsc"
    schema = json.loads(case.read_text())
    del schema["keyField"]
    case.write_text(json.dumps(schema))
    stray = schemas_copy / "mx.gob.crm" / "CaseOpened" / "latest.avsc"
    stray.write_text(json.dumps(schema))
    with pytest.raises(SchemaError) as raised:
        load_catalog(schemas_copy)
    lines = str(raised.value).splitlines()
    assert any("CaseUpdated/v1.avsc: not valid JSON" in line for line in lines)
    assert any("latest.avsc: schema files are named v<N>.avsc" in line for line in lines)


@pytest.mark.parametrize(
    "text", ['{"type": ["record"], "name": "X"}', "[]", '"string"', '{"type": "record", "name": 7}']
)
def test_a_file_that_is_not_a_named_type_is_one_problem_not_a_crash(tmp_path: Path, text: str) -> None:
    from bus.records import read_schema_files

    (tmp_path / "v1.avsc").write_text(text)
    files, problems = read_schema_files(tmp_path)
    assert files == []
    assert [(p.pointer, p.rule) for p in problems] == [("/type", "schema.invalid")]
