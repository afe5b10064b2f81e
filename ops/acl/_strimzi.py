"""The access plan as Strimzi resources: one ``KafkaUser`` per principal, one ``KafkaTopic`` per topic.

A cluster that Strimzi runs on Kubernetes then grants exactly the rights ``enlace acl sync`` gives a
local one. Fields follow Strimzi's ``kafka.strimzi.io/v1beta2`` CRDs: a user's
``spec.authentication.type`` (``scram-sha-512``) and ``spec.authorization`` (``type: simple``, ``acls``
of ``resource {type, name, patternType}``, ``operations``, ``host``, ``type: allow``), a topic's
``spec.partitions``, ``spec.replicas`` and ``spec.config``; both carry the ``strimzi.io/cluster`` label
that names the Kafka resource they belong to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bus._files import private_dir
from bus.transport import AclBinding
from ops.acl._layout import TopicSpec

__all__ = ["render_strimzi", "strimzi_topics", "strimzi_users"]

API_VERSION = "kafka.strimzi.io/v1beta2"
_RESOURCE_TYPES = {"TOPIC": "topic", "GROUP": "group", "CLUSTER": "cluster", "TRANSACTIONAL_ID": "transactionalId"}
_PATTERNS = {"LITERAL": "literal", "PREFIXED": "prefix"}


def _camel(operation: str) -> str:
    """Kafka's ``DESCRIBE_CONFIGS`` as Strimzi writes it: ``DescribeConfigs``."""
    return "".join(part.capitalize() for part in operation.split("_"))


def _resource(binding: AclBinding) -> dict[str, str]:
    resource = {"type": _RESOURCE_TYPES[binding.resource_type]}
    if binding.resource_type != "CLUSTER":  # the cluster resource has no name in Strimzi
        resource["name"] = binding.resource_name
        resource["patternType"] = _PATTERNS[binding.pattern_type]
    return resource


def strimzi_users(bindings: Iterable[AclBinding], *, cluster: str) -> list[dict[str, Any]]:
    """One ``KafkaUser`` per principal holding its ACLs, operations grouped per resource."""
    per_user: dict[str, dict[tuple[str, str, str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for b in sorted(bindings):
        name = b.principal.split(":", 1)[1]
        per_user[name][(b.resource_type, b.pattern_type, b.resource_name, b.host)].append(b.operation)
    users = []
    for name, grants in sorted(per_user.items()):
        acls = []
        for (kind, pattern, resource_name, host), operations in grants.items():
            sample = AclBinding(f"User:{name}", kind, pattern, resource_name, operations[0], host=host)
            acls.append(
                {
                    "type": "allow",
                    "resource": _resource(sample),
                    "operations": sorted(_camel(op) for op in set(operations)),
                    "host": host,
                }
            )
        users.append(
            {
                "apiVersion": API_VERSION,
                "kind": "KafkaUser",
                "metadata": {"name": name, "labels": {"strimzi.io/cluster": cluster}},
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": acls},
                },
            }
        )
    return users


def _topic_resource_name(topic: str) -> str:
    # A Kubernetes name: lowercase letters, digits, '-' and '.'; Kafka topics may also hold '_'.
    return topic.lower().replace("_", "-")


def strimzi_topics(specs: Iterable[TopicSpec], *, cluster: str) -> list[dict[str, Any]]:
    """One ``KafkaTopic`` per topic (``spec.topicName`` keeps the exact Kafka name)."""
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "KafkaTopic",
            "metadata": {"name": _topic_resource_name(spec.name), "labels": {"strimzi.io/cluster": cluster}},
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": spec.replication_factor,
                "config": dict(spec.configs),
            },
        }
        for spec in sorted(specs)
    ]


def render_strimzi(
    bindings: Iterable[AclBinding], specs: Iterable[TopicSpec], directory: str | Path, *, cluster: str
) -> list[Path]:
    """Write ``kafka-users.yaml`` and ``kafka-topics.yaml`` (multi-document YAML) into ``directory``."""
    folder = private_dir(directory)
    written = []
    for file_name, documents in (
        ("kafka-users.yaml", strimzi_users(bindings, cluster=cluster)),
        ("kafka-topics.yaml", strimzi_topics(specs, cluster=cluster)),
    ):
        path = folder / file_name
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
