"""Benchmark: one portal request's round trip — submission → case opened (CRM) → status visible.

The portal and the CRM run as they do on the bus, each in its own process (its own core and GIL),
on one secured single-node Kafka (TLS, SASL/SCRAM-SHA-512, ACLs; every client signs in as the
operator), with signatures on and tracing off (no ``OTEL_*`` variables, as by default):

  portal: ``PortalDesk.submit_service_request`` (what ``POST /api/service-requests`` calls: the form
      read, the request stored and its ServiceRequestSubmitted emitted in one transaction) → the
      portal's outbox publisher sends it;
  CRM: its consumer reads it, ``CrmDesk.on_service_request`` opens a case and emits CaseOpened,
      the batch commits → the CRM's outbox publisher sends it;
  portal: its consumer reads CaseOpened, ``PortalDesk.on_case_opened`` changes the request's status,
      the batch commits: the status is visible (read back through the portal store's read-only
      connection, as the status page reads it, right after each commit).

Requests are submitted at a steady rate (default 200/s for 10 s) for the service that needs no
fiscal check (RENAPO-CAMBIO-DOMICILIO), so exactly these two hops happen. Printed: p50/p99 of the
whole round trip and of each leg (submission; submission → the CRM's handler, from the case's
``opened_at``; CRM handler → the portal's handler; the portal's handler → visible).

The baseline in the same run: the same two hops with bare kafka-python (``PRODUCER_DEFAULTS``,
``CONSUMER_DEFAULTS``), a producer → an echo process that sends each record on → a consumer, records
of the connector's size, at the same rate; the ratios are the connector's figures over it.

Schemas come from an in-memory source registered in the same order in both processes (the codec
caches the registry's answers after the first record anyway); the HTTP layer and the sign-in are
not part of the run.

Run: ``python -m ops.bench.portal [--rate R] [--seconds S] [--consumer-config JSON] [--commit-interval S]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from adapters.crm import SCHEMA as CRM_SCHEMA
from adapters.crm import CrmDesk
from adapters.portal import SCHEMA as PORTAL_SCHEMA
from adapters.portal import PortalDesk
from bus import load_settings
from bus.codec import Codec, InMemorySchemaSource
from bus.identity import AUTHORITY, TrustedKey, generate_key, publish_trusted_key
from bus.records import catalog
from bus.records.models import CaseOpened
from bus.transport import (
    CONSUMER_DEFAULTS,
    PRODUCER_DEFAULTS,
    KafkaClientConfig,
    Topics,
    agency_group,
    read_client_properties,
)
from connectors import AgencyConnector, Received
from ops.kafka import start_cluster
from ops.stack import citizens

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
SERVICE = "RENAPO-CAMBIO-DOMICILIO"  # the CRM opens a case and asks no one else
# Both processes register these first, in this order: the in-memory ids agree (1, 2, ...).
_SCHEMA_ORDER = ("ServiceRequestSubmitted", "CaseOpened", "CaseUpdated", "TaxpayerStatusRequested")
_WARM_UP = 20
_RAW_BYTES = 1200  # about a signed ServiceRequestSubmitted's value and headers
_SELF = [sys.executable, "-m", "ops.bench.portal"]


def _topics_read() -> list[str]:
    from adapters.crm import RECORDS_READ as CRM_READS
    from adapters.portal import RECORDS_READ as PORTAL_READS

    records = catalog()
    return sorted({str(records.for_model(m).topic) for m in (*CRM_READS, *PORTAL_READS)})


def _source() -> InMemorySchemaSource:
    source, records = InMemorySchemaSource(), catalog()
    codec = Codec(source)
    for name in _SCHEMA_ORDER:
        codec.schema_id(records.get(name))
    return source


_CHECKPOINTS = "checkpoints"


def _connector(agency: str, *, setup: dict[str, str], key: Any, schema: str) -> AgencyConnector:
    settings = load_settings({}).model_copy(
        update={
            "kafka_config": setup["properties"],
            "trust_topic": setup["trust_topic"],
            "trust_anchor": setup["anchor"],
            "topic_prefix": setup["prefix"],
            "checkpoint_topic": setup["prefix"] + _CHECKPOINTS,
        }
    )
    return AgencyConnector(
        agency,
        key=key,
        settings=settings,
        schema_source=_source(),
        store_path=Path(setup["workdir"]) / f"{agency.rsplit(':', 1)[-1]}.sqlite3",
        store_schema=schema,
        consumer_config=json.loads(setup["consumer_config"]),
    )


def _dispatch(handlers: dict[type, Any]) -> Any:
    """The runtime's handler: the desk's handler of the record's type (``adapters._runtime``)."""

    def handle(record: Any, received: Received) -> None:
        handlers[type(record)](record, received)

    return handle


