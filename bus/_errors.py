"""The error tree every Enlace package raises from.

One root, ``EnlaceError``, and a few specific kinds. Each carries structured fields so that a caller
can act on it (which record, which field, which rule, which topic and offset) and a ``__str__`` a
person can act on.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "EnlaceError",
    "PolicyViolation",
    "SchemaError",
    "SignatureError",
    "TransportError",
    "ValidationError",
]


class EnlaceError(Exception):
    """Root of every error Enlace raises on purpose."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {k: v for k, v in fields.items() if v is not None}

    def __str__(self) -> str:
        return self.message


class ConfigError(EnlaceError):
    """Configuration is missing, unknown or contradictory (caught at start-up)."""


class ValidationError(EnlaceError):
    """A record breaks a type or domain rule.

    Attributes:
        record: the record's full name, e.g. ``mx.gob.crm.CaseOpened``.
        path: JSON pointer to the offending field, e.g. ``/citizen/curp``.
        rule: the rule's id, e.g. ``curp.check_digit``.
        value: the offending value.
    """

    def __init__(
        self,
        message: str,
        *,
        record: str | None = None,
        path: str | None = None,
        rule: str | None = None,
        value: Any = None,
        problems: list[ValidationError] | None = None,
    ) -> None:
        super().__init__(message, record=record, path=path, rule=rule, value=value)
        self.record = record
        self.path = path
        self.rule = rule
        self.value = value
        self.problems = problems or []

    @classmethod
    def of_problems(cls, headline: str, problems: list[ValidationError], *, record: str | None) -> ValidationError:
        """One error standing for several: the headline, then one line per problem.

        The first problem's path, rule and value become the summary's own, so a caller that looks at
        one field still finds it; all of them stay in ``problems``.
        """
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        lines = "\n".join(f"  {p.path or '/'}: {p.message} [{p.rule}]" for p in problems)
        first = problems[0]
        return cls(
            f"{headline}, {count}:\n{lines}",
            record=record,
            path=first.path,
            rule=first.rule,
            value=first.value,
            problems=problems,
        )


class SchemaError(EnlaceError):
    """A schema is invalid, unknown, or does not match the bytes it is asked to read."""


class PolicyViolation(EnlaceError):
    """A schema or a publish breaks the Interoperability Policy.

    Attributes:
        rule: the policy rule's id.
        pointer: JSON pointer into the schema or record.
    """

    def __init__(self, message: str, *, rule: str, pointer: str = "", subject: str | None = None) -> None:
        super().__init__(message, rule=rule, pointer=pointer, subject=subject)
        self.rule = rule
        self.pointer = pointer
        self.subject = subject

    def __str__(self) -> str:
        where = f" at {self.pointer}" if self.pointer else ""
        return f"[{self.rule}]{where}: {self.message}"


class SignatureError(EnlaceError):
    """A record's signature is missing, does not verify, or was made with an unknown or revoked key."""


class TransportError(EnlaceError):
    """Kafka (or the process around it) failed to carry a record or to start.

    Attributes:
        retriable: whether trying again later may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        retriable: bool = False,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message, topic=topic, partition=partition, offset=offset)
        self.retriable = retriable
        self.topic = topic
        self.partition = partition
        self.offset = offset


class AccessDenied(TransportError):
    """The cluster's authorizer refused a principal a right (deny by default: the policy grants none).

    Attributes:
        principal: the Kafka principal that asked (its SASL username; ``ANONYMOUS`` without one).
        resource: what it asked for, e.g. ``topic mx.gob.sat.taxpayer-status-reported``.
        right: the operation it lacks, e.g. ``WRITE``.
    """

    def __init__(self, *, principal: str, resource: str, right: str, topic: str | None = None) -> None:
        super().__init__(
            f"{principal} may not {right} {resource}: the cluster's ACLs, derived from the policy's owners and "
            "readers, do not grant it (see `enlace acl plan`)",
            topic=topic,
        )
        self.principal, self.resource, self.right = principal, resource, right
