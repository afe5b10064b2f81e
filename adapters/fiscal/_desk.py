"""Fiscal services' business: answer status queries from the register, announce status changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from adapters.fiscal._legacy import LegacyTaxpayer
from adapters.fiscal._mapping import status_changed_record, status_reported_record
from adapters.fiscal._store import TaxpayerRegister
from bus.records.models import TaxpayerStatusRequested
from connectors import AgencyStore, Handler, Received

__all__ = ["RECORDS_READ", "FiscalDesk"]

RECORDS_READ = (TaxpayerStatusRequested,)


class FiscalDesk:
    """What fiscal services do with the records they read, and the changes they announce.

    Args:
        store: the agency store (with the register's tables).
        clock: the current time (tests fix it).
    """

    def __init__(self, store: AgencyStore, *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.store = store
        self.register = TaxpayerRegister(store)
        self._clock = clock

    def load_register(self, text: str) -> int:
        """Load a fixed-width register export (see ``_legacy``); returns how many taxpayers."""
        with self.store.transaction() as tx:
            return self.register.load(tx, text)

    def on_status_requested(self, record: TaxpayerStatusRequested, received: Received) -> None:
        """mx.gob.crm.TaxpayerStatusRequested: answer from the register (found or not)."""
        tx = received.transaction
        fresh = tx.execute(
            "INSERT OR IGNORE INTO answered_queries (request_id) VALUES (?)", (str(record.request_id),)
        ).rowcount
        if not fresh:
            return  # the same question resent under another ce_id: answered already
        taxpayer = self.register.by_curp(record.citizen_curp, tx)
        tx.emit(status_reported_record(taxpayer, request=record, asker=received.sender, reported_at=self._clock()))

    def change_status(self, rfc: str, status_code: str, *, since: dt.date | None = None) -> LegacyTaxpayer:
        """Change a taxpayer's status in the register and announce it (TaxpayerStatusChanged)."""
        now = self._clock()
        with self.store.transaction() as tx:
            before, after = self.register.change_status(tx, rfc, status_code, since=since or now.date())
            tx.emit(status_changed_record(before, after, changed_at=now))
        return after

    def handlers(self) -> dict[type, Handler]:
        """The handler of each record type fiscal services read."""
        return {TaxpayerStatusRequested: self.on_status_requested}