def _crm_process(setup: dict[str, str]) -> None:
    """The CRM as an agency process: its desk's handlers on its connector until SIGTERM."""
    connector = _connector(CRM, setup=setup, key=setup["crm_key"], schema=CRM_SCHEMA)
    desk = CrmDesk(connector.store)
    connector.subscribe(
        list(desk.handlers()),
        group=agency_group(CRM, "crm"),
        handler=_dispatch(desk.handlers()),
        commit_interval_s=float(setup["commit_interval_s"]),
    )
    print("ready", flush=True)
    try:
        connector.run()
    finally:
        connector.close()


class _PortalRun:
    """The portal in this process: submissions from the caller's thread, its consumer in another."""

    def __init__(self, setup: dict[str, str], key: Any) -> None:
        self.connector = _connector(PORTAL, setup=setup, key=key, schema=PORTAL_SCHEMA)
        self.desk = PortalDesk(self.connector.store)
        self._lock = threading.Condition()
        self.submitted: dict[str, tuple[float, float]] = {}  # request id -> (start, accepted)
        self.handled: dict[str, tuple[float, float]] = {}  # request id -> (crm opened_at, portal handler)
        self.visible: dict[str, float] = {}
        handlers = self.desk.handlers()
        on_case_opened = handlers[CaseOpened]

        def case_opened(record: CaseOpened, received: Received) -> None:
            on_case_opened(record, received)
            with self._lock:
                self.handled[str(record.service_request_id)] = (record.opened_at.timestamp(), time.time())

        handlers[CaseOpened] = case_opened
        store = self.connector.store
        after_commit = store.committed

        def committed() -> None:
            now = time.time()
            self._seen_visible(now)
            after_commit()

        store.committed = committed
        self.connector.subscribe(
            list(handlers),
            group=agency_group(PORTAL, "portal"),
            handler=_dispatch(handlers),
            commit_interval_s=float(setup["commit_interval_s"]),
        )
        self._thread = threading.Thread(target=self.connector.run, name="portal-consumer", daemon=True)
        self.people = [(c.curp, c) for c in citizens(40)]

    def _seen_visible(self, now: float) -> None:
        """After any commit: which handled requests the status page now shows as opened."""
        with self._lock:
            waiting = [rid for rid in self.handled if rid not in self.visible]
        for request_id in waiting:
            view = self.desk.store.request(request_id)
            if view is not None and view.status != "submitted":
                with self._lock:
                    self.visible[request_id] = now
                    self._lock.notify_all()

    def start(self) -> None:
        self._thread.start()

    def submit(self, i: int) -> None:
        _, person = self.people[i % len(self.people)]
        payload = {
            "curp": person.curp,
            "given_names": person.given_names,
            "first_surname": person.first_surname,
            "second_surname": person.second_surname,
            "email": "bench@example.mx",
            "service": SERVICE,
            "details": "benchmark request",
            "consent": True,
        }
        started = time.time()
        accepted, problems = self.desk.submit_service_request(payload)
        assert accepted is not None, problems
        with self._lock:
            self.submitted[accepted.request.request_id] = (started, time.time())

    def wait_visible(self, count: int, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.visible) >= count, timeout=timeout)

    def reset(self) -> None:
        with self._lock:
            self.submitted.clear()
            self.handled.clear()
            self.visible.clear()

    def legs(self) -> dict[str, list[float]]:
        """Seconds per request: the whole round trip and each leg."""
        out: dict[str, list[float]] = {"round trip": [], "submission": [], "to CRM": [], "CRM to portal": []}
        out["to visible"] = []
        with self._lock:
            for request_id, (started, accepted) in self.submitted.items():
                if request_id not in self.visible:
                    continue
                opened, handled = self.handled[request_id]
                out["round trip"].append(self.visible[request_id] - started)
                out["submission"].append(accepted - started)
                out["to CRM"].append(opened - started)
                out["CRM to portal"].append(handled - opened)
                out["to visible"].append(self.visible[request_id] - handled)
        return out

    def stop(self) -> None:
        self.connector.stop()
        self._thread.join(timeout=30)
        self.connector.close()


