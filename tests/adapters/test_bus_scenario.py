"""The four agencies on the real bus, end to end: the demo scenario, its trace in Zipkin, the portal in
a real browser, and an agency killed mid-scenario and restarted.

One stack for the module, started as ``enlace up`` starts it: its own secured local Kafka node (TLS,
SASL/SCRAM, the policy's ACLs synced, each process signed in as its own principal), the session's
Zipkin, a registry and four agency processes; the whole module costs one start-up (under a minute on
2 cores).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest

from adapters import agencies
from bus import load_settings
from bus.records import catalog
from bus.transport import KafkaClientConfig
from ops.signin import sign_in
from ops.stack import Stack, bus_status, citizens, parent_chain, run_demo, status_tables, trace_report
from ops.zipkin import fetch_trace

pytestmark = pytest.mark.integration

PEOPLE = 24
# What the demo submits: a service request per citizen, an information request for every third.
REQUESTS = PEOPLE + (PEOPLE + 2) // 3


def _end_offsets(kafka: KafkaClientConfig) -> dict[str, int]:
    return {t: sum(v["end_offsets"]) for t, v in bus_status(kafka)["topics"].items()}


@pytest.fixture(scope="module")
def stack(zipkin, tmp_path_factory):
    # Laid out as $XDG_STATE_HOME/enlace/{stack,kafka}, so the CLI finds it with XDG_STATE_HOME set.
    state = tmp_path_factory.mktemp("state")
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    running = Stack(root=state / "enlace" / "stack")
    try:
        running.up(load_settings({}), say=print, zipkin_url=zipkin.url)  # no cluster named: a local secured one
        running.offsets_before = _end_offsets(running.client_config())  # type: ignore[attr-defined]
        yield running
    finally:
        running.down(say=print)
        assert not any(p.alive() for p in running.processes)
        if saved is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = saved


def _health(stack, agency: str) -> dict:
    with urllib.request.urlopen(stack.process(agency).health_url, timeout=5) as response:
        return dict(json.loads(response.read()))


def _wait_for(what: str, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not seen within {timeout_s:.0f}s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def scenario(stack):
    """The demo, with the CRM killed (SIGKILL) mid-stream and restarted with a backlog.

    Tied to progress, not to time: the kill comes once the CRM has opened a quarter of the cases,
    the restart once more requests have reached the portal (so records wait for the CRM on Kafka),
    or once the portal holds every request when the demo had already sent them all.
    """
    crm = stack.process("crm")
    result: dict = {}
    runner = threading.Thread(
        target=lambda: result.update(
            demo=run_demo(stack.urls["portal"], accounts=stack.dev_accounts(), people=PEOPLE, timeout_s=150, say=print)
        )
    )
    runner.start()

    def submitted() -> int:
        return sum(_health(stack, "portal")["requests"].values())

    _wait_for("the CRM opening cases", lambda: sum(_health(stack, "crm")["cases"].values()) >= PEOPLE // 4)
    crm.kill()
    at_kill = submitted()
    _wait_for("requests reaching the portal while the CRM is down", lambda: submitted() >= min(at_kill + 3, REQUESTS))
    crm.restart(timeout=60)
    runner.join(timeout=200)
    assert "demo" in result, "the demo did not finish"
    return result["demo"]


def _outbox(stack, agency: str, *, drain_timeout_s: float = 30.0) -> Counter:
    """What the agency committed to its outbox (records by full name), once its connector's publisher
    has sent every row (bounded wait: a record an agency publishes after the portal already shows the
    request settled, e.g. an access-log entry, may still be on its way)."""
    names = {rt.topic: rt.full_name for rt in catalog().records() if rt.topic}
    db = sqlite3.connect(stack.root / "data" / f"{agency}.sqlite3")
    try:
        deadline = time.monotonic() + drain_timeout_s
        unsent = db.execute("SELECT count(*) FROM enlace_outbox WHERE sent_at IS NULL").fetchone()[0]
        while unsent and time.monotonic() < deadline:
            time.sleep(0.2)
            unsent = db.execute("SELECT count(*) FROM enlace_outbox WHERE sent_at IS NULL").fetchone()[0]
        assert unsent == 0, f"{agency}: {unsent} outbox row(s) still unsent after {drain_timeout_s:.0f}s"
        rows = db.execute("SELECT topic, count(*) FROM enlace_outbox GROUP BY topic").fetchall()
        return Counter({names[topic]: count for topic, count in rows})
    finally:
        db.close()


def test_every_request_settles_and_the_invalid_one_is_refused_on_its_field(scenario):
    assert scenario.unsettled == []
    services = [v for v in scenario.final.values() if v["kind"] == "service"]
    infos = [v for v in scenario.final.values() if v["kind"] == "information"]
    assert len(services) == PEOPLE and len(infos) == (PEOPLE + 2) // 3
    assert all(v["case_id"] for v in services)
    assert {v["status"] for v in infos} == {"answered"} and all(v["folio"] and v["deadline"] for v in infos)
    ((_, errors),) = scenario.refused
    assert {e["field"] for e in errors} == {"curp", "consent"}
    assert scenario.trace_id


def _ce_ids(kafka: KafkaClientConfig, topic: str) -> list[str]:
    """The ce_id header of every record on a topic (plain UTF-8: no decoding needed)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        **kafka.client_settings(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        return [dict(m.headers).get("ce_id", b"").decode() for m in consumer]
    finally:
        consumer.close()


def test_each_agency_applied_every_record_once_and_kafka_holds_all_it_published(stack, scenario):
    published = {agency.name: _outbox(stack, agency.name) for agency in agencies()}
    for agency in agencies():  # every record an agency sent is one its declaration names
        assert set(published[agency.name]) <= set(agency.publishes), agency.name
    after = _end_offsets(stack.client_config())
    for agency, counts in published.items():
        for name, count in counts.items():
            topic = catalog().get(name).topic
            delta = after.get(topic, 0) - stack.offsets_before.get(topic, 0)
            # nothing lost: every record an agency committed to its outbox reached Kafka
            assert delta >= count, f"{agency}: {count} {name} in its outbox, only {delta} new on {topic}"
            # a resend after the kill carries the outbox's ce_id: one distinct ce_id per record
            ce_ids = _ce_ids(stack.client_config(), topic)[-delta:]
            assert len(set(ce_ids)) == count, f"{topic}: {len(set(ce_ids))} distinct ce_ids, {count} records"
    crm = published["crm"]
    assert crm["mx.gob.crm.CaseOpened"] == PEOPLE == published["portal"]["mx.gob.portal.ServiceRequestSubmitted"]
    tax_services = sum(
        1 for v in scenario.final.values() if v["topic"] != "RENAPO-CAMBIO-DOMICILIO" and v["kind"] == "service"
    )
    assert crm["mx.gob.crm.TaxpayerStatusRequested"] == tax_services == crm["mx.gob.crm.CaseUpdated"]
    assert published["fiscal"]["mx.gob.sat.TaxpayerStatusReported"] >= tax_services
    # effects, once each: one case per request, one access-log entry per disclosure, one answer each
    db = sqlite3.connect(stack.root / "data" / "crm.sqlite3")
    cases_per_request = db.execute("SELECT request_id, count(*) FROM cases GROUP BY request_id").fetchall()
    db.close()
    assert len(cases_per_request) == PEOPLE and {n for _, n in cases_per_request} == {1}
    db = sqlite3.connect(stack.root / "data" / "portal.sqlite3")
    assert db.execute("SELECT count(*) FROM access_log").fetchone()[0] == PEOPLE + tax_services
    transitions = db.execute("SELECT request_id, status, count(*) FROM history GROUP BY request_id, status").fetchall()
    db.close()
    assert {n for _, _, n in transitions} == {1}, "a status change was applied twice"
    # Only the scenario's own topics: other tests of the session dead-letter on prefixed topics of theirs.
    dead = bus_status(stack.client_config())["dead_letters"]
    assert sum(depth for topic, depth in dead.items() if topic.startswith("mx.gob.")) == 0, dead


@contextlib.contextmanager
def _signed_in(stack, curp: str) -> Iterator[httpx.Client]:
    """A browser signed in to the portal as the demo citizen ``curp`` (through the development sign-in)."""
    (account,) = [a for a in stack.dev_accounts() if a.curp == curp]
    with httpx.Client(base_url=stack.urls["portal"].rstrip("/"), timeout=30) as browser:
        sign_in(browser, stack.urls["portal"], account)
        yield browser


def test_the_citizen_sees_who_read_their_data(stack, scenario):
    request_id = next(i for i, v in scenario.final.items() if v["status"] == "resolved")
    with _signed_in(stack, scenario.owners[request_id]) as browser:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            accesses = browser.get("/api/me/access-log").json()["accesses"]
            if len(accesses) >= 2:
                break
            time.sleep(0.5)
        assert request_id in {r["request_id"] for r in browser.get("/api/me/requests").json()["requests"]}
    assert {a["accessor"] for a in accesses} == {"urn:mx:gob:crm"}
    assert any("rfc" in a["fields"] for a in accesses)
    # without signing in, nobody sees it
    with httpx.Client(base_url=stack.urls["portal"].rstrip("/"), timeout=10) as stranger:
        assert stranger.get("/api/me/access-log").status_code == 401


def _submit_and_settle(stack, person, service: str) -> dict:
    body = {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "service": service,
        "consent": True,
    }
    with _signed_in(stack, person.curp) as browser:
        answer = browser.post("/api/service-requests", json=body).json()
        track = {"request_id": answer["request"]["request_id"], "tracking_code": answer["tracking_code"]}
        deadline = time.monotonic() + 60
        while True:
            view = dict(browser.post("/api/requests/status", json=track).json())
            if view["status"] == "resolved" or time.monotonic() > deadline:
                return view
            time.sleep(0.5)


def test_one_trace_spans_portal_crm_fiscal_crm_portal_with_parent_links_in_zipkin(stack, scenario, zipkin):
    # A request of its own, after the scenario: spans an agency had buffered when it was SIGKILLed
    # are lost with it, so the scenario's traces around the kill may lack a hop.
    person = next(p for p in citizens(40)[PEOPLE:-1] if p.tax_status == "A")
    view = _submit_and_settle(stack, person, "SAT-CONSTANCIA-SITUACION-FISCAL")
    assert view["status"] == "resolved" and view["trace_id"]
    wanted = [
        ("urn:mx:gob:crm", "mx.gob.portal.service-request-submitted"),
        ("urn:mx:gob:sat", "mx.gob.crm.taxpayer-status-requested"),
        ("urn:mx:gob:crm", "mx.gob.sat.taxpayer-status-reported"),
        ("urn:mx:gob:portal", "mx.gob.crm.case-updated"),
    ]
    deadline = time.monotonic() + 30
    while True:
        spans = fetch_trace(zipkin.url, view["trace_id"])
        last = [
            s
            for s in spans
            if s.get("kind") == "CONSUMER" and s.get("tags", {}).get("messaging.destination.name") == wanted[-1][1]
        ]
        chain = parent_chain(spans, last[0]["id"]) if last else []
        if (chain and "parentId" not in chain[0]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert last, f"no span of {wanted[-1]} in trace {view['trace_id']}: {[s['name'] for s in spans]}"
    consumers = [
        (s["tags"].get("enlace.receiver.agency"), s["tags"].get("messaging.destination.name"))
        for s in chain
        if s.get("kind") == "CONSUMER"
    ]
    assert consumers == wanted, [(s.get("kind"), s.get("name")) for s in chain]
    # the root: the portal taking the citizen's HTTP request
    assert "parentId" not in chain[0] and chain[0]["localEndpoint"]["serviceName"] == "urn:mx:gob:portal"
    for parent, child in itertools.pairwise(chain):
        assert child["parentId"] == parent["id"]
        if child.get("kind") == "CONSUMER":
            assert parent.get("kind") == "PRODUCER"
            assert parent["tags"].get("enlace.sender.agency") == child["tags"].get("enlace.sender.agency")
    # enlace trace <ce_id> tells the same story from one record's ce_id
    ce_id = last[0]["tags"]["messaging.message.id"]
    trace_id, hops = trace_report(zipkin.url, ce_id)
    assert trace_id == view["trace_id"]
    assert [(h.receiver, h.topic) for h in hops if (h.receiver, h.topic) in wanted] == wanted
    assert all(h.outcome == "ok" for h in hops)


def test_status_shows_topics_group_lag_dead_letters_and_healthy_adapters(stack, scenario):
    report = status_tables(stack)
    assert "mx.gob.crm.case-opened" in report and "AGENCY GROUPS" in report and "DEAD LETTERS" in report
    health = stack.health()
    assert all(health[name]["healthy"] for name in [*(a.name for a in agencies()), "registry"])


_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not (_CHROMIUM and shutil.which("chromedriver")),
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)
def test_a_citizen_signs_in_on_the_page_submits_sees_case_opened_and_a_wrong_curp_is_refused_next_to_its_field(
    stack, scenario, tmp_path
):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = _CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        person = citizens(40)[-1]  # not among the demo's citizens
        (account,) = [a for a in stack.dev_accounts() if a.curp == person.curp]
        driver.get(stack.urls["portal"])
        WebDriverWait(driver, 10).until(lambda d: len(Select(d.find_element(By.ID, "i-agency")).options) > 1)
        assert not driver.find_element(By.ID, "s-given").is_enabled()  # services need signing in

        # Without signing in: an information request with a wrong check digit, refused next to the CURP.
        form = driver.find_element(By.ID, "information-form")
        wrong = person.curp[:-1] + str((int(person.curp[-1]) + 1) % 10)
        driver.find_element(By.ID, "i-curp").send_keys(wrong)
        Select(driver.find_element(By.ID, "i-agency")).select_by_index(1)
        driver.find_element(By.ID, "i-question").send_keys("What is the budget?")
        driver.find_element(By.ID, "i-consent").click()
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        curp_error = form.find_element(By.CSS_SELECTOR, '.field-error[data-for="curp"]')
        WebDriverWait(driver, 10).until(lambda d: curp_error.text.strip())
        assert "check digit" in curp_error.text and wrong not in curp_error.text
        assert driver.find_element(By.ID, "i-curp").get_attribute("aria-invalid") == "true"

        # Sign in on the development provider's own page, and come back signed in.
        driver.find_element(By.ID, "sign-in").click()
        WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.ID, "development-banner")))
        driver.find_element(By.ID, "login").send_keys(account.login)
        driver.find_element(By.ID, "password").send_keys(account.password)
        driver.find_element(By.ID, "sign-in").click()
        WebDriverWait(driver, 20).until(ec.text_to_be_present_in_element((By.ID, "signed-in-as"), person.curp))
        assert driver.find_element(By.ID, "development-sign-in").is_displayed()

        # A service request as the signed-in citizen: its tracking code shown once, its case opened.
        form = driver.find_element(By.ID, "service-form")
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "s-given").is_enabled())
        for element_id, value in (
            ("s-given", person.given_names),
            ("s-first", person.first_surname),
            ("s-second", person.second_surname),
        ):
            driver.find_element(By.ID, element_id).send_keys(value)
        Select(driver.find_element(By.ID, "s-service")).select_by_value("RENAPO-CAMBIO-DOMICILIO")
        driver.find_element(By.ID, "s-consent").click()
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 10).until(lambda d: form.find_elements(By.CSS_SELECTOR, ".tracking-code"))
        code = form.find_element(By.CSS_SELECTOR, ".tracking-code").text
        request_id = form.find_element(By.CSS_SELECTOR, ".request-id").text
        assert len(code) == 22
        WebDriverWait(driver, 45).until(
            ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#my-requests .request-status"), "case opened")
        )

        # Followed by its id and tracking code alone.
        driver.find_element(By.ID, "f-request").send_keys(request_id)
        driver.find_element(By.ID, "f-code").send_keys(code)
        driver.find_element(By.CSS_SELECTOR, "#follow-form button[type=submit]").click()
        WebDriverWait(driver, 10).until(
            ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#followed-request .request-status"), "case opened")
        )
        driver.save_screenshot(str(tmp_path / "portal.png"))
        blocked = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        assert blocked == []  # the page needs nothing the CSP forbids
    finally:
        driver.quit()


