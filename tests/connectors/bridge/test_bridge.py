"""The HTTP bridge end to end: agencies speaking only HTTPS (httpx with a client certificate) publish and
consume through it, on the real broker and registry, over real mutual TLS."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bus import SignatureError
from bus.transport import Partition, Topics
from connectors.bridge import verify_callback
from ops.process import free_port
from tests.connectors.bridge.conftest import CASES, CRM, PORTAL, SAT, case_json

pytestmark = pytest.mark.integration


def _produce(record: dict) -> dict:
    return {"value": {"type": "JSON", "data": record}}


def _end_offset(served, record_type) -> int:
    topic = served.bus.topic(record_type)
    with Topics(served.bus.kafka) as topics:
        return topics.end_offsets([Partition(topic, 0)])[Partition(topic, 0)]


def test_an_agency_with_only_httpx_publishes_and_another_consumes_with_acknowledgements(served_bridge) -> None:
    served = served_bridge({CRM: None, PORTAL: None})
    with served.client(CRM) as crm, served.client(PORTAL) as portal:
        answer = crm.post(served.records_url, json=_produce(case_json(1)))
        assert answer.status_code == 200, answer.text
        produced = answer.json()
        assert produced["topic_name"] == served.bus.topic(CASES) and produced["error_code"] == 200

        made = portal.post("/v3/clusters/enlace/subscriptions", json={"name": "cases", "records": ["CaseOpened"]})
        assert made.status_code == 201, made.text
        fetched = portal.get("/v3/clusters/enlace/subscriptions/cases/records", params={"max_wait_ms": 30000}).json()
        [record] = fetched["records"]
        assert record["ce_id"] == produced["ce_id"] and record["sender"] == CRM
        assert record["value"]["data"]["caseId"] == "CRM-2025-000001"

        # not acknowledged: leased, not offered to a second fetch before its deadline
        assert (
            portal.get("/v3/clusters/enlace/subscriptions/cases/records", params={"max_wait_ms": 200}).json()["records"]
            == []
        )
        acked = portal.post(
            "/v3/clusters/enlace/subscriptions/cases/acknowledgements", json={"ce_ids": [record["ce_id"]]}
        )
        assert acked.json() == {"acknowledged": 1}

        second = crm.post(served.records_url, json=_produce(case_json(2))).json()
        nxt = portal.get("/v3/clusters/enlace/subscriptions/cases/records", params={"max_wait_ms": 30000}).json()
        assert [r["ce_id"] for r in nxt["records"]] == [second["ce_id"]]

        listed = {r["record"]: r for r in portal.get("/v3/clusters/enlace/catalog").json()["data"]}
        assert listed["mx.gob.crm.CaseOpened"]["may_read"] and not listed["mx.gob.crm.CaseOpened"]["may_publish"]
        assert listed["mx.gob.portal.ServiceRequestSubmitted"]["may_publish"]
        assert "mx.gob.sat.TaxpayerStatusReported" not in listed  # neither its owner nor a reader
        schema = portal.get(f"/v3/clusters/enlace/catalog/{CASES.full_name}/schema").json()
        assert schema["schema"]["name"] == "CaseOpened" and schema["version"] == CASES.version


def test_a_record_not_acknowledged_in_time_is_offered_again_with_the_same_ce_id(served_bridge) -> None:
    served = served_bridge({CRM: None, PORTAL: None}, ack_deadline_s=0.5)
    with served.client(CRM) as crm, served.client(PORTAL) as portal:
        portal.post("/v3/clusters/enlace/subscriptions", json={"name": "slow", "records": [CASES.full_name]})
        ce_id = crm.post(served.records_url, json=_produce(case_json(3))).json()["ce_id"]
        url = "/v3/clusters/enlace/subscriptions/slow/records"
        first = portal.get(url, params={"max_wait_ms": 30000}).json()["records"]
        again = portal.get(url, params={"max_wait_ms": 5000}).json()["records"]
        assert [r["ce_id"] for r in first] == [r["ce_id"] for r in again] == [ce_id]


def test_a_retried_post_with_the_same_idempotency_key_publishes_once(served_bridge) -> None:
    served = served_bridge({CRM: None})
    with served.client(CRM) as crm:
        before = _end_offset(served, CASES)
        headers = {"Idempotency-Key": '"order-7f3a"'}
        first = crm.post(served.records_url, json=_produce(case_json(4)), headers=headers)
        retry = crm.post(served.records_url, json=_produce(case_json(4)), headers=headers)
        assert first.status_code == retry.status_code == 200
        assert first.json() == retry.json()
        assert _end_offset(served, CASES) == before + 1
        other = crm.post(served.records_url, json=_produce(case_json(5)), headers=headers)
        assert other.status_code == 422 and other.json()["problems"][0]["rule"] == "idempotency-key.reused"
        bad = crm.post(served.records_url, json=_produce(case_json(5)), headers={"Idempotency-Key": "\x7f" * 3})
        assert bad.status_code == 400 and bad.json()["problems"][0]["path"] == "/headers/Idempotency-Key"
        assert _end_offset(served, CASES) == before + 1


def test_an_agency_credential_cannot_publish_another_agency_record(served_bridge) -> None:
    served = served_bridge({CRM: None, PORTAL: None})
    with served.client(PORTAL) as portal:
        before = _end_offset(served, CASES)
        refused = portal.post(served.records_url, json=_produce(case_json(6)))
        assert refused.status_code == 403
        assert refused.json()["problems"][0]["rule"] == "policy.owner"
        reading = portal.post(
            "/v3/clusters/enlace/subscriptions", json={"name": "tax", "records": ["TaxpayerStatusReported"]}
        )
        assert reading.status_code == 403 and reading.json()["problems"][0]["rule"] == "policy.reader"
        assert _end_offset(served, CASES) == before
    with served.client(SAT) as stranger:  # a certificate from the bridge's CA, for an agency it does not serve
        assert stranger.get("/v3/clusters/enlace/catalog").status_code == 403


def test_a_client_without_a_certificate_is_refused_at_the_handshake(served_bridge) -> None:
    served = served_bridge({CRM: None})
    context = ssl.create_default_context(cafile=str(served.certificates.ca_file))
    with httpx.Client(base_url=served.url, verify=context) as anonymous, pytest.raises(httpx.TransportError):
        anonymous.get("/v3/clusters/enlace/catalog").read()


_CLI_PROBLEM = re.compile(r"^.*?:(\d+): (\S+): \[(\S+)\] (.*) \(value: .*\)$")


def test_the_cli_and_the_bridge_refuse_the_same_bad_records_with_the_same_problems(served_bridge, tmp_path) -> None:
    served = served_bridge({CRM: None})
    bad = [
        case_json(7) | {"caseId": "not a case id"},
        case_json(8) | {"openedAt": "yesterday", "channel": "carrier-pigeon"},
        {k: v for k, v in case_json(9).items() if k != "caseId"},
    ]
    file = tmp_path / "bad.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in bad) + "\n")
    code = "import sys; from ops.cli import main; sys.argv = ['enlace', *sys.argv[1:]]; main()"
    cli = subprocess.run(
        [sys.executable, "-c", code, "publish", "CaseOpened", str(file), "--agency", CRM, "--key-file", "unused"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 1, cli.stderr
    from_cli = {m.groups() for m in map(_CLI_PROBLEM.match, cli.stderr.splitlines()) if m}
    with served.client(CRM) as crm:
        body = "\n".join(json.dumps(_produce(r)) for r in bad) + "\n"
        answer = crm.post(served.records_url, content=body, headers={"content-type": "application/x-ndjson"})
    assert answer.status_code == 422, answer.text
    from_bridge = {
        (str(r["line"]), p["path"], p["rule"], p["message"]) for r in answer.json()["results"] for p in r["problems"]
    }
    assert len(from_cli) >= 3
    assert from_bridge == from_cli


def test_a_batch_reports_every_line(served_bridge) -> None:
    served = served_bridge({CRM: None})
    lines = [json.dumps(_produce(case_json(10))), "{not json", json.dumps(_produce(case_json(11) | {"caseId": "x"}))]
    with served.client(CRM) as crm:
        answer = crm.post(
            served.records_url, content="\n".join(lines), headers={"content-type": "application/x-ndjson"}
        )
    assert answer.status_code == 207
    results = answer.json()["results"]
    assert [(r["line"], r["error_code"]) for r in results] == [(1, 200), (2, 400), (3, 422)]
    assert results[1]["problems"][0]["rule"] == "json"


class _FlakyWebhook(BaseHTTPRequestHandler):
    failures_left = 3
    received: ClassVar[list[tuple[dict, bytes]]] = []
    accepted = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append((dict(self.headers), body))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()
        type(self).accepted.set()

    def log_message(self, *args) -> None:
        pass


def test_a_webhook_that_fails_three_times_then_succeeds_receives_the_record_once_signed(served_bridge) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/enlace/cases"
    server = ThreadingHTTPServer(("127.0.0.1", port), _FlakyWebhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        served = served_bridge({CRM: None, PORTAL: url})
        with served.client(CRM) as crm, served.client(PORTAL) as portal:
            made = portal.post(
                "/v3/clusters/enlace/subscriptions",
                json={"name": "hook", "records": [CASES.full_name], "delivery": "webhook"},
            )
            assert made.status_code == 201, made.text
            ce_id = crm.post(served.records_url, json=_produce(case_json(12))).json()["ce_id"]
            assert _FlakyWebhook.accepted.wait(60)
            [jwk] = portal.get("/v3/webhook-keys").json()["keys"]
        running = served.bridge._running[(PORTAL, "hook")]
        served.bridge.unsubscribe(PORTAL, "hook")  # commits what was delivered: nothing is redelivered
        assert running.subscription.applied == 1 and running.subscription.dead_lettered == 0
        assert len(_FlakyWebhook.received) == 4  # three refused attempts, one accepted
        headers, body = _FlakyWebhook.received[-1]
        assert json.loads(body)["ce_id"] == ce_id
        import base64

        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
        verify_callback(url, headers, body, key)
        with pytest.raises(SignatureError, match="content-digest"):
            verify_callback(url, headers, body.replace(b"CRM", b"XRM"), key)
        with pytest.raises(SignatureError, match="does not verify"):
            verify_callback(url + "x", headers, body, key)
    finally:
        server.shutdown()
        server.server_close()


def test_curl_publishes_and_fetches_as_the_readme_shows(served_bridge, tmp_path) -> None:
    served = served_bridge({CRM: None, PORTAL: None})
    tls = {}
    for agency in (CRM, PORTAL):
        cert, key = served.certificates.issue(agency, served.directory / "clients")
        tls[agency] = ["--cert", str(cert), "--key", str(key), "--cacert", str(served.certificates.ca_file)]
    body = tmp_path / "case.json"
    body.write_text(json.dumps(_produce(case_json(40))))

    def curl(agency: str, *args: str) -> dict:
        done = subprocess.run(
            ["curl", "-sS", "--fail-with-body", *tls[agency], *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    produced = curl(
        CRM,
        "-H",
        "Content-Type: application/json",
        "-H",
        'Idempotency-Key: "case-40"',
        "--data-binary",
        f"@{body}",
        f"{served.url}{served.records_url}",
    )
    subscriptions = f"{served.url}/v3/clusters/enlace/subscriptions"
    curl(
        PORTAL,
        "-H",
        "Content-Type: application/json",
        "--data",
        '{"name": "curl", "records": ["CaseOpened"]}',
        subscriptions,
    )
    fetched = curl(PORTAL, f"{subscriptions}/curl/records?max_wait_ms=30000")
    assert [r["ce_id"] for r in fetched["records"]] == [produced["ce_id"]]
    acked = curl(
        PORTAL,
        "-H",
        "Content-Type: application/json",
        "--data",
        json.dumps({"ce_ids": [produced["ce_id"]]}),
        f"{subscriptions}/curl/acknowledgements",
    )
    assert acked == {"acknowledged": 1}


def test_the_worst_bodies_and_headers_get_a_4xx_naming_the_problem(served_bridge) -> None:
    served = served_bridge({CRM: None})
    url = served.records_url
    with served.client(CRM) as crm:
        huge = crm.post(
            url, content=b"{" + b" " * (5 * 1024 * 1024) + b"}", headers={"content-type": "application/json"}
        )
        assert huge.status_code == 413
        deep = crm.post(url, content=b"[" * 200_000, headers={"content-type": "application/json"})
        assert deep.status_code == 400 and deep.json()["problems"][0]["rule"] == "json"
        not_utf8 = crm.post(url, content=b"\xff\xfe{}", headers={"content-type": "application/x-ndjson"})
        assert not_utf8.status_code == 400 and not_utf8.json()["problems"][0]["rule"] == "utf-8"
        wrong_type = crm.post(url, content=b"caseId=1", headers={"content-type": "application/x-www-form-urlencoded"})
        assert wrong_type.status_code == 415
        extra = crm.post(url, json={"value": {"data": case_json(50)}, "key": "x"})
        assert extra.status_code == 422 and extra.json()["problems"][0]["path"] == "/key"
        unknown = crm.post("/v3/clusters/enlace/catalog/mx.gob.crm.NoSuchThing/records", json=_produce(case_json(51)))
        assert unknown.status_code == 404 and unknown.json()["error_code"] == 404
        too_long = crm.post(url, json=_produce(case_json(52)), headers={"Idempotency-Key": "k" * 300})
        assert too_long.status_code == 400
        bad_wait = crm.get("/v3/clusters/enlace/subscriptions/none/records", params={"max_wait_ms": "soon"})
        assert bad_wait.status_code == 422 and bad_wait.json()["problems"]
        bad_name = crm.post("/v3/clusters/enlace/subscriptions", json={"name": "../../etc", "records": ["CaseOpened"]})
        assert bad_name.status_code == 422 and bad_name.json()["problems"][0]["rule"] == "subscription.name"