def _paced(action: Any, count: int, rate: int) -> None:
    start = time.perf_counter()
    for i in range(count):
        pause = start + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        action(i)


def _setup(kafka: KafkaClientConfig, workdir: Path, consumer_config: str, commit_interval_s: float) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:8]
    setup = {
        "consumer_config": consumer_config,
        "commit_interval_s": str(commit_interval_s),
        "properties": str(kafka.write_properties(workdir / "kafka.properties")),
        "trust_topic": f"bench-trust-{run_id}",
        "prefix": f"bench-portal-{run_id}.",
        "workdir": str(workdir),
    }
    authority = generate_key(AUTHORITY)
    setup["anchor"] = str(authority.save(workdir / "authority").with_suffix(".pub"))
    for agency in (CRM, PORTAL):
        key = generate_key(agency)
        publish_trusted_key(kafka, TrustedKey.for_key(key), authority=authority, topic=setup["trust_topic"])
        setup[f"{agency.rsplit(':', 1)[-1]}_key"] = str(key.save(workdir / agency.rsplit(":", 1)[-1]))
    topics = Topics(kafka)
    # The agencies' message logs checkpoint to a topic of the run's own, made as enlace acl sync makes it.
    topics.ensure_all({setup["prefix"] + name: (1, -1, {}) for name in [*_topics_read(), _CHECKPOINTS]})
    topics.close()
    return setup


def _connector_run(
    kafka: KafkaClientConfig, workdir: Path, rate: int, seconds: float, consumer_config: str, commit_interval_s: float
) -> dict[str, list[float]]:
    setup = _setup(kafka, workdir, consumer_config, commit_interval_s)
    crm = subprocess.Popen([*_SELF, "--crm", json.dumps(setup)], stdout=subprocess.PIPE, text=True)
    portal = None
    try:
        assert crm.stdout is not None and crm.stdout.readline().strip() == "ready", "the CRM did not start"
        portal = _PortalRun(setup, setup["portal_key"])
        portal.start()
        for i in range(_WARM_UP):  # joins both groups, fills the codecs' and trust stores' caches
            portal.submit(i)
        assert portal.wait_visible(_WARM_UP, timeout=120), "the warm-up requests did not come back"
        portal.reset()
        total = int(rate * seconds)
        _paced(portal.submit, total, rate)
        assert portal.wait_visible(total, timeout=60), f"only {len(portal.visible)} of {total} came back"
        return portal.legs()
    finally:
        if portal is not None:
            portal.stop()
        crm.terminate()
        crm.wait(timeout=30)


def _echo_process(properties: str, inbound: str, outbound: str) -> None:
    """The baseline's middle hop: bare kafka-python reading each record and sending it on."""
    kafka = KafkaClientConfig(**read_client_properties(properties))
    consumer = KafkaConsumer(inbound, **kafka.client_settings(), group_id="bench-echo", **CONSUMER_DEFAULTS)
    producer = KafkaProducer(**kafka.client_settings(), **PRODUCER_DEFAULTS)
    # SIGTERM ends the loop at its next poll: a KeyboardInterrupt raised inside kafka-python's wait
    # could be lost there, and the echo then outlived the benchmark (seen once: the run failed).
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print("ready", flush=True)
    try:
        while not stopping.is_set():
            batches = consumer.poll(timeout_ms=500)
            for batch in batches.values():
                for message in batch:
                    producer.send(outbound, key=message.key, value=message.value, headers=message.headers)
            if batches:
                consumer.commit_async()
    finally:
        producer.close()
        consumer.close()


