"""Fiscal services' own store: the taxpayer register kept as its legacy lines, in SQLite."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.fiscal._legacy import STATUS_CODES, LegacyTaxpayer, format_line, parse_export, parse_line
from bus import ValidationError

__all__ = ["TaxpayerRegister"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS padron (
    rfc  TEXT PRIMARY KEY,
    curp TEXT,
    line TEXT NOT NULL CHECK (length(line) = 150)
);
CREATE INDEX IF NOT EXISTS padron_curp ON padron (curp) WHERE curp <> '';
"""


class TaxpayerRegister:
    """The register: each taxpayer is stored as its fixed-width line, the legacy system's own form.

    Args:
        path: the SQLite file (``":memory:"`` for tests).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        # Handlers run on the connector's thread, the health endpoint on another: SQLite serialises.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def import_export(self, text: str) -> int:
        """Load (or replace) taxpayers from a register export; returns how many lines were loaded.

        Raises:
            ValidationError: a bad line (nothing is loaded then).
        """
        taxpayers = parse_export(text)
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO padron (rfc, curp, line) VALUES (?, ?, ?) "
                "ON CONFLICT (rfc) DO UPDATE SET curp = excluded.curp, line = excluded.line",
                [(t.rfc, t.curp, format_line(t)) for t in taxpayers],
            )
        return len(taxpayers)

    def by_rfc(self, rfc: str) -> LegacyTaxpayer | None:
        """The taxpayer with this RFC, or None."""
        row = self._db.execute("SELECT line FROM padron WHERE rfc = ?", (rfc.upper(),)).fetchone()
        return parse_line(row[0]) if row else None

    def by_curp(self, curp: str) -> LegacyTaxpayer | None:
        """The person registered with this CURP, or None."""
        row = self._db.execute("SELECT line FROM padron WHERE curp = ?", (curp.upper(),)).fetchone()
        return parse_line(row[0]) if row else None

    def count(self) -> int:
        """How many taxpayers are registered."""
        return int(self._db.execute("SELECT count(*) FROM padron").fetchone()[0])

    def change_status(self, rfc: str, status_code: str, *, since: dt.date) -> LegacyTaxpayer:
        """Record a new status for a taxpayer and return the updated entry.

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
        with self.transaction() as db:
            row = db.execute("SELECT line FROM padron WHERE rfc = ?", (rfc,)).fetchone()
            if row is None:
                raise ValidationError(
                    f"no taxpayer with RFC {rfc}",
                    record="sat.padron",
                    path="/rfc",
                    rule="padron.unknown_rfc",
                    value=rfc,
                )
            updated = dataclasses.replace(parse_line(row[0]), status_code=status_code, status_since=since)
            db.execute("UPDATE padron SET line = ? WHERE rfc = ?", (format_line(updated), rfc))
        return updated