def test_enlace_trace_and_status_commands_read_the_running_stack(stack, scenario):
    env = {**os.environ, "XDG_STATE_HOME": str(stack.root.parent.parent)}
    cli = [sys.executable, "-c", "from ops.cli import main; main()"]
    done = subprocess.run([*cli, "trace", scenario.trace_id], capture_output=True, text=True, timeout=60, env=env)
    # (the scenario's trace: its hops before and after the CRM's restart are there even if one is not)
    assert done.returncode == 0, done.stderr
    assert "urn:mx:gob:crm -> urn:mx:gob:sat" in done.stdout and "mx.gob.sat.taxpayer-status-reported" in done.stdout
    done = subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "portal: http://127.0.0.1:" in done.stdout


def test_the_running_bus_keeps_its_files_private(stack, scenario):
    """Agency databases (and SQLite's -wal/-shm beside them), keys, tokens, Kafka client configurations,
    exports, logs and the state file: every file 0600, every folder 0700, none widened after the fact."""
    import stat as stat_module

    from ops.kafka import state_dir

    wide = []
    for root in (stack.root, state_dir()):
        assert stat_module.S_IMODE(root.stat().st_mode) == 0o700, root
        for path in [root, *root.rglob("*")]:
            inside = path.relative_to(root).parts
            if root == state_dir() and len(inside) > 1 and inside[0] == "cluster":
                continue  # the broker's own data, written by Kafka inside the cluster's 0700 folder
            mode = stat_module.S_IMODE(path.lstat().st_mode)
            if mode & 0o077:
                wide.append(f"{oct(mode)} {path}")
    assert wide == [], "\n".join(wide)
    assert list((stack.root / "data").glob("*.sqlite3-wal")), "the agencies' databases run in WAL mode"


