"""Generated pydantic models: in step with the .avsc files, typed, validating on construction."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import pickle
import shutil
from pathlib import Path

import pydantic
import pytest

from bus import SchemaError, ValidationError
from bus.records import catalog, load_catalog
from bus.records.generate import generate_models_source, models_path, python_name
from bus.records.models import (
    CaseOpened,
    CaseOpenedV1,
    CaseOpenedV2,
    ContactV1,
    PersonV1,
    ServiceRequestSubmitted,
    TaxpayerStatusChanged,
)

RECORDS = [t for t in catalog().records() if t.kind == "record"]


def test_committed_models_match_what_the_generator_produces() -> None:
    expected = generate_models_source(load_catalog(Path(__file__).parents[2] / "schemas"))
    assert models_path().read_text(encoding="utf-8") == expected, (
        "bus/records/models.py is out of date with schemas/: run `enlace records generate`"
    )


def test_a_model_generated_from_another_schema_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(catalog().root, copy)
    path = copy / "mx.gob.crm" / "CaseUpdated" / "v1.avsc"
    schema = json.loads(path.read_text())
    schema["fields"][-1]["doc"] = "A changed doc."
    path.write_text(json.dumps(schema))
    changed = load_catalog(copy).get("CaseUpdated")
    with pytest.raises(SchemaError, match="out of date"):
        _ = changed.model


@pytest.mark.parametrize("record_type", RECORDS, ids=lambda t: f"{t.name}-v{t.version}")
def test_every_version_round_trips_between_model_and_avro_dict(record_type) -> None:
    example = record_type.example()
    model = record_type.model.from_avro(example)
    assert model.to_avro() == example
    assert record_type.model.avro_name == record_type.full_name
    assert record_type.model.avro_version == record_type.version
    assert catalog().for_model(record_type.model) is record_type
    if not record_type.shared:
        assert model.key() == record_type.key_of(example)


def test_plain_name_is_the_latest_version() -> None:
    assert CaseOpened is CaseOpenedV2
    assert CaseOpenedV1.avro_version == 1


def _case_fields() -> dict:
    return {
        "case_id": "CRM-2025-000001",
        "citizen_curp": "HEGG560427MVZRRL04",
        "channel": "PHONE",
        "category": "fiscal.constancia-situacion",
        "status": "OPEN",
        "sla_due_date": dt.date(2025, 7, 1),
        "opened_at": dt.datetime(2025, 6, 1, 9, 30, 0, 123456, tzinfo=dt.UTC),
    }


def test_models_take_python_or_avro_field_names() -> None:
    by_python = CaseOpened(**_case_fields())
    by_avro = CaseOpened(
        caseId="CRM-2025-000001",
        citizenCurp="HEGG560427MVZRRL04",
        **{k: v for k, v in _case_fields().items() if k not in ("case_id", "citizen_curp")},
    )
    assert by_python == by_avro
    assert by_python.key() == "CRM-2025-000001"
    assert by_python.priority == "NORMAL"  # the schema's default


def test_timestamps_keep_millisecond_precision_like_the_schema() -> None:
    case = CaseOpened(**_case_fields())
    assert case.opened_at.microsecond == 123000


def test_models_are_immutable() -> None:
    case = CaseOpened(**_case_fields())
    # pydantic's own error (not Enlace's ValidationError): assigning to a frozen model is a bug, not bad data
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        case.status = "CLOSED"  # type: ignore[misc]


def test_lists_and_maps_of_a_model_refuse_changes_and_read_as_lists_and_dicts() -> None:
    request = ServiceRequestSubmitted.from_avro(catalog().get("ServiceRequestSubmitted").example())
    with pytest.raises(TypeError, match=r"model_copy\(update="):
        request.attachments.append(request.attachments[0])
    with pytest.raises(TypeError):
        request.details["injected"] = "x"
    with pytest.raises(TypeError):
        request.attachments[0:1] = []
    empty = TaxpayerStatusChanged.from_avro(catalog().get("TaxpayerStatusChanged").example() | {"obligations": []})
    with pytest.raises(TypeError):  # an empty list, and a defaulted one, too
        empty.obligations.append("x")
    assert isinstance(request.attachments, list) and isinstance(request.details, dict)
    assert request.to_avro() == catalog().get("ServiceRequestSubmitted").example()
    assert type(request.to_avro()["attachments"]) is list


def test_a_validated_model_is_checked_and_a_constructed_one_is_not() -> None:
    case = CaseOpened(**_case_fields())
    assert case.checked and CaseOpened.from_avro(case.to_avro()).checked
    assert not CaseOpened.model_construct(**_case_fields()).checked
    assert case.model_copy().checked and copy.deepcopy(case).checked and pickle.loads(pickle.dumps(case)).checked
    assert pickle.loads(pickle.dumps(case)) == case


def test_model_copy_validates_its_update_and_names_the_field() -> None:
    case = CaseOpened(**_case_fields())
    for update in ({"citizen_curp": "HEGG560427MVZRRL05"}, {"citizenCurp": "HEGG560427MVZRRL05"}):
        with pytest.raises(ValidationError) as raised:
            case.model_copy(update=update)
        assert [(p.path, p.rule) for p in raised.value.problems] == [("/citizenCurp", "curp.check_digit")]
    with pytest.raises(ValidationError) as raised:
        case.model_copy(update={"colour": "blue"})
    assert [p.path for p in raised.value.problems] == ["/colour"]
    changed = case.model_copy(update={"caseId": "CRM-2025-000002"})
    assert changed.case_id == "CRM-2025-000002" and changed.checked and changed.citizen_curp == case.citizen_curp


def test_a_nested_model_that_skipped_validation_is_validated_when_used() -> None:
    smuggled = ContactV1.model_construct(email="nope", preferred_channel="EMAIL")
    for make in (
        lambda: CaseOpened(**_case_fields(), contact=smuggled),
        lambda: CaseOpened(**_case_fields()).model_copy(update={"contact": smuggled}),
    ):
        with pytest.raises(ValidationError) as raised:
            make()
        assert [(p.path, p.rule) for p in raised.value.problems] == [("/contact/email", "pattern")]


def test_construction_checks_domain_rules_and_names_avro_pointers() -> None:
    fields = _case_fields() | {
        "citizen_curp": "HEGG560427MVZRRL05",
        "channel": "FAX",
        "opened_at": dt.datetime(2025, 6, 1),
        "contact": {"email": "nope", "preferredChannel": "EMAIL"},
    }
    with pytest.raises(ValidationError) as raised:
        CaseOpened(**fields)
    found = {(p.path, p.rule) for p in raised.value.problems}
    assert found == {
        ("/citizenCurp", "curp.check_digit"),
        ("/channel", "avro.enum"),
        ("/openedAt", "avro.timestamp"),
        ("/contact/email", "pattern"),
    }
    curp = next(p for p in raised.value.problems if p.rule == "curp.check_digit")
    assert "check digit is 5, expected 4" in curp.message
    assert curp.value == "HEGG560427MVZRRL05"
    assert raised.value.record == "mx.gob.crm.CaseOpened"


def test_unknown_fields_are_refused_not_dropped() -> None:
    with pytest.raises(ValidationError) as raised:
        CaseOpened(**_case_fields(), colour="blue")
    assert [(p.path, p.rule) for p in raised.value.problems] == [("/colour", "avro.unknown_field")]


def test_from_avro_reports_nested_problems_under_list_indexes() -> None:
    data = catalog().get("ServiceRequestSubmitted").example()
    data["attachments"][0]["sha256"] = "x"
    data["consentGiven"] = False
    with pytest.raises(ValidationError) as raised:
        ServiceRequestSubmitted.from_avro(data)
    assert {(p.path, p.rule) for p in raised.value.problems} == {
        ("/attachments/0/sha256", "pattern"),
        ("/consentGiven", "const"),
    }


def test_key_of_a_shared_type_is_an_error() -> None:
    person = PersonV1.from_avro(catalog().get("Person").example())
    with pytest.raises(ValidationError, match="shared type without a key"):
        person.key()


def test_python_names_are_snake_case_of_avro_names() -> None:
    assert python_name("citizenCurp") == "citizen_curp"
    assert python_name("sha256") == "sha256"
    assert python_name("from") == "from_"


@pytest.mark.parametrize(
    ("record", "field", "value"),
    [
        ("CaseOpened", "openedAt", dt.datetime(2025, 1, 1, 12, 0)),  # naive
        ("CaseOpened", "serviceRequestId", "not-a-uuid"),
        ("CaseOpened", "caseId", "CASE-1"),
        ("ServiceRequestSubmitted", "consentGiven", False),
        ("TaxDeclarationFiled", "taxDue", decimal.Decimal("1.234")),
        ("TaxDeclarationFiled", "taxDue", decimal.Decimal("NaN")),
        ("TaxDeclarationFiled", "fiscalYear", 1999),
        ("TaxDeclarationFiled", "fiscalYear", 2**40),
    ],
)
def test_models_and_the_validator_report_a_rule_the_same_way(record: str, field: str, value: object) -> None:
    from bus.records import validate

    record_type = catalog().get(record)
    data = record_type.example() | {field: value}
    expected = [(p.path, p.rule, p.message) for p in validate(record_type, data)]
    with pytest.raises(ValidationError) as raised:
        record_type.model.from_avro(data)
    got = [(p.path, p.rule, p.message) for p in raised.value.problems]
    # An int too wide for Avro breaks its minimum too; pydantic stops at the first check of a field.
    assert got == expected[:1] and expected
