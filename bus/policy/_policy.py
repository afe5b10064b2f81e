"""The Interoperability Policy (``schemas/policy.yaml``) as one typed model, and its one parser.

The records catalog takes each namespace's owner from it; the registry enforces its rules, levels,
relaxations and admins. Each rule can be relaxed for one subject with a written reason::

    relaxations:
      - subject: mx.gob.crm.CaseOpened
        rules: [naming.field-camel-case]
        reason: "fields mirror the CRM's legacy column names until v3"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bus._errors import ConfigError, PolicyViolation
from bus.policy._levels import CompatibilityLevel
from bus.policy._rules import RULES, schema_violations

__all__ = ["Policy", "Purpose", "Relaxation", "load_policy", "parse_policy"]


@dataclass(frozen=True)
class Relaxation:
    """Rules not enforced for one subject, and why."""

    subject: str
    rules: frozenset[str]
    reason: str


@dataclass(frozen=True)
class Purpose:
    """Why an agency may receive a record: words for the citizen, and the legal ground."""

    id: str
    text: str
    basis: str


@dataclass(frozen=True)
class Policy:
    """The Interoperability Policy.

    Attributes:
        owners: namespace → owning agency URN.
        default_compatibility: the level every governed subject keeps.
        classifications: the allowed values of a field's classification property.
        public_classifications: the values that mean "not personal data".
        classification_property: the field property holding the classification.
        shared_namespace: the namespace of shared types every record references.
        relaxations: subject → relaxation.
        admins: agencies that may change the registry's global configuration and mode.
        purposes: purpose id → why an agency may receive a record, and its legal ground.
        readers: record full name or namespace → reading agency URN → the purposes it reads for
            (X-Road's access rights per service; nobody else may read).
        topic_partitions: partitions of each record's topic.
        retention_days: how long Kafka keeps a record topic, by the record's classification (the
            highest of its fields'), in days.
        retention_records: per record full name, a retention in days that the law sets instead.
        encrypted_classifications: classifications whose fields are always encrypted (``sensitive``).
        encrypted_personal: records (full names) and namespaces whose ``personal`` fields are
            encrypted too (``encryption.personal``).
        source: the file the policy came from.
    """

    owners: Mapping[str, str]
    default_compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    classifications: frozenset[str] = frozenset({"public", "personal", "sensitive"})
    public_classifications: frozenset[str] = frozenset({"public"})
    classification_property: str = "classification"
    shared_namespace: str = "mx.gob.common"
    relaxations: Mapping[str, Relaxation] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()
    purposes: Mapping[str, Purpose] = field(default_factory=dict)
    readers: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    topic_partitions: int = 1
    retention_days: Mapping[str, int] = field(default_factory=dict)
    retention_records: Mapping[str, int] = field(default_factory=dict)
    encrypted_classifications: frozenset[str] = frozenset({"sensitive"})
    encrypted_personal: frozenset[str] = frozenset()
    source: str = "<memory>"

    def encrypts(self, record: str, classification: str) -> bool:
        """Whether fields of ``classification`` in ``record`` (a full name) travel encrypted: every
        ``sensitive`` one, and ``personal`` ones where ``encryption.personal`` names the record or
        a namespace enclosing it."""
        if classification in self.encrypted_classifications:
            return True
        if classification != "personal":
            return False
        namespace = record.rsplit(".", 1)[0]
        return any(
            key == record or namespace == key or namespace.startswith(key + ".") for key in self.encrypted_personal
        )

    def retention_of(self, record: str, classification: str) -> int | None:
        """Days Kafka keeps the topic of ``record`` (a full name) of ``classification``; None: the
        broker's default (the policy says nothing)."""
        return self.retention_records.get(record, self.retention_days.get(classification))

    def owner_of(self, namespace: str | None) -> str | None:
        """The agency owning a namespace (the longest owned prefix), or None."""
        if not namespace:
            return None
        best = None
        for owned, agency in self.owners.items():
            if (namespace == owned or namespace.startswith(owned + ".")) and (
                best is None or len(owned) > len(best[0])
            ):
                best = (owned, agency)
        return best[1] if best else None

    def readers_of(self, record: str) -> dict[str, tuple[str, ...]]:
        """Who may read the record ``record`` (a full name), and for which purposes.

        Grants to the record itself and to its namespace (or an enclosing one) add up.
        """
        namespace = record.rsplit(".", 1)[0]
        found: dict[str, tuple[str, ...]] = {}
        for key, grants in self.readers.items():
            if key == record or namespace == key or namespace.startswith(key + "."):
                for agency, purposes in grants.items():
                    found[agency] = tuple(dict.fromkeys((*found.get(agency, ()), *purposes)))
        return found

    def may_read(self, agency: str, record: str, purpose: str | None = None) -> bool:
        """Whether ``agency`` may receive ``record`` (for ``purpose``, when one is given)."""
        purposes = self.readers_of(record).get(agency)
        return purposes is not None and (purpose is None or purpose in purposes)

    def relaxed(self, subject: str, rule: str) -> bool:
        """Whether ``rule`` is relaxed for ``subject``."""
        relaxation = self.relaxations.get(subject)
        return relaxation is not None and rule in relaxation.rules

    def level_for(self, subject: str) -> CompatibilityLevel:
        """The compatibility level a governed subject must keep."""
        return self.default_compatibility

    def check(
        self,
        schema: Any,
        *,
        subject: str,
        shared_types: Mapping[str, Any] | None = None,
    ) -> list[PolicyViolation]:
        """Check one schema's JSON against every rule not relaxed for its subject.

        Args:
            schema: the schema's JSON value (as in its file).
            subject: the subject it is (or will be) registered under.
            shared_types: full name → JSON of the shared types known (to catch copies).

        Returns:
            The violations, each with rule id, JSON pointer and sentence; empty when it conforms.
        """
        found = schema_violations(self, schema, subject=subject, shared_types=shared_types or {})
        return [v for v in found if not self.relaxed(subject, v.rule)]


def load_policy(path: str | Path) -> Policy:
    """Read the Interoperability Policy from a YAML file.

    Args:
        path: the policy file, normally ``schemas/policy.yaml``.

    Returns:
        The policy.

    Raises:
        ConfigError: the file is missing, not YAML, or names an unknown rule, level or key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the policy {path}: {exc}") from exc
    return parse_policy(data, source=str(path))


def parse_policy(data: Any, *, source: str = "<memory>") -> Policy:
    """Turn the policy's data (the YAML document, decoded) into the typed :class:`Policy`.

    Args:
        data: the decoded document: a mapping with ``owners``, ``default_compatibility``,
            ``classifications``, ``rules``, ``relaxations``, ``admins``...
        source: where the data came from, for messages.

    Raises:
        ConfigError: the data is not a mapping, or names an unknown rule or level, or a relaxation
            has no written reason.
    """
    where = f"policy {source}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    owners = data.get("owners") or {}
    if not isinstance(owners, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in owners.items()):
        raise ConfigError(f"{where}: owners must map namespaces to agency URNs")
    level = str(data.get("default_compatibility", "FULL_TRANSITIVE"))
    if level not in CompatibilityLevel.__members__:
        raise ConfigError(f"{where}: default_compatibility {level!r} is not one of {list(CompatibilityLevel)}")
    classifications = data.get("classifications") or {"public": "", "personal": "", "sensitive": ""}
    rules = data.get("rules") or {}
    unknown = sorted(set(rules) - set(RULES)) if isinstance(rules, dict) else ["(rules must be a mapping)"]
    if unknown:
        raise ConfigError(f"{where}: unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    purposes = _purposes(where, data.get("purposes") or {})
    return Policy(
        owners=dict(owners),
        default_compatibility=CompatibilityLevel(level),
        classifications=frozenset(classifications),
        public_classifications=frozenset(data.get("public_classifications") or ["public"]),
        relaxations=_relaxations(where, data.get("relaxations") or []),
        admins=frozenset(data.get("admins") or []),
        shared_namespace=str(data.get("shared_namespace", "mx.gob.common")),
        purposes=purposes,
        readers=_readers(where, data.get("readers") or {}, purposes),
        topic_partitions=_partitions(where, data.get("topics") or {}),
        **_retention(where, (data.get("topics") or {}).get("retention") or {}, frozenset(classifications)),
        encrypted_personal=_encrypted_personal(where, data.get("encryption") or {}, owners),
        source=source,
    )


def _purposes(policy: str, items: Any) -> dict[str, Purpose]:
    if not isinstance(items, dict):
        raise ConfigError(f"{policy}: purposes must map a purpose id to its text and legal basis")
    out = {}
    for key, item in items.items():
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item[k].strip() for k in ("text", "basis")
        ):
            raise ConfigError(
                f"{policy}: purpose {key!r} needs a text (for the citizen) and a basis (the legal ground)"
            )
        out[str(key)] = Purpose(str(key), item["text"].strip(), item["basis"].strip())
    return out


def _readers(policy: str, items: Any, purposes: Mapping[str, Purpose]) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(items, dict):
        raise ConfigError(f"{policy}: readers must map a record or namespace to agency URN -> purposes")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, grants in items.items():
        where = f"{policy}: readers of {key}"
        if not isinstance(grants, dict):
            raise ConfigError(f"{where}: expected agency URN -> list of purposes")
        for agency, wanted in grants.items():
            if not isinstance(agency, str) or not agency.startswith("urn:"):
                raise ConfigError(f"{where}: {agency!r} is not an agency URN")
            if not isinstance(wanted, list) or not wanted or not all(isinstance(p, str) for p in wanted):
                raise ConfigError(f"{where}: {agency} needs a list of one or more purposes, each a purpose id")
            unknown = [p for p in wanted if p not in purposes]
            if unknown:
                raise ConfigError(
                    f"{where}: {agency} reads for unknown purpose(s) {unknown}; the policy defines {sorted(purposes)}"
                )
            out.setdefault(str(key), {})[agency] = tuple(dict.fromkeys(map(str, wanted)))
    return out


def _partitions(policy: str, topics: Any) -> int:
    partitions = topics.get("partitions", 1) if isinstance(topics, dict) else None
    if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
        raise ConfigError(f"{policy}: topics.partitions must be a whole number, 1 or more")
    return partitions


def _days(where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 36_500:
        raise ConfigError(f"{where} must be a whole number of days between 1 and 36500, not {value!r}")
    return value


def _retention(policy: str, retention: Any, classifications: frozenset[str]) -> dict[str, Any]:
    where = f"{policy}: topics.retention"
    if not isinstance(retention, dict):
        raise ConfigError(f"{where} must map classification and records to days")
    unknown = sorted(set(retention) - {"classification", "records"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected classification, records")
    by_class = retention.get("classification") or {}
    records = retention.get("records") or {}
    if not isinstance(by_class, dict) or not isinstance(records, dict):
        raise ConfigError(f"{where}: classification and records must each map a name to days")
    strange = sorted(set(by_class) - classifications)
    if strange:
        raise ConfigError(f"{where}.classification: {strange} not among the classifications {sorted(classifications)}")
    return {
        "retention_days": {str(k): _days(f"{where}.classification.{k}", v) for k, v in by_class.items()},
        "retention_records": {str(k): _days(f"{where}.records.{k}", v) for k, v in records.items()},
    }


def _encrypted_personal(policy: str, encryption: Any, owners: Mapping[str, str]) -> frozenset[str]:
    where = f"{policy}: encryption"
    if not isinstance(encryption, dict):
        raise ConfigError(f"{where} must be a mapping with the key personal")
    unknown = sorted(map(str, set(encryption) - {"personal"}))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown}; expected personal (sensitive fields are always encrypted)"
        )
    names = encryption.get("personal") or []
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{where}.personal must be a list of record full names or namespaces")
    for name in names:
        if not any(name == owned or name.startswith(owned + ".") for owned in owners):
            raise ConfigError(f"{where}.personal: {name!r} is in no namespace the policy's owners name")
    return frozenset(names)


def _relaxations(policy: str, items: Any) -> dict[str, Relaxation]:
    if not isinstance(items, list):
        raise ConfigError(f"{policy}: relaxations must be a list")
    out: dict[str, Relaxation] = {}
    for index, item in enumerate(items):
        where = f"{policy}: relaxations[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("subject"), str):
            raise ConfigError(f"{where}: needs a subject")
        rules = item.get("rules")
        if not isinstance(rules, list) or not rules:
            raise ConfigError(f"{where}: needs a non-empty list of rules")
        unknown = sorted(set(map(str, rules)) - set(RULES))
        if unknown:
            raise ConfigError(f"{where}: unknown rule(s) {', '.join(unknown)}")
        reason = item.get("reason")
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            raise ConfigError(f"{where}: a relaxation needs a written reason (a sentence)")
        previous = out.get(item["subject"])
        merged = frozenset(map(str, rules)) | (previous.rules if previous else frozenset())
        out[item["subject"]] = Relaxation(item["subject"], merged, reason.strip())
    return out
