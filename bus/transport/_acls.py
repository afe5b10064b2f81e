"""Kafka ACL bindings as Enlace sees them, and the operator's calls that list, create and delete them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import KafkaError, SecurityDisabledError

from bus._errors import ConfigError, TransportError
from bus.transport._config import KafkaClientConfig

__all__ = ["AclAdmin", "AclBinding", "AuthorizerMissing"]


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ACL binding in Kafka's own terms (the fields ``kafka-acls --list`` prints).

    ``why`` says which part of the policy asks for it; it is not part of the binding's identity.
    """

    principal: str  # "User:urn:mx:gob:crm"
    resource_type: str  # TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID
    pattern_type: str  # LITERAL, PREFIXED
    resource_name: str
    operation: str  # READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS, IDEMPOTENT_WRITE, ALL, ...
    permission: str = "ALLOW"  # or DENY
    host: str = "*"
    why: str = field(default="", compare=False, hash=False)

    def __post_init__(self) -> None:
        for enum, value in (
            (ResourceType, self.resource_type),
            (ACLResourcePatternType, self.pattern_type),
            (ACLOperation, self.operation),
            (ACLPermissionType, self.permission),
        ):
            if value not in enum.__members__ or value in ("ANY", "UNKNOWN", "MATCH"):
                raise ConfigError(f"{value!r} is not a Kafka {enum.__name__} an ACL binding can hold")

    def as_dict(self) -> dict[str, str]:
        """The binding's identity as JSON-ready data."""
        return {
            "principal": self.principal,
            "resource_type": self.resource_type,
            "pattern_type": self.pattern_type,
            "resource_name": self.resource_name,
            "operation": self.operation,
            "permission": self.permission,
            "host": self.host,
        }

    def _acl(self) -> ACL:
        return ACL(
            principal=self.principal,
            host=self.host,
            operation=ACLOperation[self.operation],
            permission_type=ACLPermissionType[self.permission],
            resource_pattern=ResourcePattern(
                ResourceType[self.resource_type], self.resource_name, ACLResourcePatternType[self.pattern_type]
            ),
        )

    def _filter(self) -> ACLFilter:
        return ACLFilter(
            principal=self.principal,
            host=self.host,
            operation=ACLOperation[self.operation],
            permission_type=ACLPermissionType[self.permission],
            resource_pattern=ResourcePatternFilter(
                ResourceType[self.resource_type], self.resource_name, ACLResourcePatternType[self.pattern_type]
            ),
        )


def _failed(error: Any) -> bool:
    """Whether an error class kafka-python returned is a real error (``NoError`` has errno 0)."""
    return error is not None and int(getattr(error, "errno", 0) or 0) != 0


def _binding(acl: Any) -> AclBinding:
    pattern = acl.resource_pattern
    return AclBinding(
        principal=acl.principal,
        resource_type=ResourceType(pattern.resource_type).name,
        pattern_type=ACLResourcePatternType(pattern.pattern_type).name,
        resource_name=pattern.resource_name,
        operation=ACLOperation(acl.operation).name,
        permission=ACLPermissionType(acl.permission_type).name,
        host=acl.host,
    )


class AuthorizerMissing(TransportError):
    """The cluster runs without an authorizer (an insecure development cluster): it holds no ACLs."""


class AclAdmin:
    """A cluster's ACL bindings: list, create, delete (topics and brokers are ``Topics``' business).

    Args:
        kafka: the cluster and the operator's credentials.
    """

    def __init__(self, kafka: KafkaClientConfig | str) -> None:
        config = KafkaClientConfig.of(kafka)
        try:
            self._admin = KafkaAdminClient(**config.client_settings())
        except KafkaError as exc:
            raise TransportError(f"cannot reach {config.bootstrap_servers}: {exc}", retriable=True) from exc

    def bindings(self) -> set[AclBinding]:
        """Every binding the cluster holds.

        Raises:
            TransportError: the cluster has no authorizer, or refused to list its ACLs.
        """
        everything = ACLFilter(
            principal=None,
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
        )
        try:
            acls, error = self._admin.describe_acls(everything)
        except SecurityDisabledError as exc:
            raise AuthorizerMissing("the cluster has no authorizer: it cannot hold ACLs (is it secured?)") from exc
        except KafkaError as exc:
            raise TransportError(f"cannot list the cluster's ACLs: {exc}", retriable=True) from exc
        if _failed(error):
            raise TransportError(f"cannot list the cluster's ACLs: {error.__name__}")
        return {_binding(acl) for acl in acls}

    def create(self, bindings: Iterable[AclBinding]) -> None:
        """Add bindings (one request).

        Raises:
            TransportError: the cluster refused one of them (named, with Kafka's reason).
        """
        wanted = list(bindings)
        if not wanted:
            return
        try:
            result = self._admin.create_acls([b._acl() for b in wanted])
        except KafkaError as exc:
            raise TransportError(f"cannot create ACLs: {exc}", retriable=True) from exc
        if result["failed"]:
            raise TransportError(f"the cluster refused {len(result['failed'])} ACL binding(s): {result['failed']}")

    def delete(self, bindings: Iterable[AclBinding]) -> None:
        """Remove exactly these bindings (each filter matches one binding: no wildcard).

        Raises:
            TransportError: the cluster refused to delete one of them.
        """
        unwanted = list(bindings)
        if not unwanted:
            return
        try:
            results = self._admin.delete_acls([b._filter() for b in unwanted])
        except KafkaError as exc:
            raise TransportError(f"cannot delete ACLs: {exc}", retriable=True) from exc
        for _, _, error in results:
            if _failed(error):
                raise TransportError(f"the cluster refused to delete an ACL binding: {error.__name__}")

    def close(self) -> None:
        self._admin.close()
