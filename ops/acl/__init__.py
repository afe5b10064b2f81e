"""Rights on the bus from the Interoperability Policy: ACLs, topics, and their Strimzi rendering.

``desired_bindings(bus_layout(...))`` is every ACL binding the policy grants (deny by default);
``plan_changes`` compares it with what a cluster holds; ``sync`` applies the plan and creates the
topics the catalog needs; ``render_strimzi`` writes the same rights as ``KafkaUser``/``KafkaTopic``
resources.
"""

from ops.acl._layout import TopicSpec, bus_layout, policy_readers, topic_specs
from ops.acl._plan import AccessPlan, BusLayout, desired_bindings, group_prefix, plan_changes
from ops.acl._strimzi import render_strimzi, strimzi_topics, strimzi_users
from ops.acl._sync import Access, current_access

__all__ = [
    "Access",
    "AccessPlan",
    "BusLayout",
    "TopicSpec",
    "bus_layout",
    "current_access",
    "desired_bindings",
    "group_prefix",
    "plan_changes",
    "policy_readers",
    "render_strimzi",
    "strimzi_topics",
    "strimzi_users",
    "topic_specs",
]
