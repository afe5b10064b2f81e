"""What an agency's own logic sees of the bus: records in, records out, as Avro dicts.

Each adapter's desk (its business logic) reads records through handlers called with the record and
its :class:`Delivery`, and writes records into its store's outbox in the same SQLite transaction as
its own state (see ``adapters._ledger``). Only ``adapters._runtime`` knows the connector, so desks
are testable without a broker and mapping modules stay checkable against the .avsc files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Delivery", "Handler", "Outbound", "RecordingOutbound"]


@dataclass(frozen=True)
class Delivery:
    """Where a received record came from.

    Attributes:
        ce_id: the CloudEvents id (unique per record; the key of every idempotent write).
        sender: the sending agency's URN (verified by the connector).
        subject: the record's subject (its Kafka key: a CURP, an RFC, a case id, a folio).
        time: when it was sent.
        trace_id: the W3C trace id, 32 hex digits, when traced.
    """

    ce_id: str
    sender: str
    subject: str = ""
    time: dt.datetime | None = None
    trace_id: str | None = None


Handler = Callable[[dict[str, Any], Delivery], None]


class Outbound(Protocol):
    """Publishes one record under a given ce_id (so a resend after a crash is recognised downstream).

    Raises ValidationError before sending a record that breaks its schema or domain rules.
    """

    def publish(self, record_name: str, record: dict[str, Any], *, ce_id: str) -> None: ...


@dataclass
class RecordingOutbound:
    """An Outbound that keeps what it was given, for unit tests of desk logic (no bus involved)."""

    sent: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    def publish(self, record_name: str, record: dict[str, Any], *, ce_id: str) -> None:
        self.sent.append((record_name, record, ce_id))

    def of(self, record_name: str) -> list[dict[str, Any]]:
        """The records sent under one name, in order."""
        return [r for n, r, _ in self.sent if n == record_name]
