"""Benchmark: the agency connector's pipeline against raw kafka-python, on one local Kafka node.

Publishes then consumes N records (default 50,000) of a typical shared record (CaseOpened v2) three
ways in one run, on one single-node cluster:

  (a) raw kafka-python sending and receiving the very bytes (b) produces (key, value, envelope
      headers), with the connector's producer and consumer settings (``PRODUCER_DEFAULTS``: acks=all,
      idempotence, linger 5 ms; ``CONSUMER_DEFAULTS``: read_committed, 500 records a poll) and an
      offset commit a second, as (b) commits;
  (b) the connector with signatures off: validate, encode, envelope, send; receive, decode into
      the typed model, handler (a counter), processed-id store, commit;
  (c) the full connector: (b) plus Ed25519 signing and verification against the trust topic (its
      records carry two more headers than (a)'s, the signature and the key id).

Each side's clock runs from before its producer or consumer is made until it is done: publishing
until every record is acknowledged, consuming until the consumer is closed (the connector closes its
consumer before ``run`` returns).

Prints records/s for each (publish, consume, and both together) and the ratios to (a); then
p50/p99 publish-to-handler latency of (c) at a steady 1,000 records/s (publisher and receiver in
separate processes, from ce_time to the handler's clock); then where (c) spends its
time per record (each step timed alone, and a cProfile of the consuming loop). Tracing is off (no
OTEL_* variables), as it is by default. Schemas come from an in-memory source: the codec caches the
registry's answers after the first record anyway.

The node is secured as ``enlace up``'s is (TLS, SASL/SCRAM-SHA-512, ACLs; every client signs in as the
operator); unless ``--no-compare-insecure``, (a) and (c) also run on an insecure node, interleaved
with runs on the secured one, and the ratio is the cost of TLS + SCRAM.

With ``--clients kafka-python,confluent`` (the default when confluent-kafka is installed) it also
compares the client libraries (``ENLACE_KAFKA_CLIENT``): (a') bare confluent-kafka sending and
receiving (a)'s bytes with the same settings in librdkafka's names (``bus.transport.producer_properties``
and ``consumer_properties``) and the same commits, and (b), (c) on each library, interleaved
``--rounds`` times (medians), printing the confluent / kafka-python ratios; and the latency of (c) on
confluent. ``--throughput-only`` stops after the throughput runs.

Run: ``python -m ops.bench.pipeline [--records N] [--rate R] [--seconds S] [--no-compare-insecure]
[--clients kafka-python,confluent] [--rounds R] [--throughput-only]``
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from bus import load_settings
from bus.codec import Codec, InMemorySchemaSource
from bus.envelope import Envelope, new_envelope
from bus.identity import (
    AUTHORITY,
    TrustedKey,
    TrustStore,
    generate_key,
    publish_trusted_key,
    sign_batch,
    sign_headers,
)
from bus.records import catalog
from bus.records.models import CaseOpened
from bus.transport import (
    CONSUMER_DEFAULTS,
    PRODUCER_DEFAULTS,
    KafkaClientConfig,
    Topics,
    connection_properties,
    consumer_properties,
    producer_properties,
    read_client_properties,
)
from connectors import AgencyConnector, AgencyStore, Position
from ops.kafka import start_cluster

CRM, PORTAL = "urn:mx:gob:crm", "urn:mx:gob:portal"
CASES = catalog().get("CaseOpened")
CASES_TOPIC: str = CASES.topic or ""
CHECKPOINTS = "checkpoints"


def _records(count: int) -> list[CaseOpened]:
    example = CASES.example()
    return [CaseOpened.from_avro(example | {"caseId": f"CRM-2025-{i:07d}"}) for i in range(count)]


class _Bench:
    def __init__(self, kafka: KafkaClientConfig, workdir: Path) -> None:
        self.kafka, self.workdir = kafka, workdir  # the operator's sign-in; (a) uses kafka-python itself with it
        self.properties = str(kafka.write_properties(workdir / f"kafka-{uuid.uuid4().hex[:6]}.properties"))
        self.run_id = uuid.uuid4().hex[:8]
        self.trust_topic = f"bench-trust-{self.run_id}"
        self.source = InMemorySchemaSource()
        self.keys = {agency: generate_key(agency) for agency in (CRM, PORTAL)}
        authority = generate_key(AUTHORITY)
        self.anchor = str(authority.save(workdir / f"authority-{self.run_id}").with_suffix(".pub"))
        for key in self.keys.values():
            publish_trusted_key(self.kafka, TrustedKey.for_key(key), authority=authority, topic=self.trust_topic)

    def connector(self, agency: str, prefix: str, *, signatures: bool, client: str = "kafka-python") -> AgencyConnector:
        settings = load_settings({}).model_copy(
            update={
                **self.kafka.settings(),
                "kafka_client": client,
                "trust_topic": self.trust_topic,
                "trust_anchor": self.anchor,
                "checkpoint_topic": prefix + CHECKPOINTS,
                "topic_prefix": prefix,
            }
        )
        return AgencyConnector(
            agency,
            key=self.keys[agency],
            settings=settings,
            schema_source=self.source,
            store_path=self.workdir / f"{prefix}{agency.rsplit(':', 1)[-1]}.sqlite3",
            signatures=signatures,
        )

    def prefix(self, name: str) -> str:
        topics = Topics(self.kafka)
        prefix = f"bench-{name}-{self.run_id}."
        topics.ensure(prefix + CASES_TOPIC, partitions=1)
        # Each prefix's logs are new ones: their checkpoints go to a topic of their own (made as
        # enlace acl sync makes it), or the witness would see one agency publish two histories.
        topics.ensure(prefix + CHECKPOINTS, partitions=1)
        topics.close()
        return prefix


def _connector_run(
    bench: _Bench, records: list[CaseOpened], name: str, *, signatures: bool, client: str = "kafka-python"
) -> dict[str, float]:
    prefix = bench.prefix(name)
    started = time.perf_counter()
    publisher = bench.connector(CRM, prefix, signatures=signatures, client=client)
    for record in records:
        publisher.publish_async(record)
    publisher.flush()
    publish_s = time.perf_counter() - started
    publisher.close()

    receiver = bench.connector(PORTAL, prefix, signatures=signatures, client=client)
    seen = {"count": 0, "first": 0.0}

    def handler(record: CaseOpened, received: Any) -> None:
        if seen["count"] == 0:
            seen["first"] = time.perf_counter()
        seen["count"] += 1

    subscription = receiver.subscribe(CaseOpened, group=f"bench-{name}", handler=handler)
    subscription.run(max_records=len(records))
    consume_s = time.perf_counter() - seen["first"]
    receiver.close()
    assert seen["count"] == len(records), f"{name}: handled {seen['count']} of {len(records)}"
    return {"publish_s": publish_s, "consume_s": consume_s}


def _prepared_bytes(
    bench: _Bench, records: list[CaseOpened], *, signed_for: str | None = None
) -> list[tuple[bytes, bytes, list]]:
    """What (b) sends (wire-format value, key, envelope headers), or (c) signed for topic ``signed_for``."""
    codec, key = Codec(bench.source), bench.keys[CRM]
    out = []
    for record in records:
        data = record.to_avro()
        value = codec.encode(CASES, data)
        subject = CASES.key_of(data)
        headers = new_envelope(CASES, source=CRM, subject=subject).to_headers()
        if signed_for is not None:
            headers = sign_headers(key, headers, subject.encode(), value, topic=signed_for)
        out.append((subject.encode(), value, headers))
    return out


_COMMIT_INTERVAL_S = 1.0  # the connector's default commit_interval_s


def _raw_run(bench: _Bench, messages: list[tuple[bytes, bytes, list]]) -> dict[str, float]:
    topic = bench.prefix("raw") + CASES_TOPIC
    started = time.perf_counter()
    producer = KafkaProducer(**bench.kafka.client_settings(), **PRODUCER_DEFAULTS)
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    publish_s = time.perf_counter() - started
    producer.close()

    consumer = KafkaConsumer(topic, **bench.kafka.client_settings(), group_id="bench-raw", **CONSUMER_DEFAULTS)
    count, first, committed = 0, 0.0, time.perf_counter()
    while count < len(messages):
        batches = consumer.poll(timeout_ms=500)
        for batch in batches.values():
            for _message in batch:
                if count == 0:
                    first = time.perf_counter()
                count += 1
        if batches and time.perf_counter() - committed >= _COMMIT_INTERVAL_S:
            consumer.commit()
            committed = time.perf_counter()
    consumer.commit()
    consumer.close()
    consume_s = time.perf_counter() - first
    return {"publish_s": publish_s, "consume_s": consume_s}


def _raw_confluent_run(bench: _Bench, messages: list[tuple[bytes, bytes, list]]) -> dict[str, float]:
    """(a'): (a) with bare confluent-kafka, the same settings in librdkafka's names, the same commits."""
    import confluent_kafka

    topic = bench.prefix("raw-confluent") + CASES_TOPIC
    connection = connection_properties(bench.kafka)
    started = time.perf_counter()
    producer = confluent_kafka.Producer({**connection, **producer_properties(PRODUCER_DEFAULTS)})
    failed: list[Any] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failed.append(error)

    for key, value, headers in messages:
        while True:
            try:
                producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then try again
                producer.poll(0.05)
        producer.poll(0)
    producer.flush()
    publish_s = time.perf_counter() - started
    assert not failed, f"(a') {len(failed)} records failed: {failed[0]}"

    settings = {**connection, **consumer_properties(CONSUMER_DEFAULTS), "group.id": "bench-raw-confluent"}
    consumer = confluent_kafka.Consumer(settings)
    consumer.subscribe([topic])
    count, first, committed = 0, 0.0, time.perf_counter()
    batch_size = CONSUMER_DEFAULTS["max_poll_records"]
    while count < len(messages):
        batch = consumer.consume(num_messages=batch_size, timeout=0.5)
        for message in batch:
            if message.error() is None:
                if count == 0:
                    first = time.perf_counter()
                count += 1
        if batch and time.perf_counter() - committed >= _COMMIT_INTERVAL_S:
            consumer.commit(asynchronous=False)
            committed = time.perf_counter()
    consumer.commit(asynchronous=False)
    consumer.close()
    consume_s = time.perf_counter() - first
    return {"publish_s": publish_s, "consume_s": consume_s}


def _clients_compared(
    bench: _Bench, records: list[CaseOpened], prepared: list[tuple[bytes, bytes, list]], clients: list[str], rounds: int
) -> None:
    """(a), (a') and (b), (c) on each client library, interleaved ``rounds`` times; medians and ratios."""
    n = len(records)
    runs: dict[str, list[dict[str, float]]] = {}
    for round_ in range(rounds):
        runs.setdefault("a", []).append(_raw_run(bench, prepared))
        if "confluent" in clients:
            runs.setdefault("a'", []).append(_raw_confluent_run(bench, prepared))
        for client in clients:
            for side, signatures in (("b", False), ("c", True)):
                name = f"{side}-{client}-{round_}"
                result = _connector_run(bench, records, name, signatures=signatures, client=client)
                runs.setdefault(f"{side} {client}", []).append(result)

    def median(key: str) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs[key]) for k in ("publish_s", "consume_s")}

    def together(key: str) -> float:
        return n / sum(median(key).values())

    print(f"client libraries compared: median of {rounds} interleaved round(s), {n:,} records each")
    labels = {
        "a": "(a) raw kafka-python",
        "a'": "(a') raw confluent-kafka",
        **{f"b {c}": f"(b) connector unsigned, {c}" for c in clients},
        **{f"c {c}": f"(c) connector signed, {c}" for c in clients},
    }
    for key, label in labels.items():
        if key in runs:
            print(_rates(label, median(key), n, None if key == "a" else median("a")))
    if "confluent" in clients and "kafka-python" in clients:
        raw_confluent = "a'"
        print(
            f"confluent / kafka-python, together: raw {together(raw_confluent) / together('a'):.2f}, "
            f"(b) {together('b confluent') / together('b kafka-python'):.2f}, "
            f"(c) {together('c confluent') / together('c kafka-python'):.2f} (a selectable transport: (c) >= 2)"
        )


