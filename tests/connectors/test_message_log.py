"""The message log on the real broker: appends on publish and receipt, verify finds alteration, removal
and reordering, proofs check offline after the signer's key is rotated and revoked, altered proofs fail
naming why, checkpoints are published and witnessed."""

from __future__ import annotations

import base64
import copy
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bus.identity import TrustAnchor, TrustedKey, generate_key
from bus.records import catalog
from bus.records.models import CaseOpened
from connectors import ProofError, build_proof, check_proof, log_path_for, verify_log, witnessed_in
from ops.cli._log import read_topic

pytestmark = pytest.mark.integration

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
CASES = catalog().get("CaseOpened")


def case(i: int) -> CaseOpened:
    return CaseOpened.from_avro(CASES.example() | {"caseId": f"CRM-2025-{i:06d}"})


@pytest.fixture
def exchanged(connector, bus, unique_name):
    """The CRM publishes three cases, the portal receives them; both connectors closed (final checkpoints)."""
    checkpoints = unique_name("checkpoints")
    from bus.transport import Topics

    with Topics(bus.kafka) as topics:
        topics.ensure(checkpoints, partitions=1)
    crm = connector(CRM, checkpoint_topic=checkpoints)
    deliveries = [crm.publish(case(i)) for i in range(3)]
    portal = connector(PORTAL, checkpoint_topic=checkpoints)
    witness = portal.witness_checkpoints()
    got = []
    portal.subscribe(CaseOpened, group=unique_name("portal"), handler=lambda r, rc: got.append(rc.ce_id))
    portal._subscriptions[0].run(idle_timeout_s=3.0)
    crm.close()  # the CRM's final checkpoint, which the portal's witness reads
    assert witness is not None
    _wait(lambda: witness.witnessed >= 1)
    portal.close()
    return {
        "crm_log": log_path_for(crm._store_path),
        "portal_log": log_path_for(portal._store_path),
        "deliveries": deliveries,
        "got": got,
        "checkpoints": checkpoints,
    }


def _wait(condition, timeout_s: float = 20.0) -> None:
    import threading

    done = threading.Event()
    for _ in range(int(timeout_s * 10)):
        if condition():
            return
        done.wait(0.1)
    raise AssertionError("condition not met in time")


def _trust_values(bus) -> list[bytes]:
    return [r.value for r in read_topic(bus.kafka, bus.trust_topic) if r.value is not None]


def test_publish_and_receipt_are_logged_chained_checkpointed_and_witnessed(exchanged, bus):
    ids = [d.ce_id for d in exchanged["deliveries"]]
    assert all(i in exchanged["got"] for i in ids)
    crm = sqlite3.connect(exchanged["crm_log"])
    sent = crm.execute('SELECT ce_id, direction, outcome, partition, "offset" FROM enlace_log ORDER BY seq').fetchall()
    assert [(r[0], r[1], r[2]) for r in sent] == [(i, "sent", "acknowledged") for i in ids]
    assert [(r[3], r[4]) for r in sent] == [(d.partition, d.offset) for d in exchanged["deliveries"]]
    (published,) = crm.execute('SELECT count(*) FROM enlace_log_checkpoints WHERE "offset" IS NOT NULL').fetchone()
    assert published >= 1
    portal = sqlite3.connect(exchanged["portal_log"])
    received = portal.execute("SELECT ce_id, sender, verification, outcome FROM enlace_log").fetchall()
    assert [r for r in received if r[0] in ids] == [(i, CRM, "verified", "applied") for i in ids]
    # The file is private, the chain holds, the CRM's checkpoint is on the topic and witnessed.
    assert exchanged["crm_log"].stat().st_mode & 0o777 == 0o600
    assert verify_log(exchanged["crm_log"], witnessed=witnessed_in(exchanged["portal_log"], CRM)).holds
    on_topic = [r for r in read_topic(bus.kafka, exchanged["checkpoints"]) if r.key == CRM.encode()]
    assert on_topic and witnessed_in(exchanged["portal_log"], CRM)


