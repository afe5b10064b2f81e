"""What a publish returns, what a handler receives beside its record, and how it refuses one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bus import EnlaceError
from connectors._store import Transaction

__all__ = ["Delivery", "Received", "RecordRefused"]

_REASON = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


class RecordRefused(EnlaceError):
    """Raised by a handler for a record it can never apply: dead-lettered at once with ``reason``,
    without the retries an ordinary exception gets.

    The message goes into the dead letter and the log: name fields and rules, never a record's
    values (a CURP, an RFC, a name).

    Args:
        reason: the dead letter's reason slug, lowercase words joined by hyphens (``unhandled-type``).
        message: what is wrong and what to do about it.
    """

    def __init__(self, reason: str, message: str) -> None:
        if not _REASON.fullmatch(reason):
            raise ValueError(f"a dead letter's reason is lowercase words joined by hyphens, not {reason!r}")
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """Where Kafka stored a published record (acknowledged by all in-sync replicas)."""

    topic: str
    partition: int
    offset: int
    ce_id: str


@dataclass(frozen=True)
class Received:
    """A received record's metadata; every field comes from a verified signature or from Kafka.

    Attributes:
        sender: the sending agency's URN, verified against its key (the claimed ``ce_source`` when
            verification is off).
        key_id: the id of the key that signed the record (None when verification is off).
        ce_id, ce_type, subject, time: the CloudEvents attributes.
        traceparent, tracestate: the W3C trace context the sender attached.
        topic, partition, offset, key: where the record was read from.
        group: the consumer group.
        attempt: 1 on the first call, 2 on the first retry, ...
        transaction: write the handler's effects (``execute``, ``executemany``) and the records it
            emits (``emit``) through this to get them exactly once.
    """

    sender: str
    key_id: str | None
    ce_id: str
    ce_type: str
    subject: str | None
    time: str | None
    traceparent: str | None
    tracestate: str | None
    topic: str
    partition: int
    offset: int
    key: bytes | None
    group: str
    attempt: int
    transaction: Transaction