_WARM_UP_ID = "CRM-2025-9999999"
_CONSUMER_CMD = [sys.executable, "-m", "ops.bench.pipeline"]


def _latency_consumer(properties: str, trust_topic: str, prefix: str, total: int, workdir: str) -> None:
    """The receiving agency of the latency run, in a process of its own (its own core and GIL)."""
    source = InMemorySchemaSource()
    Codec(source).schema_id(CASES)  # the publisher registered CaseOpened first too: the same id, 1
    settings = load_settings({}).model_copy(
        update={
            "kafka_config": properties,
            "trust_topic": trust_topic,
            "trust_anchor": os.environ["ENLACE_TRUST_ANCHOR"],  # set by the publishing process for this one
            "checkpoint_topic": os.environ["ENLACE_CHECKPOINT_TOPIC"],  # so is the checkpoints topic
            "topic_prefix": prefix,
            "kafka_client": os.environ.get("ENLACE_KAFKA_CLIENT", "kafka-python"),  # the publisher's choice
        }
    )
    # Its store and message log are the run's own: a log kept from another run's receiver would
    # remember that run's CRM checkpoints and take this run's (a new CRM log) for a rewritten history.
    receiver = AgencyConnector(
        PORTAL, settings=settings, schema_source=source, store_path=Path(workdir) / f"{prefix}latency-portal.sqlite3"
    )
    latencies: list[float] = []

    def handler(record: CaseOpened, received: Any) -> None:
        if record.case_id == _WARM_UP_ID:
            print("warm", flush=True)
            return
        sent = datetime.fromisoformat(received.time.replace("Z", "+00:00")).timestamp()
        latencies.append(time.time() - sent)  # ce_time is stamped when the record is published

    receiver.subscribe(CaseOpened, group="bench-latency", handler=handler, commit_interval_s=1.0)
    receiver.run(max_records=total + 1)
    receiver.close()
    print(json.dumps(latencies), flush=True)


