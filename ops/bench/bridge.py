"""Benchmark: the HTTP bridge against the Python connector, on one local (secured) Kafka node.

In one run: (a) the CRM's connector publishes N CaseOpened records (``publish_async`` then ``flush``);
(b) the CRM publishes N records through the bridge over mutual TLS, as JSON-lines batches of 500 (one
connection, httpx); (c) the same with one POST per record, for a tenth of N. Prints records/s of each and
the ratios (b)/(a), (c)/(a). Then the webhook: the portal's webhook subscription receives M records the
CRM publishes at a steady rate, and the delay from each record's publish call to the webhook's receipt
(a local HTTP server) is reported as p50 and p99. Signatures on, tracing off; schemas from an
in-memory source (the codec caches the registry's answers after the first record anyway).

Run: ``python -m ops.bench.bridge [--records N] [--webhook-records M] [--rate R]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from connectors.bridge import AgencySetup, Bridge, BridgeCertificates, ClientCertificateH11, create_app, server_ssl
from ops.bench.pipeline import CASES, CRM, PORTAL, _Bench, _records
from ops.kafka import start_cluster
from ops.process import free_port


def _serve(bridge: Bridge, certificates: BridgeCertificates) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(bridge),
        host="127.0.0.1",
        port=port,
        http=ClientCertificateH11,
        log_level="warning",
        **server_ssl(certificates),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started:
        started.wait(0.05)
    return server, thread, f"https://127.0.0.1:{port}"


def _json_lines(count: int, first: int) -> list[str]:
    return [
        json.dumps(
            {
                "value": {
                    "type": "JSON",
                    "data": CASES.example()
                    | {
                        "caseId": f"CRM-2025-{first + i:07d}",
                        "openedAt": "2025-06-02T15:10:00Z",
                        "slaDueDate": "2025-06-06",
                    },
                }
            }
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--webhook-records", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="records/s published for the webhook run")
    args = parser.parse_args()
    from bus import load_settings

    cluster = start_cluster(load_settings(), nodes=1)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            _run(args, _Bench(cluster.client_config(), Path(workdir)), Path(workdir))
    finally:
        cluster.stop()


def _run(args: Any, bench: _Bench, workdir: Path) -> None:
    n = args.records
    prefix = bench.prefix("connector")
    connector = bench.connector(CRM, prefix, signatures=True)
    records = _records(n + 1)
    connector.publish(records.pop())  # warm-up, as the bridge's first POST is: producer, topic's size limit
    started = time.perf_counter()
    for record in records:
        connector.publish_async(record)
    connector.flush()
    direct = n / (time.perf_counter() - started)
    connector.close()

    prefix = bench.prefix("bridge")
    probe = bench.connector(CRM, prefix, signatures=True)
    settings = probe.settings  # the bench's settings, under the bridge's prefix
    probe.close()
    certificates = BridgeCertificates.create(workdir / "tls")
    hook_port = free_port()
    hook_url = f"http://127.0.0.1:{hook_port}/hook"
    bridge = Bridge(
        {CRM: AgencySetup(bench.keys[CRM], settings), PORTAL: AgencySetup(bench.keys[PORTAL], settings, hook_url)},
        store_path=workdir / "bridge" / "bridge.sqlite3",
        schema_source=bench.source,
    )
    server, thread, url = _serve(bridge, certificates)
    cert, key = certificates.issue(CRM, workdir / "clients")
    portal_cert, portal_key = certificates.issue(PORTAL, workdir / "clients")
    path = f"/v3/clusters/enlace/catalog/{CASES.full_name}/records"
    try:
        delays = _webhook(
            args, bridge, url, certificates.client_context(portal_cert, portal_key), bench, prefix, hook_port
        )
        q = statistics.quantiles(delays, n=100)
        print(
            f"webhook delivery (publish call -> webhook received), {len(delays)} records at {args.rate:.0f}/s: "
            f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"
        )
        bridge.unsubscribe(PORTAL, "bench")
        with httpx.Client(base_url=url, verify=certificates.client_context(cert, key), timeout=120) as crm:
            crm.post(path, content=_json_lines(1, 0)[0], headers={"content-type": "application/json"})  # warm-up
            lines = _json_lines(n, 1)
            started = time.perf_counter()
            for i in range(0, n, 500):
                answer = crm.post(
                    path, content="\n".join(lines[i : i + 500]), headers={"content-type": "application/x-ndjson"}
                )
                assert answer.status_code == 200, answer.text[:300]
            batched = n / (time.perf_counter() - started)
            single_n = max(1, n // 10)
            singles = _json_lines(single_n, n + 1)
            started = time.perf_counter()
            for line in singles:
                assert crm.post(path, content=line, headers={"content-type": "application/json"}).status_code == 200
            single = single_n / (time.perf_counter() - started)
        print(
            f"publish records/s: connector {direct:,.0f}; bridge JSON-lines batches {batched:,.0f} "
            f"(ratio {batched / direct:.2f}); bridge one POST per record {single:,.0f} (ratio {single / direct:.3f})"
        )
    finally:
        bridge.close()
        server.should_exit = True
        thread.join(timeout=30)


def _webhook(args: Any, bridge: Bridge, url: str, context: Any, bench: _Bench, prefix: str, port: int) -> list[float]:
    received: dict[str, float] = {}
    done = threading.Event()
    wanted = args.webhook_records

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received[json.loads(body)["ce_id"]] = time.perf_counter()
            self.send_response(204)
            self.end_headers()
            if len(received) >= wanted:
                done.set()

        def log_message(self, *args: Any) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    sent: dict[str, float] = {}
    try:
        with httpx.Client(base_url=url, verify=context, timeout=60) as portal:
            body = {"name": "bench", "records": [CASES.full_name], "delivery": "webhook"}
            assert portal.post("/v3/clusters/enlace/subscriptions", json=body).status_code == 201
        # the topic is empty yet: the webhook run goes first, the throughput runs after it
        publisher = bench.connector(CRM, prefix, signatures=True)
        pace = threading.Event()
        for record in _records(wanted):
            ce_id = f"bench-{len(sent)}-{time.time_ns()}"
            sent[ce_id] = time.perf_counter()
            publisher.publish_async(record, ce_id=ce_id)
            pace.wait(1 / args.rate)
        publisher.flush()
        deadline = time.monotonic() + 120
        while not all(c in received for c in sent) and time.monotonic() < deadline:
            done.wait(0.2)
        publisher.close()
    finally:
        hook.shutdown()
        hook.server_close()
    return [received[c] - sent[c] for c in sent if c in received]


if __name__ == "__main__":
    main()
