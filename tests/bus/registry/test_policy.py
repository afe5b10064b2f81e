"""Each Interoperability Policy rule with a schema that passes and one that fails."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bus import ConfigError
from bus.policy import RULES, load_policy

POLICY = load_policy(Path(__file__).parent / "data" / "policy.yaml")
REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"

GOOD = {
    "type": "record",
    "name": "CaseFiled",
    "namespace": "mx.gob.pruebas",
    "doc": "A case was filed.",
    "fields": [
        {"name": "caseId", "type": "string", "doc": "The case id.", "classification": "public"},
        {"name": "citizenCurp", "type": "string", "doc": "The citizen's CURP.", "classification": "personal"},
        {
            "name": "status",
            "doc": "Status.",
            "classification": "public",
            "type": {"type": "enum", "name": "Status", "symbols": ["UNKNOWN", "OPEN"], "default": "UNKNOWN"},
        },
        {
            "name": "person",
            "type": ["null", "mx.gob.common.Person"],
            "default": None,
            "doc": "Who.",
            "classification": "personal",
        },
    ],
}
SHARED = {
    "mx.gob.common.Person": {
        "type": "record",
        "name": "Person",
        "namespace": "mx.gob.common",
        "doc": "A person.",
        "fields": [
            {"name": "curp", "type": "string", "doc": "CURP.", "classification": "personal"},
            {"name": "givenNames", "type": "string", "doc": "Names.", "classification": "personal"},
        ],
    }
}


def changed(path: list, value: object, *, delete: bool = False) -> dict:
    schema = copy.deepcopy(GOOD)
    node = schema
    for step in path[:-1]:
        node = node[step]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return schema


def violations(schema: dict, subject: str = "mx.gob.pruebas.CaseFiled") -> list[tuple[str, str]]:
    return [(v.rule, v.pointer) for v in POLICY.check(schema, subject=subject, shared_types=SHARED)]


def test_a_conforming_schema_passes_every_rule() -> None:
    assert violations(GOOD) == []


FAILING = [
    ("ownership.owned-namespace", changed(["namespace"], "mx.gob.nadie"), "/"),
    ("doc.record", changed(["doc"], None, delete=True), "/doc"),
    ("doc.field", changed(["fields", 0, "doc"], " "), "/fields/0/doc"),
    ("naming.record-pascal-case", changed(["name"], "case_filed"), "/name"),
    ("naming.field-camel-case", changed(["fields", 0, "name"], "case_id"), "/fields/0/name"),
    ("enum.default", changed(["fields", 2, "type", "default"], None, delete=True), "/fields/2/type"),
    (
        "personal-data.classification-valid",
        changed(["fields", 0, "classification"], "secret"),
        "/fields/0/classification",
    ),
    ("personal-data.classified", changed(["fields", 1, "classification"], "public"), "/fields/1/classification"),
    ("personal-data.classified", changed(["fields", 1, "classification"], None, delete=True), "/fields/1"),
    ("personal-data.classified", changed(["fields", 3, "classification"], "public"), "/fields/3/classification"),
    (
        "shared-types.reference",
        changed(["fields", 3, "type"], ["null", {**SHARED["mx.gob.common.Person"], "namespace": "mx.gob.pruebas"}]),
        "/fields/3/type/1",
    ),
    (
        "shared-types.reference",
        changed(
            ["fields", 3, "type"],
            ["null", {**SHARED["mx.gob.common.Person"], "name": "Citizen", "namespace": "mx.gob.pruebas"}],
        ),
        "/fields/3/type/1",
    ),
]


@pytest.mark.parametrize(
    ("rule", "schema", "pointer"), FAILING, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(FAILING)]
)
def test_each_rule_reports_its_id_and_pointer(rule: str, schema: dict, pointer: str) -> None:
    assert (rule, pointer) in violations(schema)


def test_every_schema_rule_has_a_failing_case() -> None:
    enforced_elsewhere = {"ownership.owner-credential", "compatibility.default-level", "compatibility.breaking-change"}
    assert {rule for rule, _, _ in FAILING} | enforced_elsewhere == set(RULES)


def test_a_relaxation_lifts_only_its_rules_for_its_subject() -> None:
    legacy = changed(["fields", 0, "name"], "case_id")
    legacy["name"] = "Legacy"
    del legacy["fields"][0]["doc"]
    assert violations(legacy, subject="mx.gob.pruebas.Legacy") == []
    legacy["doc"] = ""
    assert violations(legacy, subject="mx.gob.pruebas.Legacy") == [("doc.record", "/doc")]
    assert ("naming.field-camel-case", "/fields/0/name") in violations(legacy, subject="mx.gob.pruebas.Other")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("relaxations: [{subject: s, rules: [no.such-rule], reason: 'because it is so.'}]", "unknown rule"),
        ("relaxations: [{subject: s, rules: [doc.field]}]", "written reason"),
        ("rules: {made.up: {}}", "unknown rule"),
        ("default_compatibility: SIDEWAYS", "default_compatibility"),
    ],
)
def test_a_policy_file_with_unknown_rules_or_no_reason_is_refused(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("owners: {a.b: urn:x}\n" + text)
    with pytest.raises(ConfigError, match=complaint):
        load_policy(path)


@pytest.mark.skipif(not (REPO_SCHEMAS / "policy.yaml").exists(), reason="the project's schemas/ has not landed yet")
def test_the_projects_own_schemas_pass_the_policy() -> None:
    from bus.registry.checks import check_catalog

    policy = load_policy(REPO_SCHEMAS / "policy.yaml")
    assert [str(p) for p in check_catalog(REPO_SCHEMAS, policy)] == []
