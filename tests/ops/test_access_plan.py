"""The rights derived from the policy (pure logic: no broker), their diff, and the Strimzi rendering."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest
import yaml

from bus import ConfigError, load_settings
from bus.policy import parse_policy
from bus.records import catalog
from bus.transport import AclBinding, read_client_properties
from ops.acl import Access, plan_changes, policy_readers, render_strimzi, strimzi_users
from ops.kafka._security import OPERATOR_PRINCIPAL, REGISTRY_PRINCIPAL, ClusterSecurity, principal_for


@pytest.fixture(scope="module")
def access() -> Access:
    return Access.of(catalog(), load_settings({}))


def _rights(bindings: set[AclBinding], agency: str) -> set[tuple[str, str, str]]:
    user = f"User:{principal_for(agency)}"
    return {(b.resource_type, b.resource_name, b.operation) for b in bindings if b.principal == user}


def test_owner_writes_its_topics_and_nothing_it_does_not_own(access: Access) -> None:
    rights = _rights(access.bindings(), "urn:mx:gob:crm")
    assert ("TOPIC", "mx.gob.crm.case-opened", "WRITE") in rights
    assert ("CLUSTER", "kafka-cluster", "IDEMPOTENT_WRITE") in rights
    written = {name for kind, name, op in rights if kind == "TOPIC" and op == "WRITE"}
    # Its own topics, dead letters and its message log's checkpoints (signed: readers check the signer).
    assert all(
        name.startswith("mx.gob.crm.") or name.endswith(".dlq") or name == "enlace.checkpoints" for name in written
    )
    assert not any(name.startswith("mx.gob.sat.") and not name.endswith(".dlq") for name in written)


def test_readers_read_only_what_the_policy_names(access: Access) -> None:
    rights = _rights(access.bindings(), "urn:mx:gob:crm")
    read = {name for kind, name, op in rights if kind == "TOPIC" and op == "READ"}
    assert read == {
        "mx.gob.portal.service-request-submitted",
        "mx.gob.sat.taxpayer-status-reported",
        "enlace.trust",
        "enlace.checkpoints",  # witnessing the other agencies' message logs
    }
    assert ("GROUP", "mx.gob.crm.", "READ") in rights  # its own consumer-group prefix, nobody else's


def test_trust_topic_and_registry_log_are_written_by_their_principals_alone(access: Access) -> None:
    bindings = access.bindings()
    writers_of = {
        b.principal for b in bindings if b.resource_name == "enlace.trust" and b.operation in {"WRITE", "ALL"}
    }
    assert writers_of == set()  # only the operator, a super user, writes it
    schema_log = {b.principal for b in bindings if b.resource_name == "_schemas"}
    assert schema_log == {f"User:{REGISTRY_PRINCIPAL}"}
    transactional = {b.principal for b in bindings if b.resource_type == "TRANSACTIONAL_ID"}
    assert transactional == {f"User:{REGISTRY_PRINCIPAL}"}


def test_removing_a_reader_from_the_policy_removes_its_bindings(access: Access) -> None:
    readers = {k: dict(v) for k, v in access.policy.readers.items()}
    del readers["mx.gob.crm.CaseUpdated"]["urn:mx:gob:portal"]
    smaller = Access.of_policy(catalog(), replace(access.policy, readers=readers), load_settings({}))
    plan = plan_changes(smaller.bindings(), access.bindings())
    assert not plan.add
    removed = {(b.principal, b.resource_name, b.operation) for b in plan.remove}
    assert ("User:mx.gob.portal", "mx.gob.crm.case-updated", "READ") in removed
    assert all(b.principal == "User:mx.gob.portal" for b in plan.remove)


def test_plan_of_a_synced_cluster_is_empty_and_says_so(access: Access) -> None:
    plan = plan_changes(access.bindings(), access.bindings())
    assert plan.empty
    assert "nothing to change" in plan.table()


def test_plan_table_and_json_name_each_change(access: Access) -> None:
    plan = plan_changes(access.bindings(), {AclBinding("User:intruder", "TOPIC", "LITERAL", "x", "READ")})
    assert plan.as_dict()["remove"] == [
        {
            "principal": "User:intruder",
            "resource_type": "TOPIC",
            "pattern_type": "LITERAL",
            "resource_name": "x",
            "operation": "READ",
            "permission": "ALLOW",
            "host": "*",
        }
    ]
    table = plan.table()
    assert "- " in table and "User:intruder" in table and "to add, 1 to remove" in table


@pytest.mark.parametrize(
    ("readers", "problem"),
    [
        ({"mx.gob.crm.CaseOpened": {"crm": ["case-management"]}}, "not an agency URN"),
        ({"mx.gob.crm.CaseOpened": {"urn:mx:gob:portal": []}}, "one or more purposes"),
        ({"mx.gob.crm.CaseOpened": {"urn:mx:gob:portal": [{"case-tracking": 1}]}}, "each a purpose id"),
        ({"mx.gob.crm.CaseOpened": {"urn:mx:gob:portal": ["curiosity"]}}, "unknown purpose"),
        ({"mx.gob.crm.CaseOpened": ["urn:mx:gob:portal"]}, "expected agency URN"),
        (["not", "a", "mapping"], "readers must map"),
    ],
)
def test_bad_readers_are_refused_naming_the_problem(readers: object, problem: str) -> None:
    data = yaml.safe_load((catalog().root / "policy.yaml").read_text())
    with pytest.raises(ConfigError, match=problem):
        parse_policy({**data, "readers": readers})


def test_readers_of_a_record_the_catalog_does_not_have_are_refused() -> None:
    policy = replace(catalog().policy, readers={"mx.gob.nowhere.Thing": {"urn:mx:gob:crm": ("case-management",)}})
    with pytest.raises(ConfigError, match="neither a record"):
        policy_readers(policy, catalog())


@pytest.mark.parametrize("purposes", [{"x": "text only"}, {"x": {"text": "t"}}, ["x"]])
def test_purposes_need_words_and_a_legal_ground(purposes: object) -> None:
    data = yaml.safe_load((catalog().root / "policy.yaml").read_text())
    with pytest.raises(ConfigError, match="purpose"):
        parse_policy({**data, "purposes": purposes, "readers": {}})


def test_a_namespace_grant_covers_every_record_of_it() -> None:
    policy = replace(catalog().policy, readers={"mx.gob.crm": {"urn:mx:gob:sat": ("tax-status-check",)}})
    readers = policy_readers(policy, catalog())
    assert {name for name, grants in readers.items() if "urn:mx:gob:sat" in grants} == {
        "mx.gob.crm.CaseOpened",
        "mx.gob.crm.CaseUpdated",
        "mx.gob.crm.TaxpayerStatusRequested",
    }


@pytest.mark.parametrize("urn", ["crm", "urn:", "urn:mx:gob:c rm", "urn:mx::crm", "urn:mx:gob:cr=m"])
def test_principal_names_refuse_what_kafka_or_kubernetes_cannot_hold(urn: str) -> None:
    with pytest.raises(ConfigError):
        principal_for(urn)


def test_may_read_checks_the_reader_and_its_purpose() -> None:
    policy = catalog().policy
    assert policy.may_read("urn:mx:gob:crm", "mx.gob.sat.TaxpayerStatusReported", "tax-status-check")
    assert not policy.may_read("urn:mx:gob:crm", "mx.gob.sat.TaxpayerStatusReported", "access-log")
    assert not policy.may_read("urn:mx:gob:portal", "mx.gob.sat.TaxpayerStatusReported")
    assert policy.purposes["access-log"].text.startswith("To record who received")


def test_principal_names_are_kubernetes_names() -> None:
    assert principal_for("urn:mx:gob:crm") == "mx.gob.crm"
    assert OPERATOR_PRINCIPAL == "mx.gob.interop"


def test_acl_binding_refuses_a_wildcard_operation() -> None:
    with pytest.raises(ConfigError, match="ANY"):
        AclBinding("User:x", "TOPIC", "LITERAL", "t", "ANY")


# Strimzi kafka.strimzi.io/v1beta2 KafkaUser / KafkaTopic fields as its CRDs document them.
_STRIMZI_RESOURCE_TYPES = {"topic", "group", "cluster", "transactionalId"}
_STRIMZI_PATTERNS = {"literal", "prefix"}
_STRIMZI_OPERATIONS = {
    "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
    "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All",
}  # fmt: skip


def _check_strimzi_user(user: dict) -> None:
    assert user["apiVersion"] == "kafka.strimzi.io/v1beta2" and user["kind"] == "KafkaUser"
    assert set(user) == {"apiVersion", "kind", "metadata", "spec"}
    name = user["metadata"]["name"]
    assert name == name.lower() and all(c.isalnum() or c in "-." for c in name), name
    assert user["metadata"]["labels"]["strimzi.io/cluster"]
    assert set(user["spec"]) == {"authentication", "authorization"}
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    assert user["spec"]["authorization"]["type"] == "simple"
    for acl in user["spec"]["authorization"]["acls"]:
        assert set(acl) <= {"type", "resource", "operations", "operation", "host"}
        assert acl["type"] in {"allow", "deny"}
        assert acl["resource"]["type"] in _STRIMZI_RESOURCE_TYPES
        assert set(acl["resource"]) <= {"type", "name", "patternType"}
        if acl["resource"]["type"] != "cluster":
            assert acl["resource"]["patternType"] in _STRIMZI_PATTERNS
        assert acl["operations"] and set(acl["operations"]) <= _STRIMZI_OPERATIONS


def test_strimzi_users_carry_exactly_the_plans_rights(access: Access) -> None:
    users = strimzi_users(access.bindings(), cluster="enlace")
    for user in users:
        _check_strimzi_user(user)
    crm = next(u for u in users if u["metadata"]["name"] == "mx.gob.crm")
    grants = {
        (acl["resource"]["type"], acl["resource"].get("name", ""), op)
        for acl in crm["spec"]["authorization"]["acls"]
        for op in acl["operations"]
    }
    expected = {
        ({"TOPIC": "topic", "GROUP": "group", "CLUSTER": "cluster"}[kind], "" if kind == "CLUSTER" else name,
         "".join(p.capitalize() for p in op.split("_")))
        for kind, name, op in _rights(access.bindings(), "urn:mx:gob:crm")
    }  # fmt: skip
    assert grants == expected


def test_strimzi_render_writes_users_and_topics(access: Access, tmp_path) -> None:
    paths = render_strimzi(access.bindings(), access.topics(brokers=3), tmp_path / "k8s", cluster="enlace")
    users, topics = (list(yaml.safe_load_all(p.read_text())) for p in paths)
    assert {u["metadata"]["name"] for u in users} >= {"mx.gob.crm", "mx.gob.sat", REGISTRY_PRINCIPAL}
    case_opened = next(t for t in topics if t["spec"]["topicName"] == "mx.gob.crm.case-opened")
    assert case_opened["kind"] == "KafkaTopic" and case_opened["spec"]["replicas"] == 3
    assert case_opened["spec"]["config"]["min.insync.replicas"] == "2"
    trust = next(t for t in topics if t["spec"]["topicName"] == "enlace.trust")
    assert trust["spec"]["config"]["cleanup.policy"] == "compact"


def test_cluster_security_files_are_private(tmp_path) -> None:
    security = ClusterSecurity.create(tmp_path / "sec", ["mx.gob.crm"])
    assert stat.S_IMODE(os.stat(security.directory).st_mode) == 0o700
    for path in security.directory.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    loaded = ClusterSecurity.load(security.directory)
    assert loaded.password("mx.gob.crm") == security.password("mx.gob.crm")
    config = security.client_config("mx.gob.crm", "127.0.0.1:1")
    props = config.write_properties(tmp_path / "crm.properties")
    assert stat.S_IMODE(os.stat(props).st_mode) == 0o600
    text = props.read_text()
    assert "security.protocol=SASL_SSL" in text and "ssl.truststore.type=PEM" in text
    assert 'username="mx.gob.crm"' in text
    assert read_client_properties(props) == {
        "bootstrap_servers": "127.0.0.1:1",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "mx.gob.crm",
        "sasl_password": security.password("mx.gob.crm"),
        "ssl_cafile": str(security.ca_file),
    }
    with pytest.raises(ConfigError, match="no principal"):
        security.password("mx.gob.nobody")


def test_cluster_security_load_names_what_is_missing(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"principals\.json"):
        ClusterSecurity.load(tmp_path)


def test_topics_keep_records_as_long_as_their_classification_or_the_law_says(access: Access) -> None:
    specs = {s.name: s.configs for s in access.topics(brokers=1)}
    day_ms = 24 * 3600 * 1000
    assert specs["mx.gob.sat.taxpayer-status-reported"]["retention.ms"] == str(14 * day_ms)  # personal
    assert specs["mx.gob.portal.service-request-submitted"]["retention.ms"] == str(7 * day_ms)  # sensitive
    assert specs["mx.gob.transparencia.data-access-logged"]["retention.ms"] == str(1825 * day_ms)  # the law's
    assert specs["mx.gob.sat.taxpayer-status-reported.dlq"] == specs["mx.gob.sat.taxpayer-status-reported"]
    assert "retention.ms" not in specs["enlace.trust"]  # compacted: a key's history is never deleted


@pytest.mark.parametrize(
    ("retention", "problem"),
    [
        ({"classification": {"personal": 0}}, "between 1 and 36500"),
        ({"classification": {"personal": "14d"}}, "whole number of days"),
        ({"classification": {"secret": 3}}, "not among the classifications"),
        ({"records": {"mx.gob.crm.CaseOpened": True}}, "whole number of days"),
        ({"forever": 1}, "unknown key"),
        (["14"], "must map"),
    ],
)
def test_bad_retention_is_refused_naming_the_problem(retention: object, problem: str) -> None:
    data = yaml.safe_load((catalog().root / "policy.yaml").read_text())
    with pytest.raises(ConfigError, match=problem):
        parse_policy({**data, "topics": {"partitions": 1, "retention": retention}})
