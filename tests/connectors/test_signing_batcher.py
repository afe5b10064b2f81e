"""The signing batcher's bounds: a batch is signed and sent at its count, or when its oldest record has
waited the producer's linger, whichever comes first; order is kept. Pure logic: the send is recorded."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from bus.identity import BATCH_HEADER, TrustedKey, TrustStore, generate_key
from connectors._batches import SigningBatcher

CRM = "urn:mx:gob:crm"


@dataclass(frozen=True)
class _Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list


class _Sent:
    def notify(self, receiver):
        return self


class _Recorder:
    def __init__(self, expect: int) -> None:
        self.sent: list[tuple[float, dict]] = []
        self.expect, self.done = expect, threading.Event()

    def __call__(self, topic, *, key, value, headers):
        self.sent.append((time.monotonic(), {"topic": topic, "key": key, "value": value, "headers": headers}))
        if len(self.sent) >= self.expect:
            self.done.set()
        return _Sent()


class _Waiting:
    signed_headers = None

    def sending(self, record, headers):
        self.signed_headers = headers

    def acknowledged(self, meta):
        pass

    def failed(self, exc):
        raise AssertionError(exc)


def _record(i: int) -> _Record:
    headers = [("ce_id", f"id-{i}".encode()), ("ce_source", CRM.encode())]
    return _Record("t", f"k{i}".encode(), f"v{i}".encode(), headers)


def test_a_full_batch_is_sent_at_once_in_order_and_verifies():
    key = generate_key(CRM)
    sent = _Recorder(expect=10)
    batcher = SigningBatcher(key, sent, max_records=10, max_wait_s=60)
    try:
        for i in range(10):
            batcher.add(_record(i), _Waiting())
        assert sent.done.is_set()  # the tenth record filled the batch: no waiting for the linger
        assert [s["key"] for _, s in sent.sent] == [f"k{i}".encode() for i in range(10)]
        store = TrustStore([TrustedKey.for_key(key)])
        for _, s in sent.sent:
            store.verify(s["headers"], s["key"], s["value"], topic="t")
        assert {dict(s["headers"])[BATCH_HEADER].split(b"/")[1] for _, s in sent.sent} == {b"10"}
    finally:
        batcher.close()


def test_a_partial_batch_waits_no_longer_than_the_linger():
    sent = _Recorder(expect=3)
    batcher = SigningBatcher(generate_key(CRM), sent, max_records=500, max_wait_s=0.05)
    try:
        added = time.monotonic()
        for i in range(3):
            batcher.add(_record(i), _Waiting())
        assert sent.done.wait(5), "the held records were never sent"
        assert sent.sent[0][0] - added < 0.05 + 0.5  # the linger, and scheduling slack on a busy machine
        assert sent.sent[0][0] - added >= 0.04  # held for batch-mates, not sent one by one
    finally:
        batcher.close()


def test_flush_and_close_send_what_is_held():
    sent = _Recorder(expect=2)
    batcher = SigningBatcher(generate_key(CRM), sent, max_records=500, max_wait_s=60)
    batcher.add(_record(0), _Waiting())
    batcher.flush()
    assert len(sent.sent) == 1
    batcher.add(_record(1), _Waiting())
    batcher.close()
    assert len(sent.sent) == 2


def test_a_send_that_blocks_does_not_stop_a_callback_publishing_and_order_is_kept():
    """kafka-python's send can block (buffer full) until its I/O thread has delivered earlier records;
    that thread runs delivery callbacks, which may publish again. Nothing may wait on the other."""
    io_thread_published, first_send_started = threading.Event(), threading.Event()
    sent: list[bytes] = []

    def send(topic, *, key, value, headers):
        sent.append(key)
        if len(sent) == 1:  # a full buffer: freed only once the I/O thread gets on
            first_send_started.set()
            assert io_thread_published.wait(10), "the I/O thread could not publish while a send was blocked"
        return _Sent()

    batcher = SigningBatcher(generate_key(CRM), send, max_records=2, max_wait_s=60)

    def io_thread() -> None:  # a delivery callback publishing two more records
        batcher.add(_record(2), _Waiting())
        batcher.add(_record(3), _Waiting())
        io_thread_published.set()

    publisher = threading.Thread(target=lambda: [batcher.add(_record(i), _Waiting()) for i in range(2)])
    callbacks = threading.Thread(target=io_thread)
    try:
        publisher.start()
        assert first_send_started.wait(10)  # the publisher's send is under way, and blocked
        callbacks.start()
        callbacks.join(10)
        publisher.join(10)
        assert not callbacks.is_alive() and not publisher.is_alive(), "deadlock: a send blocked the callbacks"
        batcher.flush()
        assert sent == [f"k{i}".encode() for i in range(4)]  # the callback's batch went after the first, whole
    finally:
        io_thread_published.set()
        batcher.close()


def test_records_added_from_many_threads_keep_each_threads_order():
    sent = _Recorder(expect=4 * 250)
    batcher = SigningBatcher(generate_key(CRM), sent, max_records=7, max_wait_s=0.001)

    def publish(thread: int) -> None:
        for i in range(250):
            batcher.add(_Record("t", f"{thread}-{i}".encode(), b"v", []), _Waiting())

    threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        batcher.flush()
        assert sent.done.wait(10)
        keys = [s["key"].decode() for _, s in sent.sent]
        for thread in range(4):
            own = [int(k.split("-")[1]) for k in keys if k.startswith(f"{thread}-")]
            assert own == list(range(250))
    finally:
        batcher.close()


class _Refused(_Waiting):
    """Expects its record to be refused: it learns the headers it went with, then the failure."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def sending(self, record, headers):
        self.told.append("sending")
        self.signed_headers = headers

    def failed(self, exc):
        self.told.append(f"failed: {exc}")


def test_a_batch_the_signer_refuses_fails_every_record_and_each_is_told_as_it_was():
    sent = _Recorder(expect=1)
    batcher = SigningBatcher(generate_key(CRM), sent, max_records=500, max_wait_s=60)
    good, twice = _record(0), _record(1)
    twice.headers.append(("ce_id", b"id-other"))  # a signed header twice: the signer refuses the batch
    waiting = [_Refused(), _Refused()]
    batcher.add(good, waiting[0])
    batcher.add(twice, waiting[1])
    batcher.flush()
    batcher.close()
    assert sent.sent == [], "nothing of a refused batch is sent"
    for record, told in zip((good, twice), waiting, strict=True):
        assert told.told[0] == "sending" and told.signed_headers == record.headers, "logged unsigned, as it was"
        assert told.told[1].startswith("failed: records not signed") and len(told.told) == 2
