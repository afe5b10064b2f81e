"""The Kafka rights the Interoperability Policy grants, and the difference from what a cluster has.

Deny by default: the cluster's authorizer refuses whatever no binding allows, so the set derived here
is the whole of what each principal may do (the operator and the brokers are super users):

- an agency that owns a namespace: WRITE, DESCRIBE and DESCRIBE_CONFIGS (its connector reads the
  topic's ``max.message.bytes``) on each of its records' topics, and IDEMPOTENT_WRITE on the cluster
  (Enlace's producers are idempotent);
- an agency the policy names as a reader of a record: READ and DESCRIBE on that record's topic,
  WRITE and DESCRIBE on its dead-letter topic (``<topic>.dlq``, where its connector puts what it
  cannot apply), and READ/DESCRIBE on consumer groups named with its prefix (its URN's last part:
  ``crm``, ``crm-cases``, ...);
- every agency: READ and DESCRIBE on the trust topic; only the operator (a super user) writes it;
- every agency: WRITE, READ and DESCRIBE on the checkpoints topic (its message log's signed
  checkpoints, and witnessing the others'); Kafka cannot bind a record to its writer, so readers
  check that a checkpoint's signing key belongs to the agency it names;
- the registry principal alone: everything on the registry's storage topic and WRITE/DESCRIBE on
  its transactional id, so that no agency can write schemas into its log or fence its writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bus.transport import AclBinding as Binding
from bus.transport import agency_group, principal_for

__all__ = [
    "AccessPlan",
    "BusLayout",
    "desired_bindings",
    "group_prefix",
    "plan_changes",
]


@dataclass(frozen=True)
class BusLayout:
    """What the bus looks like to the ACLs: topics by record, owners, readers, the special topics.

    Attributes:
        topics: record full name -> its topic (with any prefix), for every record that has one.
        owners: Avro namespace -> owning agency URN.
        readers: record full name -> the agencies the policy lets read it.
        agencies: every agency URN that signs in (owners, readers and the rest).
        trust_topic, dlq_suffix: the trust topic and the dead-letter suffix.
        registry_principal, registry_topic, registry_transactional_id: the registry's identity,
            storage topic and transactional id.
        classifications: record full name -> its classification (the highest of its fields'),
            which decides how long its topic keeps it.
        checkpoint_topic: the shared topic of message-log checkpoints ("" for none).
    """

    topics: Mapping[str, str]
    owners: Mapping[str, str]
    readers: Mapping[str, frozenset[str]]
    agencies: frozenset[str]
    trust_topic: str
    registry_principal: str
    registry_topic: str
    registry_transactional_id: str
    dlq_suffix: str = ".dlq"
    classifications: Mapping[str, str] = field(default_factory=dict)
    checkpoint_topic: str = ""


def group_prefix(agency: str) -> str:
    """The consumer-group prefix an agency may use: its principal and a dot (``mx.gob.crm.``).

    The dot ends the prefix, so that ``urn:mx:gob:sat`` cannot join ``urn:mx:gob:sat-edomex``'s groups.
    """
    return agency_group(agency, "")


def desired_bindings(layout: BusLayout) -> set[Binding]:
    """Every binding the policy grants, and nothing else."""
    wanted: set[Binding] = set()

    def grant(
        principal: str, kind: str, name: str, operations: Iterable[str], why: str, pattern: str = "LITERAL"
    ) -> None:
        for operation in operations:
            wanted.add(Binding(f"User:{principal}", kind, pattern, name, operation, why=why))

    for record, topic in sorted(layout.topics.items()):
        namespace = record.rsplit(".", 1)[0]
        owner = layout.owners.get(namespace)
        if owner is not None:
            who = principal_for(owner)
            grant(who, "TOPIC", topic, ("WRITE", "DESCRIBE", "DESCRIBE_CONFIGS"), f"owns {namespace}")
            grant(who, "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE",), f"owns {namespace}")
        for reader in sorted(layout.readers.get(record, ())):
            who = principal_for(reader)
            grant(who, "TOPIC", topic, ("READ", "DESCRIBE"), f"reads {record}")
            grant(who, "TOPIC", topic + layout.dlq_suffix, ("WRITE", "DESCRIBE"), f"dead-letters {record}")
            grant(who, "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE",), f"dead-letters {record}")
            grant(who, "GROUP", group_prefix(reader), ("READ", "DESCRIBE"), "its consumer groups", "PREFIXED")
    for agency in sorted(layout.agencies):
        grant(principal_for(agency), "TOPIC", layout.trust_topic, ("READ", "DESCRIBE"), "follows the trust anchor")
        if layout.checkpoint_topic:
            why = "publishes its log's checkpoints, witnesses the others'"
            grant(principal_for(agency), "TOPIC", layout.checkpoint_topic, ("WRITE", "READ", "DESCRIBE"), why)
            grant(principal_for(agency), "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE",), why)
    registry = layout.registry_principal
    grant(registry, "TOPIC", layout.registry_topic, ("ALL",), "the registry's log")
    writer = "the registry's writer"
    grant(registry, "TRANSACTIONAL_ID", layout.registry_transactional_id, ("WRITE", "DESCRIBE"), writer)
    grant(registry, "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE", "DESCRIBE"), writer)
    return wanted


@dataclass(frozen=True)
class AccessPlan:
    """What a sync would change: bindings to add and bindings to remove (sorted)."""

    add: tuple[Binding, ...]
    remove: tuple[Binding, ...]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        """The plan as JSON-ready data (``enlace acl plan --format json``)."""
        return {
            "add": [dict(b.as_dict(), why=b.why) for b in self.add],
            "remove": [b.as_dict() for b in self.remove],
        }

    def table(self) -> str:
        """A readable table: one line per change, ``+`` added, ``-`` removed."""
        if self.empty:
            return "the cluster grants exactly what the policy grants: nothing to change"
        rows = [("", "principal", "resource", "operation", "why")]
        for sign, bindings in (("+", self.add), ("-", self.remove)):
            for b in bindings:
                resource = f"{b.resource_type}:{b.resource_name}{'*' if b.pattern_type == 'PREFIXED' else ''}"
                rows.append((sign, b.principal, resource, b.operation, b.why))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
        lines.append(f"{len(self.add)} to add, {len(self.remove)} to remove")
        return "\n".join(line.rstrip() for line in lines)


def plan_changes(desired: Iterable[Binding], actual: Iterable[Binding]) -> AccessPlan:
    """The bindings to add (desired, missing) and to remove (present, not desired)."""
    wanted, present = set(desired), set(actual)
    return AccessPlan(add=tuple(sorted(wanted - present)), remove=tuple(sorted(present - wanted)))