def _raw_latency_consumer(properties: str, topic: str, total: int) -> None:
    """The baseline's receiver: bare kafka-python in its own process, latency from the producer's timestamp."""
    kafka = KafkaClientConfig(**read_client_properties(properties))
    consumer = KafkaConsumer(topic, **kafka.client_settings(), group_id="bench-raw-latency", **CONSUMER_DEFAULTS)
    latencies: list[float] = []
    while len(latencies) < total + 1:
        for batch in consumer.poll(timeout_ms=500).values():
            latencies += [time.time() - message.timestamp / 1000 for message in batch]
        if len(latencies) == 1:
            print("warm", flush=True)
    consumer.close()
    print(json.dumps(latencies[1:]), flush=True)


def _paced(send: Any, records: list[Any], rate: int) -> None:
    start = time.perf_counter()
    for i, record in enumerate(records):
        pause = start + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        send(record)


def _latency(
    bench: _Bench, rate: int, seconds: float, *, raw: bool = False, client: str = "kafka-python"
) -> list[float]:
    prefix = bench.prefix("raw-latency" if raw else f"latency-{client}")
    total = int(rate * seconds)
    if raw:
        args = ["--raw-latency-consumer", bench.properties, prefix + CASES_TOPIC, str(total)]
    else:
        args = ["--latency-consumer", bench.properties, bench.trust_topic, prefix, str(total), str(bench.workdir)]
    # The receiving process pins the same authority (its settings are read from this variable).
    env = {
        **os.environ,
        "ENLACE_TRUST_ANCHOR": bench.anchor,
        "ENLACE_CHECKPOINT_TOPIC": prefix + CHECKPOINTS,
        "ENLACE_KAFKA_CLIENT": client,
    }
    consumer = subprocess.Popen([*_CONSUMER_CMD, *args], stdout=subprocess.PIPE, text=True, env=env)
    assert consumer.stdout is not None
    if raw:
        messages = _prepared_bytes(
            bench,
            [CaseOpened.from_avro(CASES.example() | {"caseId": _WARM_UP_ID}), *_records(total)],
            signed_for=prefix + CASES_TOPIC,
        )
        producer = KafkaProducer(**bench.kafka.client_settings(), **PRODUCER_DEFAULTS)
        producer.send(prefix + CASES_TOPIC, key=messages[0][0], value=messages[0][1], headers=messages[0][2]).get(30)
        assert consumer.stdout.readline().strip() == "warm", "the latency consumer did not start"
        _paced(lambda m: producer.send(prefix + CASES_TOPIC, key=m[0], value=m[1], headers=m[2]), messages[1:], rate)
        producer.flush()
        producer.close()
    else:
        publisher = bench.connector(CRM, prefix, signatures=True, client=client)
        publisher.publish(CaseOpened.from_avro(CASES.example() | {"caseId": _WARM_UP_ID}))
        assert consumer.stdout.readline().strip() == "warm", "the latency consumer did not start"
        _paced(publisher.publish_async, _records(total), rate)
        publisher.flush()
        publisher.close()
    out, _ = consumer.communicate(timeout=seconds + 120)
    return json.loads(out.strip().splitlines()[-1])


