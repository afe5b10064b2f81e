"""An agency's ledger: a record handled twice changes nothing; emitted records keep their ce_id."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from adapters._ledger import Ledger, decode_record, encode_record
from adapters._seam import RecordingOutbound

SCHEMA = "CREATE TABLE IF NOT EXISTS effects (n INTEGER);"


def _handle(ledger: Ledger, ce_id: str) -> bool:
    with ledger.once(ce_id) as tx:
        if tx is None:
            return False
        tx.db.execute("INSERT INTO effects (n) VALUES (1)")
        tx.emit("mx.gob.crm.CaseOpened", {"caseId": f"for-{ce_id}"})
        return True


def test_a_record_handled_twice_has_one_effect_and_emits_once(tmp_path):
    ledger = Ledger(tmp_path / "agency.sqlite3", schema=SCHEMA)
    assert _handle(ledger, "ce-1") is True
    assert _handle(ledger, "ce-1") is False
    assert ledger.db.execute("SELECT count(*) FROM effects").fetchone()[0] == 1
    assert len(ledger.pending()) == 1


def test_a_failing_handler_leaves_no_effect_and_the_record_can_be_handled_again(tmp_path):
    ledger = Ledger(tmp_path / "agency.sqlite3", schema=SCHEMA)
    with pytest.raises(RuntimeError), ledger.once("ce-2") as tx:
        tx.db.execute("INSERT INTO effects (n) VALUES (1)")
        tx.emit("mx.gob.crm.CaseOpened", {"caseId": "x"})
        raise RuntimeError("handler failed")
    assert ledger.db.execute("SELECT count(*) FROM effects").fetchone()[0] == 0
    assert ledger.pending() == []
    assert _handle(ledger, "ce-2") is True


class _FailsOnce(RecordingOutbound):
    failed = False

    def publish(self, record_name, record, *, ce_id):
        if not self.failed:
            self.failed = True
            raise ConnectionError("broker unreachable")
        super().publish(record_name, record, ce_id=ce_id)


def test_a_failed_publish_is_retried_with_the_same_ce_id(tmp_path):
    ledger = Ledger(tmp_path / "agency.sqlite3", schema=SCHEMA)
    _handle(ledger, "ce-3")
    ((_, ce_id, _, _),) = ledger.pending()
    outbound = _FailsOnce()
    with pytest.raises(ConnectionError):
        ledger.drain(outbound)
    assert ledger.drain(outbound) == 1
    assert [sent_id for _, _, sent_id in outbound.sent] == [ce_id]
    assert ledger.outbox_counts() == {"published": 1, "pending": 0}


def test_a_restarted_agency_finds_what_it_had_not_published_yet(tmp_path):
    path = tmp_path / "agency.sqlite3"
    first = Ledger(path, schema=SCHEMA)
    _handle(first, "ce-4")
    first.close()
    again = Ledger(path, schema=SCHEMA)
    assert _handle(again, "ce-4") is False
    outbound = RecordingOutbound()
    assert again.drain(outbound) == 1


def test_outbox_payloads_keep_dates_timestamps_and_decimals_exact():
    record = {
        "day": dt.date(2026, 11, 28),
        "at": dt.datetime(2026, 11, 28, 1, 2, 3, 456000, tzinfo=dt.UTC),
        "amount": decimal.Decimal("1234.50"),
        "nested": {"list": [1, "two", None]},
    }
    assert decode_record(encode_record(record)) == record


def test_two_processes_of_one_agency_publish_each_outbox_row_once(tmp_path):
    path = tmp_path / "agency.sqlite3"
    first, second = Ledger(path, schema=SCHEMA), Ledger(path, schema=SCHEMA)
    for n in range(5):
        _handle(first, f"ce-{n}")

    class Racing(RecordingOutbound):
        def publish(self, record_name, record, *, ce_id):
            super().publish(record_name, record, ce_id=ce_id)
            if len(self.sent) == 1:  # the other process drains while this one is mid-way
                second.drain(other)

    other, racing = RecordingOutbound(), Racing()
    first.drain(racing)
    sent = [ce_id for _, _, ce_id in racing.sent + other.sent]
    assert len(sent) == len(set(sent)) == 5
    assert first.outbox_counts() == {"published": 5, "pending": 0}


def test_a_failed_publish_releases_its_claim_at_once(tmp_path):
    ledger = Ledger(tmp_path / "agency.sqlite3", schema=SCHEMA)
    _handle(ledger, "ce-9")
    with pytest.raises(ConnectionError):
        ledger.drain(_FailsOnce())
    assert ledger.drain(RecordingOutbound()) == 1