@pytest.mark.parametrize("tamper", ["alter-body", "alter-field", "remove", "remove-last", "reorder"])
def test_verify_names_the_first_broken_entry(exchanged, tamper):
    path = exchanged["crm_log"]
    db = sqlite3.connect(path)
    if tamper == "alter-body":
        (body,) = db.execute("SELECT body FROM enlace_log WHERE seq = 2").fetchone()
        db.execute("UPDATE enlace_log SET body = ? WHERE seq = 2", (body[:-1] + bytes([body[-1] ^ 1]),))
        expected = (2, "log.body-altered")
    elif tamper == "alter-field":
        db.execute("UPDATE enlace_log SET outcome = 'failed' WHERE seq = 2")
        expected = (2, "log.chain-broken")
    elif tamper == "remove":
        db.execute("DELETE FROM enlace_log WHERE seq = 2")
        expected = (2, "log.missing")
    elif tamper == "remove-last":
        db.execute("DELETE FROM enlace_log WHERE seq = 3")
        expected = (3, "log.truncated")
    else:
        rows = db.execute("SELECT * FROM enlace_log WHERE seq IN (1, 2) ORDER BY seq").fetchall()
        db.execute("DELETE FROM enlace_log WHERE seq IN (1, 2)")
        db.execute("INSERT INTO enlace_log VALUES (" + ",".join("?" * len(rows[0])) + ")", (1, *rows[1][1:]))
        db.execute("INSERT INTO enlace_log VALUES (" + ",".join("?" * len(rows[0])) + ")", (2, *rows[0][1:]))
        expected = (1, "log.chain-broken")
    db.commit()
    db.close()
    report = verify_log(path)
    assert not report.holds
    first = report.problems[0]
    assert (first.seq, first.rule) == expected, report.problems


def test_a_rewritten_log_disagrees_with_the_checkpoint_another_agency_witnessed(exchanged):
    # The agency recomputes every hash after altering entry 2: only the witnessed checkpoint shows it.
    from connectors._message_log import _entries, chain_head, genesis_head

    path = exchanged["crm_log"]
    db = sqlite3.connect(path)
    db.execute("UPDATE enlace_log SET outcome = 'failed' WHERE seq = 2")
    db.commit()
    head = genesis_head(CRM)
    for entry, _ in list(_entries(db)):
        head = chain_head(head, entry.digest())
        db.execute("UPDATE enlace_log SET hash = ? WHERE seq = ?", (head, entry.seq))
    db.execute("DELETE FROM enlace_log_checkpoints")
    db.commit()
    db.close()
    assert verify_log(path).holds  # alone, a rewritten log looks whole
    report = verify_log(path, witnessed=witnessed_in(exchanged["portal_log"], CRM))
    assert not report.holds and report.problems[0].rule == "checkpoint.mismatch"


def test_a_proof_checks_offline_after_the_signers_key_is_rotated_and_revoked(exchanged, bus):
    ce_id = exchanged["deliveries"][1].ce_id
    anchor = TrustAnchor.load(bus.authority.anchor)
    # Rotation: a new CRM key; then the old one is revoked (after the record and its checkpoint).
    bus.trust(TrustedKey.for_key(generate_key(CRM)))
    old = TrustedKey.for_key(bus.keys[CRM], not_before=datetime.now(UTC) - timedelta(minutes=10))
    bus.trust(old.revoked("rotated", at=datetime.now(UTC) + timedelta(seconds=1)))
    for log in (exchanged["crm_log"], exchanged["portal_log"]):
        bundle = json.loads(json.dumps(build_proof(str(log), ce_id=ce_id, trust_records=_trust_values(bus))))
        summary = check_proof(bundle, anchor)  # no bus: only the bundle and the pinned anchor
        assert summary.sender == CRM and summary.ce_id == ce_id
        assert any("revoked" in t for t in bundle["trust"])