def _step_costs(bench: _Bench, records: list[CaseOpened]) -> list[tuple[str, float]]:
    """Microseconds per record of each step of (c), each timed alone on the same records (best of three
    passes, but for the store, whose second pass would find its ids claimed)."""
    codec, key = Codec(bench.source), bench.keys[CRM]
    store = TrustStore([TrustedKey.for_key(k) for k in bench.keys.values()])
    datas = [r.to_avro() for r in records]
    values = [codec.encode(CASES, d) for d in datas]
    subjects = [CASES.key_of(d) for d in datas]
    headers = [new_envelope(CASES, source=CRM, subject=s).to_headers() for s in subjects]
    signed = [
        sign_headers(key, h, s.encode(), v, topic=CASES_TOPIC)
        for h, s, v in zip(headers, subjects, values, strict=True)
    ]

    processed = AgencyStore(bench.workdir / "steps.sqlite3").batch()
    in_batches = []
    for start in range(0, len(records), 100):
        chunk = range(start, min(start + 100, len(records)))
        items = [(headers[i], subjects[i].encode(), values[i], CASES_TOPIC) for i in chunk]
        in_batches += sign_batch(key, items)

    def batch_sign() -> float:
        started = time.perf_counter()
        for start in range(0, len(records), 100):
            chunk = range(start, min(start + 100, len(records)))
            sign_batch(key, [(headers[i], subjects[i].encode(), values[i], CASES_TOPIC) for i in chunk])
        return (time.perf_counter() - started) / len(records) * 1e6

    def batch_verify() -> float:
        """A fresh store per batch of 100: one Ed25519 verify per batch, amortised."""
        started = time.perf_counter()
        for start in range(0, len(records), 100):
            fresh = TrustStore([TrustedKey.for_key(k) for k in bench.keys.values()])
            for i in range(start, min(start + 100, len(records))):
                fresh.verify(in_batches[i], subjects[i].encode(), values[i], topic=CASES_TOPIC)
        return (time.perf_counter() - started) / len(records) * 1e6

    def claim_all() -> float:
        """The agency store's part: a claim and an end per record, one commit for them all."""
        started = time.perf_counter()
        processed.begin_batch()
        for i in range(len(records)):
            processed.claim("steps", CRM, str(i), at=Position("cluster", "topic", "t", 0, i))
            processed.end_record()
        processed.commit_batch()
        return (time.perf_counter() - started) / len(records) * 1e6

    def per_record(step) -> float:
        """The best of three passes over the records (noise on a shared machine only adds time)."""
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for i in range(len(records)):
                step(i)
            best = min(best, (time.perf_counter() - started) / len(records) * 1e6)
        return best

    return [
        ("publish: model.to_avro()", per_record(lambda i: records[i].to_avro())),
        ("publish: validate (model_construct only)", per_record(lambda i: CaseOpened.from_avro(datas[i], strict=True))),
        ("publish: codec.encode", per_record(lambda i: codec.encode(CASES, datas[i]))),
        (
            "publish: envelope + headers",
            per_record(lambda i: new_envelope(CASES, source=CRM, subject=subjects[i]).to_headers()),
        ),
        (
            "publish: Ed25519 sign",
            per_record(lambda i: sign_headers(key, headers[i], subjects[i].encode(), values[i], topic=CASES_TOPIC)),
        ),
        ("publish: batch sign, batches of 100 (per record)", min(batch_sign() for _ in range(3))),
        ("consume: envelope from headers", per_record(lambda i: Envelope.from_headers(signed[i]))),
        (
            "consume: Ed25519 verify",
            per_record(lambda i: store.verify(signed[i], subjects[i].encode(), values[i], topic=CASES_TOPIC)),
        ),
        ("consume: batch verify, batches of 100 (per record)", min(batch_verify() for _ in range(3))),
        ("consume: codec.decode", per_record(lambda i: codec.decode(values[i], CASES))),
        ("consume: model.from_avro (validates)", per_record(lambda i: CaseOpened.from_avro(datas[i]))),
        ("consume: agency store (claim, end, commit)", claim_all()),
    ]


