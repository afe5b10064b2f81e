"""The bus's shape as the policy and the catalog give it: topics, who writes and reads each, topic specs."""

from __future__ import annotations

from dataclasses import dataclass, field

from bus import ConfigError, EnlaceSettings
from bus.policy import Policy
from bus.records import Catalog
from ops.acl._plan import BusLayout

__all__ = ["TopicSpec", "bus_layout", "policy_readers", "topic_specs"]

DLQ_SUFFIX = ".dlq"
_DAY_MS = 24 * 3600 * 1000


def policy_readers(policy: Policy, catalog: Catalog) -> dict[str, dict[str, tuple[str, ...]]]:
    """Every record's readers: full name -> agency URN -> purposes (a namespace grant covers its records).

    Raises:
        ConfigError: a ``readers:`` key names neither a record with a topic nor a namespace of the catalog.
    """
    records = sorted({rt.full_name for rt in catalog.records() if rt.topic is not None})
    for key in policy.readers:
        if not any(name == key or name.startswith(key + ".") for name in records):
            raise ConfigError(f"policy readers: {key!r} is neither a record with a topic nor a namespace")
    return {name: grants for name in records if (grants := policy.readers_of(name))}


def bus_layout(catalog: Catalog, policy: Policy, settings: EnlaceSettings, *, registry_principal: str) -> BusLayout:
    """The layout ACLs are derived from: every record's topic, its owner and readers, the special topics."""
    topics = {rt.full_name: settings.topic_prefix + rt.topic for rt in catalog.records() if rt.topic is not None}
    owners = dict(policy.owners)
    readers = {name: frozenset(grants) for name, grants in policy_readers(policy, catalog).items()}
    agencies = frozenset(owners.values()) | frozenset().union(*readers.values())
    return BusLayout(
        topics=topics,
        owners=owners,
        readers=readers,
        agencies=agencies,
        trust_topic=settings.trust_topic,
        registry_principal=registry_principal,
        registry_topic=settings.registry_topic,
        registry_transactional_id=settings.registry_writer_id(),
        dlq_suffix=DLQ_SUFFIX,
        classifications={rt.full_name: rt.classification for rt in catalog.records() if rt.topic is not None},
        checkpoint_topic=settings.checkpoint_topic,
    )


@dataclass(frozen=True, order=True)
class TopicSpec:
    """A topic as the bus wants it: name, partitions, replication and topic-level configuration."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict, compare=False)


def topic_specs(layout: BusLayout, policy: Policy, *, brokers: int) -> list[TopicSpec]:
    """Every topic the bus needs: each record's, each read record's dead letters, the trust topic, the
    checkpoints topic.

    The registry's storage topic is the registry's own to make (it knows its settings best).
    """
    partitions = policy.topic_partitions
    replication = 3 if brokers >= 3 else 1
    durable = {"min.insync.replicas": "2" if replication >= 3 else "1"}

    def configs(record: str) -> dict[str, str]:
        days = policy.retention_of(record, layout.classifications.get(record, "personal"))
        return durable | ({"retention.ms": str(days * _DAY_MS)} if days else {})

    specs = [TopicSpec(topic, partitions, replication, configs(name)) for name, topic in layout.topics.items()]
    specs += [  # a dead letter is the record itself: kept as long as the record's topic keeps it
        TopicSpec(layout.topics[name] + layout.dlq_suffix, 1, replication, configs(name))
        for name in layout.readers
        if name in layout.topics
    ]
    specs.append(TopicSpec(layout.trust_topic, 1, replication, {**durable, "cleanup.policy": "compact"}))
    if layout.checkpoint_topic:  # evidence for every log entry: kept as long as the longest-kept record
        longest = max([*policy.retention_days.values(), *policy.retention_records.values()], default=0)
        kept = {"retention.ms": str(longest * _DAY_MS)} if longest else {"retention.ms": "-1"}
        specs.append(TopicSpec(layout.checkpoint_topic, 1, replication, durable | kept))
    return sorted(specs)
