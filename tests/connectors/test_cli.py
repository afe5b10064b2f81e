"""``enlace publish``, ``enlace consume`` and ``enlace dlq`` from a terminal, on the real broker and registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from kafka import KafkaConsumer, KafkaProducer

from bus import load_settings
from bus.records import catalog
from bus.transport import Topics
from ops.acl import Access

pytestmark = pytest.mark.integration

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
CASES = catalog().get("CaseOpened")


def _case_json(i: int) -> str:
    example = CASES.example() | {
        "caseId": f"CRM-2025-{i:06d}",
        "openedAt": "2025-06-02T15:10:00Z",
        "slaDueDate": "2025-06-06",
    }
    return json.dumps(example)


@pytest.fixture
def cli(kafka, registered, unique_name, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "ENLACE_KAFKA_CONFIG": str(kafka.client_config().write_properties(tmp_path / "kafka.properties")),
        "ENLACE_REGISTRY_URL": registered,
        "ENLACE_TRUST_TOPIC": unique_name("trust"),
        "ENLACE_TOPIC_PREFIX": unique_name("cli") + ".",
    }
    settings = load_settings({}).model_copy(
        update={"topic_prefix": env["ENLACE_TOPIC_PREFIX"], "trust_topic": env["ENLACE_TRUST_TOPIC"]}
    )
    with Topics(kafka.client_config()) as topics:
        Access.of(catalog(), settings).create_topics(topics)  # as `enlace acl sync` does on a real bus

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        code = "import sys; from ops.cli import main; sys.argv = ['enlace', *sys.argv[1:]]; main()"
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=180)
        if check:
            assert done.returncode == 0, done.stderr[-3000:]
        return done

    run.env = env
    run.kafka = kafka.client_config()
    run.topic = env["ENLACE_TOPIC_PREFIX"] + CASES.topic
    made = run("agency", "keygen", "urn:mx:gob:interop", "--out", str(tmp_path / "authority"))
    env["ENLACE_AUTHORITY_KEY"] = made.stdout.splitlines()[-1]
    env["ENLACE_TRUST_ANCHOR"] = env["ENLACE_AUTHORITY_KEY"].removesuffix(".key") + ".pub"
    keys = {}
    for agency in (CRM, PORTAL):
        keys[agency] = run("agency", "keygen", agency, "--out", str(tmp_path / "keys")).stdout.splitlines()[-1]
        run("agency", "publish-key", "--agency", agency, "--key-file", keys[agency])
    run.keys = keys
    return run


def test_publish_json_lines_then_consume_them_verified(cli, tmp_path):
    records = tmp_path / "cases.jsonl"
    records.write_text("\n".join(_case_json(i) for i in range(3)) + "\n")
    published = cli("publish", "CaseOpened", str(records), "--agency", CRM, "--key-file", cli.keys[CRM])
    lines = [line.split("\t") for line in published.stdout.splitlines()]
    assert [(topic, int(offset)) for topic, _, offset, _ in lines] == [(cli.topic, 0), (cli.topic, 1), (cli.topic, 2)]

    consumed = cli("consume", cli.topic, "--agency", PORTAL, "--from-beginning", "--max", "3")
    received = [json.loads(line) for line in consumed.stdout.splitlines()]
    assert [r["ce_id"] for r in received] == [ce_id for *_, ce_id in lines]
    assert {r["sender"] for r in received} == {CRM}
    assert [r["subject"] for r in received] == ["CRM-2025-000000", "CRM-2025-000001", "CRM-2025-000002"]
    assert received[0]["record"]["caseId"] == "CRM-2025-000000"


def test_publish_refuses_the_whole_file_when_one_line_is_invalid(cli, tmp_path):
    records = tmp_path / "cases.jsonl"
    bad = json.loads(_case_json(2)) | {"citizenCurp": "PEGL031108MDFRNCA5"}
    records.write_text(_case_json(1) + "\n" + json.dumps(bad) + "\n")
    refused = cli("publish", "CaseOpened", str(records), "--agency", CRM, "--key-file", cli.keys[CRM], check=False)
    assert refused.returncode == 1
    assert f"{records}:2: /citizenCurp" in refused.stderr and "nothing was published" in refused.stderr
    consumer = KafkaConsumer(
        cli.topic,
        **cli.kafka.client_settings(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    assert list(consumer) == []
    consumer.close()


def test_a_tampered_record_is_dead_lettered_not_printed_then_listed_and_replayed(cli, tmp_path):
    records = tmp_path / "case.json"
    records.write_text(_case_json(7))
    cli("publish", "CaseOpened", str(records), "--agency", CRM, "--key-file", cli.keys[CRM])
    consumer = KafkaConsumer(
        cli.topic, **cli.kafka.client_settings(), auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    original = next(iter(consumer))
    consumer.close()
    producer = KafkaProducer(**cli.kafka.client_settings())
    forged = [(n, b"CRM-2025-000999" if n == "ce_subject" else v) for n, v in original.headers]
    producer.send(cli.topic, key=original.key, value=original.value, headers=forged)
    producer.flush()
    producer.close()

    consumed = cli("consume", cli.topic, "--agency", PORTAL, "--from-beginning", "--max", "2")
    assert len(consumed.stdout.splitlines()) == 1, "only the genuine record is printed"

    listed = cli("dlq", "list", cli.topic)
    assert f"{cli.topic}[0]@1" in listed.stdout and "reason=bad-signature" in listed.stdout
    assert "BadSignature" in listed.stdout
    # Replay verifies before sending: the altered record is refused, never put back on the topic.
    replayed = cli("dlq", "replay", cli.topic)
    assert "0 dead letter(s) replayed, 1 refused" in replayed.stdout
    assert "refused #0" in replayed.stderr and "bad-signature" in replayed.stderr
    assert "(refused)" in cli("dlq", "list", cli.topic).stdout


def test_revoke_key_makes_receivers_dead_letter_that_keys_records(cli, tmp_path):
    records = tmp_path / "case.json"
    records.write_text(_case_json(8))
    cli("publish", "CaseOpened", str(records), "--agency", CRM, "--key-file", cli.keys[CRM])
    revoked = cli("agency", "revoke-key", "--agency", CRM, "--key-file", cli.keys[CRM], "--reason", "key leaked")
    assert "revoked ed25519:" in revoked.stdout
    consumed = cli("consume", cli.topic, "--agency", PORTAL, "--from-beginning", "--max", "1")
    assert consumed.stdout == ""
    assert "reason=revoked-key" in cli("dlq", "list", cli.topic).stdout


def test_a_record_whose_key_was_published_late_is_replayed_once_the_key_is_known(cli, tmp_path):
    late = cli("agency", "keygen", CRM, "--out", str(tmp_path / "late")).stdout.splitlines()[-1]
    records = tmp_path / "case.json"
    records.write_text(_case_json(9))
    cli("publish", "CaseOpened", str(records), "--agency", CRM, "--key-file", late)
    assert cli("consume", cli.topic, "--agency", PORTAL, "--group", "g1", "--from-beginning", "--max", "1").stdout == ""
    assert "reason=unknown-key" in cli("dlq", "list", cli.topic).stdout

    cli("agency", "publish-key", "--agency", CRM, "--key-file", late.removesuffix(".key") + ".pub")
    replayed = cli("dlq", "replay", cli.topic)
    assert "1 dead letter(s) replayed, 0 refused" in replayed.stdout
    assert f"replayed #0 to {cli.topic}" in replayed.stdout
    assert "(replayed)" in cli("dlq", "list", cli.topic).stdout
    consumed = cli("consume", cli.topic, "--agency", PORTAL, "--group", "g1", "--max", "1")
    assert json.loads(consumed.stdout)["subject"] == "CRM-2025-000009", "the replayed record verifies and is applied"
