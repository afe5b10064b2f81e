"""Preparing records for sending: what is refused before anything reaches Kafka (no broker needed)."""

from __future__ import annotations

from typing import Any

import pytest

from bus import ValidationError
from bus.codec import Codec, InMemorySchemaSource
from bus.records import RecordType, catalog, validate
from bus.records.models import CaseOpened
from bus.tracing import Telemetry
from connectors import _outbound as _outbound_module
from connectors._outbound import Outbound

_TYPES = [t for t in catalog().records() if t.topic is not None and t.model is not None]


def _outbound(owner: str) -> Outbound:
    return Outbound(
        agency=owner,
        codec=Codec(InMemorySchemaSource()),
        catalog=catalog(),
        signing_key=None,
        telemetry=Telemetry(owner),
        size_limit=lambda topic: 1_048_576,
    )


def _trial_values(member: dict[str, Any]) -> list[Any]:
    """Values that break a field's type or its domain rule (and a few that do not)."""
    bad: list[Any] = [object(), 1.5 + 2j]
    if "null" not in member["type"]:
        bad.append(None)
    if member["type"] in ("double", "float"):
        bad.append(3)  # valid: an int is a number
    if "pattern" in member or "format" in member:
        bad.append("not valid!")
    if "minimum" in member:
        bad.append(member["minimum"] - 1)
    if "maximum" in member:
        bad.append(member["maximum"] + 1)
    if "const" in member:
        bad.append(not member["const"] if isinstance(member["const"], bool) else None)
    return bad


@pytest.mark.parametrize("record_type", _TYPES, ids=lambda t: f"{t.name}-v{t.version}")
def test_prepare_refuses_what_the_schema_validator_refuses_with_the_same_field_path(record_type: RecordType) -> None:
    outbound = _outbound(record_type.owner or "urn:mx:gob:crm")
    example = record_type.model.from_avro(record_type.example()).to_avro()  # type: ignore[union-attr]
    outbound.prepare(record_type, example)  # the example itself is accepted
    checked = 0
    for member in record_type.schema["fields"]:
        for value in _trial_values(member):
            data = example | {member["name"]: value}
            expected = {p.path for p in validate(record_type, data)}
            if not expected:  # e.g. None for a field that has a default
                outbound.prepare(record_type, data)
                continue
            with pytest.raises(ValidationError) as refused:
                outbound.prepare(record_type, data)
            paths = {p.path for p in refused.value.problems} or {refused.value.path}
            assert expected == {_top_level(path) for path in paths}, f"{member['name']}={value!r}"
            checked += 1
    assert checked >= 2 * len(record_type.schema["fields"])


def _top_level(path: str) -> str:
    """``/contact/email`` -> ``/contact``: the field that was given the bad value."""
    return "/" + path.split("/")[1]


def test_a_model_known_valid_is_not_validated_again_and_one_that_skipped_validation_is(monkeypatch) -> None:
    outbound = _outbound("urn:mx:gob:crm")
    case = CaseOpened.from_avro(catalog().get("CaseOpened").example())
    calls: list[str] = []
    monkeypatch.setattr(_outbound_module, "_check", lambda record_type, data: calls.append(record_type.name))
    outbound.prepare_record(case)
    assert calls == []  # validated once, when it was made
    outbound.prepare_record(CaseOpened.model_construct(**dict(case)))
    assert calls == ["CaseOpened"]


def test_a_record_that_skipped_validation_is_refused_naming_the_field() -> None:
    outbound = _outbound("urn:mx:gob:crm")
    case = CaseOpened.from_avro(catalog().get("CaseOpened").example())
    with pytest.raises(ValidationError) as refused:
        outbound.prepare_record(CaseOpened.model_construct(**(dict(case) | {"citizen_curp": "HEGG560427MVZRRL05"})))
    assert [(p.path, p.rule) for p in refused.value.problems] == [("/citizenCurp", "curp.check_digit")]
