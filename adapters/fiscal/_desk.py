"""Fiscal services' business: answer status queries from the register, announce status changes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from adapters.fiscal._legacy import LegacyTaxpayer
from adapters.fiscal._mapping import status_changed_record, status_refused_record, status_reported_record
from adapters.fiscal._store import TaxpayerRegister
from bus.policy import Policy
from bus.records import catalog
from bus.records.models import TaxpayerStatusRequested
from connectors import AgencyStore, Handler, Received

_log = logging.getLogger(__name__)
REPORTED = "mx.gob.sat.TaxpayerStatusReported"  # what an answer discloses: the policy's readers of it decide

__all__ = ["RECORDS_READ", "FiscalDesk"]

RECORDS_READ = (TaxpayerStatusRequested,)


class FiscalDesk:
    """What fiscal services do with the records they read, and the changes they announce.

    Args:
        store: the agency store (with the register's tables).
        clock: the current time (tests fix it).
    """

    def __init__(
        self,
        store: AgencyStore,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        policy: Policy | None = None,
    ):
        self.store = store
        self.register = TaxpayerRegister(store)
        self._clock = clock
        self.policy = policy or catalog().policy
        # Who may receive an answer, for which purposes: read from the policy once, not per question.
        self._readers = self.policy.readers_of(REPORTED)

    def load_register(self, text: str) -> int:
        """Load a fixed-width register export (see ``_legacy``); returns how many taxpayers."""
        with self.store.transaction() as tx:
            return self.register.load(tx, text)

    def on_status_requested(self, record: TaxpayerStatusRequested, received: Received) -> None:
        """mx.gob.crm.TaxpayerStatusRequested: answer from the register (found or not) when the policy
        lets the verified asker read TaxpayerStatusReported for the purpose the question names;
        otherwise answer REFUSED with the reason, disclosing nothing."""
        tx = received.transaction
        fresh = tx.execute(
            "INSERT OR IGNORE INTO answered_queries (request_id) VALUES (?)", (str(record.request_id),)
        ).rowcount
        if not fresh:
            return  # the same question resent under another ce_id: answered already
        refusal = self._refusal(received.sender, record.purpose_id)
        if refusal is not None:
            # Not a word about the citizen, nor the asker's own text (it may hold anything): the log
            # names the verified asker, the rule and the policy's purpose id when it is one.
            _log.warning(
                "refused taxpayer status to %s (purpose %s): %s under policy readers of %s",
                received.sender,
                self._named_purpose(record.purpose_id),
                refusal,
                REPORTED,
            )
            tx.emit(
                status_refused_record(
                    request=record,
                    asker=received.sender,
                    purpose=self._named_purpose(record.purpose_id),
                    refusal=refusal,
                    reported_at=self._clock(),
                )
            )
            return
        taxpayer = self.register.by_curp(record.citizen_curp, tx)
        purpose = self.policy.purposes[record.purpose_id]
        tx.emit(
            status_reported_record(
                taxpayer, request=record, asker=received.sender, purpose=purpose, reported_at=self._clock()
            )
        )

    def _refusal(self, asker: str, purpose_id: str) -> str | None:
        """Why the policy does not let ``asker`` receive a taxpayer's status for ``purpose_id``, or None."""
        allowed = self._readers.get(asker)
        if not allowed:
            return "requester-not-allowed"
        if not purpose_id:
            return "purpose-missing"
        if purpose_id not in allowed:
            return "purpose-not-allowed"
        return None

    def _named_purpose(self, purpose_id: str) -> str:
        """The question's purpose as the policy names it: its id when the policy has one, else a fixed text."""
        if not purpose_id:
            return "(none given)"
        return purpose_id if purpose_id in self.policy.purposes else "(not a policy purpose)"

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
