"""Fiscal services' own store: the taxpayer register kept as its legacy lines, in SQLite.

The tables live in the agency store, so a status change and the record announcing it are written
in one transaction (the caller's).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from adapters.fiscal._legacy import STATUS_CODES, LegacyTaxpayer, format_line, parse_export, parse_line
from bus import ValidationError
from connectors import AgencyStore, Transaction

__all__ = ["SCHEMA", "TaxpayerRegister"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS padron (
    rfc  TEXT PRIMARY KEY,
    curp TEXT,
    line TEXT NOT NULL CHECK (length(line) = 150)
);
CREATE INDEX IF NOT EXISTS padron_curp ON padron (curp) WHERE curp <> '';
CREATE TABLE IF NOT EXISTS answered_queries (request_id TEXT PRIMARY KEY);
"""


class TaxpayerRegister:
    """The register: each taxpayer is stored as its fixed-width line, the legacy system's own form.

    Args:
        store: the agency store (with ``SCHEMA`` applied); writes join the caller's transaction, reads
            use it too when given one (else the store's read connection).
    """

    def __init__(self, store: AgencyStore) -> None:
        self.store = store

    def _db(self, tx: Transaction | None) -> Any:
        return tx if tx is not None else self.store.reader()

    def load(self, tx: Transaction, text: str) -> int:
        """Load (or replace) taxpayers from a register export; returns how many lines were loaded.

        Raises:
            ValidationError: a bad line (nothing is loaded then).
        """
        taxpayers = parse_export(text)
        tx.executemany(
            "INSERT INTO padron (rfc, curp, line) VALUES (?, ?, ?) "
            "ON CONFLICT (rfc) DO UPDATE SET curp = excluded.curp, line = excluded.line",
            [(t.rfc, t.curp, format_line(t)) for t in taxpayers],
        )
        return len(taxpayers)

    def by_rfc(self, rfc: str, tx: Transaction | None = None) -> LegacyTaxpayer | None:
        """The taxpayer with this RFC, or None."""
        row = self._db(tx).execute("SELECT line FROM padron WHERE rfc = ?", (rfc.upper(),)).fetchone()
        return parse_line(row[0]) if row else None

    def by_curp(self, curp: str, tx: Transaction | None = None) -> LegacyTaxpayer | None:
        """The person registered with this CURP, or None."""
        row = self._db(tx).execute("SELECT line FROM padron WHERE curp = ?", (curp.upper(),)).fetchone()
        return parse_line(row[0]) if row else None

    def count(self) -> int:
        """How many taxpayers are registered."""
        return int(self.store.reader().execute("SELECT count(*) FROM padron").fetchone()[0])

    def change_status(
        self, tx: Transaction, rfc: str, status_code: str, *, since: dt.date
    ) -> tuple[LegacyTaxpayer, LegacyTaxpayer]:
        """Record a new status for a taxpayer; returns the entry before and after.

        Raises:
            ValidationError: unknown RFC or status code.
        """
        if status_code not in STATUS_CODES:
            raise ValidationError(
                f"status code {status_code!r} is not one of {', '.join(STATUS_CODES)}",
                record="sat.padron",
                path="/status_code",
                rule="padron.status",
                value=status_code,
            )
        before = self.by_rfc(rfc, tx)
        if before is None:
            raise ValidationError(
                f"no taxpayer with RFC {rfc}", record="sat.padron", path="/rfc", rule="padron.unknown_rfc", value=rfc
            )
        after = dataclasses.replace(before, status_code=status_code, status_since=since)
        tx.execute("UPDATE padron SET line = ? WHERE rfc = ?", (format_line(after), before.rfc))
        return before, after