def test_no_curp_or_rfc_of_the_demo_is_in_a_log_or_an_exported_span(stack, scenario, zipkin):
    """Personal identifiers travel in records' payloads (and keys), never in logs or spans: the
    agencies' and the registry's logs and every span Zipkin holds are searched for every CURP and RFC
    the demo sent."""
    import urllib.parse

    people = citizens(PEOPLE)
    identifiers = {p.curp for p in people} | {p.rfc for p in people if p.rfc}
    logs = {path.name: path.read_text(errors="replace") for path in (stack.root / "logs").glob("*.log")}
    assert {"crm.log", "fiscal.log", "portal.log", "transparencia.log", "registry.log"} <= set(logs)
    exported = []
    for agency in agencies():
        query = urllib.parse.urlencode({"serviceName": agency.urn, "limit": 10_000, "lookback": 86_400_000})
        with urllib.request.urlopen(f"{zipkin.url}/api/v2/traces?{query}", timeout=10) as response:
            exported.append(response.read().decode())
    assert any('"kind":"CONSUMER"' in text for text in exported), "the scenario's spans reached Zipkin"
    found = sorted(
        f"{where}: {value[:4]}…"
        for where, text in [*logs.items(), *(("zipkin spans", t) for t in exported)]
        for value in identifiers
        if value in text
    )
    assert found == [], found


