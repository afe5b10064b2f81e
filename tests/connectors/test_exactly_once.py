"""Exactly-once through the connector on a real broker: what a handler emits is sent after its
commit, never for an attempt that failed, once after a crash, and ``stop()`` does not wait out a
retry's backoff."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from kafka import KafkaConsumer
from opentelemetry.sdk.trace import TracerProvider

from bus.records import catalog
from bus.records.models import CaseOpened
from bus.registry import RegistryClient
from bus.transport import KafkaClientConfig
from connectors import list_dead_letters
from tests.connectors.outbox_worker import updated

pytestmark = pytest.mark.integration

CRM = "urn:mx:gob:crm"
CASES, UPDATES = catalog().get("CaseOpened"), catalog().get("CaseUpdated")


def case(i: int) -> CaseOpened:
    return CaseOpened.from_avro(CASES.example() | {"caseId": f"CRM-2025-{i:06d}"})


def _records(kafka: KafkaClientConfig, topic: str) -> list:
    consumer = KafkaConsumer(topic, **kafka.client_settings(), auto_offset_reset="earliest", consumer_timeout_ms=5000)
    try:
        return list(consumer)
    finally:
        consumer.close()


def _ce_ids(kafka: KafkaClientConfig, topic: str) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in _records(kafka, topic)]


def test_a_record_a_handler_emits_is_published_after_its_batch_commits_and_continues_the_trace(
    connector, bus, unique_name
):
    sender = connector(CRM, tracer_provider=TracerProvider())
    sender.publish(case(1))
    crm = connector(CRM, tracer_provider=TracerProvider())
    seen: dict[str, object] = {}

    def on_case(record: CaseOpened, received) -> None:
        seen["ce_id"] = received.transaction.emit(updated(record))
        seen["traceparent"] = received.traceparent
        # Another connection sees only what is committed: the row is not there for the publisher yet.
        seen["committed_during_handler"] = crm.store.reader().execute("SELECT count(*) FROM enlace_outbox").fetchone()
        seen["published_during_handler"] = crm.outbox_counts()["published"]

    crm.subscribe(CaseOpened, group=unique_name("crm"), handler=on_case, commit_interval_s=60).run(idle_timeout_s=3)
    assert seen["committed_during_handler"] == (0,) and seen["published_during_handler"] == 0
    assert crm._publisher is not None and crm._publisher.flush(30)
    (record,) = _records(bus.kafka, bus.topic(UPDATES))
    headers = dict(record.headers)
    assert headers["ce_id"].decode() == seen["ce_id"]
    assert headers["traceparent"].decode().split("-")[1] == str(seen["traceparent"]).split("-")[1], "same trace"
    assert crm.outbox_counts() == {"published": 1, "pending": 0}


def test_a_handler_that_raises_after_emitting_publishes_nothing(connector, bus, unique_name):
    connector(CRM).publish(case(2))
    crm = connector(CRM, handler_attempts=2)
    emitted = []

    def broken(record: CaseOpened, received) -> None:
        emitted.append(received.transaction.emit(updated(record)))
        raise RuntimeError("the CRM's database is read-only")

    crm.subscribe(CaseOpened, group=unique_name("crm"), handler=broken).run(idle_timeout_s=3)
    assert len(emitted) == 2, "called twice, emitting each time"
    assert crm._publisher is not None and crm._publisher.flush(30)
    assert crm.outbox_counts() == {"published": 0, "pending": 0}
    assert _records(bus.kafka, bus.topic(UPDATES)) == []
    assert [d.reason for d in list_dead_letters(bus.kafka, bus.topic(CASES))] == ["handler-failed"]


def test_a_transaction_outside_a_handler_publishes_what_it_emits_once_committed(connector, bus):
    crm = connector(CRM)
    with crm.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS notes (case_id TEXT)")
        tx.execute("INSERT INTO notes VALUES (?)", (case(3).case_id,))
        ce_id = tx.emit(updated(case(3)))
    assert crm._publisher is not None and crm._publisher.flush(30)
    assert _ce_ids(bus.kafka, bus.topic(UPDATES)) == [ce_id]
    assert crm.store.reader().execute("SELECT case_id FROM notes").fetchall() == [(case(3).case_id,)]


def test_stop_cuts_a_handlers_retry_backoff_short_and_leaves_the_record_for_redelivery(connector, unique_name):
    connector(CRM).publish(case(4))
    crm = connector(CRM, retry_backoff_s=60, handler_attempts=5)  # a backoff nobody would wait out
    group = unique_name("crm")
    failed_once = threading.Event()

    def failing(record, received) -> None:
        failed_once.set()
        raise RuntimeError("downstream unavailable")

    subscription = crm.subscribe(CaseOpened, group=group, handler=failing)
    runner = threading.Thread(target=subscription.run, daemon=True)
    runner.start()
    assert failed_once.wait(60)
    subscription.stop()
    runner.join(30)
    assert not runner.is_alive(), "stop() waited for the 60 s backoff"
    again = connector(CRM)
    got = []
    again.subscribe(CaseOpened, group=group, handler=lambda r, rc: got.append(r.case_id)).run(idle_timeout_s=3)
    assert got == [case(4).case_id], "neither applied nor dead-lettered: redelivered to the group"


@pytest.fixture
def updates_registered(registered, registry) -> str:
    """The real registry with CaseUpdated registered too (and the shared types it uses)."""
    needed = {UPDATES.full_name} | {r.full_name for r in UPDATES.references(transitive=True)}
    for record_type in catalog().records():
        if record_type.full_name in needed:
            client = RegistryClient(registry.url, credential=registry.token(record_type.owner))
            client.id_for(record_type.subject, record_type.schema)
    return registered


def _worker(bus, registry_url, db, group, key_file, mode) -> subprocess.Popen:
    args = [bus.properties(), bus.trust_topic, bus.prefix, registry_url, str(db), group, str(key_file), mode]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.connectors.outbox_worker", *args],
        env={**os.environ, "PYTHONPATH": os.getcwd(), "ENLACE_TRUST_ANCHOR": bus.authority.anchor},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _committed_unsent(db) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM enlace_outbox WHERE sent_at IS NULL").fetchone()[0])
    except sqlite3.OperationalError:  # the worker has not created the store yet
        return 0


def test_a_crash_between_commit_and_publish_publishes_each_record_once_on_restart_with_its_ce_id(
    connector, bus, updates_registered, unique_name, tmp_path
):
    sender = connector(CRM, schema_source=RegistryClient(updates_registered, timeout=30))
    for i in range(10, 15):
        sender.publish(case(i))
    key_file = bus.key(CRM).save(tmp_path / "keys")
    db, group = tmp_path / "crm.sqlite3", unique_name("crm")
    worker = _worker(bus, updates_registered, db, group, key_file, "hold")
    try:
        deadline = time.monotonic() + 90
        while _committed_unsent(db) < 5:  # every emitted record committed, none sent (sends are held)
            assert worker.poll() is None, f"worker exited early: {worker.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, f"only {_committed_unsent(db)} rows committed"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    with sqlite3.connect(db) as conn:
        emitted = sorted(row[0] for row in conn.execute("SELECT ce_id FROM enlace_outbox"))
    assert _records(bus.kafka, bus.topic(UPDATES)) == [], "killed before anything was sent"
    worker = _worker(bus, updates_registered, db, group, key_file, "send")
    assert worker.wait(120) == 0, worker.stderr.read()[-2000:]
    assert sorted(_ce_ids(bus.kafka, bus.topic(UPDATES))) == emitted, "each once, with its ce_id"
    assert _committed_unsent(db) == 0
