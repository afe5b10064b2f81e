"""An in-memory agency store for unit tests of handlers and desks (no Kafka, no registry).

:class:`MemoryAgency` gives a desk what the connector gives it — ``transaction()``, ``reader()`` and
handlers called with a :class:`~connectors.Received` whose ``transaction`` can ``execute`` and
``emit`` — over an in-memory SQLite database, and records the models emitted by committed
transactions. Deduplication by (group, sender, ce_id) and the rollback of a handler that raises
behave as in the connector. Pure logic only: an integration test uses the real connector.

Usage::

    agency = MemoryAgency("urn:mx:gob:crm", schema=SCHEMA)
    desk = CrmDesk(agency.store)
    agency.deliver(desk.on_service_request, ServiceRequestSubmitted(...), sender="urn:mx:gob:portal")
    (opened,) = agency.take(CaseOpened)
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from bus import PolicyViolation
from bus.envelope import new_event_id
from bus.records import Catalog, catalog
from connectors._received import Received
from connectors._store import AgencyStore, Outgoing, Position, Transaction

__all__ = ["MemoryAgency"]


class MemoryAgency:
    """One agency's store in memory, with the records it emitted.

    Args:
        agency: the agency's URN (emitted records must be of namespaces the policy gives it).
        schema: the agency's own tables.
        group: the consumer group handlers are delivered in.
        records: the record catalog; the project's shared records by default.
    """

    def __init__(self, agency: str, *, schema: str = "", group: str = "test", records: Catalog | None = None) -> None:
        self.agency, self.group = agency, group
        self._catalog = records or catalog()
        self._models: dict[str, Any] = {}  # ce_id -> emitted model (committed or not)
        self.store = AgencyStore(":memory:", schema=schema, emitter=self._emit)
        self._batch = self.store.batch()
        self._offsets = itertools.count()

    def _emit(self, record: Any) -> Outgoing:
        record_type = self._catalog.for_model(type(record))
        if record_type.owner and record_type.owner != self.agency:
            raise PolicyViolation(
                f"{self.agency} may not publish {record_type.full_name}: the policy gives it to {record_type.owner}",
                rule="policy.owner",
                subject=record_type.subject,
            )
        ce_id = new_event_id()
        self._models[ce_id] = record
        return Outgoing(record_type.topic or "", record.key().encode(), b"", [], ce_id)

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction, as ``AgencyConnector.transaction()`` gives one."""
        return self.store.transaction()

    def reader(self) -> sqlite3.Connection:
        """The read connection (the same in-memory database)."""
        return self.store.reader()

    def deliver(
        self,
        handler: Callable[[Any, Received], None],
        record: Any,
        *,
        sender: str,
        ce_id: str | None = None,
        subject: str | None = None,
    ) -> bool:
        """Call a handler as the connector would: once per (group, sender, ce_id), its writes and
        emitted records committed with the record's id, or undone (and the error raised) if it raises.

        Returns:
            Whether the handler was called (False for a duplicate).
        """
        ce_id = ce_id or new_event_id()
        record_type = self._catalog.for_model(type(record))
        topic, offset = record_type.topic or "", next(self._offsets)
        batch = self._batch
        batch.begin_batch()
        if not batch.claim(self.group, sender, ce_id, at=Position("", "", topic, 0, offset)):
            batch.commit_batch()
            return False
        received = Received(
            sender=sender,
            key_id=None,
            ce_id=ce_id,
            ce_type=record_type.full_name,
            subject=subject or record.key(),
            time=None,
            traceparent=None,
            tracestate=None,
            topic=topic,
            partition=0,
            offset=offset,
            key=None,
            group=self.group,
            attempt=1,
            transaction=batch.transaction,
        )
        try:
            handler(record, received)
        except BaseException:
            batch.undo_record()
            batch.commit_batch()
            raise
        batch.end_record()
        batch.commit_batch()
        return True

    def emitted(self) -> list[tuple[str, Any]]:
        """Every committed emitted record not taken yet, oldest first, as ``(ce_id, model)``."""
        rows = self.store.reader().execute("SELECT ce_id FROM enlace_outbox WHERE sent_at IS NULL ORDER BY seq")
        return [(ce_id, self._models[ce_id]) for (ce_id,) in rows.fetchall()]

    def take(self, model: type | None = None) -> list[Any]:
        """The committed emitted records (of one model class, or all) not taken yet, marked sent."""
        return [m for _, m in self.take_emitted(model)]

    def take_emitted(self, model: type | None = None) -> list[tuple[str, Any]]:
        """Like :meth:`take`, with each record's ce_id: ``(ce_id, model)``."""
        taken = [(ce_id, m) for ce_id, m in self.emitted() if model is None or isinstance(m, model)]
        self.store.reader().executemany(
            "UPDATE enlace_outbox SET sent_at = 0 WHERE ce_id = ?", [(ce_id,) for ce_id, _ in taken]
        )
        return taken
