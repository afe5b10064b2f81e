"""The agency store: effects and ids commit together, per batch, undone per record; the file is private;
old rows are pruned; bookkeeping is bound to the cluster and the topic's id."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest

from connectors import AgencyStore, Position

SCHEMA = "CREATE TABLE IF NOT EXISTS effects (ce_id TEXT PRIMARY KEY);"
HERE = Position("cluster-1", "6f1d1d52-3c2c-4b43-9a5e-2f1c0a6f7e01", "t", 0, 1)
DIGEST = bytes(32)


def _at(offset: int) -> Position:
    return Position(HERE.cluster_id, HERE.topic_id, "t", 0, offset)


def _store(tmp_path):
    """A consumer's batch on a fresh agency store (``.path`` is the store's file)."""
    store = AgencyStore(tmp_path / "p.sqlite3", schema=SCHEMA)
    batch = store.batch()
    batch.path = store.path
    return batch


def _apply(store, ce_id, *, fail=False):
    if not store.claim("g", "urn:mx:gob:sat", ce_id, at=_at(1)):
        return
    store.transaction.execute("INSERT INTO effects VALUES (?)", (ce_id,))
    if fail:
        store.undo_record()
        return
    store.end_record()


def _effects(path):
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT ce_id FROM effects ORDER BY ce_id")]


def test_a_claimed_record_is_a_duplicate_until_undone(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    assert store.claim("g", "urn:mx:gob:sat", "a", at=_at(1))
    store.undo_record()
    assert store.claim("g", "urn:mx:gob:sat", "a", at=_at(1))
    store.end_record()
    assert not store.claim("g", "urn:mx:gob:sat", "a", at=_at(2)), "same sender and ce_id at another offset"
    store.commit_batch()


def test_effects_and_ids_are_durable_only_after_the_batch_commits(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a")
    assert store.seen("g", "urn:mx:gob:sat", "a", at=HERE), "a record seen earlier in the same batch is a duplicate"
    assert _effects(store.path) == []
    store.commit_batch()
    assert _effects(store.path) == ["a"]


def test_an_undone_record_leaves_no_effect_and_is_not_seen(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a", fail=True)
    _apply(store, "a")
    _apply(store, "b")
    store.commit_batch()
    assert _effects(store.path) == ["a", "b"]


def test_a_batch_rolled_back_by_a_crash_leaves_nothing(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a")
    store.close()  # as if the process died before committing
    again = _store(tmp_path)
    assert not again.seen("g", "urn:mx:gob:sat", "a", at=HERE)
    assert _effects(again.path) == []


def test_ids_are_kept_per_group_and_sender(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a")
    store.commit_batch()
    assert store.seen("g", "urn:mx:gob:sat", "a", at=HERE)
    assert not store.seen("other-group", "urn:mx:gob:sat", "a", at=HERE)
    assert not store.seen("g", "urn:mx:gob:crm", "a", at=HERE)


def test_dead_lettered_positions_are_remembered(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    store.mark_dead_lettered("g", _at(7), DIGEST, "bad-signature")
    store.commit_batch()
    assert store.dead_lettered("g", _at(7), DIGEST) and not store.dead_lettered("g", _at(8), DIGEST)
    assert not store.dead_lettered("g", _at(7), b"another record at the same position")


def test_dead_lettered_positions_are_bound_to_the_cluster_and_the_topic_id(tmp_path):
    # A fresh cluster, or the topic created again, starts its offsets again: what was dead-lettered
    # at an offset of the old one says nothing about the record now there.
    store = _store(tmp_path)
    store.begin_batch()
    store.mark_dead_lettered("g", _at(7), DIGEST, "bad-signature")
    store.commit_batch()
    assert not store.dead_lettered("g", Position("another-cluster", HERE.topic_id, "t", 0, 7), DIGEST)
    assert not store.dead_lettered("g", Position(HERE.cluster_id, "recreated-topic-id", "t", 0, 7), DIGEST)


def test_processed_ids_are_bound_to_the_cluster_and_the_topic_id(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a")
    store.commit_batch()
    assert store.seen("g", "urn:mx:gob:sat", "a", at=HERE)
    assert not store.seen("g", "urn:mx:gob:sat", "a", at=Position("another-cluster", HERE.topic_id, "t", 0, 1))
    assert not store.seen("g", "urn:mx:gob:sat", "a", at=Position(HERE.cluster_id, "recreated-topic-id", "t", 0, 1))


def test_a_store_of_the_earlier_layout_drops_its_unbound_bookkeeping_and_keeps_the_rest(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # layout 1: processed ids and dead letters bound to no cluster
        db.executescript(
            "CREATE TABLE enlace_processed (consumer_group TEXT, source TEXT, ce_id TEXT, topic TEXT,"
            ' partition INTEGER, "offset" INTEGER, processed_at REAL, PRIMARY KEY (consumer_group, source, ce_id));'
            "INSERT INTO enlace_processed VALUES ('g', 'urn:mx:gob:sat', 'a', 't', 0, 1, 1.0);"
            + SCHEMA
            + "INSERT INTO effects VALUES ('kept');"
        )
    store = AgencyStore(path, schema=SCHEMA)
    batch = store.batch()
    batch.begin_batch()
    assert not batch.seen("g", "urn:mx:gob:sat", "a", at=HERE)
    batch.commit_batch()
    assert store.reader().execute("SELECT ce_id FROM effects").fetchall() == [("kept",)]
    assert store.reader().execute("PRAGMA user_version").fetchone() == (2,)


def test_the_database_file_is_private(tmp_path):
    store = _store(tmp_path)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_record_whose_handler_writes_nothing_is_still_remembered_with_its_batch(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    assert store.claim("g", "urn:mx:gob:sat", "a", at=_at(1))
    store.end_record()  # no write through the transaction: no savepoint was needed
    assert not store.claim("g", "urn:mx:gob:sat", "a", at=_at(2)), "a duplicate within the open batch"
    store.commit_batch()
    again = _store(tmp_path)
    assert again.seen("g", "urn:mx:gob:sat", "a", at=HERE)


def test_a_failed_attempt_undoes_only_its_own_record(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    _apply(store, "a")
    _apply(store, "b", fail=True)
    store.commit_batch()
    assert _effects(store.path) == ["a"]
    assert store.seen("g", "urn:mx:gob:sat", "a", at=HERE) and not store.seen("g", "urn:mx:gob:sat", "b", at=HERE)


def test_the_file_is_created_private_in_a_private_folder(tmp_path):
    store = AgencyStore(tmp_path / "new" / "agency.sqlite3")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_an_existing_file_keeps_its_rows_and_mode(tmp_path):
    path = tmp_path / "agency.sqlite3"
    first = AgencyStore(path, schema=SCHEMA)
    with first.transaction() as tx:
        tx.execute("INSERT INTO effects VALUES ('kept')")
    first.close()
    again = AgencyStore(path, schema=SCHEMA)
    assert again.reader().execute("SELECT ce_id FROM effects").fetchall() == [("kept",)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_pruning_removes_rows_older_than_the_retention_and_keeps_newer_ones(tmp_path):
    store = AgencyStore(tmp_path / "agency.sqlite3")
    batch = store.batch()
    batch.begin_batch()
    for ce_id in ("old", "new"):
        batch.claim("g", "urn:mx:gob:sat", ce_id, at=_at(1))
        batch.end_record()
    batch.mark_dead_lettered("g", _at(7), DIGEST, "bad-signature")
    batch.commit_batch()
    with store.transaction() as tx:
        for seq, sent_at in ((1, 1.0), (2, None)):
            tx.execute(
                "INSERT INTO enlace_outbox (seq, ce_id, topic, value, headers, created_at, sent_at)"
                " VALUES (?, ?, 't', x'', x'', 1.0, ?)",
                (seq, f"out-{seq}", sent_at),
            )
        tx.execute("UPDATE enlace_processed SET processed_at = 1.0 WHERE ce_id = 'old'")
        tx.execute("UPDATE enlace_dead_lettered SET dead_lettered_at = 1.0")
    assert store.prune(older_than_s=3600) == 3  # one id, one dead-lettered position, one sent row
    assert not batch.seen("g", "urn:mx:gob:sat", "old", at=HERE) and batch.seen("g", "urn:mx:gob:sat", "new", at=HERE)
    assert not batch.dead_lettered("g", _at(7), DIGEST)
    assert store.outbox_counts() == {"published": 0, "pending": 1}, "a pending row is never pruned"


def test_a_read_connection_cannot_write(tmp_path):
    store = AgencyStore(tmp_path / "agency.sqlite3", schema=SCHEMA)
    with pytest.raises(sqlite3.OperationalError):
        store.reader().execute("INSERT INTO effects VALUES ('x')")


def _transaction_in_thread(agency: AgencyStore) -> tuple[threading.Thread, threading.Event]:
    """A web-like write on another thread; the event is set once it committed."""
    done = threading.Event()

    def write() -> None:
        with agency.transaction() as tx:
            tx.execute("INSERT INTO effects VALUES ('web')")
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread, done


def test_a_writer_queued_behind_an_open_batch_writes_once_the_batch_commits(tmp_path):
    agency = AgencyStore(tmp_path / "p.sqlite3", schema=SCHEMA)
    batch = agency.batch()
    batch.begin_batch()
    _apply(batch, "a")
    thread, done = _transaction_in_thread(agency)
    assert not done.wait(0.2), "a second writer may not write while the batch is open"
    batch.commit_batch()
    assert done.wait(10), "the queued writer goes as the batch commits"
    thread.join(10)
    assert _effects(agency.path) == ["a", "web"]


def test_a_batch_rolled_back_or_committed_on_another_thread_lets_the_next_writer_in(tmp_path):
    agency = AgencyStore(tmp_path / "p.sqlite3", schema=SCHEMA)
    batch = agency.batch()
    batch.begin_batch()
    _apply(batch, "a")
    batch.rollback_batch()
    thread, done = _transaction_in_thread(agency)
    assert done.wait(10), "a rolled-back batch gave its turn back"
    thread.join(10)
    batch.begin_batch()
    _apply(batch, "b")
    committer = threading.Thread(target=batch.commit_batch)  # as a rebalance listener may, on another thread
    committer.start()
    committer.join(10)
    with agency.transaction() as tx:
        tx.execute("INSERT INTO effects VALUES ('after')")
    assert _effects(agency.path) == ["after", "b", "web"]


def test_a_batch_looks_up_many_records_in_one_query_and_answers_as_one_query_each_would(tmp_path):
    store = _store(tmp_path)
    store.begin_batch()
    for ce_id in ("a", "c"):
        assert store.claim("g", "urn:mx:gob:sat", ce_id, at=_at(1))
        store.end_record()
    store.commit_batch()
    queries: list[str] = []
    store._db.set_trace_callback(lambda sql: queries.append(sql) if sql.startswith("SELECT") else None)
    sat, crm = "urn:mx:gob:sat", "urn:mx:gob:crm"
    asked = [(sat, "a"), (sat, "b"), (sat, "c"), (crm, "a")] + [(sat, f"n{i}") for i in range(600)]

    store.look_up("g", [(HERE.cluster_id, HERE.topic_id, s, i) for s, i in asked])  # outside a batch: ignored
    assert queries == []
    store.begin_batch()
    store.look_up("g", [(HERE.cluster_id, HERE.topic_id, s, i) for s, i in asked])
    assert len(queries) == 3, "one query per sender and 500 ids (sat: 603 ids in two; crm: one)"
    answers = {(s, i): store.seen("g", s, i, at=HERE) for s, i in asked}
    assert len(queries) == 3, "seen answered from the look-up"
    assert {k for k, applied in answers.items() if applied} == {(sat, "a"), (sat, "c")}
    assert store.seen("g", sat, "zz", at=HERE) is False and len(queries) == 4, "not looked up: asked alone"
    assert not store.seen("other-group", sat, "a", at=HERE) and len(queries) == 5, "another group is asked alone"

    assert store.claim("g", sat, "b", at=_at(3)), "looked up as new: claimed"
    store.end_record()
    assert store.seen("g", sat, "b", at=HERE), "claimed in the batch: seen"
    store.commit_batch()
    assert store.seen("g", sat, "b", at=HERE) and store.seen("g", sat, "n1", at=HERE) is False
    assert len(queries) == 7, "the look-up ended with its batch: asked again"
