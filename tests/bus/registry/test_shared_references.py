"""A record whose references share a type (ServiceRequestSubmitted: Person and Address both use State)
is readable once the registry client inlines its references: each named type defined once."""

from __future__ import annotations

import fastavro

from bus.records import catalog
from bus.registry import canonical_json
from bus.registry._client import _replace_first


def _inlined(record_name: str) -> dict:
    record_type = catalog().get(record_name)
    definitions = {}
    for ref in record_type.references(transitive=True):
        definition = canonical_json(ref.schema)
        # as the client does: each reference arrives with its own references already inlined
        definitions[ref.full_name] = _replace_first(definition, definitions, set())
    return _replace_first(canonical_json(record_type.schema), definitions, set())


def test_a_type_shared_by_two_references_is_defined_once_and_parses():
    schema = _inlined("mx.gob.portal.ServiceRequestSubmitted")
    parsed = fastavro.parse_schema(schema, {})
    fields = {f["name"]: f for f in parsed["fields"]}
    assert "applicant" in fields and "address" in fields
    assert str(schema).count("'name': 'mx.gob.common.State'") == 1