def _raw_run(kafka: KafkaClientConfig, workdir: Path, rate: int, seconds: float) -> list[float]:
    run_id = uuid.uuid4().hex[:8]
    there, back = f"bench-raw-there-{run_id}", f"bench-raw-back-{run_id}"
    topics = Topics(kafka)
    topics.ensure_all({there: (1, -1, {}), back: (1, -1, {})})
    topics.close()
    properties = str(kafka.write_properties(workdir / f"raw-{run_id}.properties"))
    echo = subprocess.Popen([*_SELF, "--echo", properties, there, back], stdout=subprocess.PIPE, text=True)
    consumer = KafkaConsumer(back, **kafka.client_settings(), group_id="bench-raw-back", **CONSUMER_DEFAULTS)
    producer = KafkaProducer(**kafka.client_settings(), **PRODUCER_DEFAULTS)
    sent: dict[int, float] = {}
    arrived: dict[int, float] = {}
    done = threading.Condition()
    stopping = threading.Event()

    def receive() -> None:
        while not stopping.is_set():
            for batch in consumer.poll(timeout_ms=100).values():
                now = time.time()
                with done:
                    for message in batch:
                        arrived[int.from_bytes(message.value[:8], "big")] = now
                    done.notify_all()

    receiver = threading.Thread(target=receive, name="raw-back", daemon=True)
    padding = os.urandom(_RAW_BYTES - 8)

    def send(i: int) -> None:
        sent[i] = time.time()
        producer.send(there, key=b"k%d" % (i % 40), value=i.to_bytes(8, "big") + padding)

    try:
        assert echo.stdout is not None and echo.stdout.readline().strip() == "ready", "the echo did not start"
        receiver.start()
        total = int(rate * seconds)
        for i in range(_WARM_UP):
            send(total + i)
        with done:
            assert done.wait_for(lambda: len(arrived) >= _WARM_UP, timeout=120), "the warm-up did not come back"
        _paced(send, total, rate)
        with done:
            assert done.wait_for(lambda: len(arrived) >= total + _WARM_UP, timeout=60), "records did not come back"
        return [arrived[i] - sent[i] for i in range(total)]
    finally:
        stopping.set()
        receiver.join(timeout=10)
        producer.close()
        consumer.close()
        echo.terminate()  # the echo closes its clients
        try:
            echo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            echo.kill()
            echo.wait(timeout=30)


def _p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0.5: the median)."""
    ordered = sorted(values)
    return statistics.median(ordered) if q == 0.5 else ordered[max(0, int(len(ordered) * q) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument(
        "--consumer-config",
        default="{}",
        help="both agencies' consumer settings over the defaults, as JSON (e.g. '{\"fetch_max_wait_ms\": 100}')",
    )
    parser.add_argument(
        "--commit-interval",
        type=float,
        default=1.0,
        help="both agencies' commit_interval_s (seconds a batch may stay open; the connector's default 1)",
    )
    parser.add_argument("--crm", help=argparse.SUPPRESS)
    parser.add_argument("--echo", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.crm:
        _crm_process(json.loads(args.crm))
        return
    if args.echo:
        _echo_process(*args.echo)
        return

    settings = load_settings()
    cluster = start_cluster(settings, nodes=1)
    try:
        with tempfile.TemporaryDirectory(prefix="enlace-bench-portal-") as workdir:
            kafka = cluster.client_config()
            raw = _raw_run(kafka, Path(workdir), args.rate, args.seconds)
            legs = _connector_run(
                kafka, Path(workdir), args.rate, args.seconds, args.consumer_config, args.commit_interval
            )
    finally:
        cluster.stop()
    how = "secured (TLS + SASL/SCRAM-SHA-512)" if kafka.sasl_mechanism else "insecure"
    count = len(legs["round trip"])
    print(
        f"{count:,} portal requests at {args.rate}/s for {args.seconds:.0f}s, single-node Kafka, {how}, "
        f"signatures on, tracing off ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)"
    )
    raw50, raw99 = _p(raw, 0.5), _p(raw, 0.99)
    print(f"baseline: bare kafka-python, two hops      p50 {raw50 * 1e3:6.1f} ms  p99 {raw99 * 1e3:6.1f} ms")
    for leg, values in legs.items():
        p50, p99 = _p(values, 0.5), _p(values, 0.99)
        line = f"connector: {leg:<30} p50 {p50 * 1e3:6.1f} ms  p99 {p99 * 1e3:6.1f} ms"
        if leg == "round trip":
            line += f"   ratio to baseline: p50 {p50 / raw50:.2f}  p99 {p99 / raw99:.2f}"
        print(line)


if __name__ == "__main__":
    main()
