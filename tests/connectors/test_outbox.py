"""The outbox: emitted records commit with the handler's writes and are published after, once.

The publisher's own logic (claims, retries, flush, stop) runs here against a recording send; the
same publisher on the real broker is in test_agency_connector.py and test_crashes.py.
"""

from __future__ import annotations

import threading

import pytest

from connectors import AgencyStore
from connectors._outbox import OutboxPublisher
from connectors._store import Outgoing

SCHEMA = "CREATE TABLE IF NOT EXISTS effects (n INTEGER);"


def _emitter(record: str) -> Outgoing:
    return Outgoing("t", record.encode(), f"value of {record}".encode(), [("ce_id", record.encode())], f"ce-{record}")


def _store(path) -> AgencyStore:
    return AgencyStore(path, schema=SCHEMA, emitter=_emitter)


class _Ack:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class Recording:
    """A send that keeps what it was given; fails the first ``failures`` sends."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Outgoing] = []
        self.failures = failures
        self.failed = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, outgoing: Outgoing) -> _Ack:
        with self.lock:
            if self.failures:
                self.failures -= 1
                self.failed.set()
                return _Ack(ConnectionError("broker unreachable"))
            self.sent.append(outgoing)
            return _Ack()


def _publisher(store: AgencyStore, send) -> OutboxPublisher:
    return OutboxPublisher(store, send, retention_s=3600, name="test-outbox").start()


def test_emitted_records_are_stored_with_their_ce_id_and_bytes_as_prepared(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with store.transaction() as tx:
        tx.execute("INSERT INTO effects (n) VALUES (1)")
        assert tx.emit("a") == "ce-a"
    send = Recording()
    publisher = _publisher(store, send)
    assert publisher.flush(10)
    publisher.stop()
    assert send.sent == [_emitter("a")], "topic, key, value and headers exactly as prepared at emit"
    assert store.outbox_counts() == {"published": 1, "pending": 0}


def test_a_transaction_that_fails_after_emit_leaves_nothing_to_publish(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("INSERT INTO effects (n) VALUES (1)")
        tx.emit("a")
        raise RuntimeError("handler failed")
    assert store.outbox_counts() == {"published": 0, "pending": 0}
    assert store.reader().execute("SELECT count(*) FROM effects").fetchone()[0] == 0


def test_a_failed_send_is_retried_with_the_same_ce_id_and_bytes(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with store.transaction() as tx:
        tx.emit("a")
    send = Recording(failures=1)
    publisher = _publisher(store, send)
    assert publisher.flush(20), "published after the backoff"
    publisher.stop()
    assert [o.ce_id for o in send.sent] == ["ce-a"]
    assert publisher.failures == 1


def test_rows_are_published_oldest_first(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    for name in "abcde":
        with store.transaction() as tx:
            tx.emit(name)
    send = Recording()
    publisher = _publisher(store, send)
    assert publisher.flush(10)
    publisher.stop()
    assert [o.ce_id for o in send.sent] == [f"ce-{n}" for n in "abcde"]


def test_a_restarted_agency_publishes_what_it_had_not_published_yet(tmp_path):
    path = tmp_path / "agency.sqlite3"
    first = _store(path)
    with first.transaction() as tx:
        tx.emit("left-behind")
    first.close()  # as if the process died before its publisher ran
    again = _store(path)
    send = Recording()
    publisher = _publisher(again, send)
    assert publisher.flush(10)
    publisher.stop()
    assert [o.ce_id for o in send.sent] == ["ce-left-behind"]


def test_two_processes_of_one_agency_publish_each_outbox_row_once(tmp_path):
    path = tmp_path / "agency.sqlite3"
    first, second = _store(path), _store(path)  # two stores, two connections each: as two processes
    for n in range(200):
        with (first if n % 2 else second).transaction() as tx:
            tx.emit(str(n))
    send = Recording()
    publishers = [_publisher(first, send), _publisher(second, send)]
    assert all(p.flush(30) for p in publishers)
    for publisher in publishers:
        publisher.stop()
    sent = [o.ce_id for o in send.sent]
    assert len(sent) == len(set(sent)) == 200
    assert sum(p.published for p in publishers) == 200
    assert first.outbox_counts() == {"published": 200, "pending": 0}


def test_a_claim_of_a_dead_publisher_is_taken_over_after_its_ttl(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with store.transaction() as tx:
        tx.emit("a")
    connection = store.connect()
    assert [row.outgoing.ce_id for row in store.claim_pending(connection, limit=10, claim_ttl_s=45)] == ["ce-a"]
    assert store.claim_pending(connection, limit=10, claim_ttl_s=45) == [], "held by the first claim"
    (row,) = store.claim_pending(connection, limit=10, claim_ttl_s=0)  # its claimant is presumed dead
    assert row.outgoing == _emitter("a")


def test_stop_cuts_a_retry_backoff_short(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with store.transaction() as tx:
        tx.emit("a")
    send = Recording(failures=10**6)  # the broker never comes back
    publisher = OutboxPublisher(store, send, retention_s=3600, name="test-outbox", first_backoff_s=3600).start()
    assert send.failed.wait(10)
    stopped = threading.Event()
    stopper = threading.Thread(target=lambda: (publisher.stop(flush_timeout=0), stopped.set()))
    stopper.start()
    # The backoff is an hour: a stop that waited for it would not be done.
    assert stopped.wait(30), "stop() waited for the backoff"
    assert store.outbox_counts() == {"published": 0, "pending": 1}, "the row stays for the next start"


def test_a_round_is_pushed_out_at_once_after_its_records_are_handed_to_the_producer(tmp_path):
    store = _store(tmp_path / "agency.sqlite3")
    with store.transaction() as tx:
        tx.emit("a")
        tx.emit("b")
    events: list[str] = []
    send = Recording()

    def sending(outgoing: Outgoing) -> _Ack:
        events.append(f"send {outgoing.ce_id}")
        return send(outgoing)

    def flush(timeout: float) -> None:
        assert timeout > 0
        events.append("flush")

    publisher = OutboxPublisher(store, sending, retention_s=3600, name="test-outbox", flush=flush).start()
    assert publisher.flush(10)
    publisher.stop()
    assert events == ["send ce-a", "send ce-b", "flush"], "one push for the round, after all of it is handed over"
    assert store.outbox_counts() == {"published": 2, "pending": 0}
