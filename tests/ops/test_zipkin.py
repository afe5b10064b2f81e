"""The tracing dashboard: a genuine Zipkin server that takes spans and answers trace queries."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from ops.zipkin import fetch_trace, zipkin_version

pytestmark = pytest.mark.integration


def _post_spans(url: str, spans: list[dict]) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(spans).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_zipkin_takes_json_v2_spans_and_returns_them_by_trace_id(zipkin):
    trace_id = f"{int(time.time() * 1e6):032x}"
    now_us = int(time.time() * 1e6)
    spans = [
        {
            "traceId": trace_id,
            "id": "00000000000000a1",
            "name": "send portal.requests",
            "kind": "PRODUCER",
            "timestamp": now_us,
            "duration": 100,
            "localEndpoint": {"serviceName": "urn:mx:gob:portal"},
        },
        {
            "traceId": trace_id,
            "id": "00000000000000a2",
            "parentId": "00000000000000a1",
            "name": "process portal.requests",
            "kind": "CONSUMER",
            "timestamp": now_us + 200,
            "duration": 50,
            "localEndpoint": {"serviceName": "urn:mx:gob:crm"},
        },
    ]
    assert _post_spans(zipkin.spans_endpoint, spans) == 202

    deadline = time.monotonic() + 10
    found: list[dict] = []
    while time.monotonic() < deadline and len(found) < 2:
        found = fetch_trace(zipkin.url, trace_id)
        time.sleep(0.2)
    by_id = {s["id"]: s for s in found}
    assert by_id["00000000000000a2"]["parentId"] == "00000000000000a1"
    assert by_id["00000000000000a2"]["localEndpoint"]["serviceName"] == "urn:mx:gob:crm"


def test_zipkin_listens_on_loopback_only_and_serves_its_ui(zipkin):
    assert zipkin.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{zipkin.url}/zipkin/", timeout=5) as response:
        assert response.status == 200
        assert b"<html" in response.read().lower()
    with urllib.request.urlopen(f"{zipkin.url}/info", timeout=5) as response:
        assert zipkin_version() in response.read().decode()


def test_unknown_trace_is_an_empty_list(zipkin):
    assert fetch_trace(zipkin.url, "0" * 31 + "1") == []
