"""Fiscal services' business: answer status queries from the register, announce status changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from adapters._ledger import Ledger
from adapters._seam import Delivery
from adapters.fiscal._legacy import LegacyTaxpayer
from adapters.fiscal._mapping import status_changed_record, status_reported_record
from adapters.fiscal._store import TaxpayerRegister

__all__ = ["RECORDS_READ", "FiscalDesk"]

RECORDS_READ = ("mx.gob.crm.TaxpayerStatusRequested",)
STATUS_REPORTED = "mx.gob.sat.TaxpayerStatusReported"
STATUS_CHANGED = "mx.gob.sat.TaxpayerStatusChanged"


class FiscalDesk:
    """What fiscal services do with the records they read, and the changes they announce.

    Args:
        ledger: the agency's SQLite ledger (with the register's tables).
        clock: the current time (tests fix it).
    """

    def __init__(self, ledger: Ledger, *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.ledger = ledger
        self.register = TaxpayerRegister(ledger.db)
        self._clock = clock

    def load_register(self, text: str) -> int:
        """Load a fixed-width register export (see ``_legacy``); returns how many taxpayers."""
        with self.ledger.transaction():
            return self.register.load(text)

    def on_status_requested(self, record: dict[str, Any], delivery: Delivery) -> None:
        """mx.gob.crm.TaxpayerStatusRequested: answer from the register (found or not)."""
        with self.ledger.once(delivery.ce_id) as tx:
            if tx is None:
                return
            fresh = tx.db.execute(
                "INSERT OR IGNORE INTO answered_queries (request_id) VALUES (?)", (record["requestId"],)
            ).rowcount
            if not fresh:
                return  # the same question resent under another ce_id: answered already
            taxpayer = self.register.by_curp(record["citizenCurp"])
            answer = status_reported_record(taxpayer, request=record, asker=delivery.sender, reported_at=self._clock())
            tx.emit(STATUS_REPORTED, answer)

    def change_status(self, rfc: str, status_code: str, *, since: dt.date | None = None) -> LegacyTaxpayer:
        """Change a taxpayer's status in the register and announce it (TaxpayerStatusChanged)."""
        now = self._clock()
        with self.ledger.transaction() as tx:
            before, after = self.register.change_status(rfc, status_code, since=since or now.date())
            tx.emit(STATUS_CHANGED, status_changed_record(before, after, changed_at=now))
        return after

    def handlers(self) -> dict[str, Callable[[dict[str, Any], Delivery], None]]:
        """The record each handler reads."""
        return {RECORDS_READ[0]: self.on_status_requested}
