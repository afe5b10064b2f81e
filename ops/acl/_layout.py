"""The bus's shape as the policy and the catalog give it: topics, who writes and reads each, topic specs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bus import ConfigError, EnlaceSettings
from bus.records import Catalog
from ops.acl._plan import BusLayout

__all__ = ["TopicSpec", "bus_layout", "policy_readers", "topic_specs"]

DLQ_SUFFIX = ".dlq"


def policy_readers(policy: Mapping[str, Any], catalog: Catalog) -> dict[str, dict[str, tuple[str, ...]]]:
    """The policy's ``readers:``, one entry per record: full name -> agency URN -> purposes.

    A key may be a record's full name or a namespace (every record in it).

    Raises:
        ConfigError: a key names no record or namespace of the catalog, a reader is no URN, or a
            purpose is not one the policy's ``purposes:`` defines.
    """
    purposes = policy.get("purposes") or {}
    raw = policy.get("readers") or {}
    if not isinstance(raw, dict) or not isinstance(purposes, dict):
        raise ConfigError("policy: readers and purposes must be mappings")
    records = {rt.full_name: rt for rt in catalog.records() if rt.topic is not None}
    readers: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, grants in raw.items():
        names = [key] if key in records else [n for n in records if n.rsplit(".", 1)[0] == key]
        if not names:
            raise ConfigError(f"policy readers: {key!r} is neither a record with a topic nor a namespace")
        if not isinstance(grants, dict):
            raise ConfigError(f"policy readers of {key}: expected agency URN -> list of purposes")
        for agency, wanted in grants.items():
            if not isinstance(agency, str) or not agency.startswith("urn:"):
                raise ConfigError(f"policy readers of {key}: {agency!r} is not an agency URN")
            if not isinstance(wanted, list) or not wanted:
                raise ConfigError(f"policy readers of {key}: {agency} needs a list of one or more purposes")
            unknown = [p for p in wanted if p not in purposes]
            if unknown:
                raise ConfigError(
                    f"policy readers of {key}: {agency} reads for unknown purpose(s) {unknown}; "
                    f"the policy defines {sorted(purposes)}"
                )
            for name in names:
                merged = readers.setdefault(name, {}).get(agency, ())
                readers[name][agency] = tuple(dict.fromkeys((*merged, *wanted)))
    return readers


def bus_layout(
    catalog: Catalog, policy: Mapping[str, Any], settings: EnlaceSettings, *, registry_principal: str
) -> BusLayout:
    """The layout ACLs are derived from: every record's topic, its owner and readers, the special topics."""
    topics = {rt.full_name: settings.topic_prefix + rt.topic for rt in catalog.records() if rt.topic is not None}
    owners = {str(k): str(v) for k, v in (policy.get("owners") or {}).items()}
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
        registry_transactional_id=f"enlace-registry-writer-{settings.registry_topic}",
        dlq_suffix=DLQ_SUFFIX,
    )


@dataclass(frozen=True, order=True)
class TopicSpec:
    """A topic as the bus wants it: name, partitions, replication and topic-level configuration."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict, compare=False)


def topic_specs(layout: BusLayout, policy: Mapping[str, Any], *, brokers: int) -> list[TopicSpec]:
    """Every topic the bus needs: each record's, each read record's dead letters, the trust topic.

    The registry's storage topic is the registry's own to make (it knows its settings best).
    """
    partitions = int((policy.get("topics") or {}).get("partitions", 1))
    if partitions < 1:
        raise ConfigError(f"policy topics.partitions must be 1 or more, not {partitions}")
    replication = 3 if brokers >= 3 else 1
    durable = {"min.insync.replicas": "2" if replication >= 3 else "1"}
    specs = [TopicSpec(topic, partitions, replication, dict(durable)) for topic in layout.topics.values()]
    specs += [
        TopicSpec(layout.topics[name] + layout.dlq_suffix, 1, replication, dict(durable))
        for name in layout.readers
        if name in layout.topics
    ]
    specs.append(TopicSpec(layout.trust_topic, 1, replication, {**durable, "cleanup.policy": "compact"}))
    return sorted(specs)
