"""The one walker over a schema's names (``bus.avsc``)."""

from __future__ import annotations

from bus.avsc import NamedType, full_name, named_types, referenced_names
from bus.records import catalog


def test_names_are_qualified_by_the_enclosing_namespace_and_uses_are_told_from_definitions() -> None:
    schema = {
        "type": "record",
        "name": "CaseOpened",
        "namespace": "mx.gob.crm",
        "fields": [
            {"name": "citizen", "type": "mx.gob.common.Person"},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OPEN"]}},
            {"name": "again", "type": ["null", "Status"]},
            {"name": "tags", "type": {"type": "array", "items": {"type": "map", "values": "Tag"}}},
            {"name": "wrapped", "type": {"type": "mx.gob.common.Address"}},
            {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    assert list(named_types(schema)) == [
        NamedType("mx.gob.crm.CaseOpened", defines=True),
        NamedType("mx.gob.common.Person", defines=False),
        NamedType("mx.gob.crm.Status", defines=True),
        NamedType("mx.gob.crm.Status", defines=False),
        NamedType("mx.gob.crm.Tag", defines=False),
        NamedType("mx.gob.common.Address", defines=False),
    ]
    assert referenced_names(schema) == ["mx.gob.common.Person", "mx.gob.crm.Tag", "mx.gob.common.Address"]


def test_a_malformed_schema_is_passed_over_not_crashed_on() -> None:
    worst = {
        "type": "record",
        "name": 42,  # not a string: not a definition
        "fields": ["not a field", {"type": None}, {"name": "x"}, {"name": "y", "type": {"type": "record"}}],
    }
    assert list(named_types(worst)) == []
    assert list(named_types([None, 3.5, {"type": ["string", "a.B"]}, {}])) == [NamedType("a.B", defines=False)]
    assert full_name({"name": "x.Y", "namespace": "ignored"}) == "x.Y"


def test_the_catalogs_references_are_the_walkers() -> None:
    case = catalog().get("CaseOpened")
    assert [t.full_name for t in case.references()] == sorted(referenced_names(case.schema))