def test_the_archive_receives_every_answer_through_the_bridge_only(stack, scenario):
    from ops.stack import BRIDGE_AGENCIES, archive_through_bridge, bridge_client_context

    answered = sum(1 for v in scenario.final.values() if v["kind"] == "information" and v["status"] == "answered")
    assert answered > 0
    context = bridge_client_context(stack.bridge_dir, BRIDGE_AGENCIES[0])
    with httpx.Client(verify=context, timeout=10) as archive:
        document = archive.get(f"{stack.urls['bridge']}/openapi.json").json()
    assert "/v3/clusters/{cluster_id}/catalog/{record_name}/records" in document["paths"]
    assert archive_through_bridge(stack.urls["bridge"], context, expected=answered, timeout_s=90) == answered


def test_a_demo_record_has_a_proof_that_checks_offline_and_an_altered_one_does_not(stack, scenario, tmp_path):
    """The CRM's message log: a record it sent in the demo is proven by a bundle that `enlace log check`
    verifies with nothing but the pinned authority key (no Kafka settings at all); a bundle whose record
    was altered fails, naming why."""
    from connectors import build_proof
    from ops.cli._log import read_topic

    log = stack.root / "data" / "crm.log.sqlite3"
    db = sqlite3.connect(log)
    seq, ce_id = db.execute(
        "SELECT seq, ce_id FROM enlace_log WHERE direction = 'sent' AND outcome = 'acknowledged' ORDER BY seq LIMIT 1"
    ).fetchone()

    def covered() -> bool:
        (count,) = db.execute('SELECT max(count) FROM enlace_log_checkpoints WHERE "offset" IS NOT NULL').fetchone()
        return count is not None and count >= seq

    _wait_for("a published checkpoint covering the CRM's first sent record", covered, timeout_s=120)
    db.close()
    trust = [r.value for r in read_topic(stack.client_config(), load_settings({}).trust_topic) if r.value is not None]
    bundle = build_proof(str(log), ce_id=ce_id, trust_records=trust)
    anchor = stack.root / "keys" / "interop" / "interop.pub"
    offline = {k: v for k, v in os.environ.items() if not k.startswith(("ENLACE_", "XDG_STATE"))}

    def check(document: dict) -> subprocess.CompletedProcess:
        path = tmp_path / f"proof-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps(document))
        command = [sys.executable, "-m", "ops.cli", "log", "check", str(path), "--anchor", str(anchor)]
        return subprocess.run(command, env=offline, capture_output=True, text=True, timeout=60)

    held = check(bundle)
    assert held.returncode == 0, held.stderr
    assert ce_id in held.stdout
    altered = json.loads(json.dumps(bundle))
    value = bytearray(base64.b64decode(altered["entry"]["value"]))
    value[-1] ^= 1
    altered["entry"]["value"] = base64.b64encode(bytes(value)).decode()
    refused = check(altered)
    assert refused.returncode == 1
    assert "does not hold" in refused.stderr