def _profile_consume(bench: _Bench, records: list[CaseOpened]) -> str:
    prefix = bench.prefix("profile")
    publisher = bench.connector(CRM, prefix, signatures=True)
    for record in records:
        publisher.publish_async(record)
    publisher.flush()
    publisher.close()
    receiver = bench.connector(PORTAL, prefix, signatures=True)
    subscription = receiver.subscribe(CaseOpened, group="bench-profile", handler=lambda r, m: None)
    profiler = cProfile.Profile()
    profiler.enable()
    subscription.run(max_records=len(records))
    profiler.disable()
    receiver.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def _rates(name: str, result: dict[str, float], n: int, base: dict[str, float] | None) -> str:
    both = n / (result["publish_s"] + result["consume_s"])
    publish, consume = n / result["publish_s"], n / result["consume_s"]
    line = f"{name:<34} publish {publish:>8,.0f}/s  consume {consume:>8,.0f}/s  together {both:>8,.0f}/s"
    if base is not None:
        base_both = n / (base["publish_s"] + base["consume_s"])
        line += (
            f"   ratio to (a): publish {publish / (n / base['publish_s']):.2f}  consume "
            f"{consume / (n / base['consume_s']):.2f}  together {both / base_both:.2f}"
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1_000, help="records/s for the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument(
        "--compare-insecure",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run (a) and (c) on an insecure node: the cost of TLS + SCRAM as a ratio",
    )
    parser.add_argument(
        "--clients",
        default="kafka-python,confluent" if importlib.util.find_spec("confluent_kafka") else "kafka-python",
        help="client libraries to compare (ENLACE_KAFKA_CLIENT values, comma-separated); with confluent, "
        "(a') raw confluent-kafka and (b), (c) on it run interleaved with kafka-python's",
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the client comparison")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="only the throughput runs (no latency run, step costs or profile)",
    )
    parser.add_argument("--latency-consumer", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--raw-latency-consumer", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--producer-config", type=json.loads, default={}, help="JSON: PRODUCER_DEFAULTS to try")
    parser.add_argument("--consumer-config", type=json.loads, default={}, help="JSON: CONSUMER_DEFAULTS to try")
    args = parser.parse_args()
    if args.raw_latency_consumer:
        properties, topic, total = args.raw_latency_consumer
        _raw_latency_consumer(properties, topic, int(total))
        return
    if args.latency_consumer:
        properties, trust_topic, prefix, total, workdir = args.latency_consumer
        _latency_consumer(properties, trust_topic, prefix, int(total), workdir)
        return

    # Settings to try, for (a), (b) and (c) alike (the latency run's receiving process keeps the defaults).
    PRODUCER_DEFAULTS.update(args.producer_config)
    CONSUMER_DEFAULTS.update(args.consumer_config)
    settings = load_settings()
    cluster = start_cluster(settings, nodes=1)
    # The cost of TLS + SCRAM: the same runs on a second, insecure node (a local cluster only).
    plain = None
    if args.compare_insecure and cluster.mode == "local" and not settings.kafka_insecure:
        plain = start_cluster(settings.model_copy(update={"kafka_insecure": True}), nodes=1)
    try:
        with tempfile.TemporaryDirectory(prefix="enlace-bench-") as workdir:
            bench = _Bench(cluster.client_config(), Path(workdir))
            records = _records(args.records)
            prepared = _prepared_bytes(bench, records)
            # The inputs (every record as a model, and as (a)'s bytes) are the benchmark's, not the bus's:
            # kept out of the garbage collector's scans, which an agency's own objects still get.
            gc.collect()
            gc.freeze()
            _connector_run(bench, records[:2000], "warmup", signatures=True)
            raw = _raw_run(bench, prepared)
            unsigned = _connector_run(bench, records, "unsigned", signatures=False)
            signed = _connector_run(bench, records, "signed", signatures=True)
            n = args.records
            how = "secured (TLS + SASL/SCRAM-SHA-512)" if cluster.client_config().sasl_mechanism else "insecure"
            print(f"{n:,} CaseOpened v2 records, single-node Kafka, {how}, tracing off")
            print(f"producer {json.dumps(PRODUCER_DEFAULTS)}; consumer {json.dumps(CONSUMER_DEFAULTS)}")
            print(_rates("(a) raw kafka-python, same bytes", raw, n, None))
            print(_rates("(b) connector, signatures off", unsigned, n, raw))
            print(_rates("(c) connector, signed + verified", signed, n, raw))
            together = {
                k: n / (r["publish_s"] + r["consume_s"]) for k, r in (("a", raw), ("b", unsigned), ("c", signed))
            }
            print(
                f"targets: (c) together {together['c']:,.0f}/s (>= 10,000), "
                f"(c)/(a) {together['c'] / together['a']:.2f} (>= 0.5), "
                f"(b)/(a) {together['b'] / together['a']:.2f} (>= 0.8)"
            )
            clients = [c.strip() for c in args.clients.split(",") if c.strip()]
            if clients != ["kafka-python"]:
                _connector_run(bench, records[:2000], "warmup-confluent", signatures=True, client="confluent")
                _clients_compared(bench, records, prepared, clients, args.rounds)
            if plain is not None:
                _security_cost(bench, _Bench(plain.client_config(), Path(workdir)), records, raw, signed)
            if args.throughput_only:
                return

            p99s = []
            latency_runs = [
                ("(a) raw kafka-python", True, "kafka-python"),
                ("(c) connector, signed", False, "kafka-python"),
            ]
            if "confluent" in clients:
                latency_runs.append(("(c) signed, confluent", False, "confluent"))
            for name, raw_baseline, client in latency_runs:
                latencies = sorted(_latency(bench, args.rate, args.seconds, raw=raw_baseline, client=client))
                p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
                p99s.append(p99)
                print(
                    f"{name:<22} publish-to-handler latency at {args.rate:,} records/s for {args.seconds:.0f}s "
                    f"({len(latencies):,} records): p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms"
                )
            print(f"target: p99 (c)/(a) {p99s[1] / p99s[0]:.2f} (<= 2)")
            if len(p99s) > 2:
                print(
                    f"p99 (c) on confluent / (a): {p99s[2] / p99s[0]:.2f}, "
                    f"/ (c) on kafka-python: {p99s[2] / p99s[1]:.2f}"
                )

            print("(c) cost of each step alone, µs per record:")
            for step, micros in _step_costs(bench, records[:5000]):
                print(f"    {step:<40} {micros:>7.1f}")
            print("(c) consuming loop, cProfile top functions by own time (10,000 records):")
            print(_profile_consume(bench, records[:10_000]))
    finally:
        if plain is not None:
            plain.stop()
        cluster.stop()


