"""Apply the policy's rights to a cluster: create the topics the catalog needs, add and remove ACLs."""

from __future__ import annotations

from dataclasses import dataclass

from bus import EnlaceSettings
from bus.policy import Policy
from bus.records import Catalog
from bus.transport import AclAdmin, AclBinding, Topics
from ops.acl._layout import TopicSpec, bus_layout, topic_specs
from ops.acl._plan import AccessPlan, BusLayout, desired_bindings, plan_changes
from ops.kafka._security import REGISTRY_PRINCIPAL

__all__ = ["Access", "current_access"]


@dataclass(frozen=True)
class Access:
    """The rights and topics one policy and catalog ask of a cluster."""

    layout: BusLayout
    policy: Policy

    @classmethod
    def of(cls, catalog: Catalog, settings: EnlaceSettings) -> Access:
        """The access the catalog's policy (``policy.yaml`` beside its schemas) grants."""
        return cls.of_policy(catalog, catalog.policy, settings)

    @classmethod
    def of_policy(cls, catalog: Catalog, policy: Policy, settings: EnlaceSettings) -> Access:
        """The access another version of the policy grants over the same catalog."""
        return cls(bus_layout(catalog, policy, settings, registry_principal=REGISTRY_PRINCIPAL), policy)

    def bindings(self) -> set[AclBinding]:
        """Every binding the policy grants."""
        return desired_bindings(self.layout)

    def topics(self, *, brokers: int) -> list[TopicSpec]:
        """Every topic the bus needs on a cluster of ``brokers`` brokers."""
        return topic_specs(self.layout, self.policy, brokers=brokers)

    def create_topics(self, topics: Topics) -> list[str]:
        """Create the topics the bus needs that the cluster lacks (one request), and set the policy's
        configuration (retention, ``min.insync.replicas``, compaction) on those that drifted from it.

        Returns:
            The names of the topics created.
        """
        specs = self.topics(brokers=len(topics.brokers()))
        created = topics.ensure_all({s.name: (s.partitions, s.replication_factor, s.configs) for s in specs})
        for spec in specs:
            if spec.name in created or not spec.configs:
                continue
            current = topics.configs(spec.name, spec.configs)
            drifted = {k: v for k, v in spec.configs.items() if current.get(k) != v}
            if drifted:
                topics.configure(spec.name, drifted)
        return created

    def plan(self, acls: AclAdmin) -> AccessPlan:
        """What :meth:`sync` would change in the ACLs of the cluster ``acls`` reaches."""
        return plan_changes(self.bindings(), acls.bindings())

    def sync(self, acls: AclAdmin, topics: Topics) -> tuple[AccessPlan, list[str]]:
        """Create missing topics, add missing bindings, remove bindings the policy no longer grants.

        Idempotent: a second sync finds nothing to do. Bindings are added before others are removed,
        so a right that moves from one binding to another is never missing in between.

        Returns:
            The plan that was applied and the names of the topics created.
        """
        created = self.create_topics(topics)
        plan = self.plan(acls)
        acls.create(plan.add)
        acls.delete(plan.remove)
        return plan, created


def current_access(settings: EnlaceSettings) -> Access:
    """The access the configured catalog grants (``ENLACE_SCHEMAS_DIR``, else the repository's)."""
    from bus.records import catalog

    return Access.of(catalog(), settings)