def test_a_proof_of_an_altered_record_fails_naming_why(exchanged, bus):
    ce_id = exchanged["deliveries"][0].ce_id
    anchor = TrustAnchor.load(bus.authority.anchor)
    bundle = build_proof(str(exchanged["portal_log"]), ce_id=ce_id, trust_records=_trust_values(bus))
    check_proof(bundle, anchor)

    def altered(change):
        copied = copy.deepcopy(bundle)
        change(copied)
        with pytest.raises(ProofError) as failed:
            check_proof(copied, anchor)
        return failed.value

    def flip_value(b):
        value = bytearray(base64.b64decode(b["entry"]["value"]))
        value[-1] ^= 1
        b["entry"]["value"] = base64.b64encode(bytes(value)).decode()

    error = altered(flip_value)
    assert error.reason == "record-signature" and "bad-signature" in str(error)
    assert altered(lambda b: b["entry"].update(outcome="dead-lettered:bad-signature")).reason == "chain"
    assert altered(lambda b: b["chain"].reverse() if len(b["chain"]) > 1 else b["chain"].append("00" * 32)).reason == (
        "chain"
    )
    assert altered(lambda b: b.update(trust=[])).reason == "record-signature"
    assert altered(lambda b: b["trust"].append(b["trust"][0].replace("register", "revoke"))).reason == "trust-record"
    assert altered(lambda b: b.update(entry="x")).reason == "malformed"
    # A key revoked before the record was signed does not prove it.
    bus.trust(TrustedKey.for_key(bus.keys[CRM]).revoked("stolen", at=datetime.now(UTC) - timedelta(days=1)))
    revoked = build_proof(str(exchanged["portal_log"]), ce_id=ce_id, trust_records=_trust_values(bus))
    with pytest.raises(ProofError) as failed:
        check_proof(revoked, anchor)
    assert failed.value.reason == "record-signature" and "revoked" in str(failed.value)


def test_a_batch_signed_record_is_logged_as_signed_and_its_proof_checks_offline(connector, bus, unique_name):
    """A burst of publish_async is signed in one batch (form 3): the sender's log keeps each record's
    headers as signed, with its place in the batch, so its proof checks alone."""
    checkpoints = unique_name("checkpoints")
    from bus.transport import Topics

    with Topics(bus.kafka) as topics:
        topics.ensure(checkpoints, partitions=1)
    crm = connector(CRM, checkpoint_topic=checkpoints)
    futures = [crm.publish_async(case(100 + i)) for i in range(5)]
    crm.flush()
    ce_ids = [f.result(timeout=30).ce_id for f in futures]
    crm.close()  # the final checkpoint covers every entry
    anchor = TrustAnchor.load(bus.authority.anchor)
    for ce_id in (ce_ids[0], ce_ids[3]):
        bundle = json.loads(
            json.dumps(build_proof(str(log_path_for(crm._store_path)), ce_id=ce_id, trust_records=_trust_values(bus)))
        )
        headers = {name: value for name, value in bundle["entry"]["headers"]}
        assert "enlace_batch" in headers and "enlace_signature" in headers, sorted(headers)
        assert check_proof(bundle, anchor).ce_id == ce_id


def test_a_checkpoint_kafka_refuses_is_tried_again_after_a_backoff_not_every_round(tmp_path, monkeypatch):
    """A missing checkpoints topic must not make the writer publish (and warn) every 0.2 s."""
    from connectors import _message_log
    from connectors._message_log import MessageLog, body_bytes

    # A backoff longer than the test, so the writer thread's own rounds cannot try meanwhile.
    monkeypatch.setattr(_message_log, "_FIRST_PUBLISH_BACKOFF_S", 3600.0)
    monkeypatch.setattr(_message_log, "_MAX_PUBLISH_BACKOFF_S", 3600.0)

    class Refusing:
        def __init__(self) -> None:
            self.attempts = 0

        def __call__(self, value: bytes):
            self.attempts += 1
            raise RuntimeError("the checkpoints topic enlace.checkpoints does not exist")

    publish = Refusing()
    log = MessageLog(
        tmp_path / "crm.log.sqlite3",
        agency="urn:mx:gob:crm",
        signing_key=generate_key("urn:mx:gob:crm"),
        publish=publish,
        checkpoint_every=1,
    )
    try:
        log.sent("t", 0, 0, ce_id="a", body=body_bytes(b"k", b"v", []))
        log.checkpoint()  # made (here or by the writer's round) and tried once
        assert publish.attempts == 1
        log.sent("t", 0, 1, ce_id="b", body=body_bytes(b"k", b"v", []))
        log.checkpoint()  # made and kept, not tried inside the backoff
        assert publish.attempts == 1
        log.checkpoint(force=True)  # closing tries whatever the backoff says
        assert publish.attempts == 2  # both checkpoints in one attempt, which failed
        with log._write_lock:
            rows = log._db.execute('SELECT count(*), count("offset") FROM enlace_log_checkpoints').fetchone()
        assert rows == (2, 0)  # both kept, neither published
    finally:
        log._publish = None  # the last checkpoint on close has nowhere to go
        log.close()