def _security_cost(
    secured: _Bench, plain: _Bench, records: list[CaseOpened], raw: dict[str, float], signed: dict[str, float]
) -> None:
    """(a) and (c) again on the insecure node, then on the secured one, interleaved: the ratios say
    what TLS + SCRAM cost (over four runs per side, since single runs on a noisy machine differ more)."""
    n = len(records)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    prepared = {name: _prepared_bytes(bench, records) for name, bench in (("secured", secured), ("plain", plain))}
    runs[("secured", "a")], runs[("secured", "c")] = [raw], [signed]
    for round_ in range(2):
        for name, bench in (("plain", plain), ("secured", secured)):
            runs.setdefault((name, "a"), []).append(_raw_run(bench, prepared[name]))
            runs.setdefault((name, "c"), []).append(
                _connector_run(bench, records, f"{name}-signed-{round_}", signatures=True)
            )

    def together(results: list[dict[str, float]]) -> float:
        return statistics.median(n / (r["publish_s"] + r["consume_s"]) for r in results)

    print("cost of TLS + SASL/SCRAM-SHA-512 (median records/s together, secured / insecure node):")
    for side, label in (("a", "(a) raw kafka-python"), ("c", "(c) connector, signed")):
        secure, insecure = together(runs[("secured", side)]), together(runs[("plain", side)])
        print(f"    {label:<24} secured {secure:>8,.0f}/s  insecure {insecure:>8,.0f}/s  ratio {secure / insecure:.2f}")


if __name__ == "__main__":
    main()
